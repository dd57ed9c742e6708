"""The core is Qt-free and pyplot-free: importing every sand_gui module outside ``sand_gui.ui``
(and drawing a plot into a Figure) loads neither PySide6 nor matplotlib.pyplot."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

CHECK = """
    import importlib, io, json, pkgutil, sys
    import sand_gui
    names = sorted(
        m.name for m in pkgutil.walk_packages(sand_gui.__path__, "sand_gui.")
        if m.name != "sand_gui.ui" and not m.name.startswith("sand_gui.ui.")
    )
    for name in names:
        importlib.import_module(name)
    import numpy as np
    from matplotlib.figure import Figure
    from sand_gui.plots import plot_probabilities, plot_waveform
    fig = Figure()
    ax1, ax2 = fig.subplots(1, 2)
    plot_waveform(ax1, np.sin(np.arange(800) / 10.0), sample_rate=8000, voiced=(100, 700))
    plot_probabilities(ax2, {1: 0.1, 2: 0.2, 3: 0.4, 4: 0.2, 5: 0.1})
    fig.savefig(io.BytesIO(), format="png")
    bad = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "PyQt5", "PyQt6")
                 or m == "matplotlib.pyplot")
    print(json.dumps({"imported": names, "bad": bad}))
"""


def test_core_modules_import_neither_qt_nor_pyplot():
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(CHECK)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout.strip().splitlines()[-1])
    for name in (
        "sand_gui.recorder",
        "sand_gui.session",
        "sand_gui.report",
        "sand_gui.report_pdf",
        "sand_gui.plots",
        "sand_gui.pipeline",
    ):
        assert name in found["imported"]
    assert found["bad"] == []
