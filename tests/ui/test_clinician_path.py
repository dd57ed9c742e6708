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

from .conftest import OUTPUT, drop_files, status, wait_checked

pytestmark = pytest.mark.usefixtures("session_answers")


def test_full_path_drop_analyse_export(
    qtbot, make_window, tiny_bundle, patient_dir, tmp_path, monkeypatch, messages, session_answers
):
    w = make_window(tiny_bundle)
    assert w.classifier is not None
    assert w.model_status.text().startswith("Model ready: tiny-test-model on CPU")
    assert w.model_panel.banner.isVisible() and "synthetic" in w.model_panel.banner_text.text()

    # seven good files and a text file posing as the eighth task, dropped at once
    bad = tmp_path / "ID042_rhythmKA.wav"
    bad.write_text("this is not audio")
    files = [patient_dir / f"ID042_{t}.wav" for t in TASK_IDS[:7]] + [bad]
    drop_files(w.table.viewport(), files)
    assert session_answers == ["ID042"]  # the patient ID was read from the file names
    assert w.session is not None and w.session.patient_id == "ID042"
    wait_checked(qtbot, w, TASK_IDS)

    for t in TASK_IDS[:7]:
        assert status(w, t) == "loaded", w.workspace.task(t)
        assert w.table.status_text(t).startswith("loaded")
    assert status(w, "rhythmKA") == "rejected"
    shown = w.table.status_text("rhythmKA")
    assert "rejected" in shown and "not a readable audio file" in shown

    with qtbot.waitSignal(w.resultShown, timeout=120000) as blocker:
        w.analysis.analyse_button.click()
    result = blocker.args[0]
    assert result.device.startswith("CPU")
    headline = w.analysis.result_panel.headline.text()
    assert result.quality_ok
    assert headline == f"Class {result.verdict.final_class} — {result.final_label}"
    assert f"of {result.n_valid} tasks: class {result.verdict.final_class}" in w.analysis.result_panel.votes.text()
    assert "CPU" in w.analysis.result_panel.device.text()
    assert w.analysis.result_panel.table.rowCount() == 8
    assert (Path(w.session.folder) / "last_result.json").is_file()

    from sand_gui.ui.dialogs import ExportDialog

    base = tmp_path / "export" / "ID042_report"
    monkeypatch.setattr(ExportDialog, "ask", classmethod(lambda cls, parent, suggestion: base))
    with qtbot.waitSignal(w.exported, timeout=120000):
        w.analysis.export_button.click()
    for ext in (".pdf", ".json", ".csv"):
        assert base.with_suffix(ext).is_file()
    data = json.loads(base.with_suffix(".json").read_text())
    assert data["analysis"]["final_class"] == result.verdict.final_class
    assert data["session"]["patient_id"] == "ID042"
    csv_text = base.with_suffix(".csv").read_text()
    assert "rejected" in csv_text or "not a readable" in csv_text
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
    assert status(w, "phonationE") == "rejected"
    assert "after trimming" in w.workspace.task("phonationE").error or "0." in w.workspace.task("phonationE").error
    from sand_gui.ui.task_list import flag_of

    code = w.workspace.task("phonationE").error_code  # the flag comes from the code, never the sentence
    assert w.table.item(w.table.row_of("phonationE"), 4).text() == (flag_of(code) if code is not None else "rejected")
    assert status(w, "phonationA") == "loaded"
    assert w.session.rejected["phonationE"] == w.workspace.task("phonationE").error


def test_quality_gate_with_three_tasks(qtbot, make_window, tiny_bundle, patient_dir):
    w = make_window(tiny_bundle)
    drop_files(w.table.viewport(), [patient_dir / f"ID042_{t}.wav" for t in TASK_IDS[:3]])
    wait_checked(qtbot, w, TASK_IDS[:3])
    with qtbot.waitSignal(w.resultShown, timeout=120000) as blocker:
        w.analyse()
    result = blocker.args[0]
    assert not result.quality_ok
    assert w.analysis.result_panel.headline.text() == "Recording quality too low for a verdict"
    assert "Redo:" in w.analysis.result_panel.meaning.text() and "rhythmKA" in w.analysis.result_panel.meaning.text()
    assert "Class" not in w.analysis.result_panel.headline.text()


def test_file_named_after_no_task_is_asked_for(qtbot, make_window, tiny_bundle, patient_dir, tmp_path, monkeypatch):
    from sand_gui.ui.dialogs import TaskChoiceDialog

    mystery = tmp_path / "recording 17.wav"
    shutil.copy(patient_dir / "ID042_phonationO.wav", mystery)
    asked = []
    monkeypatch.setattr(
        TaskChoiceDialog,
        "ask",
        classmethod(lambda cls, parent, path, default=None: asked.append((path, default)) or "phonationO"),
    )
    w = make_window(tiny_bundle)
    row = w.table.row_of("phonationO")
    pos = w.table.visualRect(w.table.model().index(row, 1)).center().toPointF()
    drop_files(w.table.viewport(), [mystery], pos)
    assert asked == [(mystery, "phonationO")]  # the row it was dropped on is the suggestion
    wait_checked(qtbot, w, ["phonationO"])
    state = w.workspace.task("phonationO")
    assert status(w, "phonationO") == "loaded" and state.file.read_bytes() == mystery.read_bytes()


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
    assert all(status(w, t) == "loaded" for t in TASK_IDS)
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
    from sand_gui.ui.model_controller import default_bundle_path
    from sand_gui.ui.session_controller import demo_dir

    bundle = default_bundle_path() or tiny_bundle
    w = make_window(bundle)
    w.resize(1366, 768)  # the laptop the window must be readable on
    if (demo_dir() / "training").is_dir():
        monkeypatch.setattr(
            PatientChoiceDialog,
            "ask",
            classmethod(lambda cls, parent, ids, descriptions=None: "ID903" if "ID903" in ids else ids[0]),
        )
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
        caption = (
            "Screenshot made with the tests' tiny RANDOM-WEIGHT model (no bundled model yet): "
            "the class shown means nothing."
        )
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
    from sand_gui.ui.session_controller import demo_dir

    if not (demo_dir() / "training").is_dir():
        pytest.skip("no demo patients shipped in resources/demo")
    offered = {}
    monkeypatch.setattr(
        PatientChoiceDialog,
        "ask",
        classmethod(lambda cls, parent, ids, descriptions=None: offered.update(descriptions or {}) or ids[0]),
    )
    w = make_window(tiny_bundle)
    w.act_demo.trigger()
    pid = min(offered)
    assert "class" not in offered[pid]  # the true class is not shown before the analysis
    wait_checked(qtbot, w, TASK_IDS)
    assert w.session.patient_id == pid
    assert sum(w.workspace.task(t).usable for t in TASK_IDS) == 8
    with qtbot.waitSignal(w.resultShown, timeout=120000):
        w.analyse()
    assert w.analysis.result_panel.headline.text().startswith("Class ")


def test_dropping_a_patient_folder_loads_its_tasks(qtbot, make_window, tiny_bundle, patient_dir, session_answers):
    w = make_window(tiny_bundle)
    drop_files(w.table.viewport(), [patient_dir])
    wait_checked(qtbot, w, TASK_IDS)
    assert all(status(w, t) == "loaded" for t in TASK_IDS)
    assert session_answers == ["ID042"]


PLAYER = "import pathlib, sys; pathlib.Path(sys.argv[1]).write_text(sys.argv[2])"


def test_p_plays_the_selected_take_without_a_microphone(
    qtbot, make_window, tiny_bundle, patient_dir, tmp_path, monkeypatch
):
    """Playback goes through the system's own player (``playback.Player``, here a stand-in
    program that notes the file it was given), so it works where recording is impossible."""
    import sys

    from PySide6.QtCore import Qt

    from sand_gui.ui import recording_controller
    from sand_gui.ui.playback import Player

    monkeypatch.setattr(recording_controller, "backend_status", lambda: (False, "no microphone found"))
    w = make_window(tiny_bundle)
    drop_files(w.table.viewport(), [patient_dir / "ID042_phonationI.wav"])
    wait_checked(qtbot, w, ["phonationI"])
    qtbot.waitUntil(lambda: w.strip.audio_reason == "no microphone found", timeout=10000)
    played = tmp_path / "played.txt"
    w.strip.set_player(Player(w, command=[sys.executable, "-c", PLAYER, str(played)]))
    w.table.select_task("phonationI")
    assert not w.strip.record_button.isEnabled()
    assert w.strip.play_button.isEnabled() and w.act_play.shortcut().toString() == "P"
    with qtbot.waitSignal(w.strip.player.finished, timeout=20000):
        qtbot.keyClick(w.table, Qt.Key.Key_P)
    assert Path(played.read_text()).read_bytes() == w.workspace.task("phonationI").file.read_bytes()


def test_take_files_are_recognised_and_a_session_folder_reopens(
    qtbot, make_window, tiny_bundle, patient_dir, tmp_path, session_answers
):
    from sand_gui.session import Session

    s = Session.create(tmp_path / "old", "ID042")
    take = s.next_take_path("rhythmTA")  # ID042_rhythmTA_take01.wav
    shutil.copy(patient_dir / "ID042_rhythmTA.wav", take)
    s.add_take("rhythmTA", take)
    w = make_window(tiny_bundle)
    drop_files(w.table.viewport(), [take])
    wait_checked(qtbot, w, ["rhythmTA"])
    assert status(w, "rhythmTA") == "loaded" and session_answers == ["ID042"]

    w.open_folder(s.folder)  # the session folder itself: reopened, not a new session
    qtbot.waitUntil(lambda: w.session.folder == s.folder and status(w, "rhythmTA") == "recorded", timeout=30000)
