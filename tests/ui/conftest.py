"""Widget-test fixtures: offscreen Qt, a temporary QSettings file, collected message boxes,
and a check that no worker or recorder thread outlives a test."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import (
    QMimeData,
    QPoint,
    QPointF,
    QSettings,
    QStandardPaths,
    Qt,
    QUrl,
)
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

OUTPUT = Path(__file__).resolve().parents[1] / "output"


@pytest.fixture(scope="session", autouse=True)
def _qt_test_mode(qapp):
    """Qt's standard paths point to test folders; a test organisation name."""
    QStandardPaths.setTestModeEnabled(True)
    qapp.setOrganizationName("SAND-tests")
    qapp.setApplicationName("sand-gui-tests")
    yield


@pytest.fixture(autouse=True)
def messages(monkeypatch):
    """Message boxes are collected here instead of blocking the test."""
    from sand_gui.ui.messages import MessageBox

    shown: list[str] = []
    monkeypatch.setattr(MessageBox, "show", classmethod(lambda cls, parent, text, **kw: shown.append(text)))
    return shown


@pytest.fixture(autouse=True)
def no_leaked_threads():
    before = {t.ident for t in threading.enumerate()}
    yield
    from sand_gui.ui import workers

    assert workers.wait_all(60000), "a worker was still running 60 s after the test"
    assert workers.pool().activeThreadCount() == 0
    leaked = [t for t in threading.enumerate() if t.ident not in before and t.is_alive() and not t.daemon]
    assert not leaked, f"threads left running: {leaked}"


@pytest.fixture
def settings(tmp_path):
    """Settings in a temporary INI file (never the user's), data under tmp_path/data, CPU."""
    from sand_gui.ui.settings import Settings

    s = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    s.data_dir = tmp_path / "data"
    s.device = "cpu"
    return s


@pytest.fixture
def make_window(qtbot, settings, monkeypatch):
    """make_window(bundle) -> a shown MainWindow on ``bundle`` (None: no model at all)."""
    from sand_gui.ui import main_window, model_controller

    def make(bundle: Path | None, *, wait_model: bool = True):
        if bundle is None:
            monkeypatch.setattr(model_controller, "default_bundle_path", lambda: None)
        settings.bundle_path = bundle
        w = main_window.MainWindow(settings)
        qtbot.addWidget(w)
        w.show()
        qtbot.waitExposed(w)
        if bundle is not None and wait_model:
            qtbot.waitUntil(lambda: w.classifier is not None or not w.model_loading, timeout=120000)
        return w

    return make


@pytest.fixture
def session_answers(monkeypatch):
    """NewSessionDialog.ask answers with a SessionInfo (patient ID from the caller, else ID042)."""
    from sand_gui.ui.session_dialog import NewSessionDialog, SessionInfo

    asked = []

    def ask(cls, parent, *, patient_id="", age=None, sex=None):
        asked.append(patient_id)
        return SessionInfo(patient_id or "ID042", age or 63, sex or "F", "2026-11-26")

    monkeypatch.setattr(NewSessionDialog, "ask", classmethod(ask))
    return asked


def status(w, task_id: str) -> str:
    """A task's status as the tests name it: "", recording, checking, recorded, loaded, rejected."""
    from sand_gui.workspace import TaskStatus

    s = w.workspace.task(task_id)
    if s.status is TaskStatus.READY:
        return s.source.value
    return "" if s.status is TaskStatus.EMPTY else s.status.value


def wait_checked(qtbot, w, tasks, timeout: int = 60000) -> None:
    qtbot.waitUntil(lambda: all(status(w, t) not in ("", "checking") for t in tasks), timeout=timeout)


def drop_files(widget, paths, pos=None) -> None:
    """A real drag-and-drop: DragEnter then Drop with the files' URLs, sent to ``widget``."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPoint(10, 10) if pos is None else pos.toPoint() if isinstance(pos, QPointF) else pos
    enter = QDragEnterEvent(
        pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted(), "the drop target refused the drag"
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    assert drop.isAccepted()


def pytest_configure(config):
    # matplotlib's Qt backend reads a Qt attribute that PySide6 6.12 marks deprecated
    config.addinivalue_line(
        "filterwarnings", "ignore:Enum value .Qt..ApplicationAttribute.AA_UseHighDpiPixmaps:DeprecationWarning"
    )
