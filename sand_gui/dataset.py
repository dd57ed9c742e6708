"""The SAND release layout, read by the app, the CLI and training alike.

The release as it unpacks (the training and the test archive, alone or merged)::

    [task1/]sand_task_1.xlsx         sheets "SAND - TRAINING set - Task 1" (all training patients),
                                     "Training Baseline - Task 1", "Validation Baseline - Task 1";
                                     columns ID, Age, Sex (M/F), Class (1..5); may sit in training/
    [task1/]sand_task1_test.xlsx     sheet "SAND - TESTING set - Task 1"; IDs are plain integers
    [task1/]labels.csv               optional plain manifest with the same columns (+ optional Split)
    [task1/]<split>/<task>/<ID>_<task>.wav   split is "training" or "test"

A root is the folder holding that content, or a folder wrapping it (``task1/``, or any
single sub-folder); the test set may live under a separate test root. Patient IDs are
compared literally, except that ``7``, ``007``, ``ID7`` and ``ID007`` are the same patient
(the test workbook writes integers). Readers check every row and say what is wrong in one
sentence naming the workbook, the sheet and the row. Nothing here imports torch or Qt.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from .errors import DatasetError, one_line
from .patient_table import (  # noqa: F401  (re-exported: the release's tables are part of its layout)
    COLUMNS,
    TEST_SHEET,
    TRAIN_SHEET,
    TRAINING_SHEET,
    VALIDATION_SHEET,
    Patient,
    id_key,
    normalise_id,
    parse_table,
    read_manifest,
    read_manifest_rows,
    read_sheet,
)
from .tasks import TASK_IDS, get_task, patient_id_from_filename, task_from_filename

WORKBOOK = "sand_task_1.xlsx"
TEST_WORKBOOK = "sand_task1_test.xlsx"
MANIFEST = "labels.csv"
WRAPPER = "task1"  # the folder the official archives wrap everything in
SPLITS = ("training", "test")
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")
_TAKE = re.compile(r"_take(\d{1,9})$", re.IGNORECASE)


class SeveralPatientsError(DatasetError):
    """A folder holds recordings of more than one patient; ``ids`` lists them."""

    def __init__(self, message: str, *, ids: list[str]):
        super().__init__(message)
        self.ids = ids


def take_number(path: str | Path) -> int:
    """The application's take number of ``<ID>_<task>_take<NN>.wav`` (0 without one)."""
    m = _TAKE.search(Path(path).stem)
    return int(m.group(1)) if m else 0


def latest_take(files) -> Path:
    """The newest take among files of one task: highest take number (numerically), then name."""
    return max(files, key=lambda f: (take_number(f), Path(f).name))


# --- the layout --------------------------------------------------------------------------


def _listdir(folder: Path) -> list[Path]:
    """Entries of a folder, hidden ones (``.``, macOS ``._`` and ``__MACOSX``) left out."""
    try:
        entries = list(folder.iterdir())
    except OSError as exc:
        raise DatasetError(f"{one_line(folder)}: cannot be read ({exc.strerror or exc.__class__.__name__}).") from None
    return sorted(e for e in entries if not e.name.startswith((".", "__MACOSX")))


def _is_task_folder(folder: Path) -> bool:
    try:
        get_task(folder.name)
    except KeyError:
        return False
    return folder.is_dir()


def _has_tasks(folder: Path) -> bool:
    return folder.is_dir() and any(_is_task_folder(f) for f in _listdir(folder))


def _holds_release(folder: Path) -> bool:
    """Whether ``folder`` holds SAND content itself (not only wraps it)."""
    tables = (WORKBOOK, TEST_WORKBOOK, MANIFEST)
    return any((folder / t).is_file() or (folder / s / t).is_file() for t in tables for s in SPLITS) or any(
        _has_tasks(folder / s) for s in SPLITS
    )


def find_root(path: str | Path) -> Path:
    """The folder holding the release's content: ``path`` itself, its ``task1/``, or its only
    sub-folder when that holds it (an archive unpacked with its wrapper)."""
    path = Path(path)
    if not path.is_dir() or _holds_release(path):
        return path
    subs = [d for d in _listdir(path) if d.is_dir()]
    for sub in [path / WRAPPER] + (subs if len(subs) == 1 else []):
        if sub.is_dir() and _holds_release(sub):
            return sub
    return path


class SandLayout:
    """A dataset root in the SAND layout (see the module note), with an optional separate test root."""

    def __init__(self, root: str | Path, *, test_root: str | Path | None = None):
        given = Path(root)
        if not given.is_dir():
            raise DatasetError(f"{one_line(given)}: dataset folder not found.")
        self.root = find_root(given)
        self.test_root = None
        if test_root is not None:
            if not Path(test_root).is_dir():
                raise DatasetError(f"{one_line(test_root)}: test folder not found.")
            self.test_root = find_root(test_root)
        self._index: dict[str, dict[str, dict[str, list[Path]]]] = {}

    @staticmethod
    def looks_like(root: str | Path) -> bool:
        """Whether ``root`` (or the folder it wraps) is a SAND-layout dataset, or one split of
        it (a folder of ``<task>/`` folders such as ``task1/test``)."""
        root = Path(root)
        return root.is_dir() and (_holds_release(find_root(root)) or _has_tasks(root))

    # where things are
    def _first(self, names: list[Path]) -> Path | None:
        return next((p for p in names if p.is_file()), None)

    def workbook(self) -> Path | None:
        """The training workbook: at the root or inside ``training/``."""
        return self._first([self.root / WORKBOOK, self.root / "training" / WORKBOOK])

    def test_workbook(self) -> Path | None:
        """The test workbook: in the test root (its ``test/``, or beside it when it is ``test/``),
        else at the root."""
        roots = ([self.test_root] if self.test_root else []) + [self.root]
        roots += [r.parent for r in roots if r.name.lower() == "test"]  # pointed at task1/test itself
        return self._first([r / sub / TEST_WORKBOOK for r in roots for sub in ("", "test")])

    def manifest(self) -> Path | None:
        return self._first([self.root / MANIFEST, self.root / "training" / MANIFEST])

    def split_dirs(self, split: str) -> list[Path]:
        """Folders holding ``<task>/`` folders of a split (``training`` or ``test``)."""
        dirs = [self.root / split]
        if split == "test" and self.test_root is not None:
            dirs = [self.test_root / "test", self.test_root] + dirs
        if (self.root.name.lower() == "test") == (split == "test"):
            dirs.append(self.root)  # pointed at a split folder itself: test/ or any other
        seen, out = set(), []
        for d in dirs:
            if d.resolve() not in seen and _has_tasks(d):
                seen.add(d.resolve())
                out.append(d)
        return out

    # patients
    def patients(self, sheet: str = TRAINING_SHEET) -> list[Patient]:
        """Patients of a sheet (of the training or test workbook), or of labels.csv."""
        if sheet == TEST_SHEET:
            wb = self.test_workbook()
            if wb is None:
                where = one_line(self.test_root or self.root)
                raise DatasetError(
                    f"{TEST_WORKBOOK}: workbook not found in {where} (pass the test set's folder as --test-data)."
                )
            return [replace(p, split="test") for p in read_sheet(wb, sheet, only_sheet_ok=True)]
        manifest, workbook = self.manifest(), self.workbook()
        if sheet in ("labels.csv", MANIFEST) or (workbook is None and manifest is not None):
            if manifest is None:
                raise DatasetError(f"{MANIFEST}: manifest not found in {one_line(self.root)}.")
            return read_manifest(manifest)
        if workbook is None:
            raise DatasetError(f"{WORKBOOK}: workbook not found in {one_line(self.root)}.")
        return [replace(p, split="training") for p in read_sheet(workbook, sheet)]

    # recordings
    def _files(self, split: str) -> dict[str, dict[str, list[Path]]]:
        """Patient key -> task id -> audio files of a split (built once per layout)."""
        if split not in self._index:
            index: dict[str, dict[str, list[Path]]] = {}
            for base in self.split_dirs(split):
                for folder in _listdir(base):
                    if not _is_task_folder(folder):
                        continue
                    task_id = get_task(folder.name).id  # aliases (diadochokinesisPA) included
                    for f in _listdir(folder):
                        t = task_from_filename(f)
                        pid = patient_id_from_filename(f)
                        if f.suffix.lower() in AUDIO_EXTENSIONS and t and t.id == task_id and pid and f.is_file():
                            index.setdefault(id_key(pid), {}).setdefault(task_id, []).append(f)
            self._index[split] = index
        return self._index[split]

    def audio_path(self, patient_id: str, task_id: str, *, split: str = "training") -> Path:
        found = self._files(split).get(id_key(patient_id), {}).get(task_id)
        return latest_take(found) if found else self.root / split / task_id / f"{patient_id}_{task_id}.wav"

    def patient_ids(self, *, split: str | None = None) -> list[str]:
        """IDs (normalised) with at least one recording in a split, or in any."""
        keys = {k for sp in ([split] if split else SPLITS) for k in self._files(sp)}
        return sorted(normalise_id(k) for k in keys)

    def recordings(self, patient_id: str, *, split: str | None = None) -> dict[str, Path]:
        """Task id -> file for one patient (``patient_id`` taken literally), in the given split
        or in the only split that has the patient; DatasetError when two splits have it."""
        key = id_key(patient_id)
        hits = {sp: self._files(sp)[key] for sp in ([split] if split else SPLITS) if key in self._files(sp)}
        if len(hits) > 1:
            raise DatasetError(
                f"patient {one_line(normalise_id(patient_id), limit=40)} has recordings in both "
                f"training/ and test/ of {one_line(self.root)}; open one of those folders."
            )
        found = next(iter(hits.values()), {})
        return {t: latest_take(found[t]) for t in TASK_IDS if t in found}


# --- what a user points at ---------------------------------------------------------------


def _flat_files(folder: Path) -> dict[str | None, dict[str, list[Path]]]:
    """Patient key (None: no ID in the name) -> task id -> audio files directly in ``folder``."""
    out: dict[str | None, dict[str, list[Path]]] = {}
    for f in _listdir(folder):
        if f.suffix.lower() not in AUDIO_EXTENSIONS or not f.is_file():
            continue
        t = task_from_filename(f)
        if t is not None:
            pid = patient_id_from_filename(f)
            out.setdefault(id_key(pid) if pid else None, {}).setdefault(t.id, []).append(f)
    return out


def _id_list(ids: list[str]) -> str:
    shown = ", ".join(one_line(i, limit=40) for i in ids[:8])
    return shown + (f", … ({len(ids)} in all)" if len(ids) > 8 else "")


def collect_recordings(path: str | Path, *, patient_id: str | None = None, task: str | None = None) -> dict[str, Path]:
    """Task id -> file for what a user pointed at: one audio file, one patient's folder, or a
    folder of several patients (a SAND-layout root or a flat folder) with ``patient_id``.

    ``patient_id`` is literal (``ID90*`` is no pattern; ``7`` and ``ID007`` are the same).
    ``task`` names the task of a single file whose name does not say it. Of several takes
    of a task the latest wins (``take10`` after ``take9``). One patient per analysis: a
    folder holding several patients' IDs raises ``SeveralPatientsError`` listing them.
    """
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{one_line(path)}: no such file or folder.")
    if path.is_file():
        t = get_task(task) if task else task_from_filename(path)
        if t is None:
            raise DatasetError(
                f"{one_line(path.name)}: the file name names no task; pass --task (one of {', '.join(TASK_IDS)})."
            )
        return {t.id: path}
    if not path.is_dir():
        raise DatasetError(f"{one_line(path)}: neither a file nor a folder.")
    flat = _flat_files(path)
    if patient_id is not None:
        wanted = str(patient_id).strip()
        if not wanted:
            raise DatasetError("--id is empty; give a patient ID such as ID003.")
        if SandLayout.looks_like(path):
            found = SandLayout(path).recordings(wanted)
        else:
            files = flat.get(id_key(wanted), {})
            found = {t: latest_take(files[t]) for t in TASK_IDS if t in files}
        if not found:
            raise DatasetError(
                f"{one_line(path)}: no recordings of patient {one_line(normalise_id(wanted), limit=40)}."
            )
        return found
    ids = sorted(k for k in flat if k is not None)
    if len(ids) > 1:
        shown = [normalise_id(patient_id_from_filename(fs[0])) for k in ids for fs in list(flat[k].values())[:1]]
        raise SeveralPatientsError(
            f"{one_line(path)}: holds recordings of {len(ids)} patients ({_id_list(shown)}); pass --id to choose one.",
            ids=shown,
        )
    if not flat:
        if SandLayout.looks_like(path):
            shown = SandLayout(path).patient_ids()
            raise SeveralPatientsError(
                f"{one_line(path)}: a SAND dataset root with {len(shown)} patients "
                f"({_id_list(shown)}); pass --id to choose one.",
                ids=shown,
            )
        raise DatasetError(f"{one_line(path)}: no audio file named after a task.")
    merged: dict[str, list[Path]] = {}
    for files in flat.values():
        for t, fs in files.items():
            merged.setdefault(t, []).extend(fs)
    return {t: latest_take(merged[t]) for t in TASK_IDS if t in merged}
