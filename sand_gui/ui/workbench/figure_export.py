"""Any view as a PNG, SVG or PDF figure for a paper: a chosen size (inches or pixels) and DPI.

The view hands over a function that draws it into a ``Figure``; ``export_view`` draws it
afresh at the chosen size (so the layout fits the page, and the view on screen is untouched)
and ``explore.save_figure`` writes it atomically. The dialog hides behind ``ask`` so tests
can answer it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from ...explore import FIGURE_LIMITS, FORMATS, save_figure
from ..messages import MessageBox

UNITS = ("in", "px")


@dataclass(frozen=True)
class FigureChoice:
    path: Path  # its extension chooses the format (.png, .svg, .pdf)
    width_in: float
    height_in: float
    dpi: int


class FigureExportDialog(QDialog):
    """File, format, width x height in inches or pixels, and DPI."""

    def __init__(self, suggestion: Path, *, width_in: float, height_in: float, dpi: int, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Export figure")
        form = QFormLayout(self)
        self.path = QLineEdit(str(suggestion))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form.addRow("File", row)
        self.format = QComboBox()
        self.format.addItems([ext[1:].upper() for ext in FORMATS])
        self.format.setCurrentText(suggestion.suffix[1:].upper() or "PNG")
        self.format.currentTextChanged.connect(self._format_changed)
        form.addRow("Format", self.format)
        self.unit = QComboBox()
        self.unit.addItems(UNITS)
        self.unit.currentTextChanged.connect(self._unit_changed)
        self.width, self.height = QDoubleSpinBox(), QDoubleSpinBox()
        size = QHBoxLayout()
        for box, value in ((self.width, width_in), (self.height, height_in)):
            box.setRange(*FIGURE_LIMITS["inches"])
            box.setDecimals(2)
            box.setValue(value)
            size.addWidget(box)
        size.addWidget(self.unit)
        form.addRow("Width × height", size)
        self.dpi = QSpinBox()
        self.dpi.setRange(*FIGURE_LIMITS["dpi"])
        self.dpi.setValue(dpi)
        self.dpi.valueChanged.connect(self._dpi_changed)
        form.addRow("DPI", self.dpi)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        f, _ = QFileDialog.getSaveFileName(self, "Export figure", self.path.text(), "Figures (*.png *.svg *.pdf)")
        if f:
            self.path.setText(f)
            if Path(f).suffix.lower() in FORMATS:
                self.format.setCurrentText(Path(f).suffix[1:].upper())

    def _format_changed(self, text: str) -> None:
        self.path.setText(str(Path(self.path.text()).with_suffix("." + text.lower())))

    def _unit_changed(self, unit: str) -> None:
        dpi = self.dpi.value()
        lo, hi = FIGURE_LIMITS["inches"]
        for box in (self.width, self.height):
            value = box.value()
            if unit == "px":
                box.setDecimals(0)
                box.setRange(lo * dpi, hi * dpi)
                box.setValue(round(value * dpi))
            else:
                box.setRange(lo, hi)
                box.setDecimals(2)
                box.setValue(value / dpi)

    def _dpi_changed(self, dpi: int) -> None:
        """In pixels the size in pixels stays; its bounds follow the DPI."""
        if self.unit.currentText() == "px":
            lo, hi = FIGURE_LIMITS["inches"]
            for box in (self.width, self.height):
                box.setRange(lo * dpi, hi * dpi)

    def choice(self) -> FigureChoice:
        dpi = self.dpi.value()
        scale = dpi if self.unit.currentText() == "px" else 1
        return FigureChoice(Path(self.path.text()), self.width.value() / scale, self.height.value() / scale, dpi)

    @classmethod
    def ask(
        cls,
        parent: QWidget | None,
        suggestion: Path,
        *,
        width_in: float = 8.0,
        height_in: float = 5.0,
        dpi: int = 300,
    ) -> FigureChoice | None:
        dlg = cls(suggestion, width_in=width_in, height_in=height_in, dpi=dpi, parent=parent)
        return dlg.choice() if dlg.exec() == QDialog.DialogCode.Accepted else None


def export_view(
    parent: QWidget | None,
    draw: Callable[[object], object],
    suggestion: Path,
    *,
    width_in: float = 8.0,
    height_in: float = 5.0,
) -> Path | None:
    """Ask where and how big, draw the view with ``draw(fig)`` into a new figure of that size,
    save it; a problem is shown as one sentence. Returns the path written, or None."""
    from matplotlib.figure import Figure

    choice = FigureExportDialog.ask(parent, suggestion, width_in=width_in, height_in=height_in)
    if choice is None:
        return None
    try:
        fig = Figure(figsize=(choice.width_in, choice.height_in), dpi=choice.dpi, layout="constrained")
        draw(fig)
        return save_figure(fig, choice.path, width_in=choice.width_in, height_in=choice.height_in, dpi=choice.dpi)
    except Exception as exc:  # noqa: BLE001 - SandError as its sentence; anything else logged, one sentence shown
        MessageBox.error(parent, exc, title="Export figure")
        return None


class FigurePane(QWidget):
    """A matplotlib canvas with its toolbar and an "Export figure…" button, or a message while
    there is nothing to draw. ``draw(fn)`` draws with ``fn(figure)``; export redraws with the
    same ``fn`` at the chosen size. matplotlib is imported when the first figure is drawn."""

    def __init__(self, message: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self._stack = QStackedLayout(self)
        self.message = QLabel(message)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self._stack.addWidget(self.message)
        self.figure = self.canvas = self.toolbar = None
        self.export_button = QPushButton("Export figure…")
        self.export_button.setToolTip("Save this view as PNG, SVG or PDF at a chosen size and DPI")
        self.export_button.clicked.connect(self.export)
        self.export_button.setEnabled(False)
        self.suggestion = Path.home() / "figure.png"
        self.export_size = (8.0, 5.0)  # inches the export dialog proposes
        self._draw_fn: Callable | None = None

    def ensure_canvas(self) -> None:
        if self.canvas is not None:
            return
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg, NavigationToolbar2QT
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(7, 5), layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.toolbar = NavigationToolbar2QT(self.canvas, self)
        self.toolbar.setIconSize(QSize(18, 18))
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(self.toolbar, 1)
        head.addWidget(self.export_button)
        lay.addLayout(head)
        lay.addWidget(self.canvas, 1)
        self._stack.addWidget(page)

    def draw(self, fn: Callable) -> None:
        self.ensure_canvas()
        self._draw_fn = fn
        self.figure.clear()
        fn(self.figure)
        self.toolbar.update()
        self._stack.setCurrentIndex(1)
        self.export_button.setEnabled(True)
        self.canvas.draw_idle()

    def show_message(self, text: str) -> None:
        self._draw_fn = None
        self.export_button.setEnabled(False)
        self.message.setText(text)
        self._stack.setCurrentIndex(0)

    @property
    def drawn(self) -> bool:
        return self._draw_fn is not None

    def export(self) -> Path | None:
        if self._draw_fn is None:
            return None
        w, h = self.export_size
        return export_view(self, self._draw_fn, self.suggestion, width_in=w, height_in=h)
