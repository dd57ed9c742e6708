"""The "Why" view: which parts of one recording drove the model's decision, and a way to hear them.

The mel spectrogram of the kept audio (what the model sees, ``display.display_data``) with one of
three overlays: the occlusion regions (``explain.occlusion``: F0 band, formant region, onset,
steady middle, offset; or each syllable's burst and vowel) coloured by how much hiding each one
lowers the predicted class's probability, or Grad-CAM (``explain.grad_cam``) of the last ConvNeXt
stage or of the stage before it (twice as fine). The table lists region -> drop, largest first;
picking a row outlines that region. "Play what decided" writes ``explain.listenable`` (the top
regions at full level, the rest 30 dB down) to a temporary folder and plays it (``playback``).

All computation runs in workers (``ui.workers``), only while the view is visible; a newer
recording cancels the older request and late results are dropped. Errors are one sentence.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...errors import one_line
from ...tasks import get_task
from .. import workers
from ..messages import user_text
from ..playback import Player
from .figure_export import FigurePane

OVERLAYS = {
    "occlusion": "Occlusion: regions coloured by drop",
    "cam_last": "Grad-CAM: last ConvNeXt stage",
    "cam_fine": "Grad-CAM: the stage before the last (finer)",
}
COLUMNS = ("Region", "Drop in P(class)", "Band (Hz)", "Time (s)")


@dataclass
class WhyData:
    """What a worker computes for the view (Qt-free)."""

    path: Path
    task_id: str
    explanation: object  # explain.Explanation
    cams: dict  # overlay key -> Grad-CAM map [shape=(n_mels, t)]
    display: object  # display.DisplayData: samples, voiced range and mel dB of the kept audio
    spec: object


def compute_why(path: Path, task_id: str, classifier, progress=None) -> WhyData:
    """Worker: the mel view, occlusion of the meaningful regions and both Grad-CAM maps."""
    from ...explain import grad_cam, occlusion
    from ..display import display_data

    step = progress or (lambda *_: None)
    step("reading the recording")
    display = display_data(path, task_id, classifier.spec)
    step("hiding each region in turn (occlusion)")
    ex = occlusion(classifier, path, task_id)
    step("Grad-CAM")
    cams = {"cam_last": grad_cam(classifier, path, task_id), "cam_fine": grad_cam(classifier, path, task_id, stage=-2)}
    return WhyData(Path(path), task_id, ex, cams, display, classifier.spec)


def write_listenable(path: Path, spec, explanation, out: Path, top_k: int) -> Path:
    """Worker: ``explain.listenable`` into ``out``."""
    from ...explain import listenable

    return listenable(path, spec, explanation, out, top_k=top_k)


def faithfulness(classifier, path: Path, task_id: str, data: WhyData, progress=None) -> dict[str, float]:
    """Worker: deletion-curve AUCs (lower: the ranking is more faithful) of occlusion, both
    Grad-CAM maps and a random order, for this recording."""
    import numpy as np

    from ...explain import deletion_curve

    rankings = {
        "occlusion": data.explanation,
        **data.cams,
        "random": np.random.default_rng(0).random(data.explanation.shape),
    }
    out = {}
    for key, ranking in rankings.items():
        if progress:
            progress(f"deletion curve of {key}")
        out[key] = deletion_curve(classifier, path, task_id, ranking, steps=8).auc
    return out


def draw_why(fig, data: WhyData, *, overlay: str = "occlusion", selected: int | None = None) -> None:
    """Draw the mel panel of ``data`` with ``overlay`` into ``fig``; ``selected`` (a score index) is outlined."""
    import numpy as np
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.patches import Rectangle

    from ... import plots

    d, ex = data.display, data.explanation
    family = get_task(data.task_id).family
    ax = fig.add_subplot(1, 1, 1)
    # no dB colour bar: that scale is the Recording view's; here the room goes to the overlay's scale
    plots.plot_spectrogram(ax, d.mel_db, spec=data.spec, family=family, kind="mel", t0=ex.offset_s)
    f_min, f_max = data.spec.band(family)
    if overlay == "occlusion":
        top = max([abs(s.drop) for s in ex.scores] + [1e-6])
        norm, cmap = Normalize(-top, top), colormaps["RdBu_r"]
        for s in sorted(ex.scores, key=lambda s: abs(s.drop)):  # the strongest drawn last, on top
            r = s.region
            ax.add_patch(
                Rectangle(
                    (r.t0, r.f0_hz),
                    r.t1 - r.t0,
                    r.f1_hz - r.f0_hz,
                    facecolor=cmap(norm(s.drop)),
                    alpha=0.45,
                    edgecolor=cmap(norm(s.drop)),
                    linewidth=0.8,
                )  # fmt: skip
            )
        bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, fraction=0.05, pad=0.02)
        bar.set_label("drop in P(class) when hidden (red: supported it)", fontsize=8)
    else:
        heat = data.cams[overlay]
        frame = data.spec.hop_length / data.spec.sample_rate
        x = ex.offset_s + np.arange(heat.shape[1]) * frame
        mels = np.linspace(plots.hz_to_mel(f_min), plots.hz_to_mel(f_max), heat.shape[0] + 2)[1:-1]
        points = plots.mel_to_hz(mels)  # each mel bin's centre frequency, as the spectrogram draws it
        filled = ax.contourf(x, points, heat, levels=[0.25, 0.5, 0.75, 1.0001], cmap="Greens", alpha=0.45)
        ax.contour(x, points, heat, levels=[0.5, 0.75], colors=["#b6ff6e", "#ffffff"], linewidths=0.9)
        bar = fig.colorbar(filled, ax=ax, fraction=0.05, pad=0.02)
        bar.set_label("Grad-CAM (1 = strongest)", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    if selected is not None and 0 <= selected < len(ex.scores):
        r = ex.scores[selected].region
        ax.add_patch(Rectangle((r.t0, r.f0_hz), r.t1 - r.t0, r.f1_hz - r.f0_hz, fill=False, edgecolor="#00e5ff",
                               linewidth=2.2))  # fmt: skip
    ax.set_title("")  # plot_spectrogram's centred title; ours goes on the left
    ax.set_title(f"P(class {ex.predicted_class}) = {ex.probability:.2f} · {OVERLAYS[overlay]}", fontsize=9, loc="left")
    ax.set_xlabel("time in the recording (s)")


class ExplainView(QWidget):
    """``show_recording(path, *, task_id, patient_id, label, spec, classifier=None)`` explains one recording."""

    def __init__(self, parent: QWidget | None = None, *, player: Player | None = None):
        super().__init__(parent)
        self.player = player if player is not None else Player(self)
        self.player.error.connect(self.say)
        self.player.playingChanged.connect(self._playing)
        self.current: dict | None = None  # keywords of the recording asked for
        self.data: WhyData | None = None
        self.pending = False  # a recording waits for the view to become visible
        self._generation = 0
        self._worker = None
        self._tmp = Path(tempfile.mkdtemp(prefix="sand-why-"))
        weakref.finalize(self, shutil.rmtree, self._tmp, True)
        self.header = QLabel("Pick a recording to see which of its regions drove the model's decision.")
        self.header.setWordWrap(True)
        self.overlay = QComboBox()
        for key, text in OVERLAYS.items():
            self.overlay.addItem(text, key)
        self.overlay.currentIndexChanged.connect(lambda _i: self.redraw())
        self.top_k = QSpinBox()
        self.top_k.setRange(1, 10)
        self.top_k.setValue(3)
        self.top_k.setPrefix("top ")
        self.top_k.setToolTip("How many of the regions with the largest drop to play")
        self.play_button = QPushButton("Play what decided")
        self.play_button.setToolTip("Only the regions that carried the decision at full level; the rest 30 dB down")
        self.play_button.clicked.connect(self.play_or_stop)
        row = QHBoxLayout()
        row.addWidget(QLabel("Overlay:"))
        row.addWidget(self.overlay)
        row.addStretch(1)
        self.check_button = QPushButton("Check faithfulness")
        self.check_button.setToolTip(
            "Deletion curves: hide the cells each method ranks highest first; the probability should fall faster "
            "than in a random order (lower area = more faithful)"
        )
        self.check_button.clicked.connect(self.check_faithfulness)
        row.addWidget(self.check_button)
        row.addWidget(self.top_k)
        row.addWidget(self.play_button)
        self.pane = FigurePane("The explanation appears here.")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.itemSelectionChanged.connect(self.redraw)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.pane)
        split.addWidget(self.table)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([700, 400])  # the figure gets most of the room; the table scrolls
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(self.header)
        lay.addLayout(row)
        lay.addWidget(split, 1)
        lay.addWidget(self.status)
        self.play_button.setEnabled(False)
        self.check_button.setEnabled(False)
        self.aucs: dict[str, float] | None = None

    # -- what the window calls ------------------------------------------------------------
    def show_recording(
        self, path: Path, *, task_id: str, patient_id: str, label: int | None, spec, classifier=None
    ) -> None:
        """Explain ``path`` (computed in a worker once the view is visible and a model is loaded)."""
        self.current = {"path": Path(path), "task_id": task_id, "patient_id": patient_id, "label": label,
                        "spec": spec, "classifier": classifier}  # fmt: skip
        self._generation += 1
        self._cancel()
        self.data = None
        self.player.stop()
        self.table.setRowCount(0)
        self.play_button.setEnabled(False)
        self.check_button.setEnabled(False)
        self.aucs = None
        self.header.setText(self._title())
        if classifier is None:
            self.pane.show_message("The model is loading; the explanation follows when it is ready.")
            self.say("")
            return
        self.pending = True
        if self.isVisible():
            self._start()
        else:
            self.pane.show_message("The explanation is computed when this tab is shown.")

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.pending:
            self._start()

    def closeEvent(self, event) -> None:
        self._cancel()
        self.player.stop()
        super().closeEvent(event)

    # -- computing ------------------------------------------------------------------------
    def _start(self) -> None:
        c = self.current
        self.pending = False
        self.pane.show_message(f"Explaining {one_line(c['path'].name)}…")
        self.say("Computing the explanation (occlusion of each region, then Grad-CAM)…")
        gen = self._generation
        self._worker = workers.start(
            compute_why,
            c["path"],
            c["task_id"],
            c["classifier"],
            returned=lambda data: self._computed(gen, data),
            errored=lambda exc: self._failed(gen, exc),
            progress=lambda what: gen == self._generation and self.say(f"Computing: {what}…"),
        )

    def _cancel(self) -> None:
        if self._worker is not None and not self._worker.done:
            self._worker.cancel()
        self._worker = None

    def _computed(self, gen: int, data: WhyData) -> None:
        if gen != self._generation:
            return
        self.data = data
        self._fill_table()
        self.play_button.setEnabled(bool(data.explanation.top(1)))
        self.check_button.setEnabled(True)
        self.header.setText(self._title())
        top = data.explanation.top(1)
        self.say(
            f"Hiding “{top[0].region.name}” lowers P(class {data.explanation.predicted_class}) most, by {top[0].drop:.3f}."
            if top
            else "Hiding no region lowered the predicted class's probability."
        )
        self.redraw()

    def _failed(self, gen: int, exc: BaseException) -> None:
        if gen != self._generation:
            return
        text = user_text(exc)
        self.pane.show_message(text)
        self.say(text)

    # -- drawing ----------------------------------------------------------------------------
    def _title(self) -> str:
        c = self.current
        if c is None:
            return self.header.text()
        task = get_task(c["task_id"])
        label = "unknown" if c["label"] is None else f"class {c['label']}"
        text = f"{one_line(c['patient_id'])} · {task.name} · {one_line(c['path'].name)} · true label: {label}"
        if self.data is not None:
            ex = self.data.explanation
            wrong = c["label"] is not None and c["label"] != ex.predicted_class
            text += f" · predicted: class {ex.predicted_class} (P = {ex.probability:.2f})"
            text += " — misclassified" if wrong else ""
            sources = sorted({s.region.source for s in ex.scores if s.region.kind in ("burst", "vowel", "f0_band")})
            text += f" · regions from: {'; '.join(sources)}" if sources else ""
        return text

    def overlay_key(self) -> str:
        return self.overlay.currentData()

    def selected_score(self) -> int | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return rows[0].row() if rows else None

    def redraw(self) -> None:
        if self.data is None:
            return
        data, overlay, selected = self.data, self.overlay_key(), self.selected_score()
        self.pane.suggestion = Path.home() / f"{data.path.stem}_why.png"
        self.pane.draw(lambda fig: draw_why(fig, data, overlay=overlay, selected=selected))

    def _fill_table(self) -> None:
        scores = self.data.explanation.scores
        self.table.blockSignals(True)
        self.table.setRowCount(len(scores))
        for i, s in enumerate(scores):
            r = s.region
            cells = (r.name, f"{s.drop:+.3f}", f"{r.f0_hz:.0f}–{r.f1_hz:.0f}", f"{r.t0:.2f}–{r.t1:.2f}")
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{r.kind}; bounds from {r.source}" if j == 0 else text)
                if j:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        self.table.blockSignals(False)

    def check_faithfulness(self) -> None:
        if self.data is None:
            return
        c, gen = self.current, self._generation
        self.check_button.setEnabled(False)
        self._worker = workers.start(
            faithfulness,
            c["classifier"],
            c["path"],
            c["task_id"],
            self.data,
            returned=lambda aucs: self._checked(gen, aucs),
            errored=lambda exc: self._failed(gen, exc),
            progress=lambda what: gen == self._generation and self.say(f"Computing: {what}…"),
        )

    def _checked(self, gen: int, aucs: dict[str, float]) -> None:
        if gen != self._generation:
            return
        self.aucs = aucs
        self.check_button.setEnabled(True)
        names = {"occlusion": "occlusion", "cam_last": "Grad-CAM last stage", "cam_fine": "Grad-CAM finer stage"}
        parts = ", ".join(f"{names.get(k, k)} {v:.2f}" for k, v in aucs.items())
        self.say(f"Deletion-curve area (lower = more faithful; a ranking above random says little): {parts}.")

    # -- listening --------------------------------------------------------------------------
    def play_or_stop(self) -> None:
        if self.player.playing:
            self.player.stop()
            return
        if self.data is None:
            return
        d, gen = self.data, self._generation
        out = self._tmp / f"{d.path.stem}_what_decided.wav"
        self.play_button.setEnabled(False)
        self.say("Writing the regions that decided…")
        workers.start(
            write_listenable,
            d.path,
            d.spec,
            d.explanation,
            out,
            self.top_k.value(),
            returned=lambda wav: self._play(gen, wav),
            errored=lambda exc: self._failed_play(gen, exc),
        )

    def _play(self, gen: int, wav: Path) -> None:
        self.play_button.setEnabled(self.data is not None)
        if gen != self._generation:
            return
        names = ", ".join(s.region.name for s in self.data.explanation.top(self.top_k.value()))
        self.say(f"Playing only {names}; everything else is 30 dB quieter.")
        self.last_wav = wav
        self.player.play(wav)

    def _failed_play(self, gen: int, exc: BaseException) -> None:
        self.play_button.setEnabled(self.data is not None)
        if gen == self._generation:
            self.say(user_text(exc))

    def _playing(self, on: bool) -> None:
        self.play_button.setText("Stop" if on else "Play what decided")

    def say(self, text: str) -> None:
        self.status.setText(one_line(text, limit=1000))
