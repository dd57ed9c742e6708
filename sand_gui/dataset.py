"""The SAND release layout, read by the app, the CLI and training alike.

    ROOT/sand_task_1.xlsx        sheets "SAND - TRAINING set - Task 1" (all training patients),
                                 "Training Baseline - Task 1", "Validation Baseline - Task 1";
                                 columns ID, Age, Sex (M/F), Class (1..5)
    ROOT/sand_task1_test.xlsx    sheet "SAND - TESTING set - Task 1"; IDs are plain integers -> ID%03d
    ROOT/labels.csv              optional plain manifest with the same columns (+ optional Split)
    ROOT/<split>/<task>/<ID>_<task>.wav   split is "training" or "test"

Any dataset laid out this way can be opened; nothing here imports torch or Qt.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from .classes import CLASS_NUMBERS
from .errors import DatasetError
from .tasks import TASK_IDS, task_from_filename

WORKBOOK = "sand_task_1.xlsx"
TEST_WORKBOOK = "sand_task1_test.xlsx"
TRAINING_SHEET = "SAND - TRAINING set - Task 1"
TRAIN_SHEET = "Training Baseline - Task 1"
VALIDATION_SHEET = "Validation Baseline - Task 1"
TEST_SHEET = "SAND - TESTING set - Task 1"
MANIFEST = "labels.csv"
COLUMNS = ("ID", "Age", "Sex", "Class")
SPLITS = ("training", "test")
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")


@dataclass(frozen=True)
class Patient:
    id: str
    age: int | None = None
    sex: str | None = None
    label: int | None = None  # severity class, None for unlabelled (test) patients


def normalise_id(value) -> str:
    """``7`` / ``"7"`` / ``"ID007"`` -> ``"ID007"`` (the test workbook's IDs are integers)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if text.isdigit():
        return f"ID{int(text):03d}"
    return text


def _patient(row: dict, *, source: str, line: int) -> Patient:
    pid = row.get("ID")
    if pid is None or str(pid).strip() == "":
        raise DatasetError(f"{source}: row {line} has no ID.")
    label = row.get("Class")
    if label is not None and str(label).strip() != "":
        try:
            label = int(float(label))
        except ValueError:
            raise DatasetError(f"{source}: row {line} ({pid}) has class {label!r}, not a number 1..5.") from None
        if label not in CLASS_NUMBERS:
            raise DatasetError(f"{source}: row {line} ({pid}) has unknown class {label}; classes are 1..5.")
    else:
        label = None
    age = row.get("Age")
    try:
        age = int(float(age)) if age not in (None, "") else None
    except ValueError:
        age = None
    sex = row.get("Sex")
    sex = str(sex).strip().upper()[:1] if sex not in (None, "") else None
    return Patient(normalise_id(pid), age, sex, label)


def read_sheet(workbook: str | Path, sheet: str) -> list[Patient]:
    """Patients of one sheet of a SAND workbook; DatasetError naming what is missing."""
    import openpyxl

    workbook = Path(workbook)
    if not workbook.is_file():
        raise DatasetError(f"{workbook.name}: workbook not found in {workbook.parent}.")
    try:
        wb = openpyxl.load_workbook(workbook, read_only=True, data_only=True)
    except Exception as exc:
        raise DatasetError(f"{workbook.name}: not a readable Excel workbook ({exc.__class__.__name__}).") from None
    try:
        if sheet not in wb.sheetnames:
            raise DatasetError(f"{workbook.name}: no sheet {sheet!r} (sheets: {', '.join(wb.sheetnames)}).")
        rows = list(wb[sheet].iter_rows(values_only=True))
    finally:
        wb.close()
    if not rows:
        raise DatasetError(f"{workbook.name}: sheet {sheet!r} is empty.")
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    if "ID" not in header:
        raise DatasetError(f"{workbook.name}: sheet {sheet!r} has no ID column.")
    source = f"{workbook.name} [{sheet}]"
    out = []
    for i, values in enumerate(rows[1:], start=2):
        if all(v is None for v in values):
            continue
        out.append(_patient(dict(zip(header, values)), source=source, line=i))
    return out


def read_manifest(path: str | Path) -> list[Patient]:
    """Patients of a CSV manifest with columns ID, Age, Sex, Class."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path.name}: manifest not found in {path.parent}.")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "ID" not in reader.fieldnames:
            raise DatasetError(f"{path.name}: manifest has no ID column.")
        return [_patient(row, source=path.name, line=i) for i, row in enumerate(reader, start=2)]


class SandLayout:
    """A dataset root in the SAND layout."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        if not self.root.is_dir():
            raise DatasetError(f"{self.root}: dataset folder not found.")

    @staticmethod
    def looks_like(root: str | Path) -> bool:
        root = Path(root)
        return (root / WORKBOOK).is_file() or (root / MANIFEST).is_file() or any((root / s).is_dir() for s in SPLITS)

    def patients(self, sheet: str = TRAINING_SHEET) -> list[Patient]:
        """Patients of a sheet (of the training or test workbook), or of labels.csv."""
        if sheet == TEST_SHEET:
            return read_sheet(self.root / TEST_WORKBOOK, sheet)
        if sheet in ("labels.csv", MANIFEST) or not (self.root / WORKBOOK).is_file() and (self.root / MANIFEST).is_file():
            return read_manifest(self.root / MANIFEST)
        return read_sheet(self.root / WORKBOOK, sheet)

    def audio_path(self, patient_id: str, task_id: str, *, split: str = "training") -> Path:
        return self.root / split / task_id / f"{patient_id}_{task_id}.wav"

    def recordings(self, patient_id: str, *, split: str | None = None) -> dict[str, Path]:
        """Task id -> file for one patient, looking in the given split or in all of them."""
        from .tasks import get_task

        pid = normalise_id(patient_id)
        found: dict[str, Path] = {}
        for sp in [split] if split else SPLITS:
            base = self.root / sp
            folders = sorted(f for f in base.iterdir() if f.is_dir()) if base.is_dir() else []
            for folder in folders:  # task folders, aliases (diadochokinesisPA) included
                try:
                    task_id = get_task(folder.name).id
                except KeyError:
                    continue
                for f in sorted(folder.glob(f"{pid}_*")):
                    t = task_from_filename(f)
                    if f.suffix.lower() in AUDIO_EXTENSIONS and t and t.id == task_id:
                        found.setdefault(task_id, f)
        return {t: found[t] for t in TASK_IDS if t in found}


def collect_recordings(path: str | Path, *, patient_id: str | None = None, task: str | None = None) -> dict[str, Path]:
    """Task id -> file for what a user pointed at: one audio file, a patient folder, or a
    SAND-layout root with ``patient_id``. ``task`` names the task of a single file whose
    name does not say it. DatasetError when nothing usable is found.
    """
    from .tasks import get_task

    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path}: no such file or folder.")
    if path.is_file():
        t = get_task(task) if task else task_from_filename(path)
        if t is None:
            raise DatasetError(f"{path.name}: the file name names no task; pass --task (one of {', '.join(TASK_IDS)}).")
        return {t.id: path}
    if patient_id:
        found = SandLayout(path).recordings(patient_id)
        if not found:
            raise DatasetError(f"{path}: no recordings of patient {normalise_id(patient_id)} in the SAND layout.")
        return found
    found: dict[str, Path] = {}
    for f in sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS):
        t = task_from_filename(f)
        if t is not None:
            found[t.id] = f  # sorted: the latest take (``_takeNN``) wins
    if not found:
        hint = " (a SAND dataset root: pass --id)" if SandLayout.looks_like(path) else ""
        raise DatasetError(f"{path}: no audio file named after a task{hint}.")
    return {t: found[t] for t in TASK_IDS if t in found}
