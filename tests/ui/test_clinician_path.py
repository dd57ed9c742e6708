"""The whole clinician path driven through the widgets: session, drop files, a rejected
file in its row, analyse on the CPU, the result, the report; and the quality gate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sand_gui.tasks import TASK_IDS

from .conftest import OUTPUT, drop_files

pytestmark = pytest.mark.usefixtures("session_answers")


def wait_checked(qtbot, w, tasks):
    qtbot.waitUntil(lambda: all(w.rows[t].status not in ("", "checking") for t in tasks), timeout=60000)


def test_full_path_drop_analyse_export(qtbot, make_window, tiny_bundle, patient_dir, tmp_path, monkeypatch, messages, session_answers):
    w = make_window(tiny_bundle)
    assert w.classifier is not None
    assert w.model_status.text().startswith("Model ready: tiny-test-model on CPU")
    assert w.banner.isVisible() and "synthetic" in w.banner_text.text()

    # seven good files and a text file posing as the eighth task, dropped at once
    bad = tmp_path / "ID042_rhythmKA.wav"
    bad.write_text("this is not audio")
    files = [patient_dir / f"ID042_{t}.wav" for t in TASK_IDS[:7]] + [bad]
    drop_files(w.table.viewport(), files)
    assert session_answers == ["ID042"]  # the patient ID was read from the file names
    assert w.session is not None and w.session.patient_id == "ID042"
    wait_checked(qtbot, w, TASK_IDS)

    for t in TASK_IDS[:7]:
        assert w.rows[t].status == "loaded", w.rows[t]
        assert w.table.status_text(t).startswith("loaded")
    assert w.rows["rhythmKA"].status == "rejected"
    status = w.table.status_text("rhythmKA")
    assert "rejected" in status and "not a readable audio file" in status

    with qtbot.waitSignal(w.resultShown, timeout=120000) as blocker:
        w.analyse_button.click()
    result = blocker.args[0]
    assert result.device.startswith("CPU")
    headline = w.result_panel.headline.text()
    assert result.quality_ok
    assert headline == f"Class {result.verdict.final_class} — {result.final_label}"
    assert f"of {result.n_valid} tasks: class {result.verdict.final_class}" in w.result_panel.votes.text()
    assert "CPU" in w.result_panel.device.text()
    assert w.result_panel.table.rowCount() == 8
    assert (Path(w.session.folder) / "last_result.json").is_file()

    from sand_gui.ui.dialogs import ExportDialog

    base = tmp_path / "export" / "ID042_report"
    monkeypatch.setattr(ExportDialog, "ask", classmethod(lambda cls, parent, suggestion: base))
    with qtbot.waitSignal(w.exported, timeout=120000):
        w.export_button.click()
    for ext in (".pdf", ".json", ".csv"):
        assert base.with_suffix(ext).is_file()
    data = json.loads(base.with_suffix(".json").read_text())
    assert data["analysis"]["final_class"] == result.verdict.final_class
    assert data["session"]["patient_id"] == "ID042"
    assert "rejected" in open(base.with_suffix(".csv")).read() or "not a readable" in open(base.with_suffix(".csv")).read()
    assert base.with_suffix(".pdf").read_bytes()[:4] == b"%PDF"
    assert w.session.finished
    assert not messages, messages


def test_short_file_rejected_others_untouched(qtbot, make_window, tiny_bundle, patient_dir, tmp_path):
    w = make_window(tiny_bundle)
    drop_files(w.table.viewport(), [patient_dir / "ID042_phonationA.wav"])
    wait_checked(qtbot, w, ["phonationA"])
    short = tmp_path / "ID042_phonationE.wav"
    sf.write(short, 0.3 * np.sin(2 * np.pi * 150 * np.arange(1600) / 8000), 8000)  # 0.2 s
    drop_files(w.table.viewport(), [short])
    wait_checked(qtbot, w, ["phonationE"])
    assert w.rows["phonationE"].status == "rejected"
    assert "after trimming" in w.rows["phonationE"].error or "0." in w.rows["phonationE"].error
    assert "too short" in w.table.item(w.table.row_of("phonationE"), 4).text()
    assert w.rows["phonationA"].status == "loaded"
    assert w.session.rejected["phonationE"] == w.rows["phonationE"].error


def test_quality_gate_with_three_tasks(qtbot, make_window, tiny_bundle, patient_dir):
    w = make_window(tiny_bundle)
    drop_files(w.table.viewport(), [patient_dir / f"ID042_{t}.wav" for t in TASK_IDS[:3]])
    wait_checked(qtbot, w, TASK_IDS[:3])
    with qtbot.waitSignal(w.resultShown, timeout=120000) as blocker:
        w.analyse()
    result = blocker.args[0]
    assert not result.quality_ok
    assert w.result_panel.headline.text() == "Recording quality too low for a verdict"
    assert "Redo:" in w.result_panel.meaning.text() and "rhythmKA" in w.result_panel.meaning.text()
    assert "Class" not in w.result_panel.headline.text()


def test_file_named_after_no_task_is_asked_for(qtbot, make_window, tiny_bundle, patient_dir, tmp_path, monkeypatch):
    from sand_gui.ui.dialogs import TaskChoiceDialog

    mystery = tmp_path / "recording 17.wav"
    shutil.copy(patient_dir / "ID042_phonationO.wav", mystery)
    asked = []
    monkeypatch.setattr(TaskChoiceDialog, "ask", classmethod(lambda cls, parent, path, default=None: asked.append((path, default)) or "phonationO"))
    w = make_window(tiny_bundle)
    row = w.table.row_of("phonationO")
    pos = w.table.visualRect(w.table.model().index(row, 1)).center().toPointF()
    drop_files(w.table.viewport(), [mystery], pos)
    assert asked == [(mystery, "phonationO")]  # the row it was dropped on is the suggestion
    wait_checked(qtbot, w, ["phonationO"])
    assert w.rows["phonationO"].status == "loaded" and w.rows["phonationO"].file == mystery


def test_open_patient_from_sand_dataset(qtbot, make_window, tiny_bundle, patient_dir, tmp_path, monkeypatch):
    from sand_gui.ui.dialogs import PatientChoiceDialog

    root = tmp_path / "sand"
    for t in TASK_IDS:
        (root / "training" / t).mkdir(parents=True)
        shutil.copy(patient_dir / f"ID042_{t}.wav", root / "training" / t / f"ID042_{t}.wav")
    (root / "labels.csv").write_text("ID,Age,Sex,Class\nID042,63,F,3\n")
    monkeypatch.setattr(PatientChoiceDialog, "ask", classmethod(lambda cls, parent, ids, descriptions=None: ids[0]))
    w = make_window(tiny_bundle)
    w.open_folder(root)
    wait_checked(qtbot, w, TASK_IDS)
    assert all(w.rows[t].status == "loaded" for t in TASK_IDS)
    assert w.session.patient_id == "ID042"


def test_display_shows_what_the_model_sees(qtbot, make_window, tiny_bundle, patient_dir):
    w = make_window(tiny_bundle)
    drop_files(w.table.viewport(), [patient_dir / "ID042_rhythmPA.wav"])
    wait_checked(qtbot, w, ["rhythmPA"])
    w.table.select_task("rhythmPA")
    qtbot.waitUntil(lambda: w.display.data is not None, timeout=60000)
    d = w.display.data
    assert d.task_id == "rhythmPA" and d.spec == w.classifier.spec
    assert d.mel_db.shape[0] == w.classifier.spec.n_mels and d.delta.shape == d.mel_db.shape
    assert len(w.display.figure.axes) >= 4
    assert 0 < d.voiced.start < d.voiced.stop < len(d.samples)  # the silent lead was trimmed
    assert w.display.toolbar is not None  # zoom and pan


def test_screenshot(qtbot, make_window, tiny_bundle, patient_dir, monkeypatch):
    """Saves tests/output/main_window.png for a person to look at (not compared): a demo
    patient (else the fixture patient) analysed with the bundled model (else the tiny test
    bundle, and then the picture says so in a caption)."""
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtGui import QColor, QFont, QPainter, QPixmap

    from sand_gui.ui.dialogs import PatientChoiceDialog
    from sand_gui.ui.main_window import default_bundle_path, demo_dir

    bundle = default_bundle_path() or tiny_bundle
    w = make_window(bundle)
    w.resize(1400, 900)
    if (demo_dir() / "training").is_dir():
        monkeypatch.setattr(PatientChoiceDialog, "ask", classmethod(
            lambda cls, parent, ids, descriptions=None: "ID903" if "ID903" in ids else ids[0]))
        w.open_sand(demo_dir())
    else:
        drop_files(w.table.viewport(), [patient_dir / f"ID042_{t}.wav" for t in TASK_IDS])
    wait_checked(qtbot, w, TASK_IDS)
    with qtbot.waitSignal(w.resultShown, timeout=300000):
        w.analyse()
    w.table.select_task("rhythmPA")
    qtbot.waitUntil(lambda: w.display.data is not None and w.display.data.task_id == "rhythmPA", timeout=60000)
    w.display.canvas.draw()
    qtbot.wait(100)
    shot = w.grab()
    if bundle == tiny_bundle:  # label it: the class on screen comes from random weights
        caption = ("Screenshot made with the tests' tiny RANDOM-WEIGHT model (no bundled model yet): "
                   "the class shown means nothing.")
        out = QPixmap(shot.width(), shot.height() + 34)
        out.fill(QColor("#b00020"))
        p = QPainter(out)
        p.drawPixmap(0, 0, shot)
        p.setPen(QColor("white"))
        font = QFont()
        font.setPointSize(12)
        font.setBold(True)
        p.setFont(font)
        p.drawText(QRect(0, shot.height(), shot.width(), 34), Qt.AlignmentFlag.AlignCenter, caption)
        p.end()
        shot = out
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / "main_window.png"
    assert shot.save(str(path))
    assert path.stat().st_size > 10000


def test_demo_patient_opens_and_is_analysed(qtbot, make_window, tiny_bundle, monkeypatch):
    """Session > Open a demo patient: the shipped synthetic SAND-layout patients."""
    from sand_gui.ui.dialogs import PatientChoiceDialog
    from sand_gui.ui.main_window import demo_dir

    if not (demo_dir() / "training").is_dir():
        pytest.skip("no demo patients shipped in resources/demo")
    offered = {}
    monkeypatch.setattr(PatientChoiceDialog, "ask", classmethod(
        lambda cls, parent, ids, descriptions=None: offered.update(descriptions or {}) or ids[0]))
    w = make_window(tiny_bundle)
    w.act_demo.trigger()
    pid = sorted(offered)[0]
    assert "class" in offered[pid]
    wait_checked(qtbot, w, TASK_IDS)
    assert w.session.patient_id == pid
    assert sum(w.rows[t].usable for t in TASK_IDS) == 8
    with qtbot.waitSignal(w.resultShown, timeout=120000):
        w.analyse()
    assert w.result_panel.headline.text().startswith("Class ")


def test_dropping_a_patient_folder_loads_its_tasks(qtbot, make_window, tiny_bundle, patient_dir, session_answers):
    w = make_window(tiny_bundle)
    drop_files(w.table.viewport(), [patient_dir])
    wait_checked(qtbot, w, TASK_IDS)
    assert all(w.rows[t].status == "loaded" for t in TASK_IDS)
    assert session_answers == ["ID042"]


def test_p_plays_the_selected_take(qtbot, make_window, tiny_bundle, patient_dir, monkeypatch):
    from PySide6.QtCore import Qt

    from sand_gui import recorder
    from sand_gui.ui import main_window

    played = []
    monkeypatch.setattr(main_window, "backend_status", lambda: (True, "fake"))
    monkeypatch.setattr(recorder, "play", lambda samples, rate, **kw: played.append((len(samples), rate)))
    monkeypatch.setattr(recorder, "is_playing", lambda: False)
    w = make_window(tiny_bundle)
    drop_files(w.table.viewport(), [patient_dir / "ID042_phonationI.wav"])
    wait_checked(qtbot, w, ["phonationI"])
    qtbot.waitUntil(lambda: w.audio_ok, timeout=5000)
    w.table.select_task("phonationI")
    assert w.play_button.isEnabled() and w.act_play.shortcut().toString() == "P"
    qtbot.keyClick(w.table, Qt.Key.Key_P)
    assert played == [(int(3.5 * 8000), 8000)]


def test_take_files_are_recognised_and_a_session_folder_reopens(qtbot, make_window, tiny_bundle, patient_dir, tmp_path, session_answers):
    from sand_gui.session import Session

    s = Session.create(tmp_path / "old", "ID042")
    take = s.next_take_path("rhythmTA")  # ID042_rhythmTA_take01.wav
    shutil.copy(patient_dir / "ID042_rhythmTA.wav", take)
    s.add_take("rhythmTA", take)
    w = make_window(tiny_bundle)
    drop_files(w.table.viewport(), [take])
    wait_checked(qtbot, w, ["rhythmTA"])
    assert w.rows["rhythmTA"].status == "loaded" and session_answers == ["ID042"]

    w.open_folder(s.folder)  # the session folder itself: reopened, not a new session
    qtbot.waitUntil(lambda: w.session.folder == s.folder and w.rows["rhythmTA"].status == "recorded", timeout=30000)
