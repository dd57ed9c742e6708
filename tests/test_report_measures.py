"""The Praat measures in the reports (PDF page, strict JSON, both CSVs) and in the workspace
(measured with the analysis, stale answers dropped), read back from real files: a real
analysis with the tiny bundle and real Praat measures of a generated patient."""

from __future__ import annotations

import csv
import json
import math
import multiprocessing
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sandtest import task_signal

from sand_gui import report_measures as rm
from sand_gui.measures import MeasuresUnavailable
from sand_gui.measuring import run_measures
from sand_gui.model import Classifier
from sand_gui.pipeline import analyze
from sand_gui.report import write_csv, write_json, write_reports
from sand_gui.report_pdf import write_pdf
from sand_gui.tasks import TASK_IDS
from sand_gui.workspace import Change, Workspace


@pytest.fixture(scope="module")
def patient(tmp_path_factory) -> dict:
    """ID042's eight tasks; phonationE is noise (no voice: every measure not measurable)."""
    folder = tmp_path_factory.mktemp("ID042")
    files = {}
    for i, task_id in enumerate(TASK_IDS):
        x = task_signal(task_id, seed=i)
        if task_id == "phonationE":
            x = (0.2 * np.random.default_rng(0).standard_normal(len(x))).astype(np.float32)
        files[task_id] = folder / f"ID042_{task_id}.wav"
        sf.write(files[task_id], x, 8000, subtype="PCM_16")
    return files


@pytest.fixture(scope="module")
def classifier(tiny_bundle):
    return Classifier.from_file(tiny_bundle, device="cpu")


@pytest.fixture(scope="module")
def result(patient, classifier):
    return analyze(patient, classifier)


@pytest.fixture(scope="module")
def measures(patient, classifier):
    return run_measures(patient, classifier.spec, sex="F", workers=0)


def strict(text: str):
    def refuse(name):
        raise AssertionError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def pdf_text(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed (apt-get install poppler-utils; .ci/run does)")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_json_carries_every_measure_its_flag_and_the_settings(tmp_path, result, measures):
    data = strict(write_json(tmp_path / "r.json", result, measures=measures).read_text())
    m = data["measures"]
    assert m["status"] == "measured" and m["sex"] == "F" and data["fusion"] is None
    assert [t["task"] for t in m["tasks"]] == list(TASK_IDS)
    assert m["settings"]["pitch_floor"] == 100.0 and m["settings"]["pitch_ceiling"] == 500.0  # female range
    assert m["settings"]["praat_commands"]["pitch"].startswith("Sound: To Pitch (cc): 0.01, 100, 15")
    for t in m["tasks"]:
        for x in t["measures"]:
            if x["measurable"]:
                assert math.isfinite(x["value"]) and x["reason"] is None
            else:
                assert x["value"] is None and x["flag"] is None and x["reason"] and "\n" not in x["reason"]
    e = next(t for t in m["tasks"] if t["task"] == "phonationE")
    assert e["error"] and all(x["why"] == "recording" for x in e["measures"])
    flagged = {(f["task"], f["key"]) for f in m["flagged"]}
    expected = {(t["task"], x["key"]) for t in m["tasks"] for x in t["measures"] if x["flag"] in ("above", "below")}
    assert flagged == expected and ("phonationA", "unvoiced_fraction") in flagged
    assert m["across_tasks"][0]["key"] == "vowel_space_area" and m["across_tasks"][0]["value"] > 0


def test_pdf_has_a_measures_page_with_flags_reasons_and_settings(tmp_path, result, measures):
    pdf = write_pdf(tmp_path / "r.pdf", result, measures=measures, features_by_task={})  # no spectrograms: faster
    text = pdf_text(pdf)
    flat = " ".join(text.split())
    assert "page 2 of 4" in flat and "Praat measures beside the network's votes" in flat
    page = text.split("\f")[1]
    assert "Sustained vowels" in page and "Syllable repetition (DDK)" in page
    line = next(x for x in page.splitlines() if "Locally unvoiced frames" in x)
    assert "▲" in line and "≤ 0.00 %" in line  # flagged above Praat's normative 0 %
    cpps = next(x for x in page.splitlines() if x.strip().startswith("CPPS"))
    assert "≥ 14.45 dB on /a/" in cpps  # the cutoff is for /a/ only
    assert "n/m" in page and "phonationE (" in " ".join(page.split()) and "no voice found" in page
    assert "Vowel space area" in page and "Hz²" in page
    assert "Sound: To Pitch (cc)" in flat and "Sex assumed: F" in flat
    assert "NaN" not in page and " nan" not in page.lower()


def test_csvs_carry_each_tasks_measures_and_the_patients_key_measures(tmp_path, result, measures):
    rows = {r["task"]: r for r in csv.DictReader(write_csv(tmp_path / "r.csv", result, measures=measures).open())}
    a, pa, e = rows["phonationA"], rows["rhythmPA"], rows["phonationE"]
    assert float(a["jitter_local"]) == pytest.approx(measures.task("phonationA").get("jitter_local").value, rel=1e-5)
    assert a["unvoiced_fraction_flag"] == "above" and a["jitter_local_flag"] == "within" and a["f0_mean_hz_flag"] == ""
    assert a["ddk_rate"] == "" and a["measures_status"] == "measured"
    assert float(pa["ddk_rate"]) == pytest.approx(5.0, rel=0.05) and pa["jitter_local"] == ""
    assert e["measures_status"] == "error" and "no voice found" in e["measures_not_measurable"]
    (p,) = list(csv.DictReader((tmp_path / "r_patient.csv").open()))
    assert float(p["phonationA_cpps_db"]) > 14.45 and p["phonationA_cpps_db_flag"] == "within"
    assert float(p["rhythmKA_ddk_rate"]) == pytest.approx(5.0, rel=0.05) and p["phonationE_jitter_local"] == ""
    assert float(p["vowel_space_area"]) > 0 and p["measures_sex"] == "F" and p["measures_praat"].startswith("6.")
    assert json.loads(p["measures_settings"])["voicing_threshold"] == 0.45
    assert p["fused_class"] == "" and p["measures_status"] == "measured"


def test_unavailable_measures_are_one_reason_in_every_report(tmp_path, result):
    why = MeasuresUnavailable("Praat measures need praat-parselmouth, which is not installed; install it with X.")
    paths = write_reports(tmp_path / "out" / "r", result, measures=why)  # the four files, as sand-gui analyze writes
    data = strict(paths[1].read_text())
    assert data["measures"] == {"status": "unavailable", "reason": str(why), "code": "MeasuresUnavailable"}
    rows = list(csv.DictReader(paths[2].open()))
    assert all(r["measures_status"] == f"unavailable: {why}" for r in rows)
    (p,) = list(csv.DictReader(paths[3].open()))
    assert p["measures_status"].startswith("unavailable: Praat measures need")
    flat = " ".join(pdf_text(paths[0]).split())
    assert "Measures unavailable: Praat measures need praat-parselmouth" in flat and "page 4 of 4" in flat
    assert rm.table_lines(why) == [f"Measures: unavailable - {why}"]


def test_without_measures_the_reports_keep_their_shape(tmp_path, result):
    data = strict(write_json(tmp_path / "r.json", result).read_text())
    assert data["measures"] is None and data["fusion"] is None
    header = next(csv.reader(write_csv(tmp_path / "r.csv", result).open()))
    assert header[-2:] == ["measures_not_measurable", "measures_status"] and "ddk_rate" in header
    flat = " ".join(pdf_text(write_pdf(tmp_path / "r.pdf", result, features_by_task={})).split())
    assert "page 3 of 3" in flat and "Praat measures" not in flat


def test_text_table_shows_values_flags_and_reasons(measures):
    lines = rm.table_lines(measures)
    a = next(x for x in lines if x.strip().startswith("phonationA"))
    assert "Jitter (local)" in a and "[ok]" in a and "CPPS" in a
    e = next(x for x in lines if x.strip().startswith("phonationE"))
    assert "not measurable: " in e and e.count("not measurable") == 1  # one reason, said once
    assert any("Vowel space area" in x for x in lines) and "Settings: pitch 100-500 Hz" in lines[-1]
    assert all("\n" not in x and "nan" not in x.lower() for x in lines)


# -- the workspace: measured with the analysis, stale answers dropped ---------------------------
class Queue:
    """A runner that keeps each job until ``run`` (as a worker would, later); its job handle
    records ``cancel()`` like a ``ui.workers.Worker``."""

    def __init__(self):
        self.jobs, self.cancelled = [], []

    def __call__(self, fn, *args, done, progress=None, **kwargs):
        job = type("Job", (), {"cancel": lambda _self: self.cancelled.append(fn.__name__)})()
        self.jobs.append((fn, args, kwargs, done, progress))
        return job

    def run(self, name: str) -> None:
        fn, args, kwargs, done, progress = next(j for j in self.jobs if j[0].__name__ == name)
        self.jobs = [j for j in self.jobs if j[0] is not fn]
        if progress is not None:
            kwargs["progress"] = progress
        try:
            value = fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            done(None, exc)
            return
        done(value, None)


FEW = ("phonationA", "phonationI", "rhythmPA")  # enough for the workspace's rules, quicker than eight


def test_workspace_measures_with_the_analysis_and_drops_a_stale_answer(tmp_path, patient, classifier):
    q = Queue()
    ws = Workspace(data_dir=tmp_path / "data", runner=q)
    ws.measure_workers = 0
    changes = []
    ws.subscribe(lambda change, _t: changes.append(change))
    ws.set_model(classifier)
    ws.new_session("ID042", sex="F")
    for t in FEW:
        ws.load(t, patient[t])
    while any(j[0].__name__ == "check_recording" for j in q.jobs):
        q.run("check_recording")
    assert ws.analyse() and ws.measuring and ws.measured_recordings == ws.recordings()
    assert {j[0].__name__ for j in q.jobs} == {"run_analysis", "run_measures"}
    ws.load("phonationA", patient["phonationI"])  # a new take while measuring: the measures are stale
    assert not ws.measuring and q.cancelled == ["run_measures"] and changes[-1] is Change.TASK
    q.run("run_measures")  # the stale answer arrives: dropped
    assert ws.measures is None and ws.measures_error is None
    q.run("run_analysis")
    assert ws.analysis is not None and ws.report_measures() == (None, None)

    ws.runner = lambda fn, *a, done, progress=None, **kw: done(fn(*a, **kw), None)
    progress = []
    ws.subscribe(lambda change, _t: progress.append(ws.measures_progress) if change is Change.MEASURES else None)
    assert ws.measure()
    assert ws.measures is not None and not ws.measuring and ws.measures.sex == "F"
    assert ws.measures.task("phonationA").file == str(ws.task("phonationA").file)
    assert (0, 3, "") in progress and progress[-1] is None
    ws.new_session("ID043")
    assert ws.measures is None and ws.measured_recordings == {} and ws.fused is None


def test_measures_unavailable_is_a_state_of_the_workspace(tmp_path, patient, classifier, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "parselmouth", None)  # as if praat-parselmouth were not installed
    ws = Workspace(data_dir=tmp_path / "data")
    ws.set_model(classifier)
    ws.new_session("ID042")
    ws.load("rhythmPA", patient["rhythmPA"])
    assert ws.analyse()
    assert isinstance(ws.measures_error, MeasuresUnavailable) and ws.measures is None and ws.analysis is not None
    measures, fused = ws.report_measures()
    assert measures is ws.measures_error and fused is None  # the report says why there are none
    saved = strict((ws.session.folder / "last_result.json").read_text())
    assert saved["measures"]["status"] == "unavailable" and "pip install" in saved["measures"]["reason"]


@pytest.mark.slow
def test_measuring_in_a_process_matches_and_stops_when_cancelled(patient, classifier, measures):
    seen = []
    few = {t: patient[t] for t in FEW}
    res = run_measures(few, classifier.spec, sex="F", workers=1, progress=lambda *a: seen.append(a))
    assert [a[:2] for a in seen] == [(i, 3) for i in range(1, 4)] and {a[2] for a in seen} == set(FEW)
    assert res.missing_tasks == [t for t in TASK_IDS if t not in FEW] and res.get("vowel_space_area").value is None
    for t in ("phonationA", "rhythmPA"):
        for m, ref in zip(res.task(t).measures, measures.task(t).measures):
            assert (m.key, m.value) == (ref.key, ref.value)  # the same numbers as in this process

    class Stop(Exception):
        pass

    def stop(*args):
        raise Stop()

    with pytest.raises(Stop):
        run_measures(few, classifier.spec, workers=1, progress=stop)
    assert multiprocessing.active_children() == []  # no measuring process is left behind


# -- the patient's class in the reports: the fused one, the network's vote beside it -------------
def test_reports_show_the_fused_class_and_the_vote_beside_it(tmp_path, result):
    from sand_gui.classes import DEFAULT_LABELS
    from sand_gui.fusion import FusedVerdict
    from sand_gui.report import patient_csv_path

    assert result.quality_ok
    vote = result.verdict.final_class
    other = 1 if vote != 1 else 5
    fused = FusedVerdict(other, {}, "measures", "measures only: fixed by the bundle's maker: a test")
    pdf, js, _csv, pcsv = write_reports(tmp_path / "out" / "r", result, fused=fused)
    data = strict(js.read_text())
    assert data["patient_class"] == {
        "class": other,
        "label": DEFAULT_LABELS[other],
        "decided_by": "measures",
        "reason": "measures only: fixed by the bundle's maker: a test",
        "network_class": vote,
        "waiting_for_measures": False,
    }
    assert data["analysis"]["final_class"] == vote  # the analysis stays the network's, as the CLI prints it
    row = next(csv.DictReader(pcsv.open()))
    assert (row["final_class"], row["final_label"], row["decided_by"]) == (
        str(other),
        DEFAULT_LABELS[other],
        "measures",
    )
    assert row["vote_of_usable_tasks"] == str(vote) and row["fused_class"] == str(other)
    flat = " ".join(pdf_text(pdf).split())
    assert f"Final class {other}: {DEFAULT_LABELS[other]}" in flat and f"Final class {vote}:" not in flat
    assert "Decided by the Praat measures classifier (measures only: fixed by the bundle's maker: a test)." in flat
    assert f"The network's vote differs: {result.verdict.summary.split(' (tie')[0]}" in flat
    assert patient_csv_path(_csv) == pcsv


def test_reports_claim_no_class_while_the_measures_a_bundle_decides_with_are_out(tmp_path, result):
    from dataclasses import replace

    waiting = replace(result, model=dict(result.model, measures_model=True))
    pdf, js, _csv, pcsv = write_reports(tmp_path / "out" / "r", waiting)
    shown = strict(js.read_text())["patient_class"]
    assert (
        shown["class"] is None
        and shown["waiting_for_measures"]
        and shown["network_class"] == result.verdict.final_class
    )
    row = next(csv.DictReader(pcsv.open()))
    assert row["final_class"] == row["final_label"] == row["decided_by"] == "" and row["quality_ok"] == "true"
    flat = " ".join(pdf_text(pdf).split())
    assert "Final class" not in flat
    assert f"No final class. Network vote: class {result.verdict.final_class}" in flat
    assert "Not the patient's class yet" in flat


@pytest.mark.parametrize(("cpus", "processes"), [(None, None), (1, 1), (2, 1), (3, 1), (4, 2), (64, 2)])
def test_measuring_processes_leave_a_core_to_the_network_and_the_window(cpus, processes):
    """Two measuring processes only where two cores stay free for the network and the interface."""
    from sand_gui.measuring import measuring_processes

    got = measuring_processes(cpus)
    assert got == (processes if processes is not None else (2 if (os.cpu_count() or 1) >= 4 else 1))
