"""A real PortAudio microphone for tests: a PulseAudio null sink whose monitor is the default source.

What is played into the sink ``vmic`` (``paplay --device=vmic tone.wav``) comes out of the
source ``vmic.monitor``, which PortAudio reaches through ALSA's ``pulse`` device. The
session-scoped fixture ``virtual_mic`` uses a running server that already has ``vmic``
(e.g. one started by ``.ci/run``), else starts a private daemon in its own runtime folder
and stops it at teardown. It skips only when the PulseAudio programs are not installed
(``.ci/run`` installs them, so in CI the tests run).

An idle null sink renders in 2 s blocks, so a recorder would get its first samples up to
2 s late; a low-latency stream of silence (``pacat``) keeps it rendering in small blocks,
as a real microphone delivers them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

SINK = "vmic"
SOURCE = f"{SINK}.monitor"
BINARIES = ("pulseaudio", "pactl", "paplay", "pacat")


def _pactl(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=10, check=check)


def _server_has_sink() -> bool:
    """True when a reachable server has the sink; never autospawns a server to find out."""
    conf = Path(tempfile.gettempdir()) / "sand-pulse-client.conf"
    conf.write_text("autospawn = no\n")
    env = dict(os.environ, PULSE_CLIENTCONFIG=str(conf))
    try:
        out = subprocess.run(["pactl", "list", "short", "sinks"], capture_output=True, text=True, timeout=10, env=env)
    except subprocess.TimeoutExpired:
        return False
    return out.returncode == 0 and any(line.split("\t")[1:2] == [SINK] for line in out.stdout.splitlines())


def refresh_portaudio() -> None:
    """PortAudio reads its device list once; re-read it if sounddevice is already loaded."""
    sd = sys.modules.get("sounddevice")
    if sd is not None:
        sd._terminate()
        sd._initialize()


class VirtualMic:
    """Handle on the virtual microphone: play into it, unplug and re-plug it."""

    device_name = "pulse"  # the PortAudio (ALSA) device that reaches the PulseAudio server

    def __init__(self) -> None:
        self._keeper: subprocess.Popen | None = None

    def play(self, path: Path) -> subprocess.Popen:
        """Start playing a sound file into the microphone; returns the paplay process."""
        return subprocess.Popen(["paplay", f"--device={SINK}", str(path)])

    def _module_index(self) -> str | None:
        for line in _pactl("list", "short", "modules").stdout.splitlines():
            parts = line.split("\t")
            if len(parts) > 2 and parts[1] == "module-null-sink" and f"sink_name={SINK}" in parts[2]:
                return parts[0]
        return None

    def plug(self) -> None:
        """Make sure the sink exists, is the default source's sink, and renders continuously."""
        if self._module_index() is None:
            _pactl("load-module", "module-null-sink", f"sink_name={SINK}")
        _pactl("set-default-source", SOURCE)
        _pactl("set-default-sink", SINK)
        self.stop_keeper()
        self._keeper = subprocess.Popen(
            [
                "pacat",
                "--playback",
                f"--device={SINK}",
                "--latency-msec=20",
                "--format=s16le",
                "--rate=44100",
                "--channels=1",
                "--raw",
                "/dev/zero",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.3)

    def unplug(self) -> None:
        """Remove the sink (and so its monitor source) while it may be recorded: a device lost."""
        index = self._module_index()
        if index is not None:
            _pactl("unload-module", index)

    def stop_keeper(self) -> None:
        if self._keeper is not None:
            self._keeper.terminate()
            try:
                self._keeper.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._keeper.kill()
            self._keeper = None


@pytest.fixture(scope="session")
def virtual_mic():
    """A PulseAudio null-sink microphone PortAudio can record from (see the module docstring)."""
    missing = [b for b in BINARIES if shutil.which(b) is None]
    if missing and os.environ.get("SAND_REQUIRE_AUDIO_DEVICE"):
        pytest.fail(f"SAND_REQUIRE_AUDIO_DEVICE is set but PulseAudio programs are missing: {', '.join(missing)}")
    if missing:
        pytest.skip(
            f"PulseAudio programs not installed ({', '.join(missing)}); "
            "apt-get install pulseaudio pulseaudio-utils (.ci/run does)"
        )
    saved = {k: os.environ.get(k) for k in ("XDG_RUNTIME_DIR", "PULSE_SERVER")}
    runtime = None
    if not _server_has_sink():
        runtime = tempfile.mkdtemp(prefix="sand-pulse-")
        os.environ["XDG_RUNTIME_DIR"] = runtime
        os.environ.pop("PULSE_SERVER", None)
        subprocess.run(
            [
                "pulseaudio",
                "--daemonize=yes",
                "--exit-idle-time=-1",
                "-n",
                f"--load=module-null-sink sink_name={SINK}",
                "--load=module-native-protocol-unix",
            ],
            check=True,
            timeout=30,
            capture_output=True,
        )
        deadline = time.monotonic() + 15
        while not _server_has_sink():
            if time.monotonic() > deadline:
                raise RuntimeError("the PulseAudio test daemon did not come up within 15 s")
            time.sleep(0.2)
    mic = VirtualMic()
    mic.plug()
    refresh_portaudio()  # PortAudio must see the devices of the server now running
    try:
        yield mic
    finally:
        mic.stop_keeper()
        if runtime is not None:
            subprocess.run(["pulseaudio", "--kill"], timeout=30, capture_output=True)
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            shutil.rmtree(runtime, ignore_errors=True)
