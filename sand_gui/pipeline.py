"""analyze(recordings, classifier) -> AnalysisResult: the whole assessment in one call.

load (audio) -> trim (VAD) -> features -> network -> per-task vote -> final class.
Each task is judged on its own: a bad recording is reported in its row, not fatal; only
when no task is valid is there no verdict. Results are plain dataclasses with a JSON form
(the schema docs/cli.md documents and ``sand-gui analyze --json`` prints).

A result knows what produced it: the model bundle's identity (file, SHA-256, card name,
architecture, synthetic flag), the ``FeatureSpec`` the features were computed with, the
device, and the SHA-256 of every recording as analysed. Reports describe the result from
these, never from whatever model is loaded when they are written.

Finite or refused: features that are not finite, or class probabilities that are not
finite (or do not form a distribution), reject that task with a reason; they never vote.
"""

from __future__ import annotations

import datetime as _dt
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import __version__
from .audio import load_recording
from .errors import AudioError, SandError, one_line
from .features import FeatureSpec, PreparedInput, prepare_input
from .files import sha256_file as file_sha256  # None when unreadable
from .quality import Code, Note
from .tasks import TASK_IDS, get_task
from .vad import VoicedRange
from .votes import Verdict, decide, task_vote

MIN_TASKS_FOR_VERDICT = 5  # fewer usable tasks: "recording quality too low for a verdict"
SCHEMA_VERSION = 2  # 2: feature_spec, analysed_at, app_version, tasks[].sha256/warning_codes/error_code
PROBABILITY_TOLERANCE = 1e-3  # a task's probabilities must sum to 1 within this


@dataclass
class TaskResult:
    """One task's outcome: its vote and probabilities, or why it was rejected."""

    task: str
    file: str
    predicted_class: int | None = None
    probabilities: dict[int, float] | None = None
    trimmed_seconds: float | None = None
    voiced: VoicedRange | None = None
    warnings: list[str] = field(default_factory=list)  # sand_gui.quality.Note (a str with .code)
    error: str | None = None
    error_code: str | None = None  # a sand_gui.quality.Code value, when the rejection has one
    sha256: str | None = None  # of the file's bytes as analysed

    @property
    def warning_codes(self) -> list[str]:
        """The code of each warning (``""`` for a plain string without one), aligned with ``warnings``."""
        return [w.code.value if isinstance(w, Note) else "" for w in self.warnings]

    @property
    def ok(self) -> bool:
        return self.error is None and self.probabilities is not None

    @property
    def confidence(self) -> float | None:
        return max(self.probabilities.values()) if self.probabilities else None


@dataclass
class AnalysisResult:
    """One patient's assessment and what produced it (bundle identity, FeatureSpec, device)."""

    tasks: list[TaskResult]
    verdict: Verdict | None
    final_label: str | None
    model: dict  # model_info(): file, sha256, name, architecture, synthetic, training_data, measures_model
    device: str
    device_note: str
    elapsed_ms: float
    missing_tasks: list[str] = field(default_factory=list)
    spec: FeatureSpec | None = None  # the FeatureSpec the features were computed with
    analysed_at: str = ""  # UTC, ISO 8601
    app_version: str = __version__

    @property
    def feature_spec(self) -> dict | None:
        """The spec as the card's JSON form (``FeatureSpec.to_dict``)."""
        return None if self.spec is None else self.spec.to_dict()

    @property
    def n_valid(self) -> int:
        return sum(t.ok for t in self.tasks)

    @property
    def quality_ok(self) -> bool:
        return self.verdict is not None and self.n_valid >= MIN_TASKS_FOR_VERDICT

    @property
    def quality_message(self) -> str:
        """Empty when enough tasks are usable; else what to redo."""
        if self.quality_ok:
            return ""
        redo = [t.task for t in self.tasks if not t.ok] + self.missing_tasks
        return (
            f"Recording quality too low for a verdict: {self.n_valid} of {len(TASK_IDS)} tasks usable, "
            f"at least {MIN_TASKS_FOR_VERDICT} needed. Redo: {', '.join(redo)}."
        )

    def to_dict(self) -> dict:
        v = self.verdict
        return {
            "schema_version": SCHEMA_VERSION,
            "tasks": [
                {
                    "task": t.task,
                    "file": t.file,
                    "class": t.predicted_class,
                    "probabilities": {str(k): round(p, 6) for k, p in t.probabilities.items()}
                    if t.probabilities
                    else None,
                    "trimmed_seconds": None if t.trimmed_seconds is None else round(t.trimmed_seconds, 3),
                    "voiced_samples": None if t.voiced is None else [t.voiced.start, t.voiced.stop],
                    "warnings": [str(w) for w in t.warnings],
                    "warning_codes": t.warning_codes,
                    "error": t.error,
                    "error_code": t.error_code,
                    "sha256": t.sha256,
                }
                for t in self.tasks
            ],
            "missing_tasks": self.missing_tasks,
            "votes": None if v is None else {str(k): n for k, n in v.votes.items()},
            "final_class": None if v is None else v.final_class,
            "final_label": self.final_label,
            "vote_summary": None if v is None else v.summary,
            "tie_broken": None if v is None else v.tie_broken,
            "tie_rule": None if v is None else v.rule,
            "quality_ok": self.quality_ok,
            "quality_message": self.quality_message,
            "model": self.model,
            "feature_spec": self.feature_spec,
            "device": self.device,
            "device_note": self.device_note,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "analysed_at": self.analysed_at,
            "app_version": self.app_version,
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """``to_dict()`` as strict JSON (``allow_nan=False``: never ``NaN`` or ``Infinity``)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)


def prepare_task(path: str | Path, *, task_id: str, spec, device: str = "cpu") -> tuple[PreparedInput, list[str]]:
    """Load, trim and featurise one recording (AudioError on bad input); also its warnings.

    Features that are not finite everywhere are refused here (``Code.NON_FINITE``), so
    neither the network nor training ever sees them.
    """
    path = Path(path)
    rec = load_recording(path, sample_rate=spec.sample_rate, bandlimit_hz=spec.bandlimit_hz)
    prepared = prepare_input(rec.samples, spec=spec, task=get_task(task_id), name=path.name, device=device)
    import torch

    if not bool(torch.isfinite(prepared.windows).all()):
        raise AudioError(
            f"{one_line(path.name)}: its features are not finite (NaN or infinity); the recording cannot be used.",
            code=Code.NON_FINITE,
        )
    return prepared, rec.warnings


def model_info(classifier) -> dict:
    """The identity of the classifier's bundle, as a result and its reports carry it."""
    card = classifier.card
    return {
        "name": card.name,
        "architecture": card.architecture,
        "training_data": card.training_data.get("description", ""),
        "synthetic": card.synthetic,
        "file": classifier.bundle.path.name,
        "sha256": classifier.bundle.file_sha256,
        "measures_model": card.fusion is not None,  # it decides with its measures (sand_gui.decision)
    }


def probabilities_problem(p: np.ndarray) -> str:
    """Why ``p`` [shape=(n_classes,)] is not a usable probability distribution; "" when it is."""
    p = np.asarray(p, dtype=np.float64)
    if not np.isfinite(p).all():
        return "the model returned probabilities that are not finite (NaN or infinity)"
    if (p < -PROBABILITY_TOLERANCE).any() or abs(float(p.sum()) - 1.0) > PROBABILITY_TOLERANCE:
        return f"the model returned probabilities that do not sum to 1 (sum {float(p.sum()):.3g})"
    return ""


def analyze(
    recordings: Mapping[str, str | Path], classifier, *, progress: Callable[[int, int, str], None] | None = None
) -> AnalysisResult:
    """Assess one patient from up to eight recordings (task id -> file).

    All tasks are prepared first, then the windows of every valid task go through the
    network in one batch (one forward pass instead of eight); ``progress(i, n, task)``
    is called before each task and once more with ``i == n`` when the model runs.
    """
    t0 = time.perf_counter()
    card, spec = classifier.card, classifier.spec
    todo = [t for t in TASK_IDS if t in recordings]
    results, prepared = [], {}
    for i, task_id in enumerate(todo):
        if progress:
            progress(i, len(todo), task_id)
        res = TaskResult(task=task_id, file=str(recordings[task_id]))
        res.sha256 = file_sha256(recordings[task_id])
        try:
            prepared[task_id], warnings = prepare_task(recordings[task_id], task_id=task_id, spec=spec)
            res.warnings = list(warnings)
        except SandError as exc:
            res.error = str(exc)
            code = getattr(exc, "code", None)
            res.error_code = None if code is None else str(getattr(code, "value", code))
        results.append(res)
    if progress:
        progress(len(todo), len(todo), "")
    probs_by_task, note = _predict_all(classifier, prepared)
    for res in results:
        problem = probabilities_problem(probs_by_task[res.task]) if res.task in probs_by_task else ""
        if problem:  # finite or refused: never a vote from garbage
            del probs_by_task[res.task]
            res.error = f"{one_line(Path(res.file).name)}: {problem}; the recording was not used."
            res.error_code = Code.NON_FINITE.value
        elif res.task in probs_by_task:
            p, prep = probs_by_task[res.task], prepared[res.task]
            res.probabilities = {int(c): float(x) for c, x in zip(card.class_numbers, p)}
            res.predicted_class = task_vote(p, card.class_numbers)
            res.trimmed_seconds, res.voiced = prep.voiced_seconds, prep.voiced
    verdict = decide(probs_by_task, card.class_numbers, rule=card.vote) if probs_by_task else None
    return AnalysisResult(
        tasks=results,
        verdict=verdict,
        final_label=None if verdict is None else card.label(verdict.final_class),
        model=model_info(classifier),
        device=classifier.device.name,
        device_note="; ".join(n for n in (classifier.device.note, note) if n),
        elapsed_ms=1000 * (time.perf_counter() - t0),
        missing_tasks=[t for t in TASK_IDS if t not in recordings],
        spec=spec,
        analysed_at=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    )


def _predict_all(classifier, prepared: dict[str, PreparedInput]) -> tuple[dict[str, np.ndarray], str]:
    """Per-task probabilities from one batched forward pass over all tasks' windows."""
    import torch

    from .model import recording_probabilities

    if not prepared:
        return {}, ""
    windows = torch.cat([p.windows for p in prepared.values()])
    probs, note = classifier.predict(windows)
    out, i = {}, 0
    for task_id, p in prepared.items():
        n = len(p.windows)
        out[task_id] = recording_probabilities(probs[i : i + n])
        i += n
    return out, note
