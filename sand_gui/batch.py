"""run_batch(index, rows, classifier) -> BatchResult: the model over a whole dataset.

Each recording goes the path ``sand-train evaluate`` takes: features from the
``FeatureCache`` when fresh, else ``pipeline.prepare_task`` (and stored), then windows
(``features.to_windows``), the network (``Classifier.predict``) and
``model.recording_probabilities``; a patient's class is ``metrics.patient_votes`` and the
scores are ``metrics.evaluate_records``: one implementation, so the workbench prints the
figures the training CLI prints (a test holds the two equal).

Long work, Qt-free: ``progress(done, total, text)`` is called before each recording and
once at the end; ``cancel()`` is asked between recordings and, when it says True, the run
stops with ``Cancelled``. Nothing but whole feature-cache entries is written during a run;
exports (``write_csv``, ``write_submission``) go through a temporary file renamed into
place, so a cancelled or failed export leaves nothing half-written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .dataset_index import DatasetIndex, Row, Status
from .errors import DatasetError, SandError, UsageError, one_line, storage_error
from .feature_cache import FeatureCache
from .features import to_windows
from .files import write_atomic
from .metrics import evaluate_records, patient_votes, report, support_warnings
from .pipeline import model_info, prepare_task, probabilities_problem
from .quality import Code


class Cancelled(SandError):
    """The user cancelled a batch run; nothing was exported."""


@dataclass
class RecordingPrediction:
    """One recording's outcome: its probabilities (class -> p) and class, or why it has none."""

    patient: str
    task: str
    true: int | None
    predicted: int | None
    probabilities: dict[int, float] | None
    error: str | None = None
    error_code: str | None = None  # a quality.Code value when the rejection has one
    path: Path | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.probabilities is not None


@dataclass
class PatientPrediction:
    """One patient's verdict: the majority vote of the tasks' probabilities."""

    patient_id: str
    true: int | None
    predicted: int
    votes: dict[int, int]  # class -> number of tasks voting for it
    confidence: float  # mean probability of the predicted class over the voting tasks
    n_tasks: int
    summary: str  # "6 of 8 tasks: class 4"
    fused: object | None = None  # sand_gui.fusion.FusedVerdict when the run had a fusion


PARTS = ("network", "measures", "fusion")  # the classes a fused run scores side by side


def part_class(patient: PatientPrediction, part: str) -> int | None:
    """The class ``part`` gives ``patient``: the network's vote, the measures classifier's own class
    (argmax, the lower class on a tie) or the fused class the app shows; None without it."""
    if part == "network":
        return patient.predicted
    fused = patient.fused
    if fused is None:
        return None
    if part == "fusion":
        return fused.final_class
    probs = getattr(fused, "measures_probabilities", None) or {}
    return max(probs.items(), key=lambda kv: (kv[1], -kv[0]))[0] if probs else None


@dataclass
class BatchResult:
    """What a batch run produced; ``metrics`` has the JSON form of ``sand-train evaluate``
    (``sand_gui.metrics``), or is None when no patient run has a class."""

    recordings: list[RecordingPrediction]
    patients: dict[str, PatientPrediction]
    metrics: dict | None
    skipped: list[str]
    model: dict
    classes: list[int]
    cache: dict = field(default_factory=dict)  # {"dir": str|None, "reused": int, "computed": int}

    def cell(self, true: int, predicted: int, *, part: str = "network") -> list[str]:
        """Patients of one confusion-matrix cell (patient level) of ``part`` (``PARTS``), in ID order."""
        return sorted(
            p.patient_id for p in self.patients.values() if p.true == true and part_class(p, part) == predicted
        )

    def mark(self, index: DatasetIndex) -> None:
        """Record in ``index`` the recordings the analysis refused (call on the thread that owns it)."""
        for r in self.recordings:
            if r.error is not None:
                bad = r.error_code in (Code.UNREADABLE.value, Code.NOT_FOUND.value)
                index.mark(r.patient, r.task, Status.UNREADABLE if bad else Status.REJECTED, r.error)

    def csv_text(self, *, level: str = "recording") -> str:
        """The predictions table: one row per recording (``level="recording"``) or per patient."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        probs = [f"p{c}" for c in self.classes]
        if level == "recording":
            w.writerow(["patient", "task", "true", "predicted", *probs, "error"])
            for r in self.recordings:
                ps = [f"{r.probabilities[c]:.6f}" for c in self.classes] if r.probabilities else [""] * len(probs)
                w.writerow([r.patient, r.task, _blank(r.true), _blank(r.predicted), *ps, r.error or ""])
        elif level == "patient":
            fused = any(p.fused is not None for p in self.patients.values())
            head = ["patient", "true", "predicted", "confidence", "tasks", *[f"votes{c}" for c in self.classes]]
            w.writerow(head + (["fused", "fused_used", "fused_reason"] if fused else []))
            for p in sorted(self.patients.values(), key=lambda p: p.patient_id):
                votes = [p.votes.get(c, 0) for c in self.classes]
                line = [p.patient_id, _blank(p.true), p.predicted, f"{p.confidence:.6f}", p.n_tasks, *votes]
                if fused:
                    f = p.fused
                    line += ["", "", ""] if f is None else [_blank(f.final_class), f.used, f.reason]
                w.writerow(line)
        else:
            raise UsageError(f"level {one_line(level, limit=40)} is unknown; use 'recording' or 'patient'.")
        return buf.getvalue()

    def write_csv(self, path: str | Path, *, level: str = "recording") -> Path:
        """The predictions table as a CSV file (UTF-8), written atomically."""
        return write_atomic(Path(path), self.csv_text(level=level))

    def write_submission(
        self, path: str | Path, index: DatasetIndex, *, split: str | None = "test", fill: int | None = None
    ) -> Path:
        """A SAND submission (``ID,CLASS``, IDs as the workbook writes them) for every patient of
        ``index`` in ``split`` (None: every patient); DatasetError, and nothing written, when a
        patient has no result and no ``fill`` class is given."""
        rows = [r for r in index.rows if split is None or r.split == split]
        if not rows:
            raise DatasetError(f"{one_line(index.root.name)}: no patient in split '{one_line(split)}' to submit.")
        if fill is not None and fill not in self.classes:
            raise UsageError(f"fill class {fill} is not a class of this model ({', '.join(map(str, self.classes))}).")
        verdicts = {pid: p.predicted for pid, p in self.patients.items()}
        text, missing = submission_csv([(r.submission_id, r.patient_id) for r in rows], verdicts, fill=fill)
        if missing:
            raise DatasetError(
                f"{one_line(index.root.name)}: no result for {len(missing)} patient(s) "
                f"({', '.join(one_line(i, limit=40) for i in missing[:5])}{', ...' if len(missing) > 5 else ''}); "
                "the submission would be incomplete (run them, or give a fill class)."
            )
        return write_atomic(Path(path), text)


def _blank(v) -> str:
    return "" if v is None else str(v)


def submission_csv(
    patients: Sequence[tuple[str, str]], verdicts: dict[str, int], *, fill: int | None = None
) -> tuple[str, list[str]]:
    """A SAND submission's text (``ID,CLASS``, one line per patient in the given order) from
    (submission ID, patient id) pairs and patient id -> class; also the submission IDs with
    no class (left out unless ``fill`` gives one). Shared by ``sand-train predict``."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["ID", "CLASS"])
    missing = []
    for written, pid in patients:
        if pid in verdicts:
            w.writerow([written, verdicts[pid]])
        else:
            missing.append(written)
            if fill is not None:
                w.writerow([written, fill])
    return buf.getvalue(), [] if fill is not None else missing


def _features(cell, spec, store: FeatureCache | None):
    """A recording's features [shape=(3, n_mels, t)]: the cache's when fresh, else computed (and stored)."""
    feats = store.get(cell) if store else None
    if feats is None:
        feats = prepare_task(cell.path, task_id=cell.task, spec=spec)[0].features
        if store:
            store.misses += 1
            try:
                store.put(cell, feats)
            except OSError as exc:
                raise storage_error(exc, store.dir) from None
    elif store:
        store.hits += 1
    return feats


def run_batch(
    index: DatasetIndex,
    rows: Iterable[Row],
    classifier,
    *,
    cache_dir: str | Path | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    fusion=None,
    measures=None,
) -> BatchResult:
    """Predict every usable recording of ``rows`` and score the labelled patients (module note).

    A recording the analysis refuses is a ``RecordingPrediction`` with its ``error`` (and a
    line in ``skipped``), never fatal; ``Cancelled`` when ``cancel()`` says so.
    With a ``fusion`` (``sand_gui.fusion.Fusion.from_bundle``) and ``measures`` (patient id ->
    ``PatientMeasures``; a patient left out is judged by the network alone, with the reason),
    each patient also gets ``fused`` and ``metrics["fusion"]`` shows network, measures and
    fusion side by side, as ``sand-train evaluate`` does for a fused bundle.
    """
    rows = list(rows)
    classes = list(classifier.card.class_numbers)
    spec = classifier.spec
    try:
        store = FeatureCache(cache_dir, spec) if cache_dir is not None else None
    except OSError as exc:
        raise storage_error(exc, cache_dir) from None
    todo, skipped = [], []
    for row in rows:
        for cell in row.cells.values():
            if cell.usable and cell.path is not None:
                todo.append((row, cell))
            else:
                skipped.append(f"{row.patient_id} {cell.task}: {one_line(cell.reason or cell.status.value, limit=400)}")
    recordings: list[RecordingPrediction] = []
    for done, (row, cell) in enumerate(todo):
        if cancel is not None and cancel():
            raise Cancelled(f"batch run over {one_line(index.root.name)} cancelled after {done} of {len(todo)}.")
        if progress:
            progress(done, len(todo), f"{row.patient_id} {cell.task}")
        rec = RecordingPrediction(row.patient_id, cell.task, row.label, None, None, path=cell.path)
        try:
            windows = to_windows(_features(cell, spec, store), n_frames=spec.n_frames)
            p = classifier.predict_recording(windows)[0]
            problem = probabilities_problem(p)
            if problem:
                raise SandError(f"{one_line(cell.path.name)}: {problem}; the recording was not used.")
        except SandError as exc:
            code = getattr(exc, "code", None)
            rec.error, rec.error_code = str(exc), None if code is None else str(getattr(code, "value", code))
            skipped.append(f"{row.patient_id} {cell.task}: {one_line(exc, limit=400)}")
        else:
            rec.probabilities = {c: float(x) for c, x in zip(classes, p)}
            rec.predicted = classes[int(np.argmax(p))]
        recordings.append(rec)
    if progress:
        progress(len(todo), len(todo), "")
    records = [(r.patient, r.task, np.array([r.probabilities[c] for c in classes])) for r in recordings if r.ok]
    verdicts = patient_votes(records, classes, rule=classifier.card.vote)
    patients = _patients(verdicts, rows)
    metrics = _metrics(records, rows, classes, classifier, index, skipped)
    if fusion is not None:
        side_by_side = _fused(patients, verdicts, classifier, fusion, measures)
        if metrics is not None and side_by_side is not None:
            metrics["fusion"] = side_by_side
    return BatchResult(
        recordings=recordings,
        patients=patients,
        metrics=metrics,
        skipped=skipped,
        model=model_info(classifier),
        classes=classes,
        cache={
            "dir": None if store is None else str(store.dir),
            "reused": _n(store, "hits"),
            "computed": _n(store, "misses"),
        },
    )


def _n(store, name: str) -> int:
    return 0 if store is None else int(getattr(store, name))


def _patients(verdicts: dict, rows: list[Row]) -> dict[str, PatientPrediction]:
    labels = {r.patient_id: r.label for r in rows}
    out = {}
    for pid, v in verdicts.items():
        out[pid] = PatientPrediction(
            pid,
            labels.get(pid),
            v.final_class,
            dict(v.votes),
            float(v.mean_probabilities[v.final_class]),
            v.n_voting,
            v.summary,
        )
    return out


def _metrics(records, rows: list[Row], classes: list[int], classifier, index: DatasetIndex, skipped) -> dict | None:
    """``sand-train evaluate``'s JSON form over the labelled patients (its levels carry the
    ordinal scores too: ``metrics.ordinal_report``)."""
    labels = {r.patient_id: r.label for r in rows if r.label is not None}
    labelled = [rec for rec in records if rec[0] in labels]
    if not labelled:
        return None
    result = {"model": classifier.card.name, "model_file": str(classifier.bundle.path), "data": str(index.root)}
    result["sheet"] = "workbench selection"
    result |= evaluate_records(labelled, labels, classes, rule=classifier.card.vote)
    result["skipped"] = list(skipped)
    result["warnings"] = support_warnings(result["patient_level"], classes)
    return result


def _fused(patients: dict[str, PatientPrediction], verdicts: dict, classifier, fusion, measures) -> dict | None:
    """Each patient's ``FusedVerdict`` (``sand_gui.fusion.fuse``, the app's rule) and, over the
    labelled patients, the network's, the measures classifier's and the fusion's patient-level
    reports side by side (``sand-train evaluate``'s ``fusion`` form; "measures" covers the
    patients whose measures could be fed to the classifier)."""
    from .fusion import fuse
    from .pipeline import AnalysisResult

    info = model_info(classifier)
    for pid, p in patients.items():
        shell = AnalysisResult([], verdicts[pid], None, info, classifier.device.name, "", 0.0)
        p.fused = fuse(shell, (measures or {}).get(pid), fusion)
    classes = list(classifier.card.class_numbers)
    known = sorted(pid for pid, p in patients.items() if p.true is not None)
    if not known:
        return None
    y = [patients[pid].true for pid in known]
    with_measures = [pid for pid in known if patients[pid].fused.measures_probabilities]
    alone = [part_class(patients[pid], "measures") for pid in with_measures]
    return {
        "decision": fusion.decision,
        "rule": fusion.describe(),
        "without_measures": len(known) - len(with_measures),
        "network": report(y, [patients[pid].predicted for pid in known], classes),
        "measures": report([patients[pid].true for pid in with_measures], alone, classes),
        "fusion": report(y, [patients[pid].fused.final_class for pid in known], classes),
    }
