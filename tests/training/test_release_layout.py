"""The SAND release as it unpacks, built from a small synthetic corpus (``training.synth``):

    A/task1/{sand_task_1.xlsx, training/<task>/…, sand_task1_test.xlsx, test/<task>/…}   both archives merged
    B/task1/training/{sand_task_1.xlsx, <task>/…}                                        workbook inside training/
    C/train/task1/… and C/test/task1/{sand_task1_test.xlsx, test/<task>/…}              test set unpacked apart

The test workbook writes integer IDs (1, 2) that normalise to ID001, ID002: the IDs of two
training patients too, so a test patient that borrowed training audio would show.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import soundfile as sf

from sand_gui.dataset import TEST_SHEET, TEST_WORKBOOK, WORKBOOK, SandLayout
from sand_gui.resources import default_bundle_path
from sand_gui.tasks import TASK_IDS
from training.cli import main
from training.synth.corpus import plan_patients, write_corpus

TEST_IDS = [1, 2]


def _test_workbook(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = TEST_SHEET
    ws.append(["ID", "Age", "Sex"])
    for n in TEST_IDS:
        ws.append([n, 60, "F"])
    wb.save(path)


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> tuple[Path, Path]:
    """(a three-patient training corpus ID000..ID002, the test patients' audio as test/<task>/)."""
    base = tmp_path_factory.mktemp("release")
    plans = [replace(p, max_seconds=1.2) for p in plan_patients(3, seed=11, class_priors="uniform")]
    write_corpus(base / "train", plans, seed=11, sample_rate=8000, class_priors="uniform")
    other = [replace(p, max_seconds=1.2) for p in plan_patients(2, seed=12, class_priors="uniform", id_offset=1)]
    write_corpus(base / "other", other, seed=12, sample_rate=8000, class_priors="uniform")
    test = base / "test"
    for task in TASK_IDS:
        (test / task).mkdir(parents=True)
        for p in other:
            shutil.copy(base / "other" / "training" / task / f"{p.id}_{task}.wav", test / task / f"{p.id}_{task}.wav")
    return base / "train", test


def _merged(synth, root: Path) -> Path:
    train, test = synth
    inner = root / "task1"
    shutil.copytree(train, inner)
    shutil.copytree(test, inner / "test")
    _test_workbook(inner / TEST_WORKBOOK)
    return root


@pytest.fixture(scope="module")
def layouts(synth, tmp_path_factory) -> dict[str, tuple[Path, Path | None]]:
    base = tmp_path_factory.mktemp("layouts")
    a = _merged(synth, base / "A")
    b = base / "B"
    shutil.copytree(synth[0], b / "task1")
    (b / "task1" / WORKBOOK).rename(b / "task1" / "training" / WORKBOOK)
    (b / "task1" / "labels.csv").unlink()
    c_train, c_test = base / "C" / "train", base / "C" / "test"
    shutil.copytree(synth[0], c_train / "task1")
    shutil.copytree(synth[1], c_test / "task1" / "test")
    _test_workbook(c_test / "task1" / TEST_WORKBOOK)
    return {"A": (a, None), "B": (b, None), "C": (c_train, c_test)}


def test_every_layout_reads_the_same_patients_and_recordings(layouts, synth):
    expected = SandLayout(synth[0]).patients()
    assert [p.id for p in expected] == [f"ID{i:03d}" for i in range(3)]
    for name, (root, test_root) in layouts.items():
        layout = SandLayout(root, test_root=test_root)
        assert layout.patients() == expected, name
        for p in expected:
            found = layout.recordings(p.id, split="training")
            assert list(found) == list(TASK_IDS) and all(
                f.read_bytes() == (synth[0] / "training" / t / f.name).read_bytes() for t, f in found.items()
            ), name
    for root, test_root in (layouts["A"], layouts["C"]):
        layout = SandLayout(root, test_root=test_root)
        test = layout.patients(TEST_SHEET)
        assert [(p.id, p.submission_id, p.split) for p in test] == [("ID001", "1", "test"), ("ID002", "2", "test")]
        for p in test:
            found = layout.recordings(p.id, split=p.split)
            assert all(f.parent.parent.name == "test" for f in found.values()) and len(found) == 8


def _submission(path: Path) -> list[list[str]]:
    with open(path, newline="") as fh:
        return list(csv.reader(fh))


def test_predict_writes_the_release_submission_from_every_layout(layouts, tiny_bundle, tmp_path, capsys):
    runs = {
        "merged": ["--data", str(layouts["A"][0])],
        "separate test root": ["--data", str(layouts["C"][0]), "--test-data", str(layouts["C"][1])],
        "test root alone": ["--test-data", str(layouts["C"][1] / "task1" / "test")],
    }
    outputs = {}
    cache = tmp_path / "cache"  # copies keep name, size and time: later runs reuse the features
    for name, args in runs.items():
        out = tmp_path / f"{name}.csv"
        assert (
            main(
                [
                    "predict",
                    "--model",
                    str(tiny_bundle),
                    *args,
                    "--out",
                    str(out),
                    "--quiet",
                    "--device",
                    "cpu",
                    "--cache",
                    str(cache),
                ]
            )
            == 0
        ), name
        assert "patients" in capsys.readouterr().out
        rows = _submission(out)
        assert rows[0] == ["ID", "CLASS"] and [r[0] for r in rows[1:]] == ["1", "2"], name
        assert all(r[1] in {"1", "2", "3", "4", "5"} for r in rows[1:])
        assert out.read_bytes().startswith(b"ID,CLASS\n") and not list(tmp_path.glob(".*.part"))
        outputs[name] = rows
    assert len({json.dumps(v) for v in outputs.values()}) == 1  # same audio, same submission


def test_predict_says_why_a_patient_has_no_result(synth, tiny_bundle, tmp_path, capsys):
    root = _merged(synth, tmp_path / "rel")
    for task in TASK_IDS:  # test patient 2: silence for every task; training ID002 keeps its audio
        sf.write(root / "task1" / "test" / task / f"ID002_{task}.wav", np.zeros(8000, dtype=np.float32), 8000)
    (root / "task1" / "test" / "phonationA" / "ID001_phonationA.wav").unlink()  # patient 1 loses one task
    out = tmp_path / "sub.csv"
    assert (
        main(
            [
                "predict",
                "--model",
                str(tiny_bundle),
                "--data",
                str(root),
                "--out",
                str(out),
                "--quiet",
                "--device",
                "cpu",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.splitlines()
    no_result = [line for line in err if line.startswith("no result:")]
    assert len(no_result) == 1 and no_result[0].startswith("no result: 2 (ID002): no usable recording (phonationA: ")
    assert "rhythmKA: " in no_result[0]
    assert "skipped: ID001 phonationA: recording not found" in err
    assert err[-1].startswith(
        "sand-train: error: rel: no usable recording for 1 patient(s) (2); the submission would be incomplete"
    )
    assert not out.exists()
    assert (
        main(
            [
                "predict",
                "--model",
                str(tiny_bundle),
                "--data",
                str(root),
                "--out",
                str(out),
                "--quiet",
                "--device",
                "cpu",
                "--fill",
                "5",
            ]
        )
        == 0
    )
    rows = _submission(out)
    assert [r[0] for r in rows] == ["ID", "1", "2"] and rows[2][1] == "5"
    assert "no result: 2 (ID002): no usable recording" in capsys.readouterr().err


@pytest.mark.slow
def test_evaluate_without_a_model_scores_the_bundled_one(layouts, capsys):
    """On the validation sheet of the wrapped release: one patient, so four classes have none."""
    assert main(["evaluate", "--data", str(layouts["A"][0]), "--quiet", "--device", "cpu"]) == 0
    captured = capsys.readouterr()
    out = captured.out
    assert out.startswith(f"sand_convnext_atto_synthetic ({default_bundle_path().name}) on ")
    patient = out[out.index("Patient level") :].splitlines()
    assert "n = 1 patients" in patient[0] and patient[1].split() == ["class", "patients", "precision", "recall", "F1"]
    rows = {line.split()[0]: line.split() for line in patient[2:7]}
    empty = [c for c, r in rows.items() if r[1] == "0"]
    assert len(empty) == 4 and all(rows[c][3] == "n/a" for c in empty)  # recall of a class with no patient
    assert all(rows[c][1:] == ["0", "n/a", "n/a", "n/a"] for c in empty if rows[c][2] == "n/a")
    warnings = [line for line in out.splitlines() if line.startswith("warning: class")]
    assert len(warnings) == 5 and sum("has only 1 patient (fewer than 5)" in w for w in warnings) == 1
