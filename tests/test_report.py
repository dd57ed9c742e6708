"""Reports from a real analysis (tiny bundle, generated patient): PDF, JSON, CSV, provenance."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sandtest import TEST_SPEC

from sand_gui import __version__
from sand_gui.model import Classifier
from sand_gui.pipeline import analyze
from sand_gui.provenance import DISCLAIMER, provenance
from sand_gui.report import write_csv, write_json
from sand_gui.report_pdf import task_spectrograms, write_pdf
from sand_gui.session import Session
from sand_gui.tasks import TASK_IDS


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def keep(path: Path) -> None:
    """Copy an artefact to $SAND_TEST_ARTIFACTS (when set) so a person can look at it."""
    target = os.environ.get("SAND_TEST_ARTIFACTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)


@pytest.fixture(scope="module")
def classifier(tiny_bundle):
    return Classifier.from_file(tiny_bundle, device="cpu")


@pytest.fixture
def session(tmp_path, patient_dir) -> Session:
    s = Session.create(tmp_path / "data", "ID042", age=63, sex="F")
    for f in sorted(patient_dir.glob("*.wav")):
        task_id = f.stem.split("_", 1)[1]
        path = s.next_take_path(task_id)
        shutil.copy(f, path)
        s.add_take(task_id, path)
    return s


def pdf_text(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed (apt-get install poppler-utils; .ci/run does)")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_reports_of_a_real_analysis(tmp_path, patient_dir, tiny_bundle, classifier):
    recordings = {f.stem.split("_", 1)[1]: f for f in sorted(patient_dir.glob("*.wav"))}
    result = analyze(recordings, classifier)
    assert result.quality_ok

    js = write_json(tmp_path / "r.json", result, bundle_path=tiny_bundle)
    report = json.loads(js.read_text())
    assert report["analysis"] == json.loads(json.dumps(result.to_dict()))  # = sand-gui analyze --json
    prov = report["provenance"]
    assert prov["app_version"] == __version__
    assert (
        prov["bundle"] == {"file": tiny_bundle.name, "sha256": sha(tiny_bundle)}
        and prov["bundle"]["sha256"] == result.model["sha256"]
    )
    assert {r["task"]: r["sha256"] for r in prov["recordings"]} == {t: sha(p) for t, p in recordings.items()}
    assert report["session"] is None and list(tmp_path.glob("*.part")) == []

    rows = list(csv.DictReader(write_csv(tmp_path / "r.csv", result).open()))
    assert [r["task"] for r in rows] == list(TASK_IDS)  # per-task rows only: one shape
    for r in rows:
        t = next(x for x in result.tasks if x.task == r["task"])
        assert int(r["class"]) == t.predicted_class and r["sha256"] == sha(t.file) and r["patient_id"] == "ID042"
        assert r["status"] == "ok" and r["error"] == "" and r["error_code"] == ""
        assert [float(r[f"p{c}"]) for c in range(1, 6)] == pytest.approx(
            [t.probabilities[c] for c in range(1, 6)], abs=1e-6
        )
        assert float(r["trimmed_seconds"]) == pytest.approx(t.trimmed_seconds, abs=1e-3)
    (final,) = list(csv.DictReader((tmp_path / "r_patient.csv").open()))  # the patient level, its own file
    assert int(final["final_class"]) == result.verdict.final_class and final["final_label"] == result.final_label
    assert final["vote_summary"] == result.verdict.summary and final["model_sha256"] == sha(tiny_bundle)
    assert final["quality_ok"] == "true" and int(final["usable_tasks"]) == 8
    assert sum(int(final[f"votes_{c}"]) for c in range(1, 6)) == 8


def test_pdf_with_session_reads_well(tmp_path, session, tiny_bundle, classifier):
    result = analyze(session.recordings(), classifier)
    pdf = write_pdf(tmp_path / "report.pdf", result, session=session, bundle_path=tiny_bundle)
    assert pdf.read_bytes()[:5] == b"%PDF-" and not list(tmp_path.glob("*.part"))
    text = pdf_text(pdf)
    flat = " ".join(text.split())
    assert "Patient ID: ID042" in flat and f"Session date: {session.date}" in flat and "Age: 63" in flat
    assert " ".join(DISCLAIMER.split()[:8]) in flat  # "Research tool, not a diagnosis. This result comes ..."
    assert flat.count("Research tool, not a diagnosis.") == 3  # on every page
    assert "trained on SYNTHETIC speech" in flat
    assert f"Final class {result.verdict.final_class}: {result.final_label}" in flat
    assert result.verdict.summary.split(" (tie")[0] in flat
    for p in session.recordings().values():
        assert sha(p) in flat  # provenance: SHA-256 of every recording
    assert sha(tiny_bundle) in flat
    for task_id in TASK_IDS:
        assert task_id in flat
    js = json.loads(write_json(tmp_path / "r.json", result, session=session).read_text())
    assert js["session"]["patient_id"] == "ID042" and js["session"]["age"] == 63
    assert {f["sha256"] for f in js["provenance"]["session_files"]} == {sha(p) for p in session.files()}
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(tmp_path / "page")], check=True)
        pages = sorted(tmp_path.glob("page-*.png"))
        assert len(pages) == 3
        for page in pages:
            keep(page)
    keep(pdf)


def test_quality_before_verdict(tmp_path, patient_dir, classifier):
    recordings = {f.stem.split("_", 1)[1]: f for f in sorted(patient_dir.glob("*.wav"))}
    for task_id in TASK_IDS[:4]:  # four silent takes: 4 of 8 usable, 5 needed
        sf.write(recordings[task_id], np.zeros(8000, np.float32), 8000, subtype="PCM_16")
    result = analyze(recordings, classifier)
    assert not result.quality_ok and result.verdict is not None
    pdf = write_pdf(tmp_path / "low.pdf", result, spec=TEST_SPEC)
    flat = " ".join(pdf_text(pdf).split())
    assert "No verdict. Recording quality too low for a verdict" in flat
    assert "Final class" not in flat and "REJECTED" in flat
    rows = list(csv.DictReader(write_csv(tmp_path / "low.csv", result).open()))
    (patient,) = list(csv.DictReader((tmp_path / "low_patient.csv").open()))
    assert patient["final_class"] == "" and patient["final_label"] == "" and patient["quality_ok"] == "false"
    assert patient["quality_message"] == result.quality_message
    assert int(patient["vote_of_usable_tasks"]) == result.verdict.final_class  # the vote, named as what it is
    assert [r["status"] for r in rows] == ["rejected"] * 4 + ["ok"] * 4
    assert rows[0]["error"].startswith("ID042_phonationA.wav: ") and rows[0]["error_code"] in ("silent", "no_voice")
    assert rows[0]["class"] == "" and rows[0]["p1"] == ""
    keep(pdf)


def test_provenance_marks_missing_files_and_spectrograms_match_the_model(tmp_path, patient_dir, classifier):
    recordings = {f.stem.split("_", 1)[1]: f for f in sorted(patient_dir.glob("*.wav"))}
    result = analyze(recordings, classifier)
    mels = task_spectrograms(result, TEST_SPEC)
    assert set(mels) == set(TASK_IDS)
    t = result.tasks[0]
    assert mels[t.task].shape == (TEST_SPEC.n_mels, 1 + t.voiced.length // TEST_SPEC.hop_length)
    recordings["phonationA"].unlink()
    prov = provenance(result)
    first = prov["recordings"][0]
    assert first["status"] == "missing" and first["sha256"] == result.tasks[0].sha256  # the checksum as analysed
    assert prov["bundle"]["sha256"] == result.model["sha256"]
    result.spec = None  # a hand-made result that carries no spec: thumbnails say they are unavailable
    pdf = write_pdf(tmp_path / "nospec.pdf", result)
    assert "spectrogram not available" in pdf_text(pdf)
