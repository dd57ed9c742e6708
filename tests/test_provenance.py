"""A result knows what produced it; finite or refused at the end of the pipeline.

Analyse with bundle A, then load bundle B (another FeatureSpec, another name) as the window
does when the model is changed in Settings, export, and read the reports back: they must
name A, A's checksum and A's spec, and the PDF's spectrograms must use A's spec.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sandtest import TEST_SPEC, TINY_ARCH, TINY_KWARGS

from sand_gui.model import Classifier
from sand_gui.pipeline import analyze, probabilities_problem
from sand_gui.quality import Code, Note
from sand_gui.report import write_csv, write_json, write_reports
from sand_gui.report_pdf import task_spectrograms, write_pdf
from sand_gui.session import Session
from sand_gui.tasks import TASK_IDS

SPEC_B = replace(TEST_SPEC, n_mels=32, n_frames=32, n_fft=256, hop_length=64)


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def strict(text: str):
    """json.loads that fails on NaN / Infinity."""

    def bad(name):
        raise AssertionError(f"{name} in JSON")

    return json.loads(text, parse_constant=bad)


def pdf_text(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed (apt-get install poppler-utils; .ci/run does)")
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())


def make_bundle_b(path: Path) -> Path:
    """A second real bundle: another name, another FeatureSpec, other weights."""
    import torch

    from sand_gui.bundle import ModelCard, save_bundle
    from sand_gui.model import build_network

    torch.manual_seed(7)
    net = build_network(TINY_ARCH, num_classes=5, arch_kwargs=TINY_KWARGS)
    card = ModelCard(
        name="bundle-B-other-model",
        architecture=TINY_ARCH,
        arch_kwargs=TINY_KWARGS,
        spec=SPEC_B,
        training_data={"description": "none: random weights for tests", "synthetic": True},
    )
    return save_bundle(path, net.state_dict(), card)


@pytest.fixture(scope="module")
def clf_a(tiny_bundle):
    return Classifier.from_file(tiny_bundle, device="cpu")


def recordings_of(folder: Path) -> dict[str, Path]:
    return {f.stem.split("_", 1)[1]: f for f in sorted(folder.glob("*.wav"))}


@pytest.mark.slow
def test_reports_describe_the_model_that_made_the_result(tmp_path, patient_dir, tiny_bundle, clf_a):
    result = analyze(recordings_of(patient_dir), clf_a)
    assert result.spec == TEST_SPEC and result.feature_spec == TEST_SPEC.to_dict()
    assert result.model["sha256"] == sha(tiny_bundle) and result.model["file"] == tiny_bundle.name
    assert result.model["name"] == "tiny-test-model" and result.model["architecture"] == TINY_ARCH
    assert result.model["synthetic"] is True and result.device.startswith("CPU") and result.analysed_at

    # The model is changed (Settings), then the report is exported, passing the *current*
    # model as the window used to: the result's own model must win everywhere.
    bundle_b = make_bundle_b(tmp_path / "b.safetensors")
    clf_b = Classifier.from_file(bundle_b, device="cpu")
    assert clf_b.spec == SPEC_B and sha(bundle_b) != sha(tiny_bundle)
    js = strict(write_json(tmp_path / "r.json", result, bundle_path=bundle_b).read_text())
    pdf = write_pdf(tmp_path / "r.pdf", result, spec=clf_b.spec, bundle_path=bundle_b)
    write_csv(tmp_path / "r.csv", result, bundle_path=bundle_b)

    assert js["analysis"]["model"]["sha256"] == sha(tiny_bundle) and js["provenance"]["bundle"]["sha256"] == sha(
        tiny_bundle
    )
    assert js["analysis"]["model"]["name"] == "tiny-test-model"
    assert js["analysis"]["feature_spec"] == TEST_SPEC.to_dict() == js["provenance"]["feature_spec"]
    assert sha(bundle_b) not in json.dumps(js) and "bundle-B" not in json.dumps(js)

    text = pdf_text(pdf)
    assert sha(tiny_bundle) in text and "tiny-test-model" in text and "64 mels" in text and "n_fft 512" in text
    assert sha(bundle_b) not in text and "bundle-B" not in text and "32 mels" not in text

    (patient,) = list(csv.DictReader((tmp_path / "r_patient.csv").open()))
    assert patient["model_sha256"] == sha(tiny_bundle) and patient["model_name"] == "tiny-test-model"
    assert json.loads(patient["feature_spec"]) == TEST_SPEC.to_dict()

    # the spectrograms use the result's spec, whatever spec the caller hands in
    for mels in (task_spectrograms(result), task_spectrograms(result, clf_b.spec)):
        assert set(mels) == set(TASK_IDS)
        assert all(m.shape[0] == TEST_SPEC.n_mels for m in mels.values())


@pytest.mark.slow
def test_a_session_report_survives_the_originals_being_deleted(tmp_path, patient_dir, tiny_bundle, clf_a):
    elsewhere = tmp_path / "usb-stick"
    shutil.copytree(patient_dir, elsewhere)
    session = Session.create(tmp_path / "data", "ID042", age=70)
    for task_id, f in recordings_of(elsewhere).items():
        copy = session.set_loaded(task_id, f)
        assert copy.parent == session.folder and sha(copy) == sha(f)
        assert session.recorded_sha256(copy) == sha(f) and session.origin(copy) == "loaded"
    originals = {t: sha(f) for t, f in recordings_of(elsewhere).items()}
    shutil.rmtree(elsewhere)  # the originals are gone

    reopened = Session.load(session.folder)
    assert set(reopened.verify().values()) == {"ok"}
    result = analyze(reopened.recordings(), clf_a)
    assert result.quality_ok and {t.task: t.sha256 for t in result.tasks} == originals
    paths = write_reports(tmp_path / "out" / "ID042_report", result, session=reopened)  # makes the folder
    assert [p.name for p in paths] == [
        "ID042_report.pdf",
        "ID042_report.json",
        "ID042_report.csv",
        "ID042_report_patient.csv",
    ]
    js = strict(paths[1].read_text())
    assert {r["status"] for r in js["provenance"]["recordings"]} == {"ok"}
    assert {f["status"] for f in js["provenance"]["session_files"]} == {"ok"}
    assert {f["origin"] for f in js["provenance"]["session_files"]} == {"loaded"}
    assert "changed or was removed" not in pdf_text(paths[0])

    # a recording edited after the analysis is reported as such, never drawn as if analysed
    changed = reopened.current("phonationA")
    sf.write(changed, np.zeros(4000, np.float32), 8000, subtype="PCM_16")
    js = strict(write_json(tmp_path / "after.json", result, session=reopened).read_text())
    row = next(r for r in js["provenance"]["recordings"] if r["task"] == "phonationA")
    assert row["status"] == "changed" and row["sha256"] == originals["phonationA"]
    assert "phonationA" not in task_spectrograms(result)
    assert reopened.verify()[changed] == "changed"
    assert "the recording changed or was removed since the analysis" in pdf_text(
        write_pdf(tmp_path / "after.pdf", result)
    )


def test_non_finite_probabilities_are_refused_never_voted(patient_dir, tiny_bundle):
    """A real network made to output NaN: every task is rejected with a reason, no verdict,
    and the JSON stays strict."""
    import torch

    clf = Classifier.from_file(tiny_bundle, device="cpu")
    with torch.no_grad():
        clf.network.head.fc.bias.fill_(float("nan"))
    result = analyze(recordings_of(patient_dir), clf)
    assert result.verdict is None and result.n_valid == 0 and not result.quality_ok
    for t in result.tasks:
        assert t.error.endswith(
            "the model returned probabilities that are not finite (NaN or infinity); the recording was not used."
        )
        assert t.error.startswith(Path(t.file).name) and t.error_code == Code.NON_FINITE.value
        assert t.probabilities is None and t.predicted_class is None
    d = strict(result.to_json())
    assert d["final_class"] is None and d["votes"] is None
    assert {t["error_code"] for t in d["tasks"]} == {"non_finite"}


@pytest.mark.parametrize(
    "p,problem",
    [
        ([0.2, 0.2, 0.2, 0.2, 0.2], ""),
        ([np.nan, 0.25, 0.25, 0.25, 0.25], "not finite"),
        ([np.inf, 0, 0, 0, 0], "not finite"),
        ([0.5, 0.5, 0.5, 0.0, 0.0], "do not sum to 1"),
        ([1.5, -0.5, 0, 0, 0], "do not sum to 1"),
    ],
)
def test_probabilities_problem(p, problem):
    found = probabilities_problem(np.array(p))
    assert (problem in found) if problem else found == ""


def test_warning_codes_travel_into_json_and_csv(tmp_path, patient_dir, clf_a):
    result = analyze(recordings_of(patient_dir), clf_a)
    result.tasks[0].warnings = [
        Note("clipping: 2.0 % of samples at full scale", code=Code.CLIPPING),
        Note("DC offset of +0.020 removed", code=Code.DC_REMOVED),
    ]
    d = strict(result.to_json())
    assert d["tasks"][0]["warnings"] == ["clipping: 2.0 % of samples at full scale", "DC offset of +0.020 removed"]
    assert d["tasks"][0]["warning_codes"] == ["clipping", "dc_removed"]
    rows = list(csv.DictReader(write_csv(tmp_path / "w.csv", result).open()))
    assert rows[0]["warning_codes"] == "clipping; dc_removed"
    assert rows[0]["warnings"] == "clipping: 2.0 % of samples at full scale; DC offset of +0.020 removed"
    # one shape: every row has the same columns and no row reuses them for the patient level
    header = next(csv.reader((tmp_path / "w.csv").open()))
    assert header[:7] == ["patient_id", "date", "task", "status", "file", "sha256", "class"]
    i = header.index("trimmed_seconds")
    assert header[i : i + 5] == ["trimmed_seconds", "warnings", "warning_codes", "error", "error_code"]
    assert all(h.startswith("measures_") or h.rsplit("_flag", 1)[0] in header for h in header[i + 5 :])
    assert [r["task"] for r in rows] == list(TASK_IDS)
