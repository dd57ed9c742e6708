"""The workspace model without a display: load, record (a stand-in writes the take), reject,
analyse with the tiny bundle, switch model, export, reopen after a kill. Real files, real
bundles, the real session on disk; the runner is the default one (at once, this thread)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sandtest import TEST_SPEC, make_tiny_bundle, vowel

from sand_gui.session import SESSION_FILE, Session
from sand_gui.tasks import TASK_IDS
from sand_gui.workspace import Change, Source, TaskStatus, Workspace


@pytest.fixture
def ws(tmp_path):
    w = Workspace(data_dir=tmp_path / "data")
    w.changes = []
    w.subscribe(lambda change, task: w.changes.append((change, task)))
    return w


@pytest.fixture(scope="module")
def classifier(tiny_bundle):
    from sand_gui.model import Classifier

    return Classifier.from_file(tiny_bundle, device="cpu")


def count_saves(monkeypatch) -> list:
    saves = []
    real = Session.save
    monkeypatch.setattr(Session, "save", lambda self: saves.append(self.updated) or real(self))
    return saves


def test_load_checks_and_saves_once(ws, patient_dir, monkeypatch):
    ws.new_session("ID042", age=63, sex="F")
    saves = count_saves(monkeypatch)
    state = ws.load("phonationA", patient_dir / "ID042_phonationA.wav")
    assert len(saves) == 1  # one change, one save
    assert state.status is TaskStatus.READY or ws.task("phonationA").status is TaskStatus.READY
    s = ws.task("phonationA")
    assert s.status is TaskStatus.READY and s.source is Source.LOADED and s.take == 1
    assert 2.4 < s.seconds < 3.6 and 0 < s.voiced_seconds <= s.seconds
    assert s.spec == ws.spec
    on_disk = json.loads((ws.session.folder / SESSION_FILE).read_text())
    assert on_disk["takes"]["phonationA"]
    assert (Change.TASK, "phonationA") in ws.changes


def test_record_stand_in_is_a_recorded_take(ws):
    ws.new_session("ID042")
    path = ws.begin_recording("phonationE")
    assert ws.task("phonationE").status is TaskStatus.RECORDING
    assert path.parent == ws.session.folder and not path.exists()
    sf.write(path, vowel(2.5, sr=16000), 16000, subtype="PCM_16")  # what the recorder would write
    ws.recorded("phonationE", path)
    s = ws.task("phonationE")
    assert s.status is TaskStatus.READY and s.source is Source.RECORDED and s.file == path and s.take == 1
    second = ws.begin_recording("phonationE")
    assert second != path
    ws.recording_discarded("phonationE")  # nothing was recorded: back to the first take
    assert ws.task("phonationE").file == path and ws.task("phonationE").status is TaskStatus.READY


def test_reject_names_the_file_and_reason(ws, tmp_path, monkeypatch):
    ws.new_session("ID042")
    bad = tmp_path / "ID042_rhythmKA.wav"
    bad.write_text("this is not audio")
    saves = count_saves(monkeypatch)
    ws.load("rhythmKA", bad)
    s = ws.task("rhythmKA")
    assert s.status is TaskStatus.REJECTED and not s.usable
    assert "not a readable audio file" in s.error and "\n" not in s.error
    assert ws.session.rejected["rhythmKA"] == s.error
    assert len(saves) == 2  # the file recorded, then its rejection: two changes, two saves


def test_short_file_rejected_with_its_code(ws, tmp_path):
    ws.new_session("ID042")
    short = tmp_path / "ID042_phonationE.wav"
    sf.write(short, 0.3 * np.sin(2 * np.pi * 150 * np.arange(1600) / 8000), 8000)  # 0.2 s
    ws.load("phonationE", short)
    s = ws.task("phonationE")
    assert s.status is TaskStatus.REJECTED and "0." in s.error
    from sand_gui import quality

    if s.error_code is not None:  # the core names its reasons with codes
        assert quality.Code(s.error_code) in (quality.Code.TOO_SHORT, quality.Code.NO_VOICE, quality.Code.SILENT)


def test_nothing_without_a_session(ws, patient_dir):
    from sand_gui.errors import UsageError

    with pytest.raises(UsageError, match="No session is open"):
        ws.load("phonationA", patient_dir / "ID042_phonationA.wav")


def test_analyse_switch_model_export_describes_the_first(ws, patient_dir, classifier, tmp_path, monkeypatch):
    from sand_gui.model import Classifier

    ws.new_session("ID042")
    for t in TASK_IDS:
        ws.load(t, patient_dir / f"ID042_{t}.wav")
    assert ws.set_model(classifier).name == "tiny-test-model"
    assert ws.analyse()
    first = ws.analysis
    assert first is not None and first.model.sha256 == classifier.bundle.file_sha256
    assert first.result.n_valid == 8 and first.spec == classifier.spec
    assert (ws.session.folder / "last_result.json").is_file()

    strict_spec = dataclasses.replace(TEST_SPEC, min_voiced_seconds=3.0, n_mels=48)
    strict = Classifier.from_file(
        make_tiny_bundle(tmp_path / "strict.safetensors", seed=1, spec=strict_spec), device="cpu"
    )
    ws.set_model(strict)  # the 2.5-s takes are checked again and now too short
    assert all(ws.task(t).status is TaskStatus.REJECTED for t in TASK_IDS)
    assert "at least 3.0 s is needed" in ws.task("phonationA").error
    assert ws.analysis is first and not ws.analysis_is_current

    used = []
    from sand_gui import report_pdf as report

    real_pdf = report.write_pdf
    monkeypatch.setattr(
        report, "write_pdf", lambda path, result, **kw: used.append(kw.get("spec")) or real_pdf(path, result, **kw)
    )
    base = tmp_path / "out" / "ID042_report"
    ws.export(base)
    assert used == [classifier.spec]  # spectrograms with the result's spec, not the loaded model's
    data = json.loads(base.with_suffix(".json").read_text())
    text = json.dumps(data)
    assert classifier.bundle.file_sha256 in text and strict.bundle.file_sha256 not in text
    assert data["analysis"]["model"]["name"] == "tiny-test-model"
    assert ws.session.finished and (Change.EXPORTED, None) in ws.changes


def test_analyse_needs_a_model_and_files(ws, classifier):
    from sand_gui.errors import UsageError

    with pytest.raises(UsageError, match="No model"):
        ws.analyse()
    ws.set_model(classifier)
    ws.new_session("ID042")
    assert ws.analyse() is False  # nothing to analyse yet
    with pytest.raises(UsageError, match="Analyse first"):
        ws.export(Path("nowhere"))


def test_late_answer_of_a_replaced_file_is_ignored(ws, patient_dir, tmp_path):
    """A check that answers after a newer file replaced its task changes nothing."""
    queued = []
    ws.runner = lambda fn, *a, done, progress=None, **kw: queued.append((fn, a, kw, done))
    ws.new_session("ID042")
    ws.load("phonationA", patient_dir / "ID042_phonationA.wav")
    ws.load("phonationA", patient_dir / "ID042_phonationI.wav")
    assert len(queued) == 2 and queued[0][1][0] != queued[1][1][0]
    for fn, args, kw, done in reversed(queued):  # the newer answers first, the older last
        try:
            done(fn(*args, **kw), None)
        except Exception as exc:  # noqa: BLE001
            done(None, exc)
    assert ws.task("phonationA").file == queued[1][1][0] and ws.task("phonationA").take == 2
    assert ws.task("phonationA").status is TaskStatus.READY


KILLED = """
    import os, signal, sys, shutil
    from pathlib import Path
    import soundfile as sf
    sys.path.insert(0, {tests!r})
    from sandtest import vowel
    from sand_gui.workspace import Workspace
    ws = Workspace(data_dir=Path({data!r}))
    ws.new_session("ID077")
    ws.load("rhythmTA", Path({loaded!r}))
    take = ws.begin_recording("phonationA")
    sf.write(take, vowel(2.5, sr=16000), 16000, subtype="PCM_16")
    ws.recorded("phonationA", take)
    ws.begin_recording("phonationO")  # killed in the middle of a take
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_reopen_after_a_kill(tmp_path, patient_dir):
    data = tmp_path / "data"
    code = textwrap.dedent(KILLED).format(
        tests=str(Path(__file__).parent), data=str(data), loaded=str(patient_dir / "ID042_rhythmTA.wav")
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == -9, out.stderr
    ws = Workspace(data_dir=data)
    folders = ws.unfinished()
    assert len(folders) == 1
    ws.reopen(folders[0])
    assert ws.session.patient_id == "ID077"
    a, r = ws.task("phonationA"), ws.task("rhythmTA")
    assert a.status is TaskStatus.READY and a.source is Source.RECORDED
    assert r.status is TaskStatus.READY and r.source is Source.LOADED
    assert ws.task("phonationO").status is TaskStatus.EMPTY
    assert not list(folders[0].glob("*.part"))


def test_new_session_closes_the_previous_one(ws, patient_dir, classifier):
    ws.set_model(classifier)
    first = ws.new_session("ID042")
    ws.load("phonationA", patient_dir / "ID042_phonationA.wav")
    ws.analyse()
    ws.new_session("ID043")
    assert Session.load(first.folder).finished  # it had a result: finished, not offered again
    assert ws.analysis is None and all(s.status is TaskStatus.EMPTY for s in ws.tasks.values())
    assert ws.unfinished() == [ws.session.folder]


def test_workspace_imports_no_qt_numpy_or_torch():
    code = "import sys, sand_gui.workspace; print([m for m in ('PySide6', 'numpy', 'torch') if m in sys.modules])"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=dict(os.environ), check=False
    )
    assert out.stdout.strip() == "[]", out.stderr
