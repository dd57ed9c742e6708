"""The workbench's dataset index (sand_gui.dataset_index): a real synthetic corpus, a SAND
release with a test set, a plain folder, and the bad input a real dataset holds."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sand_gui.dataset import TEST_SHEET, TEST_WORKBOOK, TRAINING_SHEET, WORKBOOK
from sand_gui.dataset_index import DatasetIndex, Status, header_cell, wav_header
from sand_gui.errors import DatasetError, SandError, UsageError
from sand_gui.tasks import TASK_IDS
from training.synth import generate_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Five synthetic patients, one per class (train/validation split in labels.csv and the workbook)."""
    return generate_corpus(tmp_path_factory.mktemp("synth") / "c", patients=5, seed=11, class_priors="uniform").root


@pytest.fixture
def copy(corpus, tmp_path) -> Path:
    return Path(shutil.copytree(corpus, tmp_path / "c"))


def one_line(text: str) -> bool:
    return "\n" not in text and "Traceback" not in text and len(text) < 600


def test_synthetic_corpus_opens_with_labels_splits_and_lengths(corpus):
    index = DatasetIndex.open(corpus)
    assert index.kind == "synthetic" and index.tasks == TASK_IDS and index.problems == []
    assert len(index) == 5 and sorted(r.label for r in index.rows) == [1, 2, 3, 4, 5]
    assert {r.split for r in index.rows} <= {"train", "validation"} and "validation" in {r.split for r in index.rows}
    for row in index.rows:
        assert row.age is not None and row.sex in ("M", "F") and row.problem is None
        for task, cell in row.cells.items():
            assert cell.task == task and cell.status == Status.PRESENT == "present" and cell.reason is None
            assert cell.path.is_file() and cell.seconds == pytest.approx(sf.info(str(cell.path)).duration)


def test_opening_reads_headers_only(corpus, monkeypatch):
    """Nothing is decoded when a dataset opens: reading samples would raise here."""
    import soundfile

    def refuse(*_a, **_k):
        raise AssertionError("audio was decoded while opening the dataset")

    monkeypatch.setattr(soundfile, "read", refuse)
    monkeypatch.setattr(soundfile.SoundFile, "read", refuse)
    monkeypatch.setattr("sand_gui.audio.load_recording", refuse)
    index = DatasetIndex.open(corpus)
    assert all(c.seconds > 0 for r in index.rows for c in r.cells.values())


def test_filters(corpus):
    index = DatasetIndex.open(corpus)
    assert {r.label for r in index.filter(classes=[1, 2])} == {1, 2}
    for sex in ("M", "F"):
        assert all(r.sex == sex for r in index.filter(sexes=[sex]))
    assert len(index.filter(sexes=["M"])) + len(index.filter(sexes=["F"])) == 5
    val = index.filter(splits=["validation"])
    assert val and all(r.split == "validation" for r in val)
    pid = index.rows[2].patient_id
    assert [r.patient_id for r in index.filter(text=pid.lower())] == [pid]
    assert len(index.filter(tasks=["rhythmKA"])) == 5
    index.mark(pid, "rhythmKA", "rejected", "ID: too short")
    assert pid not in [r.patient_id for r in index.filter(tasks=["rhythmKA"])]
    assert index.filter(classes=[1], text="no such patient") == []
    with pytest.raises(UsageError, match="task nonsense is unknown"):
        index.filter(tasks=["nonsense"])


def test_mark_records_a_later_finding(corpus):
    index = DatasetIndex.open(corpus)
    row = index.rows[0]
    for task in TASK_IDS:
        cell = index.mark(row.patient_id, task, Status.REJECTED, f"{task}.wav: no voice\nfound")
        assert cell.status == "rejected" and cell.reason == f"{task}.wav: no voice\\nfound"
    assert row.recordings() == {} and row.problem.startswith(f"{row.patient_id}: no usable recording")
    assert one_line(row.problem)
    with pytest.raises(UsageError) as err:
        index.mark("ID999", "phonationA", "missing", None)
    assert one_line(str(err.value)) and "ID999" in str(err.value)
    with pytest.raises(UsageError, match="status broken is unknown"):
        index.mark(row.patient_id, "phonationA", "broken", None)


def test_unreadable_and_empty_files_are_marked_with_their_reason(copy):
    bad = copy / "training" / "phonationA" / "ID001_phonationA.wav"
    bad.write_bytes(b"RIFF\x00\x00garbage, not audio at all" * 3)
    empty = copy / "training" / "rhythmPA" / "ID001_rhythmPA.wav"
    sf.write(empty, np.zeros(0, dtype=np.float32), 8000, subtype="PCM_16")
    index = DatasetIndex.open(copy)
    row = index.row("1")  # 1 and ID001 are the same patient
    assert row.cells["phonationA"].status == Status.UNREADABLE
    assert row.cells["phonationA"].reason.startswith("ID001_phonationA.wav: not a readable audio file")
    assert row.cells["rhythmPA"].status == Status.REJECTED and "0 frames" in row.cells["rhythmPA"].reason
    assert len(row.recordings()) == 6 and row.problem is None
    assert all(one_line(c.reason) for c in row.cells.values() if c.reason)
    assert all(len(r.recordings()) == 8 for r in index.rows if r is not row)  # the rest stays usable


def test_malformed_workbook_falls_back_to_the_manifest(copy):
    (copy / WORKBOOK).write_bytes(b"PK\x03\x04 this is no spreadsheet")
    index = DatasetIndex.open(copy)
    assert any(p.startswith(f"{WORKBOOK}: not a readable Excel workbook") for p in index.problems)
    assert all(one_line(p) for p in index.problems)
    assert len(index) == 5 and sorted(r.label for r in index.rows) == [1, 2, 3, 4, 5]  # from labels.csv
    assert all(len(r.recordings()) == 8 for r in index.rows)


def test_malformed_workbook_and_no_manifest_keep_the_folders(copy):
    (copy / WORKBOOK).write_bytes(b"not a workbook")
    (copy / "labels.csv").unlink()
    index = DatasetIndex.open(copy)
    assert len(index) == 5 and all(r.label is None for r in index.rows)
    assert any("not a readable Excel workbook" in p for p in index.problems)
    assert any("are in no table" in p for p in index.problems)
    assert all(len(r.recordings()) == 8 for r in index.rows)


def test_a_row_that_is_not_a_patient_is_reported(copy):
    wb = openpyxl.load_workbook(copy / WORKBOOK)
    wb[TRAINING_SHEET].append(["ID003", 50, "M", 9])  # a repeated patient with an impossible class
    wb.save(copy / WORKBOOK)
    index = DatasetIndex.open(copy)
    assert any(f"{WORKBOOK}, sheet '{TRAINING_SHEET}', row 7" in p for p in index.problems)
    assert len(index) == 5


def test_patient_with_no_usable_task_keeps_its_row(copy):
    for task in TASK_IDS:
        (copy / "training" / task / f"ID002_{task}.wav").write_bytes(b"")
    for task in TASK_IDS:
        (copy / "training" / task / f"ID004_{task}.wav").unlink()
    index = DatasetIndex.open(copy)
    two, four = index.row("ID002"), index.row("ID004")
    assert all(c.status == Status.UNREADABLE for c in two.cells.values())
    assert all(c.status == Status.MISSING and c.path is None for c in four.cells.values())
    assert two.problem in index.problems and four.problem in index.problems
    assert four.problem == "ID004: no usable recording (no task was found)."
    assert len([r for r in index.rows if r.recordings()]) == 3


def _release(root: Path, corpus: Path) -> Path:
    """The corpus as a SAND release in task1/, plus a test set whose workbook writes plain integers."""
    rel = root / "task1"
    shutil.copytree(corpus, rel)
    for n in (16, 17, 1):  # test patient 1 shares its number with training patient ID001
        for task in TASK_IDS:
            dst = rel / "test" / task / f"ID{n:03d}_{task}.wav"
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(corpus / "training" / task / f"ID000_{task}.wav", dst)
    (rel / "synthetic.json").unlink()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = TEST_SHEET
    ws.append(["ID", "Age", "Sex"])
    ws.append([16, 61, "F"])
    ws.append([17, 70, "M"])
    ws.append([1, 55, "F"])
    wb.save(rel / TEST_WORKBOOK)
    return root


def test_sand_release_with_test_set(corpus, tmp_path):
    index = DatasetIndex.open(_release(tmp_path / "download", corpus))
    assert index.kind == "sand" and index.root.name == "task1" and index.problems == []
    test = index.filter(splits=["test"])
    assert [(r.patient_id, r.submission_id, r.label) for r in test] == [
        ("ID016", "16", None),
        ("ID017", "17", None),
        ("ID001 (test)", "1", None),
    ]
    assert all(len(r.recordings()) == 8 for r in test)
    train_one, test_one = index.row("ID001"), index.row("ID001 (test)")
    assert train_one.split != "test" and train_one.label is not None
    assert all(p.parts[-3] == "test" for p in test_one.recordings().values())
    assert all(p.parts[-3] == "training" for p in train_one.recordings().values())
    assert index.labels == {r.patient_id: r.label for r in index.rows if r.split != "test"}


def test_plain_folder_of_task_named_files(patient_dir):
    index = DatasetIndex.open(patient_dir.parent)
    assert index.kind == "folder" and [r.patient_id for r in index.rows] == ["ID042"]
    assert index.rows[0].label is None and len(index.rows[0].recordings()) == 8
    (patient_dir / "ID042_phonationA.wav").unlink()
    assert DatasetIndex.open(patient_dir.parent).rows[0].cells["phonationA"].status == Status.MISSING


def test_not_a_dataset(tmp_path):
    with pytest.raises(DatasetError) as err:
        DatasetIndex.open(tmp_path / "nowhere\nelse")
    assert one_line(str(err.value)) and "nowhere\\nelse" in str(err.value)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(SandError, match="no patient and no task-named audio file"):
        DatasetIndex.open(tmp_path)


@pytest.mark.parametrize(
    "subtype,fmt",
    [("PCM_16", "WAV"), ("PCM_24", "WAVEX"), ("PCM_U8", "WAV"), ("FLOAT", "WAV"), ("DOUBLE", "WAVEX")]
    + [("ULAW", "WAV"), ("IMA_ADPCM", "WAV"), ("PCM_16", "RF64"), ("PCM_16", "FLAC"), ("VORBIS", "OGG")],
)
def test_header_lengths_agree_with_libsndfile(tmp_path, subtype, fmt):
    """The fast WAV header reader and libsndfile (every other format) give the same length."""
    path = tmp_path / f"ID001_phonationA.{'wav' if fmt in ('WAV', 'WAVEX', 'RF64') else fmt.lower()}"
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (12345, 2))
    sf.write(path, x, 16000, subtype=subtype, format=fmt)
    cell = header_cell("phonationA", path)
    assert cell.status == Status.PRESENT and cell.seconds == pytest.approx(sf.info(str(path)).duration, abs=1e-9)
    if fmt == "WAV" and subtype == "PCM_16":
        assert wav_header(path) == (16000, 2, 12345)
        path.write_bytes(path.read_bytes()[:30000])  # cut short: what the file holds, as libsndfile counts it
        assert wav_header(path)[2] == sf.info(str(path)).frames


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=120))
def test_fuzz_headers_never_raise(tmp_path, tail):
    path = tmp_path / "ID001_phonationA.wav"
    path.write_bytes(b"RIFF\xff\x00\x00\x00WAVEfmt " + tail)
    cell = header_cell("phonationA", path)
    assert cell.status in set(Status) and (cell.reason is None) == (cell.status == Status.PRESENT)
    assert cell.status != Status.PRESENT or cell.seconds > 0
