import openpyxl
import pytest
import soundfile as sf

from sand_gui.dataset import (TEST_SHEET, TEST_WORKBOOK, TRAINING_SHEET, WORKBOOK, SandLayout, collect_recordings,
                              normalise_id, read_manifest, read_sheet)
from sand_gui.errors import DatasetError
from sand_gui.tasks import TASK_IDS

from sandtest import vowel


def _workbook(path, sheet, rows, header=("ID", "Age", "Sex", "Class")):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    wb.save(path)


def test_read_sheet_and_test_workbook_ids(tmp_path):
    _workbook(tmp_path / WORKBOOK, TRAINING_SHEET, [("ID000", 61, "M", 5), ("ID001", 70, "f", 2)])
    _workbook(tmp_path / TEST_WORKBOOK, TEST_SHEET, [(7, 50, "F"), (12, 44, "M")], header=("ID", "Age", "Sex"))
    layout = SandLayout(tmp_path)
    train = layout.patients()
    assert [(p.id, p.age, p.sex, p.label) for p in train] == [("ID000", 61, "M", 5), ("ID001", 70, "F", 2)]
    assert [p.id for p in layout.patients(TEST_SHEET)] == ["ID007", "ID012"]
    assert all(p.label is None for p in layout.patients(TEST_SHEET))


@pytest.mark.parametrize("rows, sheet, reason", [
    ([("ID000", 61, "M", 7)], TRAINING_SHEET, r"row 2 \(ID000\) has unknown class 7"),
    ([("ID000", 61, "M", "severe")], TRAINING_SHEET, "has class 'severe', not a number"),
    ([(None, 61, "M", 3)], TRAINING_SHEET, "row 2 has no ID"),
    ([("ID000", 61, "M", 3)], "Other sheet", "no sheet 'SAND - TRAINING set - Task 1'"),
])
def test_bad_workbooks_are_named(tmp_path, rows, sheet, reason):
    _workbook(tmp_path / WORKBOOK, sheet, rows)
    with pytest.raises(DatasetError, match=reason):
        read_sheet(tmp_path / WORKBOOK, TRAINING_SHEET)


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


def test_normalise_id():
    assert normalise_id(7) == "ID007" and normalise_id(7.0) == "ID007" and normalise_id("ID042") == "ID042"


def test_collect_from_layout_with_alias_folder(tmp_path):
    for t in TASK_IDS:
        folder = tmp_path / "training" / (t.replace("rhythm", "diadochokinesis") if t == "rhythmPA" else t)
        folder.mkdir(parents=True)
        name = f"ID003_{folder.name}.wav"
        sf.write(folder / name, vowel(1.0), 8000)
    found = collect_recordings(tmp_path, patient_id="3")
    assert list(found) == list(TASK_IDS)
    assert found["rhythmPA"].name == "ID003_diadochokinesisPA.wav"
    with pytest.raises(DatasetError, match="no recordings of patient ID004"):
        collect_recordings(tmp_path, patient_id="ID004")
    with pytest.raises(DatasetError, match="SAND dataset root: pass --id"):
        collect_recordings(tmp_path)


def test_single_file_needs_a_task_name_or_flag(tmp_path):
    sf.write(tmp_path / "take1.wav", vowel(1.0), 8000)
    with pytest.raises(DatasetError, match="take1.wav: the file name names no task; pass --task"):
        collect_recordings(tmp_path / "take1.wav")
    assert list(collect_recordings(tmp_path / "take1.wav", task="rhythmTA")) == ["rhythmTA"]


def test_a_session_folder_uses_the_latest_take(tmp_path):
    for name in ("ID9_phonationA_take01.wav", "ID9_phonationA_take02.wav", "ID9_rhythmPA.wav"):
        sf.write(tmp_path / name, vowel(1.0), 8000)
    found = collect_recordings(tmp_path)
    assert found["phonationA"].name == "ID9_phonationA_take02.wav" and found["rhythmPA"].name == "ID9_rhythmPA.wav"
