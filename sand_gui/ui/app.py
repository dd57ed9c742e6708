"""The application: QApplication, the one exception hook, the main window.

Start-up imports nothing heavy: the window appears first, then one background importer
loads numpy, torch, timm and matplotlib (``importer``). Uncaught exceptions are written with
their traceback to a log file in the user's log directory and shown as one message (one box
at a time); a ``SandError`` is shown as its one sentence, never as a traceback.
"""

from __future__ import annotations

import sys
import threading

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from .. import __version__
from .logs import APPLICATION, ORGANISATION, log, log_dir, log_file, setup_logging
from .messages import MessageBox, user_text

__all__ = ["create_app", "excepthook", "install_excepthook", "log_dir", "log_file", "main", "setup_logging"]


def excepthook(exc_type, exc, tb) -> None:
    """The one hook: log the traceback, show one sentence in (at most) one message box."""
    if issubclass(exc_type, KeyboardInterrupt):
        QApplication.quit()
        return
    log.error("uncaught exception", exc_info=(exc_type, exc, tb))
    if QApplication.instance() is None:
        sys.__excepthook__(exc_type, exc, tb)
        return
    text = user_text(exc)
    # never re-enter a box from inside the hook: show it from the event loop
    QTimer.singleShot(0, lambda: MessageBox.show(QApplication.activeWindow(), text))


def install_excepthook() -> None:
    sys.excepthook = excepthook
    threading.excepthook = lambda args: excepthook(args.exc_type, args.exc_value, args.exc_traceback)


def create_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("SAND assessment")
    app.setApplicationVersion(__version__)
    return app


def main(argv: list[str] | None = None) -> int:
    """Open the main window on the bundled (or chosen) model; returns the exit code."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no network, ever: models come from bundles only
    app = create_app(argv)
    setup_logging()
    install_excepthook()
    log.info("sand-gui %s starting", __version__)
    from .main_window import MainWindow
    from .settings import Settings

    window = MainWindow(Settings())
    window.show()
    QTimer.singleShot(300, window.offer_unfinished)
    return app.exec()
