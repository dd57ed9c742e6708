"""The application: QApplication, the one exception hook, the main window.

Start-up imports nothing heavy: the window appears first, torch/timm load in a worker.
Uncaught exceptions are written with their traceback to a log file in the user's log
directory and shown as one message (one box at a time); a ``SandError`` is shown as its
one sentence, never as a traceback.
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

from PySide6.QtCore import QStandardPaths, QTimer
from PySide6.QtWidgets import QApplication

from .. import __version__
from .settings import APPLICATION, ORGANISATION

log = logging.getLogger("sand_gui")
_LOG_FILE: Path | None = None


def log_dir() -> Path:
    """The user's log directory (platformdirs), else Qt's app-local data folder + logs."""
    try:
        import platformdirs

        return Path(platformdirs.user_log_dir(APPLICATION, ORGANISATION))
    except ImportError:  # pragma: no cover
        base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
        return Path(base or Path.home() / ".sand-gui") / "logs"


def log_file() -> Path:
    return _LOG_FILE or log_dir() / "sand-gui.log"


def setup_logging(folder: Path | None = None) -> Path:
    """Log to ``sand-gui.log`` in ``folder`` (default: the user's log dir); a log over 1 MB is
    renamed ``sand-gui.log.1`` at start-up, so at most two files are kept."""
    global _LOG_FILE
    folder = Path(folder) if folder else log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    _LOG_FILE = folder / "sand-gui.log"
    for h in list(log.handlers):
        if isinstance(h, logging.FileHandler):
            log.removeHandler(h)
            h.close()
    if _LOG_FILE.is_file() and _LOG_FILE.stat().st_size > 1_000_000:
        _LOG_FILE.replace(_LOG_FILE.with_name(_LOG_FILE.name + ".1"))
    handler = logging.FileHandler(_LOG_FILE, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return _LOG_FILE


def excepthook(exc_type, exc, tb) -> None:
    """The one hook: log the traceback, show one sentence in (at most) one message box."""
    from .messages import MessageBox, user_text

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
