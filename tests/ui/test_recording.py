"""Recording through the window with a stand-in for ``sand_gui.recorder.Recorder`` (the
real device path is tested at the recorder level): Space starts and stops, every take is a
new file, auto-stop, a device that stops mid-take, and Record disabled without audio."""

from __future__ import annotations

import time
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import soundfile as sf
from audio_device import virtual_mic  # noqa: F401  (session fixture: the PulseAudio microphone)
from PySide6.QtCore import Qt

from sand_gui import recorder as core_recorder
from sand_gui.errors import DeviceError

from .conftest import status

RATE = 16000


class FakeRecorder:
    """Writes a 2.5 s harmonic tone on stop, as if the patient had said /a/."""

    fail_after: int | None = None  # drains before the "device" disappears
    seconds_per_drain: float | None = None  # to make elapsed time run fast (auto-stop)
    instances: ClassVar[list[FakeRecorder]] = []

    def __init__(self, *, device=None, channels=1):
        self.device = device
        self._rec = False
        FakeRecorder.instances.append(self)

    def start(self, path: Path) -> None:
        assert not Path(path).exists(), "a take must never be overwritten"
        self.path, self.t0, self.n, self._rec, self._take = Path(path), time.monotonic(), 0, True, None

    @property
    def recording(self) -> bool:
        return self._rec

    @property
    def elapsed(self) -> float:
        return self.n * self.seconds_per_drain if self.seconds_per_drain else time.monotonic() - self.t0

    def _write(self, interrupted=None):
        t = np.arange(int(2.5 * RATE)) / RATE
        x = 0.3 * sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 8))
        x = np.concatenate([np.zeros(RATE // 2), x, np.zeros(RATE // 2)]).astype(np.float32)
        sf.write(self.path, x, RATE, subtype="PCM_16")
        self._rec = False
        self._take = core_recorder.Take(self.path, x, RATE, len(x) / RATE, interrupted)
        return self._take

    def drain(self):
        self.n += 1
        if self.fail_after is not None and self.n >= self.fail_after and self._rec:
            self._write("the audio stream ended unexpectedly (device disconnected?)")
            raise DeviceError(
                f"Microphone 'Fake mic' stopped: the audio stream ended unexpectedly (device disconnected?); "
                f"the 3.5 s recorded so far were kept in {self.path.name}."
            )
        return core_recorder.Level(0.5, 0.1, self.n == 2)

    def stop(self):
        return self._take if self._take is not None else self._write()


@pytest.fixture
def fake_audio(monkeypatch):
    from sand_gui.ui import recording_controller

    FakeRecorder.fail_after = None
    FakeRecorder.seconds_per_drain = None
    FakeRecorder.instances = []
    monkeypatch.setattr(core_recorder, "Recorder", FakeRecorder)
    monkeypatch.setattr(core_recorder, "find_device", lambda name=None: None)
    monkeypatch.setattr(recording_controller, "backend_status", lambda: (True, "1 input device(s); default: Fake mic."))
    return FakeRecorder


def press_space(qtbot, w):
    qtbot.keyClick(w.table, Qt.Key.Key_Space)


@pytest.mark.usefixtures("session_answers")
def test_space_records_and_every_take_is_a_new_file(qtbot, make_window, tiny_bundle, fake_audio):
    w = make_window(tiny_bundle)
    qtbot.waitUntil(lambda: w.strip.audio_ok, timeout=5000)
    assert w.strip.record_button.isEnabled()
    assert w.act_record.shortcut().toString() == "Space" and "(Space)" in w.act_record.toolTip()
    w.table.select_task("phonationA")
    press_space(qtbot, w)
    assert w.strip.recording.recording and status(w, "phonationA") == "recording"
    qtbot.waitUntil(lambda: w.strip.elapsed_label.text() != "", timeout=5000)  # the timer drains
    assert "/ 6 s" in w.strip.elapsed_label.text()
    press_space(qtbot, w)
    qtbot.waitUntil(lambda: status(w, "phonationA") == "recorded", timeout=30000)
    first = w.workspace.task("phonationA").file
    assert first.is_file() and first.parent == Path(w.session.folder) and first.name == "ID042_phonationA_take01.wav"
    assert w.table.status_text("phonationA") == "recorded (take 01)"

    press_space(qtbot, w)  # a re-take: a new file, the task uses it
    press_space(qtbot, w)
    qtbot.waitUntil(
        lambda: w.workspace.task("phonationA").file != first and status(w, "phonationA") == "recorded", timeout=30000
    )
    assert first.is_file() and w.workspace.task("phonationA").file.name == "ID042_phonationA_take02.wav"
    assert w.session.current("phonationA") == w.workspace.task("phonationA").file


@pytest.mark.usefixtures("session_answers")
def test_auto_stop_at_recommended_length(qtbot, make_window, tiny_bundle, fake_audio, settings):
    settings.auto_stop = True
    fake_audio.seconds_per_drain = 1.0
    w = make_window(tiny_bundle)
    qtbot.waitUntil(lambda: w.strip.audio_ok, timeout=5000)
    w.table.select_task("rhythmPA")
    w.strip.toggle_recording()
    qtbot.waitUntil(lambda: not w.strip.recording.recording, timeout=10000)
    assert fake_audio.instances[-1].n >= 5  # stopped at 5 s, the task's recommended length
    qtbot.waitUntil(lambda: status(w, "rhythmPA") == "recorded", timeout=30000)


@pytest.mark.usefixtures("session_answers")
def test_device_unplugged_keeps_the_take_and_says_so(qtbot, make_window, tiny_bundle, fake_audio, messages):
    fake_audio.fail_after = 3
    w = make_window(tiny_bundle)
    qtbot.waitUntil(lambda: w.strip.audio_ok, timeout=5000)
    w.strip.toggle_recording()
    qtbot.waitUntil(lambda: not w.strip.recording.recording, timeout=10000)
    assert messages and "stopped" in messages[-1] and "kept" in messages[-1]
    qtbot.waitUntil(lambda: status(w, "phonationA") == "recorded", timeout=30000)
    assert w.workspace.task("phonationA").file.is_file()


def test_record_disabled_without_audio(qtbot, make_window, tiny_bundle, monkeypatch):
    from sand_gui.ui import recording_controller

    reason = "Recording is unavailable: no microphone found (PortAudio lists no input device)."
    monkeypatch.setattr(recording_controller, "backend_status", lambda: (False, reason))
    w = make_window(tiny_bundle)
    qtbot.waitUntil(lambda: reason in w.strip.record_button.toolTip(), timeout=5000)
    assert not w.strip.record_button.isEnabled()
    press_space(qtbot, w)
    assert not w.strip.recording.recording
    assert reason in w.status_line.message()
    assert w.strip.load_button.isEnabled() and w.act_load.isEnabled()


@pytest.mark.audio_device
@pytest.mark.usefixtures("session_answers")
def test_space_records_from_the_virtual_microphone(qtbot, make_window, tiny_bundle, settings, tmp_path, virtual_mic):  # noqa: F811
    """Through a REAL PortAudio device (the PulseAudio virtual microphone of tests/audio_device.py):
    Space, a tone is played into the microphone, Space -> the task is recorded, the take on disk."""
    from audio_device import refresh_portaudio

    mic = virtual_mic
    refresh_portaudio()
    settings.input_device = mic.device_name
    t = np.arange(int(2.0 * 44100)) / 44100
    tone = 0.4 * sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 6))
    sf.write(tmp_path / "tone.wav", (tone / np.abs(tone).max() * 0.4).astype(np.float32), 44100, subtype="PCM_16")

    w = make_window(tiny_bundle)
    qtbot.waitUntil(lambda: w.strip.audio_ok, timeout=10000)
    w.table.select_task("phonationA")
    peaks = []
    w.strip.recording.level.connect(lambda lv: peaks.append(lv.peak))
    press_space(qtbot, w)
    assert w.strip.recording.recording, w.audio_reason
    player = mic.play(tmp_path / "tone.wav")
    qtbot.waitUntil(lambda: player.poll() is not None, timeout=15000)
    qtbot.wait(300)
    assert max(peaks) > 0.2  # the level meter was fed the tone
    press_space(qtbot, w)
    qtbot.waitUntil(lambda: status(w, "phonationA") in ("recorded", "rejected"), timeout=30000)
    row = w.workspace.task("phonationA")
    assert status(w, "phonationA") == "recorded", row.error
    assert row.file.is_file() and row.file.parent == Path(w.session.folder)
    assert sf.info(row.file).duration >= 2.0
    assert w.table.status_text("phonationA") == "recorded (take 01)"
