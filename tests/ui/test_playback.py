"""Playback through the system's own player (``playback.Player``): a real ``QProcess`` runs a
stand-in player (a short Python program that reads the WAV it is given, as a real player
would) or, where PulseAudio is installed, the real ``paplay`` into the tests' null sink."""

from __future__ import annotations

import shutil
import sys
import time

import numpy as np
import pytest
import soundfile as sf
from audio_device import SINK, virtual_mic  # noqa: F401  (session fixture: a PulseAudio server with a null sink)

from sand_gui.ui.playback import LINUX_PLAYERS, Player, backend_status, player_command

# A stand-in player: reads the WAV as a player would, writes what it got beside it, then
# "plays" for min(duration, SECONDS) seconds (argv[1]) or fails like ALSA without a card.
STAND_IN = r"""
import sys, time, soundfile as sf
mode, wav = sys.argv[1], sys.argv[-1]
info = sf.info(wav)
open(sys.argv[2], "w").write(f"{wav}|{info.format} {info.subtype} {info.samplerate} {info.frames}")
if mode == "fail":
    sys.stderr.write("ALSA lib confmisc.c:855:(parse_card) cannot find card '0'\naplay: main:850: audio open error: No such file or directory\n")
    sys.exit(1)
time.sleep(min(info.frames / info.samplerate, float(mode)))
"""


def tone(path, seconds=0.5, sr=16000, **kw):
    t = np.arange(int(seconds * sr)) / sr
    sf.write(path, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), sr, **kw)
    return path


def stand_in(mode: str, seen) -> list[str]:
    return [sys.executable, "-c", STAND_IN, mode, str(seen)]


def one_sentence(text: str) -> bool:
    return "\n" not in text and text.endswith(".") and len(text) < 400


def test_plays_to_the_end_and_says_finished(qtbot, tmp_path):
    wav = tone(tmp_path / "ID042_phonationA.wav", subtype="PCM_16")
    p = Player(command=stand_in("0.3", tmp_path / "seen"))
    errors, states = [], []
    p.error.connect(errors.append)
    p.playingChanged.connect(states.append)
    with qtbot.waitSignal(p.finished, timeout=15000):
        p.play(wav)
        assert p.playing
    assert not p.playing and states == [True, False] and errors == []
    assert (tmp_path / "seen").read_text() == f"{wav}|WAV PCM_16 16000 8000"  # the file itself, unconverted


def test_a_flac_or_float_file_is_played_as_a_16_bit_wav(qtbot, tmp_path):
    flac = tone(tmp_path / "ID042_rhythmPA.flac", seconds=0.25, sr=22050)
    p = Player(command=stand_in("0.1", tmp_path / "seen"))
    with qtbot.waitSignal(p.finished, timeout=15000):
        p.play(flac)
    played, info = (tmp_path / "seen").read_text().split("|")
    assert played != str(flac) and info == f"WAV PCM_16 22050 {int(0.25 * 22050)}"


def test_stop_ends_playback_at_once(qtbot, tmp_path):
    wav = tone(tmp_path / "long.wav", seconds=30)
    p = Player(command=stand_in("30", tmp_path / "seen"))
    p.play(wav)
    qtbot.waitUntil(lambda: (tmp_path / "seen").exists(), timeout=15000)  # the player is running
    proc = p._proc
    t0 = time.monotonic()
    with qtbot.waitSignal(p.finished, timeout=5000):
        p.stop()
    assert time.monotonic() - t0 < 3 and not p.playing
    assert proc.state() == proc.ProcessState.NotRunning
    p.stop()  # nothing plays: nothing happens
    assert not p.playing


def test_a_player_that_fails_reports_one_sentence(qtbot, tmp_path):
    """What aplay says on a computer without a sound card reaches the user as one sentence."""
    wav = tone(tmp_path / "ID042_phonationE.wav")
    p = Player(command=stand_in("fail", tmp_path / "seen"))
    with qtbot.waitSignal(p.error, timeout=15000) as sig:
        p.play(wav)
    text = sig.args[0]
    assert one_sentence(text) and not p.playing
    assert (
        text
        == "ID042_phonationE.wav could not be played: aplay: main:850: audio open error: No such file or directory."
    )


@pytest.mark.parametrize("content", [b"", b"RIFF\x00\x00not audio at all"])
def test_an_unreadable_file_reports_one_sentence_and_starts_nothing(qtbot, tmp_path, content):
    bad = tmp_path / "bad\nname.wav"
    bad.write_bytes(content)
    p = Player(command=stand_in("0.1", tmp_path / "seen"))
    with qtbot.waitSignal(p.error, timeout=5000) as sig:
        p.play(bad)
    assert one_sentence(sig.args[0]) and sig.args[0].startswith("bad\\nname.wav cannot be played: ")
    assert not p.playing and not (tmp_path / "seen").exists()


def test_a_missing_player_program_reports_one_sentence(qtbot, tmp_path):
    wav = tone(tmp_path / "a.wav")
    p = Player(command=[str(tmp_path / "no-such-player")])
    with qtbot.waitSignal(p.error, timeout=10000) as sig:
        p.play(wav)
    assert one_sentence(sig.args[0]) and "no-such-player did not start" in sig.args[0] and not p.playing


def test_a_player_that_hangs_is_stopped_by_the_watchdog(qtbot, tmp_path):
    wav = tone(tmp_path / "short.wav", seconds=0.1)
    hang = [sys.executable, "-c", "import time; time.sleep(60)"]
    p = Player(command=hang, timeout_margin_s=0.5)
    t0 = time.monotonic()
    with qtbot.waitSignal(p.error, timeout=15000) as sig:
        p.play(wav)
    assert time.monotonic() - t0 < 10 and one_sentence(sig.args[0]) and "still running" in sig.args[0]
    assert not p.playing


def test_the_system_player_never_hangs(qtbot, tmp_path):
    """Whatever this computer has (no player, a player but no sound card, a sound server),
    ``play`` ends in ``finished`` or in one sentence on ``error`` within seconds."""
    wav = tone(tmp_path / "ID042_phonationA.wav", seconds=0.3)
    usable, reason = backend_status()
    assert reason and ("\n" not in reason)
    p = Player(timeout_margin_s=5)
    ended = []
    p.finished.connect(lambda: ended.append("finished"))
    p.error.connect(ended.append)
    p.play(wav)
    qtbot.waitUntil(lambda: bool(ended), timeout=20000)
    assert not p.playing
    assert ended == ["finished"] or one_sentence(ended[0])
    if not usable:
        assert ended == [f"ID042_phonationA.wav cannot be played: {reason}."]


def test_player_commands_per_platform(tmp_path):
    wav = tmp_path / "it's.wav"
    mac = player_command(wav, platform="darwin")
    assert mac is None or mac[1:] == [str(wav)]
    win = player_command(wav, platform="win32")
    assert (
        win is None
        or win[-1] == f"(New-Object Media.SoundPlayer '{str(wav).replace(chr(39), chr(39) * 2)}').PlaySync()"
    )
    linux = player_command(wav, platform="linux")
    found = [n for n, _ in LINUX_PLAYERS if shutil.which(n)]
    assert (linux is None) == (not found)
    if linux:
        assert linux[0] == shutil.which(found[0]) and linux[-1] == str(wav)


@pytest.mark.audio_device
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PulseAudio null sink: Linux only")
def test_paplay_plays_into_a_real_sound_server(qtbot, tmp_path, virtual_mic):  # noqa: F811
    """The real ``paplay`` plays a FLAC recording (converted on the way) into PulseAudio's
    null sink in about its duration."""
    flac = tone(tmp_path / "ID042_rhythmKA.flac", seconds=0.6, sr=8000)
    p = Player(command=["paplay", f"--device={SINK}"])
    t0 = time.monotonic()
    with qtbot.waitSignal(p.finished, timeout=15000):
        p.play(flac)
    assert time.monotonic() - t0 >= 0.4  # it took the recording's time: it was played, not refused
