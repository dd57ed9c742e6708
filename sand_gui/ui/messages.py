"""One message box at a time, and the sentence a user sees for an error.

``show`` is the only place the application opens a message box; while one is open, further
messages go to the log and the status bar instead of piling up. Tests replace
``MessageBox.show`` to collect messages instead of blocking on a modal box. Whether a box is
open is kept on the QApplication (application-wide state belongs to Qt's one object).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QSizePolicy, QWidget

from ..errors import SandError, one_line
from .logs import log, log_file

OPEN = "sand_message_open"  # QApplication property: a box is open now


def user_text(exc: BaseException) -> str:
    """One sentence for a user: SandError's own message, else a pointer to the log."""
    if isinstance(exc, SandError):
        return one_line(str(exc), limit=1000)
    first = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    return f"Unexpected error ({exc.__class__.__name__}: {one_line(first)}). Details were written to {log_file()}."


class StatusLine(QLabel):
    """The status bar's message: one line, cut with "…" to the room it has (the whole text in
    its tooltip), cleared after ``ms``; a newer message replaces it. Unlike
    ``QStatusBar.showMessage``, whose text is drawn across the whole bar, it never runs under
    the permanent widgets on the right."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._text = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._clear)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # long text never pushes

    def show_message(self, text: str, ms: int = 0) -> None:
        """Show ``text`` (made one line) for ``ms`` milliseconds; 0: until the next message."""
        self._text = one_line(text, limit=1000)
        self.setToolTip(self._text)
        self._elide()
        self._timer.stop()
        if ms > 0 and self._text:
            self._timer.start(ms)

    def _clear(self) -> None:
        self.show_message("")

    def message(self) -> str:
        return self._text

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        self.setText(
            self.fontMetrics().elidedText(self._text, Qt.TextElideMode.ElideRight, max(0, self.contentsRect().width()))
        )


def show_status(window: QWidget | None, text: str, ms: int = 0) -> None:
    """Show ``text`` in ``window``'s status line (a ``StatusLine`` named ``status_line``), else its status bar."""
    line = getattr(window, "status_line", None)
    if isinstance(line, StatusLine):
        line.show_message(text, ms)
    elif window is not None and hasattr(window, "statusBar"):
        window.statusBar().showMessage(text, ms)


class MessageBox:
    @staticmethod
    def is_open() -> bool:
        app = QApplication.instance()
        return bool(app is not None and app.property(OPEN))

    @classmethod
    def show(cls, parent: QWidget | None, text: str, *, title: str = "SAND assessment", warning: bool = True) -> None:
        log.warning("%s: %s", title, text) if warning else log.info("%s: %s", title, text)
        app = QApplication.instance()
        if cls.is_open():
            window = parent.window() if parent is not None else None
            show_status(window, text, 10000)
            return
        app.setProperty(OPEN, True)
        try:
            box = QMessageBox(
                QMessageBox.Icon.Warning if warning else QMessageBox.Icon.Information, title, text, parent=parent
            )
            box.exec()
        finally:
            app.setProperty(OPEN, False)

    @classmethod
    def error(cls, parent: QWidget | None, exc: BaseException, *, title: str = "SAND assessment") -> None:
        if not isinstance(exc, SandError):
            log.error("unexpected error", exc_info=(type(exc), exc, exc.__traceback__))
        cls.show(parent, user_text(exc), title=title)
