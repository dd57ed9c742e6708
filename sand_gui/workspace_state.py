"""What the workspace holds: each task's state, the model's identity, the last analysis.

Plain frozen values (``TaskState``, ``ModelIdentity``, ``Analysis``) and the enums the
window reads them by (``TaskStatus``, ``Source``, ``Change``); ``sand_gui.workspace``
changes them, views only read them. ``source_of`` tells a reopened session's take recorded
from loaded. Qt-free, and nothing heavy at import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path


class TaskStatus(Enum):
    """Where a task stands; the task list colours and words follow it."""

    EMPTY = "empty"  # no recording yet
    RECORDING = "recording"  # a take is being recorded
    CHECKING = "checking"  # loaded or recorded; the check on load is running
    READY = "ready"  # checked and usable
    REJECTED = "rejected"  # checked (or analysed) and not usable; ``error`` says why


class Source(Enum):
    """Where the current take came from (a field, never guessed from a file name)."""

    RECORDED = "recorded"
    LOADED = "loaded"


class Change(Enum):
    """What changed; the argument of every callback (with the task id for ``TASK``)."""

    SESSION = "session"  # a session was opened, created or closed (every task changed too)
    TASK = "task"
    MODEL = "model"
    ANALYSIS = "analysis"  # an analysis started, finished or failed
    MEASURES = "measures"  # the Praat measures started, progressed, finished, failed or were dropped
    EXPORTED = "exported"


@dataclass(frozen=True)
class TaskState:
    """One task's current take and what the check on load found."""

    task_id: str
    status: TaskStatus = TaskStatus.EMPTY
    source: Source | None = None
    file: Path | None = None
    take: int | None = None  # 1-based position of the file among the task's takes in the session
    seconds: float | None = None  # duration of the file
    voiced_seconds: float | None = None  # what the voice detector kept
    notes: tuple = ()  # warnings: ``quality.Note`` (a str with ``.code``)
    error: str | None = None  # the one-sentence reason of a rejection
    error_code: object = None  # ``quality.Code`` of the rejection, when the core gave one
    spec: object = None  # the FeatureSpec the file was checked with

    @property
    def usable(self) -> bool:
        return self.status is TaskStatus.READY


@dataclass(frozen=True)
class ModelIdentity:
    """Which model: enough to name it in a report and to tell two bundles apart."""

    name: str
    path: Path
    sha256: str  # SHA-256 of the bundle file, as verified when it was loaded
    architecture: str
    synthetic: bool
    spec: object  # its FeatureSpec

    @classmethod
    def of(cls, classifier) -> ModelIdentity:
        card, bundle = classifier.card, classifier.bundle
        return cls(
            card.name,
            Path(bundle.path),
            str(bundle.file_sha256),
            card.architecture,
            bool(card.synthetic),
            classifier.spec,
        )


@dataclass(frozen=True)
class Analysis:
    """The last analysis and what produced it."""

    result: object  # pipeline.AnalysisResult
    model: ModelIdentity
    recordings: dict = field(default_factory=dict)  # task id -> the file analysed

    @property
    def spec(self):
        """The FeatureSpec the result was computed with (the result's own, when it carries one)."""
        return getattr(self.result, "spec", None) or self.model.spec


def source_of(session, task_id: str, path: Path) -> Source:
    """Where a reopened session's take came from, as ``session.json`` records it
    (``Session.origin``). Sessions written before it recorded origins: a take this
    application recorded is one of its own ``next_take_path`` names inside the folder."""
    origin = getattr(session, "origin", None)
    if callable(origin):
        value = origin(Path(path))
        if value in (Source.RECORDED.value, Source.LOADED.value):
            return Source(value)
    inside = Path(path).parent.resolve() == Path(session.folder).resolve()
    stem = Path(path).stem
    own = stem.startswith(f"{session.patient_id}_{task_id}_take") and stem.rsplit("_take", 1)[1].isdigit()
    return Source.RECORDED if inside and own else Source.LOADED
