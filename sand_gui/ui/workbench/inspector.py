"""The "Recording" view: one recording, seen as the model sees it and as a researcher explores it.

Two tabs that are never mixed up. "Model input (FeatureSpec …)" draws exactly
``plots.model_view`` / ``plots.plot_model_view`` with the model's FeatureSpec (the same
``display.display_data`` as the main window), and nothing on this page changes it.
"Exploration — not the model's input" draws ``explore``'s spectrogram of the whole recording
with live controls (mel bins, band, FFT size, hop, dB range, colours, VAD threshold); the
kept region follows the VAD slider. A recording longer than ``SYNC_SECONDS`` is recomputed in
a worker (the newest request wins); shorter ones take milliseconds and are drawn at once.

Play plays the whole file or only the kept region (``playback.Player``); "Export figure…"
saves either tab (``figure_export``); "Export TextGrid…" writes the VAD segmentation at the
shown threshold as a Praat TextGrid (``textgrid.vad_textgrid``).
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...errors import SandError, one_line
from ...tasks import get_task
from .. import workers
from ..messages import MessageBox, user_text
from ..playback import Player
from .explore_controls import ExploreControls
from .figure_export import FigurePane

SYNC_SECONDS = 30.0  # recordings up to this long are recomputed on the GUI thread (a few ms)
EXPLORATION_TAB = "Exploration — not the model's input"
CONTROLS_MAX_PX = 250


@dataclass
class Inspection:
    """What a worker loads for the view: the file at its own rate, and the model's view of it."""

    path: Path
    samples: object  # np.ndarray [shape=(n,)] at sample_rate (the file's own)
    sample_rate: int
    model: object  # display.DisplayData (the model's input), or None
    model_error: str  # why the model sees nothing, when model is None


def load_inspection(path: Path, task_id: str, spec) -> Inspection:
    """Worker: the recording at its own rate, and ``display_data`` (what the model sees) at the spec's."""
    from ...explore import load_samples
    from ..display import display_data

    samples, rate = load_samples(path)
    try:
        model, why = display_data(path, task_id, spec), ""
    except SandError as exc:
        model, why = None, str(exc)
    return Inspection(Path(path), samples, rate, model, why)


def model_tab_title(spec, family: str) -> str:
    f_min, f_max = spec.band(family)
    return (
        f"Model input (FeatureSpec: {spec.sample_rate} Hz, {spec.n_mels} mels {f_min:g}-{f_max:g} Hz, "
        f"FFT {spec.n_fft}, hop {spec.hop_length})"
    )


def write_textgrid(path: Path, spec, out: Path, task_id: str) -> tuple[Path, int | None]:
    """Worker: ``textgrid.vad_textgrid`` with the syllable times of a DDK task when Praat's
    measures are installed (``measures.measure_recording``, same spec, so the same kept region).
    Returns (out, number of syllable points or None)."""
    from ...tasks import RHYTHM
    from ...textgrid import vad_textgrid

    syllables = None
    if get_task(task_id).family == RHYTHM:
        try:
            from ...measures import measure_recording

            syllables = measure_recording(path, task_id=task_id, spec=spec).syllable_times or None
        except SandError:  # Praat not installed, or nothing measurable: the VAD tier alone
            syllables = None
    vad_textgrid(path, spec, out, syllables=syllables)
    return out, None if syllables is None else len(syllables)


class TextGridDialog:
    @classmethod
    def ask(cls, parent: QWidget | None, suggestion: Path) -> Path | None:
        f, _ = QFileDialog.getSaveFileName(parent, "Export TextGrid", str(suggestion), "Praat TextGrid (*.TextGrid)")
        return Path(f) if f else None


class InspectorView(QWidget):
    """``show_recording(path, *, task_id, patient_id, label, spec, classifier=None)`` shows one recording."""

    textgridWritten = Signal(object)  # the Path written

    def __init__(self, parent: QWidget | None = None, *, player: Player | None = None):
        super().__init__(parent)
        self.player = player if player is not None else Player(self)
        self.player.error.connect(lambda text: MessageBox.show(self, text, title="Play"))
        self.current: dict | None = None  # the keywords of the recording shown (or being loaded)
        self.data: Inspection | None = None
        self.exploration = None  # explore.Exploration drawn now
        self._generation = 0  # the newest exploration request; older results are dropped
        self._touched = False  # the user changed the controls: keep their settings for the next recording
        self._tmp = Path(tempfile.mkdtemp(prefix="sand-inspect-"))
        weakref.finalize(self, shutil.rmtree, self._tmp, True)
        self.header = QLabel("Pick a recording in the grid to inspect it.")
        self.header.setWordWrap(True)
        self.play_button = QPushButton("Play")
        self.play_kept_button = QPushButton("Play kept region")
        self.stop_button = QPushButton("Stop")
        self.textgrid_button = QPushButton("Export TextGrid…")
        self.textgrid_button.setToolTip("The VAD segmentation at the shown threshold, as a Praat TextGrid")
        self.play_button.clicked.connect(self.play)
        self.play_kept_button.clicked.connect(self.play_kept)
        self.stop_button.clicked.connect(self.player.stop)
        self.textgrid_button.clicked.connect(self.export_textgrid)
        row = QHBoxLayout()
        for b in (self.play_button, self.play_kept_button, self.stop_button, self.textgrid_button):
            row.addWidget(b)
        self.note = QLabel()
        row.addWidget(self.note, 1)
        self.model_pane = FigurePane("The model's input appears here.")
        self.explore_pane = FigurePane("The exploration view appears here.")
        self.controls = ExploreControls()
        self.controls.setMaximumWidth(CONTROLS_MAX_PX)
        self.controls.changed.connect(self._user_changed)
        split = QSplitter()
        split.addWidget(self.explore_pane)
        split.addWidget(self.controls)
        split.setStretchFactor(0, 1)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.model_pane, "Model input (FeatureSpec)")
        self.tabs.addTab(split, EXPLORATION_TAB)
        lay = QVBoxLayout(self)
        lay.addWidget(self.header)
        lay.addLayout(row)
        lay.addWidget(self.tabs, 1)
        self._enable(False)

    def _enable(self, on: bool) -> None:
        for b in (self.play_button, self.play_kept_button, self.textgrid_button):
            b.setEnabled(on)

    # -- what the window calls ------------------------------------------------------------
    def show_recording(
        self, path: Path, *, task_id: str, patient_id: str, label: int | None, spec, classifier=None
    ) -> None:
        from ...explore import ExploreParams

        task = get_task(task_id)
        path = Path(path)
        self.current = {"path": path, "task_id": task_id, "patient_id": patient_id, "label": label, "spec": spec}
        self.data, self.exploration = None, None
        self._generation += 1
        self._enable(False)
        klass = "unlabelled" if label is None else f"class {label}"
        self.header.setText(f"{one_line(patient_id)} · {task.name} ({task_id}) · {klass} · {one_line(path.name)}")
        params = ExploreParams.from_spec(spec, task.family)
        self.controls.set_default(params)
        if not self._touched:
            self.controls.set_params(params)
        self.tabs.setTabText(0, model_tab_title(spec, task.family))
        stem = f"{path.stem}"
        self.model_pane.suggestion = Path.home() / f"{stem}_model_input.png"
        self.explore_pane.suggestion = Path.home() / f"{stem}_exploration.png"
        for pane in (self.model_pane, self.explore_pane):
            pane.show_message(f"loading {one_line(path.name)}…")
        key = dict(self.current)
        workers.start(
            load_inspection,
            path,
            task_id,
            spec,
            returned=lambda d, k=key: self._loaded(k, d),
            errored=lambda e, k=key: self._failed(k, e),
        )

    def _loaded(self, key: dict, data: Inspection) -> None:
        if key != self.current:
            return  # another recording was picked meanwhile
        self.data = data
        self.controls.set_sample_rate(data.sample_rate)
        if data.model is None:
            self.model_pane.show_message(f"The model sees nothing of this recording: {one_line(data.model_error)}")
        else:
            self.model_pane.draw(self.draw_model)
        self._enable(True)
        self.set_params(self.controls.params())

    def _failed(self, key: dict, exc: BaseException) -> None:
        if key != self.current:
            return
        text = user_text(exc)
        for pane in (self.model_pane, self.explore_pane):
            pane.show_message(text)

    # -- the two views ----------------------------------------------------------------------
    def model_arrays(self) -> dict | None:
        """The panels the model view draws: ``{"mel", "delta", "delta2"}`` arrays, or None."""
        m = self.data.model if self.data is not None else None
        return None if m is None else {"mel": m.mel_db, "delta": m.delta, "delta2": m.delta2}

    def draw_model(self, fig) -> None:
        """The model's own view: ``plots.plot_model_view`` of ``display_data``, all four panels."""
        from ... import plots

        m = self.data.model
        plots.plot_model_view(
            fig,
            plots.PANELS,
            samples=m.samples,
            voiced=m.voiced,
            view=self.model_arrays(),
            spec=m.spec,
            family=m.family,
            title=f"Model input (FeatureSpec) — {one_line(m.path.name)}",
        )

    def draw_exploration(self, fig) -> None:
        from ...explore import draw_exploration

        draw_exploration(fig, self.data.samples, self.exploration)

    def _user_changed(self, params) -> None:
        self._touched = params != self.controls.default()
        self.set_params(params)

    def set_params(self, params) -> None:
        """Recompute the exploration with ``params`` (the controls call this, debounced). Only the
        VAD threshold changed: the kept region alone is recomputed."""
        from ...explore import explore, kept_region

        if self.data is None:
            return
        self._generation += 1
        data, ex = self.data, self.exploration
        try:
            params.validate(sample_rate=data.sample_rate)
        except SandError as exc:
            self.controls.show_problem(str(exc))
            return
        self.controls.show_problem("")
        if ex is not None and dataclasses.replace(ex.params, vad_top_db=params.vad_top_db) == params:
            kept = kept_region(data.samples, sample_rate=data.sample_rate, params=params)
            self._show_exploration(dataclasses.replace(ex, params=params, voiced=kept))
        elif len(data.samples) <= SYNC_SECONDS * data.sample_rate:
            try:
                self._show_exploration(explore(data.samples, sample_rate=data.sample_rate, params=params))
            except SandError as exc:
                self.controls.show_problem(str(exc))
        else:
            gen = self._generation
            self.explore_pane.show_message("computing the exploration view…")
            workers.start(
                explore,
                data.samples,
                sample_rate=data.sample_rate,
                params=params,
                returned=lambda e, g=gen: g == self._generation and self._show_exploration(e),
                errored=lambda e, g=gen: g == self._generation and self.controls.show_problem(user_text(e)),
            )

    def _show_exploration(self, ex) -> None:
        self.exploration = ex
        self.explore_pane.draw(self.draw_exploration)

    # -- play and export ----------------------------------------------------------------------
    def play(self) -> None:
        if self.data is not None:
            self.player.play(self.data.path)

    def play_kept(self) -> None:
        """Play only the kept region at the shown VAD threshold (a temporary 16-bit WAV)."""
        import soundfile as sf

        if self.data is None or self.exploration is None:
            return
        v = self.exploration.voiced
        if v.length == 0:
            MessageBox.show(self, f"{one_line(self.data.path.name)}: nothing is kept at this threshold.", title="Play")
            return
        wav = self._tmp / f"kept-{self._generation}.wav"
        for old in self._tmp.glob("kept-*.wav"):
            old.unlink(missing_ok=True)
        sf.write(str(wav), self.data.samples[v.start : v.stop], self.data.sample_rate, subtype="PCM_16")
        self.player.play(wav)

    def export_textgrid(self):
        """Write the VAD kept region at the shown threshold (and, for /pa/ /ta/ /ka/, the syllable
        times Praat finds) as a Praat TextGrid, in a worker; ``textgridWritten`` follows. Returns
        the worker, or None when nothing is written."""
        if self.data is None or self.current is None:
            return None
        out = TextGridDialog.ask(self, Path.home() / f"{self.data.path.stem}.TextGrid")
        if out is None:
            return None
        spec = dataclasses.replace(self.current["spec"], vad_top_db=float(self.controls.params().vad_top_db))
        self.note.setText(f"writing {one_line(Path(out).name)}…")
        return workers.start(
            write_textgrid,
            self.data.path,
            spec,
            Path(out),
            self.current["task_id"],
            returned=self._textgrid_written,
            errored=self._textgrid_failed,
        )

    def _textgrid_written(self, result) -> None:
        out, syllables = result
        extra = "" if syllables is None else f" and {syllables} syllable point(s)"
        self.note.setText(f"{one_line(out.name)} written: the VAD tier{extra}.")
        self.textgridWritten.emit(out)

    def _textgrid_failed(self, exc) -> None:
        self.note.setText("")
        MessageBox.error(self, exc, title="Export TextGrid")

    def closeEvent(self, event) -> None:
        self.player.stop()
        super().closeEvent(event)
