"""The recorder against a REAL PortAudio device: the PulseAudio virtual microphone of
``audio_device.py``. A tone is played into it with paplay and recorded through PortAudio."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from audio_device import virtual_mic  # noqa: F401  (session fixture)

from sand_gui import recorder
from sand_gui.errors import DeviceError, UsageError
from sand_gui.recorder import Recorder, find_device
from sand_gui.session import Session

TONE_HZ = 440.0
TONE_SECONDS = 1.5


def tone_file(
    path: Path, *, hz: float = TONE_HZ, seconds: float = TONE_SECONDS, sr: int = 44100, level: float = 0.5
) -> Path:
    t = np.arange(int(seconds * sr)) / sr
    x = level * np.sin(2 * np.pi * hz * t)
    ramp = int(0.01 * sr)
    x[:ramp] *= np.linspace(0, 1, ramp)
    x[-ramp:] *= np.linspace(1, 0, ramp)
    sf.write(path, x.astype(np.float32), sr, subtype="PCM_16")
    return path


def dominant_hz(x: np.ndarray, sr: int) -> float:
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1).mean(axis=1)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / sr)[np.argmax(spectrum)])


def record_while(rec: Recorder, *, until, extra: float = 0.3, limit: float = 10.0) -> list:
    """Drain every 40 ms (as the GUI's QTimer does) until ``until()`` holds, then ``extra`` s more."""
    levels, t_end, t0 = [], None, time.monotonic()
    while True:
        time.sleep(0.04)
        levels.append(rec.drain())
        now = time.monotonic()
        if t_end is None and until():
            t_end = now + extra
        if (t_end is not None and now >= t_end) or now - t0 > limit:
            return levels


@pytest.fixture
def mic_device(virtual_mic):  # noqa: F811
    device = find_device(virtual_mic.device_name)
    assert device is not None
    return device


@pytest.mark.audio_device
def test_backend_status_sees_the_virtual_microphone(mic_device):
    usable, reason = recorder.audio_backend_status()
    assert usable, reason
    assert "input device" in reason
    assert mic_device.name == "pulse" and mic_device.max_input_channels >= 1
    assert mic_device.default_samplerate >= 8000
    assert mic_device in recorder.list_input_devices()
    assert find_device(mic_device.index) == mic_device
    assert find_device(None) is not None  # the system default input


@pytest.mark.audio_device
def test_records_a_tone_at_the_native_rate(mic_device, virtual_mic, tmp_path):  # noqa: F811
    take_path = tmp_path / "ID042_phonationA_take01.wav"
    rec = Recorder(device=mic_device)
    rec.start(take_path)
    assert rec.recording
    assert (tmp_path / (take_path.name + ".part")).exists()  # streamed to .part while recording
    player = virtual_mic.play(tone_file(tmp_path / "tone.wav"))
    levels = record_while(rec, until=lambda: player.poll() is not None)
    elapsed = rec.elapsed  # the clock shown to the user just before stopping
    take = rec.stop()
    assert player.returncode == 0

    # written atomically, at the device's native rate, nothing left over
    assert take.path == take_path and take_path.is_file()
    assert list(tmp_path.glob("*.part")) == []
    info = sf.info(take_path)
    assert info.samplerate == int(mic_device.default_samplerate) == take.sample_rate
    data, sr = sf.read(take_path, dtype="float32")
    assert abs(info.duration - elapsed) < 0.3, (info.duration, elapsed)
    assert info.duration >= TONE_SECONDS - 0.1
    assert take.interrupted is None and not rec.recording
    np.testing.assert_allclose(data, take.samples, atol=1 / 32768 + 1e-6)  # the file holds what was kept

    hz = dominant_hz(data, sr)
    print(f"\nvirtual mic take: {info.duration:.3f} s at {sr} Hz, elapsed shown {elapsed:.3f} s, dominant {hz:.1f} Hz")
    assert abs(hz - TONE_HZ) / TONE_HZ < 0.02
    peaks = [lv.peak for lv in levels]
    assert 0.4 < max(peaks) < 0.6  # the meter saw the 0.5 tone
    assert not any(lv.clipped for lv in levels)
    assert max(lv.rms for lv in levels) == pytest.approx(0.5 / np.sqrt(2), rel=0.15)


@pytest.mark.audio_device
def test_retake_is_a_new_file_and_nothing_is_overwritten(mic_device, tmp_path):
    session = Session.create(tmp_path, "ID042")
    paths = []
    for _ in range(2):
        path = session.next_take_path("rhythmPA")
        rec = Recorder(device=mic_device)
        rec.start(path)
        record_while(rec, until=lambda: rec.elapsed >= 0.3, extra=0.0)  # noqa: B023
        session.add_take("rhythmPA", rec.stop().path)
        paths.append(path)
    assert paths[0] != paths[1] and all(p.is_file() for p in paths)
    assert [p.name for p in paths] == ["ID042_rhythmPA_take01.wav", "ID042_rhythmPA_take02.wav"]
    assert session.current("rhythmPA") == paths[1]
    before = paths[0].read_bytes()
    with pytest.raises(UsageError, match="never overwritten"):
        Recorder(device=mic_device).start(paths[0])
    assert paths[0].read_bytes() == before


@pytest.mark.audio_device
def test_unplugged_microphone_keeps_what_was_recorded(mic_device, virtual_mic, tmp_path):  # noqa: F811
    take_path = tmp_path / "ID042_phonationE_take01.wav"
    rec = Recorder(device=mic_device)
    rec.start(take_path)
    player = virtual_mic.play(tone_file(tmp_path / "tone.wav", seconds=3.0))
    try:
        record_while(rec, until=lambda: rec.elapsed >= 0.8, extra=0.0)
        virtual_mic.unplug()
        with pytest.raises(DeviceError) as err:
            for _ in range(200):
                time.sleep(0.04)
                rec.drain()
        take = rec.stop()  # after the error, stop() hands over what was kept
    finally:
        player.kill()
        player.wait()
        virtual_mic.plug()
    message = str(err.value)
    print(f"\nunplugged: {message}")
    assert message.startswith("Microphone 'pulse' stopped: ")
    assert f"recorded so far were kept in {take_path.name}." in message
    assert take.interrupted and take.path == take_path and take_path.is_file()
    assert list(tmp_path.glob("*.part")) == []
    assert sf.info(take_path).duration == pytest.approx(take.seconds) and take.seconds >= 0.7
    assert f"{take.seconds:.1f} s" in message
    assert not rec.recording


@pytest.mark.audio_device
def test_playback_of_a_take_reaches_the_output(mic_device, tmp_path):
    sr = int(mic_device.default_samplerate)
    t = np.arange(int(1.0 * sr)) / sr
    beep = (0.4 * np.sin(2 * np.pi * 660.0 * t)).astype(np.float32)
    rec = Recorder(device=mic_device)
    rec.start(tmp_path / "loopback.wav")
    record_while(rec, until=lambda: rec.elapsed >= 0.2, extra=0.0)
    recorder.play(beep, sr)  # default output = the virtual sink, which the microphone hears
    record_while(rec, until=lambda: not recorder.is_playing(), extra=0.2)
    recorder.stop_playback()
    take = rec.stop()
    assert abs(dominant_hz(take.samples, take.sample_rate) - 660.0) < 660.0 * 0.02
    assert not recorder.is_playing()


def test_unknown_microphone_name_is_a_clear_device_error():
    with pytest.raises(DeviceError, match=r"Microphone 'no-such-microphone' not found|PortAudio"):
        find_device("no-such-microphone")


def test_recorder_refuses_bad_channel_count():
    with pytest.raises(UsageError):
        Recorder(channels=0)


def _run(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, **env),
    )


def test_without_portaudio_recording_is_disabled_not_broken(tmp_path):
    # Exactly what happens on a machine without libportaudio: the library lookup finds nothing.
    out = _run(f"""
        import ctypes.util
        ctypes.util.find_library = lambda name: None
        from pathlib import Path
        from sand_gui import recorder
        from sand_gui.errors import DeviceError
        usable, reason = recorder.audio_backend_status()
        assert usable is False and "PortAudio library not found" in reason, reason
        assert recorder.list_input_devices() == [] and recorder.find_device(None) is None
        recorder.stop_playback()
        assert recorder.is_playing() is False
        try:
            recorder.Recorder().start(Path({str(tmp_path / "x.wav")!r}))
        except DeviceError as exc:
            print("start:", exc)
        """)
    assert out.returncode == 0, out.stderr
    assert "start: Recording is unavailable: PortAudio library not found" in out.stdout
    assert not (tmp_path / "x.wav.part").exists()


def test_without_any_input_device_recording_is_disabled(tmp_path):
    # A real ALSA set-up with no sound card and no PulseAudio plugin: PortAudio lists nothing.
    alsa = Path("/usr/share/alsa/alsa.conf")
    if not alsa.is_file() or recorder.audio_backend_status()[1].startswith("Recording is unavailable: PortAudio"):
        pytest.skip("needs PortAudio with ALSA")
    text = alsa.read_text()
    start = text.index("@hooks [")
    stop = text.index("\n]", start) + 2
    conf = tmp_path / "alsa.conf"
    conf.write_text(text[:start] + text[stop:])  # without the hooks that add the pulse devices
    out = _run(
        """
        from sand_gui import recorder
        usable, reason = recorder.audio_backend_status()
        print(usable, reason)
        assert recorder.find_device(None) is None
        """,
        ALSA_CONFIG_PATH=str(conf),
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("False Recording is unavailable: no microphone found")
