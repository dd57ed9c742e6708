"""Heavy imports stay out of the light modules, so the window and the CLI start at once."""

import subprocess
import sys

LIGHT = [
    "sand_gui.tasks",
    "sand_gui.classes",
    "sand_gui.errors",
    "sand_gui.audio",
    "sand_gui.vad",
    "sand_gui.features",
    "sand_gui.bundle",
    "sand_gui.dataset",
    "sand_gui.resources",
    "sand_gui.cli",
    "sand_gui.votes",
]


def test_light_modules_do_not_import_torch_or_timm(tiny_bundle):
    code = (
        "import sys\n"
        f"for m in {LIGHT!r}: __import__(m)\n"
        "from sand_gui.bundle import read_card\n"
        f"read_card({str(tiny_bundle)!r})\n"
        "heavy = [m for m in ('torch', 'timm', 'torchaudio', 'PySide6') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
