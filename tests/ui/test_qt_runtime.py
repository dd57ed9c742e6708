"""The Qt runtime the application is installed with must not corrupt the interpreter.

PySide6 6.12.0 takes one reference off ``None`` on every ``processEvents()``; on Python 3.11
(where None is not immortal) a long session or test run then dies with "deallocating None".
pyproject.toml excludes that release; this test fails if such a build comes back.
"""

from __future__ import annotations

import sys


def test_processing_events_keeps_none_alive(qapp):
    before = sys.getrefcount(None)
    for _ in range(500):
        qapp.processEvents()
    assert before - sys.getrefcount(None) < 50


def test_status_line_keeps_one_line_and_never_runs_under_the_model_status(qtbot):
    """A long message is cut with an ellipsis to its own room; the full text stays in the tooltip."""
    from PySide6.QtWidgets import QLabel, QMainWindow

    from sand_gui.ui.messages import StatusLine

    win = QMainWindow()
    qtbot.addWidget(win)
    line, model = StatusLine(), QLabel("Model ready: sand_convnext_atto_synthetic on CPU (x86_64)")
    win.statusBar().addWidget(line, 1)
    win.statusBar().addPermanentWidget(model)
    win.resize(700, 200)
    win.show()
    text = "ID042_phonationA.wav:\nno voice found " + "(a long reason) " * 30
    line.show_message(text, 0)
    qtbot.wait(50)
    assert "\n" not in line.text() and line.text().endswith("…")
    assert line.message().startswith("ID042_phonationA.wav:\\nno voice") and line.toolTip() == line.message()
    assert line.geometry().right() < model.geometry().left()
    line.show_message("short", 100)
    qtbot.waitUntil(lambda: line.message() == "", timeout=3000)
