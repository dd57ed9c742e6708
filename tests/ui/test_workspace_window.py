"""The window on top of the workspace: provenance of an exported report after the model
changed, one patient per analysis, labels hidden until asked for, the quality column read
from codes, the bounded display cache, and the shape of the ui package (small files, no
import loop, no module-level state, one importer thread)."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sand_gui.tasks import TASK_IDS

from .conftest import drop_files, status, wait_checked

UI = Path(__file__).resolve().parents[2] / "sand_gui" / "ui"
ROOT = UI.parents[1]


@pytest.mark.usefixtures("session_answers")
def test_export_after_switching_model_describes_the_model_that_made_the_result(
    qtbot, make_window, tiny_bundle, patient_dir, tmp_path, monkeypatch, messages
):
    import dataclasses

    from sandtest import TEST_SPEC, make_tiny_bundle

    from sand_gui.ui.dialogs import ExportDialog

    w = make_window(tiny_bundle)
    first = w.classifier
    drop_files(w.table.viewport(), [patient_dir / f"ID042_{t}.wav" for t in TASK_IDS])
    wait_checked(qtbot, w, TASK_IDS)
    with qtbot.waitSignal(w.resultShown, timeout=120000):
        w.analyse()

    other_spec = dataclasses.replace(TEST_SPEC, n_mels=48, hop_length=96)  # (torch was imported by the importer)
    other = make_tiny_bundle(tmp_path / "other.safetensors", seed=3, spec=other_spec)
    with qtbot.waitSignal(w.modelChanged, timeout=120000):
        assert w.model.change_bundle(other)
    assert w.classifier.spec == other_spec and not w.workspace.analysis_is_current

    from sand_gui import report_pdf as report  # imported already, by the background importer

    specs = []
    real = report.write_pdf
    monkeypatch.setattr(
        report, "write_pdf", lambda path, result, **kw: specs.append(kw.get("spec")) or real(path, result, **kw)
    )
    base = tmp_path / "export" / "ID042_report"
    monkeypatch.setattr(ExportDialog, "ask", classmethod(lambda cls, parent, suggestion: base))
    with qtbot.waitSignal(w.exported, timeout=120000):
        w.analysis.export_button.click()
    assert specs == [first.spec]  # the spectrograms of the result's spec, not the loaded model's
    data = json.loads(base.with_suffix(".json").read_text())
    text = json.dumps(data)
    assert first.bundle.file_sha256 in text
    assert w.classifier.bundle.file_sha256 not in text
    assert data["analysis"]["model"]["file"] == tiny_bundle.name
    assert not messages, messages


def test_folder_with_several_patients_asks_which(
    qtbot, make_window, tiny_bundle, patient_dir, tmp_path, monkeypatch, session_answers
):
    from sand_gui.ui.dialogs import PatientChoiceDialog

    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for t in TASK_IDS[:3]:
        shutil.copy(patient_dir / f"ID042_{t}.wav", mixed / f"ID042_{t}.wav")
        shutil.copy(patient_dir / f"ID042_{t}.wav", mixed / f"ID043_{t}.wav")
    asked = []
    monkeypatch.setattr(
        PatientChoiceDialog,
        "ask",
        classmethod(lambda cls, parent, ids, descriptions=None: asked.append(list(ids)) or "ID043"),
    )
    w = make_window(tiny_bundle)
    w.open_folder(mixed)
    assert [sorted(map(str.upper, a)) for a in asked] == [["ID042", "ID043"]]
    assert session_answers == ["ID043"] and w.session.patient_id == "ID043"
    wait_checked(qtbot, w, TASK_IDS[:3])
    assert all(status(w, t) == "loaded" for t in TASK_IDS[:3])
    assert w.session.recordings().keys() == set(TASK_IDS[:3])


def test_labels_hidden_until_the_switch_is_on_and_it_persists(
    qtbot, make_window, tiny_bundle, settings, patient_dir, tmp_path, monkeypatch, session_answers
):
    from PySide6.QtCore import QSettings

    from sand_gui.ui.dialogs import PatientChoiceDialog
    from sand_gui.ui.settings import Settings

    root = tmp_path / "sand"
    for t in TASK_IDS:
        (root / "training" / t).mkdir(parents=True)
        shutil.copy(patient_dir / f"ID042_{t}.wav", root / "training" / t / f"ID042_{t}.wav")
    (root / "labels.csv").write_text("ID,Age,Sex,Class\nID042,63,F,3\n")
    offered = []
    monkeypatch.setattr(
        PatientChoiceDialog,
        "ask",
        classmethod(lambda cls, parent, ids, descriptions=None: offered.append(dict(descriptions or {})) and None),
    )
    w = make_window(tiny_bundle)
    assert not w.act_labels.isChecked()
    w.open_sand(root)
    assert offered[-1]["ID042"] == "F · 63 y"  # sex and age; no class before the analysis
    w.act_labels.trigger()  # View > Show labels
    w.open_sand(root)
    assert offered[-1]["ID042"] == "class 3 · F · 63 y"
    assert Settings(QSettings(settings.q.fileName(), QSettings.Format.IniFormat)).show_labels is True


def test_quality_column_reads_codes_never_the_sentence(qtbot):
    from sand_gui.quality import FLAGS, Code, Note
    from sand_gui.ui.task_list import TaskTable, flag_of
    from sand_gui.workspace import Source, TaskState, TaskStatus

    table = TaskTable()
    qtbot.addWidget(table)
    misleading = Note("the word clipping appears in this sentence", code=Code.LOW_LEVEL)
    table.set_state(
        TaskState(
            "phonationA", TaskStatus.READY, Source.LOADED, Path("a.wav"), notes=(misleading, "clipping, DC offset")
        )
    )
    assert (
        table.item(0, 4).text() == flag_of(Code.LOW_LEVEL) == FLAGS[Code.LOW_LEVEL]
    )  # a plain str has no code: no flag
    rejected = TaskState(
        "phonationE",
        TaskStatus.REJECTED,
        Source.LOADED,
        Path("e.wav"),
        error="e.wav: no voice.",
        error_code=Code.NO_VOICE,
    )
    table.set_state(rejected)
    assert table.item(1, 4).text() == flag_of(Code.NO_VOICE)
    assert all(flag_of(c) == FLAGS[c] for c in Code)


def test_display_cache_is_bounded(qtbot, tmp_path):
    from sand_gui.ui.display import FeatureView
    from sand_gui.ui.display_controller import CACHE_SIZE, DisplayController
    from sand_gui.workspace import Workspace

    view = FeatureView()
    qtbot.addWidget(view)
    ctl = DisplayController(Workspace(data_dir=tmp_path), view)
    for i in range(3 * CACHE_SIZE):
        ctl._ready(("phonationA", f"take{i}.wav", None), object())
    assert len(ctl.cache) == CACHE_SIZE
    assert ("phonationA", f"take{3 * CACHE_SIZE - 1}.wav", None) in ctl.cache


def test_ui_files_are_small_rooms():
    """No file of the window package over about 400 lines (10% slack); the main window a short read."""
    sizes = {p.name: len(p.read_text().splitlines()) for p in UI.glob("*.py")}
    assert all(n <= 440 for n in sizes.values()), sizes
    assert sizes["main_window.py"] <= 300, sizes["main_window.py"]


OWNED_ELSEWHERE = {"display.py", "card_dialog.py", "playback.py"}


def test_no_module_level_mutable_state_in_the_window_package():
    """No ``global`` statement, and no module-level lower-case name bound to a list, dict or set."""
    found = []
    for path in sorted(UI.glob("*.py")):
        tree = ast.parse(path.read_text())
        found += [f"{path.name}:{n.lineno} global" for n in ast.walk(tree) if isinstance(n, ast.Global)]
        for node in tree.body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, (ast.List, ast.Dict, ast.Set)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                found += [
                    f"{path.name}:{node.lineno} {t.id}"
                    for t in targets
                    if isinstance(t, ast.Name) and not t.id.isupper() and not t.id.startswith("__")
                ]
    assert not found, found


def test_logging_setup_has_no_import_loop():
    code = (
        "import sys; import sand_gui.ui.messages as m; "
        "print(int('sand_gui.ui.app' in sys.modules), m.user_text(RuntimeError('x')).endswith('sand-gui.log.'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
    )
    assert out.stdout.split() == ["0", "True"], out.stderr


RACE = """
    import importlib.abc, json, os, sys, threading, time
    HEAVY = ("numpy", "torch", "torchaudio", "timm", "matplotlib")
    seen = {{}}

    class Spy(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in HEAVY and name not in seen:
                seen[name] = threading.current_thread().name
            return None

    sys.meta_path.insert(0, Spy())
    sys.path.insert(0, {tests!r})
    from pathlib import Path
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from sand_gui.ui.main_window import MainWindow
    from sand_gui.ui.settings import Settings
    from sand_gui.ui.session_dialog import NewSessionDialog, SessionInfo
    NewSessionDialog.ask = classmethod(lambda cls, parent, **kw: SessionInfo("ID042", None, None, "2026-11-26"))
    s = Settings(QSettings({ini!r}, QSettings.Format.IniFormat))
    s.data_dir, s.device, s.bundle_path = Path({data!r}), "cpu", Path({bundle!r})
    w = MainWindow(s)
    w.show()
    # at once, while the libraries are still being imported: load, analyse, export
    w.sessions.load_files([Path({patient!r}) / f"ID042_{{t}}.wav" for t in ("phonationA", "rhythmPA")])
    done = []
    w.exported.connect(lambda paths: done.append(paths))
    def go():
        if w.classifier is None or w.workspace.analysing:
            return
        if w.workspace.analysis is None:
            w.analyse()
        elif not w.analysis.exporting and not done:
            w.analysis.export(Path({out!r}))
    t0 = time.time()
    while not done and time.time() - t0 < 240:
        app.processEvents()
        go()
        time.sleep(0.01)
    w.close()
    print(json.dumps({{"seen": seen, "exported": bool(done)}}))
"""


@pytest.mark.slow
def test_heavy_libraries_are_imported_by_one_thread(tmp_path, tiny_bundle, patient_dir):
    """A window that loads, analyses and exports before the imports are done: numpy, torch,
    torchaudio, timm and matplotlib are imported (first seen) by the importer thread only."""
    code = textwrap.dedent(RACE).format(
        tests=str(ROOT / "tests"),
        ini=str(tmp_path / "s.ini"),
        data=str(tmp_path / "data"),
        bundle=str(tiny_bundle),
        patient=str(patient_dir),
        out=str(tmp_path / "out" / "r"),
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
    )
    assert out.returncode == 0, out.stderr[-3000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["exported"]
    top = {name: thread for name, thread in found["seen"].items() if "." not in name}
    assert set(top) >= {"numpy", "torch", "timm", "matplotlib"}
    assert set(top.values()) == {"sand-importer"}, top
    elsewhere = {n: t for n, t in found["seen"].items() if t != "sand-importer" and n.split(".")[0] == "matplotlib"}
    assert not elsewhere, elsewhere
