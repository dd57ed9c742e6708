"""Malformed and hostile patient tables: one sentence naming the workbook, the sheet and the
row, or a valid list of patients; never another exception. Hypothesis fuzzes the readers."""

from __future__ import annotations

import io
import math
import zipfile

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sand_gui import patient_table
from sand_gui.dataset import (
    TEST_SHEET,
    TRAINING_SHEET,
    WORKBOOK,
    Patient,
    parse_table,
    read_manifest,
    read_sheet,
)
from sand_gui.errors import DatasetError

SHEET = TRAINING_SHEET
WHERE = f"sand_task_1.xlsx, sheet '{SHEET}'"


def workbook(path, rows, *, sheet=SHEET, header=("ID", "Age", "Sex", "Class")):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    if header:
        ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    wb.save(path)
    return path


def one_sentence(err: Exception) -> str:
    text = str(err)
    assert "\n" not in text and "\r" not in text and text.endswith(".") and len(text) < 600, text
    return text


@pytest.mark.parametrize(
    "rows, header, expected",
    [
        # duplicated IDs, also when written differently (7 and ID007 are one patient)
        (
            [("ID003", 50, "M", 2), ("ID004", 51, "F", 3), ("ID003", 52, "M", 4)],
            None,
            f"{WHERE}, row 4 (ID003): repeats the patient of row 2; each patient must appear once.",
        ),
        ([(7, 50, "M", 2), ("ID007", 51, "F", 3)], None, f"{WHERE}, row 3 (ID007): repeats the patient of row 2"),
        # classes that are not whole numbers 1..5
        ([("ID003", 50, "M", 2.5)], None, f"{WHERE}, row 2 (ID003): class 2.5 is not a whole number 1..5."),
        ([("ID003", 50, "M", 0)], None, f"{WHERE}, row 2 (ID003): unknown class 0; classes are whole numbers 1..5."),
        ([("ID003", 50, "M", 6)], None, "row 2 (ID003): unknown class 6"),
        ([("ID003", 50, "M", True)], None, "row 2 (ID003): class 'True' is not a whole number 1..5."),
        ([("ID003", 50, "M", "mild")], None, "row 2 (ID003): class 'mild' is not a whole number 1..5."),
        ([("ID003", 50, "M", "nan")], None, "row 2 (ID003): class nan is not a whole number 1..5."),
        ([("ID003", 50, "M", None)], None, "row 2 (ID003): no class; every patient of a labelled table needs one"),
        # IDs that are not IDs
        ([(7.5, 50, "M", 2)], None, f"{WHERE}, row 2: ID 7.5 is not a whole number."),
        ([(-3, 50, "M", 2)], None, "row 2: ID -3 is outside 0..999999999."),
        ([("../../etc/passwd", 50, "M", 2)], None, "row 2: ID '../../etc/passwd' is not a patient ID"),
        ([("ID\n003", 50, "M", 2)], None, "row 2: ID 'ID\\n003' is not a patient ID"),
        ([(None, 50, "M", 2)], None, f"{WHERE}, row 2: no ID."),
        # missing or doubled columns
        (
            [("ID003", 50, "M")],
            ("ID", "Age", "Sex"),
            f"{WHERE}, row 1: no Class column; a labelled table needs ID and Class.",
        ),
        ([(50, "M", 2)], ("Age", "Sex", "Class"), f"{WHERE}: no ID column in the header"),
        ([("ID003", "ID004", 2)], ("ID", "id", "Class"), f"{WHERE}, row 1: two ID columns."),
    ],
)
def test_malformed_rows_are_one_sentence_naming_workbook_sheet_row(tmp_path, rows, header, expected):
    path = workbook(tmp_path / WORKBOOK, rows, header=header or ("ID", "Age", "Sex", "Class"))
    with pytest.raises(DatasetError) as err:
        read_sheet(path, SHEET)
    assert expected in one_sentence(err.value)


def test_wrong_sheet_names_the_workbook_and_the_sheets(tmp_path):
    path = workbook(tmp_path / WORKBOOK, [("ID003", 50, "M", 2)], sheet="Foglio1")
    with pytest.raises(DatasetError) as err:
        read_sheet(path, SHEET)
    assert one_sentence(err.value) == f"sand_task_1.xlsx: no sheet '{SHEET}' (sheets: 'Foglio1')."


def test_an_unevaluated_formula_is_named_not_read_as_empty(tmp_path):
    path = workbook(tmp_path / WORKBOOK, [("ID003", 50, "M", 2), ("ID004", 50, "F", "=1+2")])
    with pytest.raises(DatasetError) as err:
        read_sheet(path, SHEET)
    assert one_sentence(err.value).startswith(f"{WHERE}, row 3: a cell holds the formula =1+2 with no stored result")


def test_empty_rows_title_rows_and_odd_cells_are_tolerated(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(["SAND Task 1 - training subjects"])  # a title above the header
    ws.append([])
    ws.append([" id ", "AGE", "Sex", "CLASS", "Notes"])
    ws.append(["ID003", "unknown", "female", 2.0, "x"])
    ws.append([None, None, None, None])  # an empty row in the middle
    ws.append(["  ", "", None, ""])  # blanks only
    ws.append([4, float("inf"), "?", "5"])
    wb.save(tmp_path / WORKBOOK)
    patients = read_sheet(tmp_path / WORKBOOK, SHEET)
    assert patients == [Patient("ID003", None, "F", 2), Patient("ID004", None, None, 5)]
    assert [p.submission_id for p in patients] == ["ID003", "4"]


def test_a_test_workbook_needs_no_class(tmp_path):
    path = workbook(tmp_path / "t.xlsx", [(1,), (2,)], sheet=TEST_SHEET, header=("ID",))
    assert [p.id for p in read_sheet(path, TEST_SHEET)] == ["ID001", "ID002"]


def test_too_many_rows_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(patient_table, "MAX_ROWS", 5)
    path = workbook(tmp_path / WORKBOOK, [(f"ID{i:03d}", 50, "M", 2) for i in range(8)])
    with pytest.raises(DatasetError, match="more than 5 rows"):
        read_sheet(path, SHEET)
    (tmp_path / "labels.csv").write_text("ID,Class\n" + "".join(f"ID{i:03d},2\n" for i in range(8)))
    with pytest.raises(DatasetError, match="labels.csv: more than 5 rows"):
        read_manifest(tmp_path / "labels.csv")


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"ID,Class\nID003,2\n\xff\xfe\n", "labels.csv: not UTF-8 text; save the manifest as CSV UTF-8."),
        (b"ID,Class\nID003,2\nID003,3\n", "labels.csv, row 3 (ID003): repeats the patient of row 2"),
        (b"ID,Class\nID003,9\n", "labels.csv, row 2 (ID003): unknown class 9"),
        (b"Name,Class\nA,2\n", "labels.csv: no ID column in the header"),
        (b"", "labels.csv: is empty."),
        (b'ID,Class\n"ID003,2\n', "labels.csv"),  # an unclosed quote
    ],
)
def test_malformed_manifests(tmp_path, content, expected):
    (tmp_path / "labels.csv").write_bytes(content)
    try:
        patients = read_manifest(tmp_path / "labels.csv", labelled=True)
    except DatasetError as exc:
        assert one_sentence(exc).startswith(expected)
    else:
        pytest.fail(f"accepted {content!r} as {patients}")


def test_a_damaged_workbook_is_one_sentence(tmp_path):
    good = workbook(tmp_path / "good.xlsx", [("ID003", 50, "M", 2)]).read_bytes()
    cases = {
        "truncated.xlsx": good[: len(good) // 2],
        "directory-only.xlsx": _zip({"xl/": b""}),
        "bad-xml.xlsx": _replace_member(good, "xl/worksheets/sheet1.xml", b"<worksheet><sheetData><row>"),
        "no-sheet-xml.xlsx": _drop_member(good, "xl/worksheets/sheet1.xml"),
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(DatasetError) as err:
            read_sheet(tmp_path / name, SHEET)
        assert one_sentence(err.value).startswith(name), name


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, d in members.items():
            z.writestr(n, d)
    return buf.getvalue()


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def _replace_member(data: bytes, name: str, content: bytes) -> bytes:
    return _zip({**_members(data), name: content})


def _drop_member(data: bytes, name: str) -> bytes:
    return _zip({n: d for n, d in _members(data).items() if n != name})


# --- fuzzing -----------------------------------------------------------------------------

CELLS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["ID003", "7", " 5 ", "", "=A1", "ID", "Class"]),
    st.text(max_size=30),
)
ROWS = st.lists(st.lists(CELLS, min_size=0, max_size=6).map(tuple), max_size=12)
HEADERS = st.sampled_from([("ID", "Age", "Sex", "Class"), ("Class", "ID"), ("id",), ("ID", "Class", "Split"), ()])


def _valid(patients: list[Patient], *, labelled: bool) -> None:
    ids = [p.id.casefold() for p in patients]
    assert len(set(ids)) == len(ids)
    for p in patients:
        assert p.id and "\n" not in p.id and (p.label in (1, 2, 3, 4, 5) or (p.label is None and not labelled))
        assert p.age is None or (isinstance(p.age, int) and 0 <= p.age <= 130)
        assert p.sex in (None, "M", "F")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=HEADERS, rows=ROWS, labelled=st.booleans())
def test_fuzz_table_rows(header, rows, labelled):
    try:
        patients = parse_table([header, *rows], source="fuzz.xlsx, sheet 'S'", labelled=labelled)
    except DatasetError as exc:
        assert one_sentence(exc).startswith("fuzz.xlsx, sheet 'S'")
    else:
        _valid(patients, labelled=labelled)


XLSX_CELLS = st.one_of(
    st.none(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.lists(XLSX_CELLS, min_size=4, max_size=4), max_size=6))
def test_fuzz_real_workbooks(tmp_path, rows):
    path = workbook(tmp_path / WORKBOOK, rows)
    try:
        patients = read_sheet(path, SHEET)
    except DatasetError as exc:
        assert one_sentence(exc).startswith(WHERE)
    else:
        _valid(patients, labelled=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.one_of(
        st.binary(max_size=300), st.text(alphabet='ID,Class0123456789\n\r" ;\x00é', max_size=200).map(str.encode)
    )
)
def test_fuzz_manifest_bytes(tmp_path, data):
    (tmp_path / "labels.csv").write_bytes(data)
    try:
        patients = read_manifest(tmp_path / "labels.csv")
    except DatasetError as exc:
        assert one_sentence(exc).startswith("labels.csv")
    else:
        _valid(patients, labelled=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    flips=st.lists(
        st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), min_size=1, max_size=8
    ),
    cut=st.one_of(st.none(), st.integers(min_value=0)),
)
def test_fuzz_damaged_workbook_bytes(tmp_path, flips, cut):
    good = tmp_path / "good.xlsx"
    if not good.exists():
        workbook(good, [("ID003", 50, "M", 2), (4, 61, "F", 5)])
    data = bytearray(good.read_bytes())
    for pos, value in flips:
        data[pos % len(data)] = value
    if cut is not None:
        data = data[: cut % len(data)]
    (tmp_path / WORKBOOK).write_bytes(bytes(data))
    try:
        patients = read_sheet(tmp_path / WORKBOOK, SHEET)
    except DatasetError as exc:
        assert one_sentence(exc).startswith("sand_task_1.xlsx")
    else:
        _valid(patients, labelled=True)


def test_age_never_overflows():
    rows = [("ID", "Age", "Class"), ("ID001", float("inf"), 1), ("ID002", -math.inf, 2), ("ID003", 10**400, 3)]
    assert [p.age for p in parse_table(rows, source="x", labelled=True)] == [None, None, None]


def test_odd_file_names_keep_the_error_on_one_line(tmp_path):
    import soundfile as sf
    from sandtest import vowel

    from sand_gui.dataset import SeveralPatientsError, collect_recordings

    for name in ("ID1\n2_phonationA.wav", "ID\x1b[31m7_phonationE.wav"):
        sf.write(tmp_path / name, vowel(0.3, lead=0.05), 8000)
    with pytest.raises(SeveralPatientsError) as err:
        collect_recordings(tmp_path)
    assert "\n" not in str(err.value) and "\x1b" not in str(err.value) and "ID1\\n2" in str(err.value)
    with pytest.raises(DatasetError) as err:
        collect_recordings(tmp_path / "sub\nfolder")
    assert one_sentence(err.value).endswith("sub\\nfolder: no such file or folder.")
