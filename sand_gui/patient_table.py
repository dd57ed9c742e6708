"""The SAND release's patient tables: the workbook sheets (``read_sheet``) and the plain
``labels.csv`` manifest (``read_manifest``), read into ``Patient`` rows. Every row is checked
(ID, class 1..5, age, sex) and a bad one is one sentence naming the workbook, the sheet and the
row; a table too large to be a SAND table is refused before it is read. Patient IDs are compared
literally, except that ``7``, ``007``, ``ID7`` and ``ID007`` are the same patient.
"""

from __future__ import annotations

import csv
import io
import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .classes import CLASS_NUMBERS
from .errors import DatasetError, one_line

TRAINING_SHEET = "SAND - TRAINING set - Task 1"
TRAIN_SHEET = "Training Baseline - Task 1"
VALIDATION_SHEET = "Validation Baseline - Task 1"
TEST_SHEET = "SAND - TESTING set - Task 1"
COLUMNS = ("ID", "Age", "Sex", "Class")
MAX_ROWS = 100_000  # a patient table longer than this is not a SAND table
MAX_MANIFEST_BYTES = 16 * 2**20
HEADER_SEARCH_ROWS = 10  # the header is the first row naming an ID column among the first rows
_ID_TEXT = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_. -]{0,62}[A-Za-z0-9])?")
_NUMERIC_ID = re.compile(r"(?:ID)?(\d{1,18})", re.IGNORECASE)


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
