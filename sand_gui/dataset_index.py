"""A whole dataset at a glance: patients x tasks, with each recording's status and reason.

``DatasetIndex.open(path)`` reads what a researcher points at (a SAND release as it unpacks,
a synthetic corpus from ``sand-train synth``, or any folder of task-named files) into rows
of ``Row`` (a patient: age, sex, split, class) holding one ``Cell`` per task (the file,
``present`` / ``missing`` / ``rejected`` / ``unreadable`` with the reason, and its length
from the header). Nothing is decoded: only headers are read, so a 300-patient corpus opens
in well under the 2 s budget (``benchmarks/bench_workbench.py``). The SAND layout rules
are ``sand_gui.dataset``'s, the one reader of workbooks and folders.

Bad input never closes the dataset: a malformed workbook is one line in ``problems`` and
the patients are then taken from the manifest, or from the audio folders without a class;
an unreadable file is a cell marked ``unreadable`` with its reason; a patient without a
usable task keeps its row, with ``Row.problem`` saying why. Later findings (a recording
the analysis rejected) are recorded with ``mark``.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from .audio import MAX_CHANNELS, MAX_SOURCE_RATE, MIN_SOURCE_RATE
from .dataset import (
    AUDIO_EXTENSIONS,
    TEST_SHEET,
    TRAIN_SHEET,
    TRAINING_SHEET,
    VALIDATION_SHEET,
    Patient,
    SandLayout,
    id_key,
    latest_take,
    normalise_id,
    read_manifest_rows,
)
from .errors import DatasetError, UsageError, one_line
from .tasks import TASK_IDS, get_task, patient_id_from_filename, task_from_filename

SYNTHETIC_MARK = "synthetic.json"  # written last by training.synth: the corpus is synthetic
MAX_FOLDER_DEPTH = 3  # a plain folder is searched this deep for task-named files
KINDS = ("sand", "synthetic", "folder")


class Status(str, enum.Enum):
    """A cell's state; compares equal to its value (``Status.PRESENT == "present"``)."""

    PRESENT = "present"  # the file is there and its header is readable
    MISSING = "missing"  # no file for this task
    REJECTED = "rejected"  # readable, but not usable (header limits, or the analysis refused it)
    UNREADABLE = "unreadable"  # the file cannot be opened or is not audio

    def __str__(self) -> str:
        return self.value


@dataclass
class Cell:
    """One task of one patient: the file (None when missing), its status and why."""

    task: str
    path: Path | None
    status: Status
    reason: str | None = None  # one sentence when the status is not PRESENT
    seconds: float | None = None  # length from the header (nothing decoded)

    @property
    def usable(self) -> bool:
        return self.status == Status.PRESENT


@dataclass
class Row:
    """One patient: what the table says of them and one ``Cell`` per task id."""

    patient_id: str  # normalised ("ID007"); "ID007 (test)" for a test patient whose ID a training patient has
    age: int | None
    sex: str | None  # "M", "F" or None
    split: str | None  # "train", "validation", "training", "test" or None (not known)
    label: int | None  # class 1..5, None when unlabelled (test set, plain folder)
    cells: dict[str, Cell] = field(default_factory=dict)
    written_id: str | None = None  # as the table writes it (what a SAND submission carries)

    @property
    def submission_id(self) -> str:
        return self.written_id or self.patient_id

    def recordings(self) -> dict[str, Path]:
        """Task id -> file of the usable cells, in task order."""
        return {t: c.path for t, c in self.cells.items() if c.usable and c.path is not None}

    @property
    def problem(self) -> str | None:
        """One sentence when no task of this patient is usable; None otherwise."""
        if any(c.usable for c in self.cells.values()):
            return None
        bad = [c for c in self.cells.values() if c.status != Status.MISSING]
        if not bad:
            return f"{one_line(self.patient_id, limit=60)}: no usable recording (no task was found)."
        why = "; ".join(f"{c.task}: {one_line(c.reason or c.status.value, limit=120)}" for c in bad[:3])
        more = f"; {len(bad) - 3} more" if len(bad) > 3 else ""
        return f"{one_line(self.patient_id, limit=60)}: no usable recording ({why}{more})."


WAV_FORMATS = {1: (8, 16, 24, 32), 3: (32, 64), 6: (8,), 7: (8,)}  # PCM, float, A-law, mu-law: bits per sample


def wav_header(path: Path) -> tuple[int, int, int] | None:
    """(sample rate, channels, frames) of a plain RIFF/WAVE file from its first bytes, or None
    when the file is anything else (then libsndfile reads the header). Frames are what the
    ``data`` chunk announces, cut to what the file holds, as libsndfile counts them."""
    import struct

    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
            size = os.fstat(fh.fileno()).st_size
    except OSError:
        return None
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos, fmt = 12, None
    while pos + 8 <= len(head):
        cid, n = head[pos : pos + 4], int.from_bytes(head[pos + 4 : pos + 8], "little")
        body = pos + 8
        if cid == b"fmt " and n >= 16 and body + 16 <= len(head):
            tag, channels, rate, _, block, bits = struct.unpack("<HHIIHH", head[body : body + 16])
            if tag == 0xFFFE and n >= 40 and body + 26 <= len(head):  # WAVE_FORMAT_EXTENSIBLE: the sub-format says
                tag = int.from_bytes(head[body + 24 : body + 26], "little")
            fmt = (tag, channels, rate, block, bits)
        elif cid == b"data":
            if fmt is None or n in (0, 0xFFFFFFFF):
                return None
            tag, channels, rate, block, bits = fmt
            if bits not in WAV_FORMATS.get(tag, ()) or channels < 1 or block != channels * bits // 8:
                return None
            return rate, channels, min(n, size - body) // block
        pos = body + n + (n & 1)
    return None


def header_cell(task: str, path: Path) -> Cell:
    """A cell for ``path`` from its header alone: present with its length, or why not."""
    name = one_line(path.name, limit=120)
    head = wav_header(path)
    if head is None:
        import soundfile as sf

        try:
            info = sf.info(str(path))
        except Exception as exc:  # noqa: BLE001 - libsndfile raises several kinds; each is this file's problem
            why = one_line(str(exc).split(":")[-1].strip() or type(exc).__name__, limit=120)
            return Cell(task, path, Status.UNREADABLE, f"{name}: not a readable audio file ({why}).")
        head = int(info.samplerate), int(info.channels), int(info.frames)
    rate, channels, frames = head
    if not MIN_SOURCE_RATE <= rate <= MAX_SOURCE_RATE:
        why = f"sample rate {rate} Hz is outside the usable range {MIN_SOURCE_RATE}-{MAX_SOURCE_RATE} Hz"
        return Cell(task, path, Status.REJECTED, f"{name}: {why}.")
    if frames <= 0 or channels <= 0:
        return Cell(task, path, Status.REJECTED, f"{name}: the file holds no audio (0 frames).")
    if channels > MAX_CHANNELS:
        why = f"the header declares {channels} channels; at most {MAX_CHANNELS} are supported"
        return Cell(task, path, Status.REJECTED, f"{name}: {why}.")
    return Cell(task, path, Status.PRESENT, None, frames / rate)


def _cells(found: dict[str, Path], *, headers: bool) -> dict[str, Cell]:
    cells = {}
    for task in TASK_IDS:
        path = found.get(task)
        if path is None:
            cells[task] = Cell(task, None, Status.MISSING, "recording not found.")
        else:
            cells[task] = header_cell(task, path) if headers else Cell(task, path, Status.PRESENT)
    return cells


class DatasetIndex:
    """Rows of patients x tasks of one dataset; see the module note. Build with ``open``."""

    def __init__(self, root: Path, kind: str, rows: list[Row], problems: list[str]):
        self.root, self.kind, self.rows, self.problems = root, kind, rows, problems
        self.tasks: tuple[str, ...] = TASK_IDS
        self._by_key = {id_key(r.patient_id): r for r in rows}

    def __len__(self) -> int:
        return len(self.rows)

    @classmethod
    def open(cls, path: str | Path, *, test_root: str | Path | None = None, headers: bool = True) -> DatasetIndex:
        """Index a dataset folder; DatasetError only when ``path`` is no folder or holds no patient.

        ``headers=False`` skips reading the audio headers (every found file is then
        ``present`` with no length), for folders on slow network drives.
        """
        path = Path(path)
        if not path.is_dir():
            raise DatasetError(f"{one_line(path)}: dataset folder not found.")
        if SandLayout.looks_like(path) or test_root is not None:
            layout = SandLayout(path, test_root=test_root)
            kind = "synthetic" if (layout.root / SYNTHETIC_MARK).is_file() else "sand"
            rows, problems = _sand_rows(layout, headers=headers)
            root = layout.root
        else:
            kind, root = "folder", path
            rows, problems = _folder_rows(path, headers=headers)
        if not rows:
            raise DatasetError(f"{one_line(path)}: no patient and no task-named audio file found.")
        problems += [r.problem for r in rows if r.problem]
        return cls(root, kind, rows, problems)

    # looking things up
    def row(self, patient_id: str) -> Row:
        """The row of a patient (``7`` and ``ID007`` are the same); UsageError when absent."""
        row = self._by_key.get(id_key(patient_id))
        if row is None:
            raise UsageError(f"patient {one_line(patient_id, limit=60)} is not in {one_line(self.root.name)}.")
        return row

    @property
    def labels(self) -> dict[str, int]:
        """Patient id -> class of every labelled patient."""
        return {r.patient_id: r.label for r in self.rows if r.label is not None}

    def filter(
        self,
        *,
        classes=None,
        tasks=None,
        sexes=None,
        splits=None,
        text: str | None = None,
    ) -> list[Row]:
        """Rows that pass every filter given (None: no filter on that field).

        ``classes``: labels to keep (put None in it to keep unlabelled patients too);
        ``tasks``: keep patients with a usable recording of at least one of these tasks;
        ``sexes``: "M" / "F" (None in it keeps patients whose sex is not known);
        ``splits``: split names; ``text``: a case-insensitive part of the patient's ID.
        """
        wanted = [t for t in (tasks or ())]
        for t in wanted:
            if t not in self.tasks:
                raise UsageError(f"task {one_line(t, limit=40)} is unknown; known tasks are {', '.join(self.tasks)}.")
        needle = (text or "").strip().casefold()
        out = []
        for r in self.rows:
            if classes is not None and r.label not in set(classes):
                continue
            if sexes is not None and r.sex not in set(sexes):
                continue
            if splits is not None and r.split not in set(splits):
                continue
            if tasks is not None and not any(r.cells[t].usable for t in wanted):
                continue
            if needle and needle not in r.patient_id.casefold() and needle not in r.submission_id.casefold():
                continue
            out.append(r)
        return out

    def mark(self, patient_id: str, task: str, status: str | Status, reason: str | None) -> Cell:
        """Record a later finding about one cell (e.g. the analysis rejected the recording)."""
        row = self.row(patient_id)
        try:
            status = Status(status)
        except ValueError:
            raise UsageError(
                f"status {one_line(status, limit=40)} is unknown; use one of {', '.join(s.value for s in Status)}."
            ) from None
        if task not in row.cells:
            raise UsageError(f"task {one_line(task, limit=40)} is unknown; known tasks are {', '.join(self.tasks)}.")
        cell = row.cells[task]
        cell.status, cell.reason = status, None if reason is None else one_line(reason, limit=400)
        return cell


# --- the SAND layout (release or synthetic corpus) ------------------------------------------


def _table(layout: SandLayout, problems: list[str]) -> list[Patient] | None:
    """The training patients with their split, from the workbook, else the manifest; None if neither."""
    if layout.workbook() is not None:
        try:
            patients = layout.patients(TRAINING_SHEET)
        except DatasetError as exc:
            problems.append(str(exc))
        else:
            splits = _manifest_splits(layout)  # a synthetic corpus's labels.csv says it in one cheap read
            for sheet, name in ((TRAIN_SHEET, "train"), (VALIDATION_SHEET, "validation")) if not splits else ():
                try:
                    splits |= {p.id: name for p in layout.patients(sheet)}
                except DatasetError:
                    pass  # baseline sheets are optional; without them the split is "training"
            return [replace(p, split=splits.get(p.id, "training")) for p in patients]
    if layout.manifest() is not None:
        try:
            rows = read_manifest_rows(layout.manifest())
        except DatasetError as exc:
            problems.append(str(exc))
        else:
            return [replace(p, split=str(c.get("Split") or "").strip().lower() or None) for p, c in rows]
    return None


def _manifest_splits(layout: SandLayout) -> dict[str, str]:
    """Patient id -> the manifest's Split ("train", "validation"), or {} without one."""
    try:
        rows = read_manifest_rows(layout.manifest()) if layout.manifest() is not None else []
    except DatasetError:
        return {}
    return {p.id: str(c["Split"]).strip().lower() for p, c in rows if str(c.get("Split") or "").strip()}


def _sand_rows(layout: SandLayout, *, headers: bool) -> tuple[list[Row], list[str]]:
    problems: list[str] = []
    listed: list[tuple[Patient, str | None]] = []  # patient, audio split to look in
    table = _table(layout, problems)
    if table is not None:
        listed += [(p, "training" if layout.workbook() is not None else None) for p in table]
    if layout.test_workbook() is not None:
        try:
            listed += [(p, "test") for p in layout.patients(TEST_SHEET)]
        except DatasetError as exc:
            problems.append(str(exc))
    rows: list[Row] = []
    seen: set[tuple[str | None, str]] = set()
    taken: set[str] = set()  # row ids so far: a test patient whose ID a training patient has gets a suffix
    for p, audio_split in listed:
        try:
            found = layout.recordings(p.id, split=audio_split)
        except DatasetError as exc:  # the same ID in training/ and test/
            problems.append(str(exc))
            found = {}
        seen |= {(s, id_key(p.id)) for s in ([audio_split] if audio_split else ("training", "test"))}
        shown = p.id if id_key(p.id) not in taken else f"{p.id} ({audio_split or 'again'})"  # test 7 vs training ID007
        taken.add(id_key(shown))
        rows.append(Row(shown, p.age, p.sex, p.split, p.label, _cells(found, headers=headers), p.written_id))
    for split in ("training", "test"):  # audio of patients no table lists: shown without a class
        extra = [pid for pid in layout.patient_ids(split=split) if (split, id_key(pid)) not in seen]
        if extra:
            problems.append(
                f"{len(extra)} patient(s) with recordings in {split}/ are in no table "
                f"({', '.join(one_line(i, limit=20) for i in extra[:5])}{', ...' if len(extra) > 5 else ''}); "
                "they are shown without a class."
            )
        for pid in extra:
            found = layout.recordings(pid, split=split)
            shown = pid if id_key(pid) not in taken else f"{pid} ({split})"
            taken.add(id_key(shown))
            rows.append(Row(shown, None, None, split, None, _cells(found, headers=headers)))
    return rows, problems


# --- any folder of task-named files ---------------------------------------------------------


def _folder_rows(folder: Path, *, headers: bool) -> tuple[list[Row], list[str]]:
    """Rows of patients whose files (``<ID>_<task>.wav``, or ``<task>.wav`` in a patient's
    folder) lie in ``folder`` or up to ``MAX_FOLDER_DEPTH`` levels below it."""
    files: dict[str, dict[str, list[Path]]] = {}
    base_depth = len(folder.parts)
    for here, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__MACOSX")))
        if len(Path(here).parts) - base_depth >= MAX_FOLDER_DEPTH:
            dirs[:] = []
        for name in sorted(names):
            f = Path(here) / name
            if name.startswith(".") or f.suffix.lower() not in AUDIO_EXTENSIONS:
                continue
            task = task_from_filename(f)
            if task is None:
                continue
            pid = patient_id_from_filename(f) or (Path(here).name if Path(here) != folder else folder.name)
            files.setdefault(normalise_id(pid), {}).setdefault(get_task(task.id).id, []).append(f)
    rows = []
    for pid in sorted(files):
        found = {t: latest_take(fs) for t, fs in files[pid].items()}
        rows.append(Row(pid, None, None, None, None, _cells(found, headers=headers)))
    return rows, []


__all__ = ["KINDS", "Cell", "DatasetIndex", "Row", "Status", "header_cell", "wav_header"]
