"""Where the application logs: one file in the user's log directory.

Its own module so that ``app`` (which sets logging up) and ``messages`` (which names the log
file in a sentence) both import it and neither imports the other. The file in use is read
back from the handler itself: no module-level state.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QStandardPaths

ORGANISATION = "SAND"
APPLICATION = "sand-gui"
LOG_NAME = "sand-gui.log"
MAX_BYTES = 1_000_000

log = logging.getLogger("sand_gui")


def log_dir() -> Path:
    """The user's log directory (platformdirs), else Qt's app-local data folder + logs."""
    try:
        import platformdirs

        return Path(platformdirs.user_log_dir(APPLICATION, ORGANISATION))
    except ImportError:  # pragma: no cover
        base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
        return Path(base or Path.home() / ".sand-gui") / "logs"


def log_file() -> Path:
    """The file the ``sand_gui`` logger writes to (once ``setup_logging`` ran), else where it would."""
    for h in log.handlers:
        if isinstance(h, logging.FileHandler):
            return Path(h.baseFilename)
    return log_dir() / LOG_NAME


def setup_logging(folder: Path | None = None) -> Path:
    """Log to ``sand-gui.log`` in ``folder`` (default: the user's log dir); a log over 1 MB is
    renamed ``sand-gui.log.1`` at start-up, so at most two files are kept."""
    folder = Path(folder) if folder else log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOG_NAME
    for h in list(log.handlers):
        if isinstance(h, logging.FileHandler):
            log.removeHandler(h)
            h.close()
    if path.is_file() and path.stat().st_size > MAX_BYTES:
        path.replace(path.with_name(path.name + ".1"))
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return path
