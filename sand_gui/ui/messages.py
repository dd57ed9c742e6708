"""One message box at a time, and the sentence a user sees for an error.

``show`` is the only place the application opens a message box; while one is open, further
messages go to the log and the status bar instead of piling up. Tests replace
``MessageBox.show`` to collect messages instead of blocking on a modal box.
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QMessageBox, QWidget

from ..errors import SandError

log = logging.getLogger("sand_gui")


def user_text(exc: BaseException) -> str:
    """One sentence for a user: SandError's own message, else a pointer to the log."""
    if isinstance(exc, SandError):
        return str(exc)
    from .app import log_file

    first = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    return f"Unexpected error ({exc.__class__.__name__}: {first[:200]}). Details were written to {log_file()}."


class MessageBox:
    _open = False
    overflow: list[str] = []  # messages that arrived while a box was open

    @classmethod
    def show(cls, parent: QWidget | None, text: str, *, title: str = "SAND assessment", warning: bool = True) -> None:
        log.warning("%s: %s", title, text) if warning else log.info("%s: %s", title, text)
        if cls._open:
            cls.overflow.append(text)
            window = parent.window() if parent is not None else None
            if window is not None and hasattr(window, "statusBar"):
                window.statusBar().showMessage(text, 10000)
            return
        cls._open = True
        try:
            box = QMessageBox(QMessageBox.Icon.Warning if warning else QMessageBox.Icon.Information, title, text, parent=parent)
            box.exec()
        finally:
            cls._open = False

    @classmethod
    def error(cls, parent: QWidget | None, exc: BaseException, *, title: str = "SAND assessment") -> None:
        if not isinstance(exc, SandError):
            log.error("unexpected error", exc_info=(type(exc), exc, exc.__traceback__))
        cls.show(parent, user_text(exc), title=title)
