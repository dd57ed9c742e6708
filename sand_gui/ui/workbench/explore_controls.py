"""The exploration view's live controls: mel bins, band, FFT size, hop, dB range, colour map
and the VAD threshold, emitted as one ``explore.ExploreParams`` ~150 ms after the last change.

Only the exploration view listens; the model's view never changes with these (its settings
are the bundle's FeatureSpec). A debounce timer turns a dragged slider into a few redraws
instead of one per pixel.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QWidget,
)

from ...explore import CMAPS, LIMITS, ExploreParams

DEBOUNCE_MS = 150
FFT_SIZES = tuple(2**k for k in range(6, 15))  # 64 .. 16384
HOPS = tuple(2**k for k in range(4, 13))  # 16 .. 4096
NYQUIST = "Nyquist"  # what the highest-frequency box shows at its least value (f_max = None)


class ExploreControls(QWidget):
    """A form of controls; ``params()`` reads them, ``set_params`` writes them without emitting."""

    changed = Signal(object)  # ExploreParams, debounced

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._base = ExploreParams()  # fields without a control (the VAD's frame and hop) come from here
        self._default = ExploreParams()  # what "Model's settings" restores
        self._quiet = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(lambda: self.changed.emit(self.params()))
        form = QFormLayout(self)
        form.setContentsMargins(4, 4, 4, 4)
        self.n_mels = self._spin(*LIMITS["n_mels"], suffix="")
        self.f_min = self._spin(0, 24000, suffix=" Hz", step=50)
        self.f_max = self._spin(0, 24000, suffix=" Hz", step=50)
        self.f_max.setSpecialValueText(NYQUIST)  # 0 = up to the recording's Nyquist frequency
        self.n_fft = self._combo([str(n) for n in FFT_SIZES])
        self.hop = self._combo([str(n) for n in HOPS])
        self.db_range = self._spin(*[int(v) for v in LIMITS["db_range"]], suffix=" dB", step=5)
        self.cmap = self._combo(list(CMAPS))
        lo, hi = (int(v) for v in LIMITS["vad_top_db"])
        self.vad = QSlider(Qt.Orientation.Horizontal)
        self.vad.setRange(lo, hi)
        self.vad.setToolTip("Energy VAD: keep frames within this many dB of the loudest frame")
        self.vad_label = QLabel()
        self.vad.valueChanged.connect(lambda v: self.vad_label.setText(f"{v} dB"))
        self.vad.valueChanged.connect(self._edited)
        vad_row = QHBoxLayout()
        vad_row.addWidget(self.vad, 1)
        vad_row.addWidget(self.vad_label)
        self.reset = QPushButton("Model's settings")
        self.reset.setToolTip("Start again from the model's FeatureSpec (band, mel bins, FFT, hop, VAD)")
        self.reset.clicked.connect(lambda: (self.set_params(self._default), self._edited()))
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b00020;")
        form.addRow("Mel bins", self.n_mels)
        form.addRow("Lowest freq.", self.f_min)
        form.addRow("Highest freq.", self.f_max)
        form.addRow("FFT size", self.n_fft)
        form.addRow("Hop", self.hop)
        form.addRow("dB range", self.db_range)
        form.addRow("Colours", self.cmap)
        form.addRow("VAD threshold", vad_row)
        form.addRow(self.reset)
        form.addRow(self.problem)
        self.set_params(self._base)

    def _spin(self, lo: int, hi: int, *, suffix: str, step: int = 1) -> QSpinBox:
        box = QSpinBox()
        box.setRange(int(lo), int(hi))
        box.setSingleStep(step)
        box.setSuffix(suffix)
        box.setKeyboardTracking(False)
        box.valueChanged.connect(self._edited)
        return box

    def _combo(self, items: list[str]) -> QComboBox:
        box = QComboBox()
        box.addItems(items)
        box.currentIndexChanged.connect(self._edited)
        return box

    def _edited(self, *_) -> None:
        if not self._quiet:
            self._timer.start()  # restarts: emits DEBOUNCE_MS after the last change

    def set_default(self, params: ExploreParams) -> None:
        """What "Model's settings" restores (the model's FeatureSpec for this task family)."""
        self._default = params

    def default(self) -> ExploreParams:
        return self._default

    def set_sample_rate(self, sample_rate: int) -> None:
        """Bound the band boxes by the recording's Nyquist frequency."""
        nyquist = int(sample_rate // 2)
        for box in (self.f_min, self.f_max):
            box.setMaximum(nyquist)

    def set_params(self, params: ExploreParams) -> None:
        """Show ``params`` (nothing is emitted)."""
        self._quiet = True
        try:
            self._base = params
            self.n_mels.setValue(int(params.n_mels))
            self.f_min.setValue(int(round(params.f_min)))
            self.f_max.setValue(0 if params.f_max is None else int(round(params.f_max)))
            _choose(self.n_fft, params.n_fft)
            _choose(self.hop, params.hop_length)
            self.db_range.setValue(int(round(params.db_range)))
            _choose(self.cmap, params.cmap)
            self.vad.setValue(int(round(params.vad_top_db)))
            self.vad_label.setText(f"{self.vad.value()} dB")
        finally:
            self._quiet = False

    def params(self) -> ExploreParams:
        return dataclasses.replace(
            self._base,
            n_mels=self.n_mels.value(),
            f_min=float(self.f_min.value()),
            f_max=float(self.f_max.value()) if self.f_max.value() else None,
            n_fft=int(self.n_fft.currentText()),
            hop_length=int(self.hop.currentText()),
            db_range=float(self.db_range.value()),
            cmap=self.cmap.currentText(),
            vad_top_db=float(self.vad.value()),
        )

    def flush(self) -> None:
        """Emit now what a pending debounce would emit (tests, and before an export)."""
        if self._timer.isActive():
            self._timer.stop()
            self.changed.emit(self.params())

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)


def _choose(box: QComboBox, value) -> None:
    """Select ``value`` in ``box``, adding it when it is not offered (a spec's own FFT size, say)."""
    text = str(value)
    i = box.findText(text)
    if i < 0:
        box.addItem(text)
        i = box.count() - 1
    box.setCurrentIndex(i)
