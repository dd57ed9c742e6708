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

import csv
import io
import math
import re
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

from .classes import CLASS_NUMBERS
from .errors import DatasetError, one_line
from .tasks import TASK_IDS, get_task, patient_id_from_filename, task_from_filename

WORKBOOK = "sand_task_1.xlsx"
TEST_WORKBOOK = "sand_task1_test.xlsx"
TRAINING_SHEET = "SAND - TRAINING set - Task 1"
TRAIN_SHEET = "Training Baseline - Task 1"
VALIDATION_SHEET = "Validation Baseline - Task 1"
TEST_SHEET = "SAND - TESTING set - Task 1"
MANIFEST = "labels.csv"
WRAPPER = "task1"  # the folder the official archives wrap everything in
COLUMNS = ("ID", "Age", "Sex", "Class")
SPLITS = ("training", "test")
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")
MAX_ROWS = 100_000  # a patient table longer than this is not a SAND table
MAX_MANIFEST_BYTES = 16 * 2**20
HEADER_SEARCH_ROWS = 10  # the header is the first row naming an ID column among the first rows
_ID_TEXT = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_. -]{0,62}[A-Za-z0-9])?")
_NUMERIC_ID = re.compile(r"(?:ID)?(\d{1,18})", re.IGNORECASE)
_TAKE = re.compile(r"_take(\d{1,9})$", re.IGNORECASE)


@dataclass(frozen=True)
class Patient:
    id: str  # normalised: "ID007" for 7
    age: int | None = None
    sex: str | None = None
    label: int | None = None  # severity class, None for unlabelled (test) patients
    written_id: str | None = field(default=None, compare=False)  # as the table writes it ("7")
    split: str | None = field(default=None, compare=False)  # audio folder to look in; None: any

    @property
    def submission_id(self) -> str:
        """The ID as the source table writes it: what a SAND submission must carry."""
        return self.written_id or self.id


class SeveralPatientsError(DatasetError):
    """A folder holds recordings of more than one patient; ``ids`` lists them."""

    def __init__(self, message: str, *, ids: list[str]):
        super().__init__(message)
        self.ids = ids


def normalise_id(value) -> str:
    """``7`` / ``"7"`` / ``"007"`` / ``"ID7"`` -> ``"ID007"``; any other text as written (stripped)."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    m = _NUMERIC_ID.fullmatch(text)
    return f"ID{int(m.group(1)):03d}" if m else text


def id_key(value) -> str:
    """What two IDs must share to be the same patient (case and zero padding aside)."""
    return normalise_id(value).casefold()


def take_number(path: str | Path) -> int:
    """The application's take number of ``<ID>_<task>_take<NN>.wav`` (0 without one)."""
    m = _TAKE.search(Path(path).stem)
    return int(m.group(1)) if m else 0


def latest_take(files) -> Path:
    """The newest take among files of one task: highest take number (numerically), then name."""
    return max(files, key=lambda f: (take_number(f), Path(f).name))


# --- tables ------------------------------------------------------------------------------


def _where(source: str, row: int, pid: str | None = None) -> str:
    return f"{source}, row {row}" + (f" ({one_line(pid, limit=40)})" if pid else "")


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _cell_id(value, *, where: str) -> tuple[str, str]:
    """(normalised ID, the ID as written) of an ID cell; DatasetError when it is no ID."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise DatasetError(f"{where}: ID '{one_line(value, limit=40)}' is not a patient ID.")
    if isinstance(value, float):
        if not (math.isfinite(value) and value.is_integer()):
            raise DatasetError(f"{where}: ID {value!r} is not a whole number.")
        value = int(value)
    if isinstance(value, int):
        if not 0 <= value < 10**9:
            raise DatasetError(f"{where}: ID {value} is outside 0..999999999.")
        return f"ID{value:03d}", str(value)
    text = value.strip()
    if not _ID_TEXT.fullmatch(text):
        raise DatasetError(
            f"{where}: ID '{one_line(text, limit=40)}' is not a patient ID "
            "(letters, digits, '_', '.', '-' or spaces; at most 64)."
        )
    return normalise_id(text), text


def _cell_class(value, *, where: str) -> int:
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise DatasetError(f"{where}: class '{one_line(value, limit=40)}' is not a whole number 1..5.") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DatasetError(f"{where}: class '{one_line(value, limit=40)}' is not a whole number 1..5.")
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise DatasetError(f"{where}: class {value!r} is not a whole number 1..5.")
    if int(value) not in CLASS_NUMBERS:
        raise DatasetError(f"{where}: unknown class {int(value)}; classes are whole numbers 1..5.")
    return int(value)


def _cell_age(value) -> int | None:
    """An age in years, or None when absent or implausible (age is shown, never used)."""
    try:
        age = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return int(age) if math.isfinite(age) and 0 <= age <= 130 and not isinstance(value, bool) else None


def _cell_sex(value) -> str | None:
    text = str(value).strip().upper()[:1] if not _blank(value) else ""
    return text if text in ("M", "F") else None


def _header(rows: list[tuple], *, source: str) -> tuple[int, dict[str, int]]:
    """(index of the header row, column name -> position); names are matched case-insensitively."""
    wanted = {c.casefold(): c for c in (*COLUMNS, "Split")}
    seen = 0
    for i, values in enumerate(rows):
        if all(_blank(v) for v in values):
            continue
        names = [str(v).strip().casefold() if not _blank(v) else "" for v in values]
        if "id" in names:
            cols: dict[str, int] = {}
            for j, n in enumerate(names):
                if n in wanted:
                    if wanted[n] in cols:
                        raise DatasetError(f"{source}, row {i + 1}: two {wanted[n]} columns.")
                    cols[wanted[n]] = j
            return i, cols
        seen += 1
        if seen >= HEADER_SEARCH_ROWS:
            break
    raise DatasetError(f"{source}: no ID column in the header (the first row naming ID, Age, Sex, Class).")


def _parse(rows: list[tuple], *, source: str, labelled: bool) -> list[tuple[Patient, dict]]:
    if not rows:
        raise DatasetError(f"{source}: is empty.")
    start, cols = _header(rows, source=source)
    if labelled and "Class" not in cols:
        raise DatasetError(f"{source}, row {start + 1}: no Class column; a labelled table needs ID and Class.")
    out: list[tuple[Patient, dict]] = []
    first_row: dict[str, int] = {}
    for i, values in enumerate(rows[start + 1 :], start=start + 2):
        if all(_blank(v) for v in values):
            continue
        cell = {name: (values[j] if j < len(values) else None) for name, j in cols.items()}
        if _blank(cell["ID"]):
            raise DatasetError(f"{_where(source, i)}: no ID.")
        pid, written = _cell_id(cell["ID"], where=_where(source, i))
        where = _where(source, i, pid)
        if id_key(pid) in first_row:
            raise DatasetError(
                f"{where}: repeats the patient of row {first_row[id_key(pid)]}; each patient must appear once."
            )
        first_row[id_key(pid)] = i
        label = None if _blank(cell.get("Class")) else _cell_class(cell["Class"], where=where)
        if labelled and label is None:
            raise DatasetError(f"{where}: no class; every patient of a labelled table needs one (1..5).")
        patient = Patient(pid, _cell_age(cell.get("Age")), _cell_sex(cell.get("Sex")), label, written_id=written)
        out.append((patient, cell))
    return out


def parse_table(rows: list[tuple], *, source: str, labelled: bool) -> list[Patient]:
    """Patients of a table's rows (header among the first rows) in ``source``'s words for
    every problem (``source`` names the workbook and sheet, or the manifest).

    ``labelled``: the Class column and a class on every row are required. Empty rows are
    skipped; a repeated patient, or an ID or a class that is not one, is a DatasetError.
    """
    return [p for p, _ in _parse(rows, source=source, labelled=labelled)]


def _sheet_rows(workbook: Path, sheet: str, *, only_sheet_ok: bool) -> tuple[str, list[tuple]]:
    """(sheet name, rows of values) with formulas replaced by their stored results."""
    import openpyxl

    def load(data_only: bool):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(workbook, read_only=True, data_only=data_only)

    def rows_of(wb, name):
        out = []
        for values in wb[name].iter_rows(values_only=True):
            out.append(tuple(values))
            if len(out) > MAX_ROWS + 1:
                raise DatasetError(f"{one_line(workbook.name)}, sheet '{one_line(name)}': more than {MAX_ROWS} rows.")
        return out

    wb = load(False)
    try:
        if sheet not in wb.sheetnames:
            if not (only_sheet_ok and len(wb.sheetnames) == 1):
                names = ", ".join(f"'{one_line(s, limit=60)}'" for s in wb.sheetnames)
                raise DatasetError(f"{one_line(workbook.name)}: no sheet '{one_line(sheet)}' (sheets: {names}).")
            sheet = wb.sheetnames[0]
        rows = rows_of(wb, sheet)
    finally:
        wb.close()
    if any(isinstance(v, str) and v.startswith("=") for r in rows for v in r):
        wb = load(True)
        try:
            cached = rows_of(wb, sheet)
        finally:
            wb.close()
        where = f"{one_line(workbook.name)}, sheet '{one_line(sheet)}'"
        for i, (formulas, values) in enumerate(zip(rows, cached), start=1):
            for f, v in zip(formulas, values):
                if isinstance(f, str) and f.startswith("=") and v is None:
                    raise DatasetError(
                        f"{where}, row {i}: a cell holds the formula {one_line(f, limit=40)} with no "
                        "stored result; type the value or save the workbook in a spreadsheet program."
                    )
        rows = cached
    return sheet, rows


def read_sheet(
    workbook: str | Path, sheet: str, *, labelled: bool | None = None, only_sheet_ok: bool = False
) -> list[Patient]:
    """Patients of one sheet of a SAND workbook; DatasetError naming the workbook, sheet and row.

    ``labelled`` (default: every sheet but the test sheet) requires a class on every row;
    ``only_sheet_ok`` reads the workbook's only sheet when ``sheet`` is not there (the test
    workbook of another release may name its sheet differently).
    """
    workbook = Path(workbook)
    if not workbook.is_file():
        raise DatasetError(f"{one_line(workbook.name)}: workbook not found in {one_line(workbook.parent)}.")
    if labelled is None:
        labelled = sheet != TEST_SHEET
    try:
        name, rows = _sheet_rows(workbook, sheet, only_sheet_ok=only_sheet_ok)
    except DatasetError:
        raise
    except Exception as exc:  # noqa: BLE001  (openpyxl, zipfile and the XML parser raise many kinds)
        raise DatasetError(
            f"{one_line(workbook.name)}: not a readable Excel workbook ({exc.__class__.__name__})."
        ) from None
    source = f"{one_line(workbook.name)}, sheet '{one_line(name)}'"
    if not rows:
        raise DatasetError(f"{source}: the sheet is empty.")
    return parse_table(rows, source=source, labelled=labelled)


def read_manifest(path: str | Path, *, labelled: bool = False) -> list[Patient]:
    """Patients of a CSV manifest with columns ID, Age, Sex, Class (UTF-8, BOM allowed)."""
    return [p for p, _ in read_manifest_rows(path, labelled=labelled)]


def read_manifest_rows(path: str | Path, *, labelled: bool = False) -> list[tuple[Patient, dict]]:
    """Each patient of a manifest with its cells (column -> value; ``Split`` when present)."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{one_line(path.name)}: manifest not found in {one_line(path.parent)}.")
    source = one_line(path.name)
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise DatasetError(f"{source}: larger than {MAX_MANIFEST_BYTES // 2**20} MB; not a patient table.")
        text = path.read_bytes().decode("utf-8-sig")
        rows = []
        for r in csv.reader(io.StringIO(text, newline="")):
            rows.append(tuple(r))
            if len(rows) > MAX_ROWS + 1:
                raise DatasetError(f"{source}: more than {MAX_ROWS} rows.")
    except UnicodeDecodeError:
        raise DatasetError(f"{source}: not UTF-8 text; save the manifest as CSV UTF-8.") from None
    except csv.Error as exc:
        raise DatasetError(f"{source}: not a readable CSV file ({one_line(exc, limit=80)}).") from None
    except OSError as exc:
        raise DatasetError(f"{source}: cannot be read ({exc.strerror or exc.__class__.__name__}).") from None
    return _parse(rows, source=source, labelled=labelled)


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
