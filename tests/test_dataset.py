"""The SAND layout: workbooks, manifests, the release as it unpacks, one patient per analysis."""

import shutil

import openpyxl
import pytest
import soundfile as sf
from sandtest import vowel

from sand_gui.dataset import (
    TEST_SHEET,
    TEST_WORKBOOK,
    TRAINING_SHEET,
    WORKBOOK,
    SandLayout,
    SeveralPatientsError,
    collect_recordings,
    find_root,
    normalise_id,
    read_manifest,
    read_sheet,
    take_number,
)
from sand_gui.errors import DatasetError
from sand_gui.tasks import TASK_IDS


def _workbook(path, sheet, rows, header=("ID", "Age", "Sex", "Class")):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    wb.save(path)


def _write(path, seconds=0.5):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, vowel(seconds, lead=0.05), 8000)
    return path


def test_read_sheet_and_test_workbook_ids(tmp_path):
    _workbook(tmp_path / WORKBOOK, TRAINING_SHEET, [("ID000", 61, "M", 5), ("ID001", 70, "f", 2)])
    _workbook(tmp_path / TEST_WORKBOOK, TEST_SHEET, [(7, 50, "F"), (12, 44, "M")], header=("ID", "Age", "Sex"))
    layout = SandLayout(tmp_path)
    train = layout.patients()
    assert [(p.id, p.age, p.sex, p.label) for p in train] == [("ID000", 61, "M", 5), ("ID001", 70, "F", 2)]
    test = layout.patients(TEST_SHEET)
    assert [p.id for p in test] == ["ID007", "ID012"] and [p.submission_id for p in test] == ["7", "12"]
    assert all(p.label is None and p.split == "test" for p in test) and all(p.split == "training" for p in train)


@pytest.mark.parametrize(
    "rows, sheet, reason",
    [
        ([("ID000", 61, "M", 7)], TRAINING_SHEET, r"row 2 \(ID000\): unknown class 7"),
        ([("ID000", 61, "M", "severe")], TRAINING_SHEET, r"row 2 \(ID000\): class 'severe' is not a whole number"),
        ([(None, 61, "M", 3)], TRAINING_SHEET, "row 2: no ID"),
        ([("ID000", 61, "M", 3)], "Other sheet", "no sheet 'SAND - TRAINING set - Task 1' \\(sheets: 'Other sheet'\\)"),
    ],
)
def test_bad_workbooks_are_named(tmp_path, rows, sheet, reason):
    _workbook(tmp_path / WORKBOOK, sheet, rows)
    with pytest.raises(DatasetError, match=reason) as err:
        read_sheet(tmp_path / WORKBOOK, TRAINING_SHEET)
    assert str(err.value).startswith("sand_task_1.xlsx") and "\n" not in str(err.value)


def test_missing_and_unreadable_workbooks(tmp_path):
    with pytest.raises(DatasetError, match="sand_task_1.xlsx: workbook not found"):
        read_sheet(tmp_path / WORKBOOK, TRAINING_SHEET)
    (tmp_path / WORKBOOK).write_text("not excel")
    with pytest.raises(DatasetError, match="not a readable Excel workbook"):
        read_sheet(tmp_path / WORKBOOK, TRAINING_SHEET)


def test_manifest(tmp_path):
    (tmp_path / "labels.csv").write_text("ID,Age,Sex,Class\nID003,40,M,4\n5,33,F,1\n")
    assert [(p.id, p.label) for p in read_manifest(tmp_path / "labels.csv")] == [("ID003", 4), ("ID005", 1)]
    assert [p.id for p in SandLayout(tmp_path).patients()] == ["ID003", "ID005"]


def test_manifest_saved_by_excel_with_a_bom_and_other_case(tmp_path):
    (tmp_path / "labels.csv").write_bytes("\ufeffid,AGE,sex,class\r\nID003,40,M,4\r\n".encode("utf-8"))
    assert [(p.id, p.age, p.label) for p in read_manifest(tmp_path / "labels.csv")] == [("ID003", 40, 4)]


def test_normalise_id():
    assert normalise_id(7) == "ID007" and normalise_id(7.0) == "ID007" and normalise_id("ID042") == "ID042"
    assert normalise_id("007") == normalise_id("id7") == "ID007" and normalise_id("ID90*") == "ID90*"


def test_collect_from_layout_with_alias_folder(tmp_path):
    for t in TASK_IDS:
        folder = tmp_path / "training" / (t.replace("rhythm", "diadochokinesis") if t == "rhythmPA" else t)
        _write(folder / f"ID003_{folder.name}.wav")
    _write(tmp_path / "training" / "phonationA" / "ID004_phonationA.wav")
    found = collect_recordings(tmp_path, patient_id="3")
    assert list(found) == list(TASK_IDS)
    assert found["rhythmPA"].name == "ID003_diadochokinesisPA.wav"
    with pytest.raises(DatasetError, match="no recordings of patient ID005"):
        collect_recordings(tmp_path, patient_id="ID005")
    with pytest.raises(
        SeveralPatientsError, match=r"a SAND dataset root with 2 patients \(ID003, ID004\); pass --id"
    ) as err:
        collect_recordings(tmp_path)
    assert err.value.ids == ["ID003", "ID004"]


def test_single_file_needs_a_task_name_or_flag(tmp_path):
    _write(tmp_path / "take1.wav")
    with pytest.raises(DatasetError, match="take1.wav: the file name names no task; pass --task"):
        collect_recordings(tmp_path / "take1.wav")
    assert list(collect_recordings(tmp_path / "take1.wav", task="rhythmTA")) == ["rhythmTA"]


def test_a_session_folder_uses_the_latest_take(tmp_path):
    for name in ("ID9_phonationA_take01.wav", "ID9_phonationA_take02.wav", "ID9_rhythmPA.wav"):
        _write(tmp_path / name)
    found = collect_recordings(tmp_path)
    assert found["phonationA"].name == "ID9_phonationA_take02.wav" and found["rhythmPA"].name == "ID9_rhythmPA.wav"


@pytest.mark.parametrize(
    "takes, latest",
    [
        ([9, 10], 10),
        ([99, 100], 100),
        ([2, 10, 9], 10),
        ([1, 3, 20, 100, 11], 100),
    ],
)
def test_take_numbers_sort_numerically(tmp_path, takes, latest):
    for n in takes:
        _write(tmp_path / f"ID9_phonationE_take{n}.wav")
    assert collect_recordings(tmp_path)["phonationE"].name == f"ID9_phonationE_take{latest}.wav"
    assert take_number(f"x_phonationE_take{latest}.wav") == latest and take_number("ID9_phonationE.wav") == 0


def test_a_folder_of_several_patients_asks_which(tmp_path):
    for pid in ("ID901", "ID902", "ID017"):
        for t in ("phonationA", "rhythmKA"):
            _write(tmp_path / f"{pid}_{t}.wav")
    with pytest.raises(SeveralPatientsError) as err:
        collect_recordings(tmp_path)
    message = str(err.value)
    assert "holds recordings of 3 patients (ID017, ID901, ID902); pass --id to choose one." in message
    assert err.value.ids == ["ID017", "ID901", "ID902"] and "\n" not in message
    found = collect_recordings(tmp_path, patient_id="ID902")
    assert sorted(found) == ["phonationA", "rhythmKA"] and all(f.name.startswith("ID902_") for f in found.values())
    assert collect_recordings(tmp_path, patient_id="17")["phonationA"].name == "ID017_phonationA.wav"


@pytest.mark.parametrize("pattern", ["ID90*", "ID90?", "ID9[0-9]1", "*", "ID90"])
def test_id_is_a_literal_not_a_pattern(tmp_path, pattern):
    for pid in ("ID901", "ID902"):
        _write(tmp_path / "flat" / f"{pid}_phonationA.wav")
        _write(tmp_path / "sand" / "training" / "phonationA" / f"{pid}_phonationA.wav")
    for root in ("flat", "sand"):
        with pytest.raises(DatasetError, match="no recordings of patient"):
            collect_recordings(tmp_path / root, patient_id=pattern)


def test_files_without_an_id_join_the_one_patient(tmp_path):
    _write(tmp_path / "ID5_phonationA.wav")
    _write(tmp_path / "rhythmPA.wav")
    _write(tmp_path / "._ID6_phonationA.wav")  # macOS resource fork: hidden, not a second patient
    assert sorted(collect_recordings(tmp_path)) == ["phonationA", "rhythmPA"]


def test_the_release_wrapped_in_task1(tmp_path):
    inner = tmp_path / "release" / "task1"
    _workbook(_mk(inner) / WORKBOOK, TRAINING_SHEET, [("ID003", 50, "M", 2)])
    _write(inner / "training" / "phonationA" / "ID003_phonationA.wav")
    (tmp_path / "release" / "__MACOSX").mkdir()  # what a macOS zip adds beside task1/
    assert find_root(tmp_path / "release") == inner and SandLayout.looks_like(tmp_path / "release")
    layout = SandLayout(tmp_path / "release")
    assert [p.id for p in layout.patients()] == ["ID003"]
    assert list(collect_recordings(tmp_path / "release", patient_id="ID003")) == ["phonationA"]


def test_workbook_inside_training_and_test_ids_never_borrow_training_audio(tmp_path):
    root = tmp_path / "task1"
    _workbook(_mk(root / "training") / WORKBOOK, TRAINING_SHEET, [("ID001", 50, "M", 2)])
    _write(root / "training" / "phonationA" / "ID001_phonationA.wav")
    _workbook(root / TEST_WORKBOOK, TEST_SHEET, [(1, 50, "F")], header=("ID", "Age", "Sex"))
    _write(root / "test" / "phonationE" / "ID001_phonationE.wav")
    layout = SandLayout(tmp_path)
    assert layout.workbook() == root / "training" / WORKBOOK
    (test_patient,) = layout.patients(TEST_SHEET)
    assert list(layout.recordings(test_patient.id, split=test_patient.split)) == ["phonationE"]
    assert list(layout.recordings("ID001", split="training")) == ["phonationA"]
    with pytest.raises(DatasetError, match="has recordings in both training/ and test/"):
        layout.recordings("ID001")


def test_a_separate_test_root(tmp_path):
    train = tmp_path / "train_zip" / "task1"
    _workbook(_mk(train) / WORKBOOK, TRAINING_SHEET, [("ID001", 50, "M", 2)])
    test = tmp_path / "test_zip" / "task1"
    _workbook(_mk(test) / TEST_WORKBOOK, "Sheet1", [(301,), (302,)], header=("ID",))  # another sheet name
    _write(test / "test" / "rhythmKA" / "301_rhythmKA.wav")
    for given in (tmp_path / "test_zip", test, test / "test"):
        layout = SandLayout(tmp_path / "train_zip", test_root=given)
        patients = layout.patients(TEST_SHEET)
        assert [p.submission_id for p in patients] == ["301", "302"]
        assert layout.recordings("301", split="test")["rhythmKA"].name == "301_rhythmKA.wav"
    shutil.rmtree(test / "test")
    with pytest.raises(DatasetError, match="test folder not found"):
        SandLayout(tmp_path / "train_zip", test_root=tmp_path / "nope")


def _mk(folder):
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_a_split_folder_itself_with_an_id(tmp_path):
    _write(tmp_path / "task1" / "test" / "rhythmPA" / "7_rhythmPA.wav")
    _write(tmp_path / "task1" / "test" / "rhythmPA" / "8_rhythmPA.wav")
    found = collect_recordings(tmp_path / "task1" / "test", patient_id="ID007")
    assert list(found) == ["rhythmPA"] and found["rhythmPA"].name == "7_rhythmPA.wav"
    assert SandLayout(tmp_path / "task1" / "test").patient_ids() == ["ID007", "ID008"]
