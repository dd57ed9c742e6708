"""Nothing lost (unfinished sessions reopened), the exception hook and its log file, one
message box at a time, the session dialog's validation, the generic worker."""

from __future__ import annotations

import logging
import shutil

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from sand_gui.errors import AudioError

from .conftest import status


def test_unfinished_session_is_offered_and_reopened(
    qtbot, make_window, tiny_bundle, settings, patient_dir, monkeypatch
):
    from sand_gui.session import Session
    from sand_gui.ui.session_dialog import ReopenDialog

    # a session left behind by a killed application: one take on disk, not finished
    s = Session.create(settings.data_dir, "ID007")
    take = s.next_take_path("phonationA")
    shutil.copy(patient_dir / "ID042_phonationA.wav", take)
    s.add_take("phonationA", take)
    s.set_loaded("rhythmTA", patient_dir / "ID042_rhythmTA.wav")

    offered = []
    monkeypatch.setattr(
        ReopenDialog, "ask", classmethod(lambda cls, parent, folders: offered.append(folders) or folders[0])
    )
    w = make_window(tiny_bundle)
    w.offer_unfinished()
    assert offered == [[s.folder]]
    qtbot.waitUntil(lambda: status(w, "phonationA") == "recorded" and status(w, "rhythmTA") == "loaded", timeout=30000)
    assert w.session.patient_id == "ID007" and "ID007" in w.model_panel.session_label.text()
    assert w.workspace.task("phonationA").file == take


def test_no_offer_when_all_sessions_finished(qtbot, make_window, tiny_bundle, settings, monkeypatch):
    from sand_gui.session import Session
    from sand_gui.ui.session_dialog import ReopenDialog

    Session.create(settings.data_dir, "ID008").finish()
    monkeypatch.setattr(
        ReopenDialog, "ask", classmethod(lambda cls, parent, folders: pytest.fail("offered a finished session"))
    )
    make_window(tiny_bundle).offer_unfinished()


def test_new_session_dialog_validates_pseudonymous_id(qtbot):
    from sand_gui.ui.session_dialog import NewSessionDialog

    dlg = NewSessionDialog()
    qtbot.addWidget(dlg)
    ok = dlg.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()
    qtbot.keyClicks(dlg.patient_id, "Jane Doe")  # the validator refuses the space
    assert " " not in dlg.patient_id.text()
    dlg.patient_id.setText("ID042")
    assert ok.isEnabled()
    dlg.age.setValue(63)
    info = dlg.info()
    assert info.patient_id == "ID042" and info.age == 63 and info.sex is None and len(info.date) == 10


def test_exception_hook_logs_and_shows_one_sentence(qtbot, tmp_path, messages):
    from sand_gui.ui import app

    log_path = app.setup_logging(tmp_path / "logs")
    try:
        raise AudioError("ID042_phonationA.wav: no voice found (digital silence).")
    except AudioError as exc:
        app.excepthook(type(exc), exc, exc.__traceback__)
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        app.excepthook(type(exc), exc, exc.__traceback__)
    qtbot.waitUntil(lambda: len(messages) == 2, timeout=2000)
    assert messages[0] == "ID042_phonationA.wav: no voice found (digital silence)."
    assert "Traceback" not in messages[1] and str(log_path) in messages[1]
    for h in logging.getLogger("sand_gui").handlers:
        h.flush()
    text = log_path.read_text()
    assert "Traceback" in text and "RuntimeError: boom" in text


def test_one_message_box_at_a_time(qtbot, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from sand_gui.ui.messages import MessageBox

    monkeypatch.undo()  # the real MessageBox.show
    opened = []

    def fake_exec(box):
        opened.append(box.text())
        MessageBox.show(None, "second, while the first is open")  # must not open a second box
        return 0

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    MessageBox.show(None, "first")
    assert opened == ["first"]  # the second went to the log (and a window's status bar)
    assert not MessageBox.is_open()


def test_worker_signals(qtbot):
    from sand_gui.ui import workers

    def work(x, *, progress):
        progress(1, 2, "half")
        return x * 2

    seen, got = [], []
    w = workers.Worker(work, 21)
    w.progress.connect(seen.append)
    w.returned.connect(got.append)
    with qtbot.waitSignal(w.finished, timeout=5000):
        workers.pool().start(w)
    qtbot.waitUntil(lambda: got == [42], timeout=2000)
    assert seen == [(1, 2, "half")]

    def fail():
        raise AudioError("x.wav: bad.")

    w2 = workers.Worker(fail)
    with qtbot.waitSignal(w2.errored, timeout=5000) as blocker:
        workers.pool().start(w2)
    assert isinstance(blocker.args[0], AudioError)


def test_cancelled_worker_stops_at_its_next_progress_call(qtbot):
    import threading

    from sand_gui.ui import workers

    go = threading.Event()
    steps = []

    def work(*, progress):
        for i in range(100):
            go.wait(5)
            steps.append(i)
            progress(i, 100, "")
        return "done"

    got = []
    w = workers.Worker(work)
    w.returned.connect(got.append)
    with qtbot.waitSignal(w.finished, timeout=10000):
        workers.pool().start(w)
        w.cancel()
        go.set()
    assert got == [] and steps == [0]
