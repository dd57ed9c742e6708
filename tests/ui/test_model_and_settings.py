"""Start-up without a model, the model loading in the background, bundles refused in the
settings with the previous one kept, settings persisted in a temporary file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from sand_gui.tasks import TASK_IDS

from .conftest import drop_files, status

ROOT = Path(__file__).resolve().parents[2]


def test_window_imports_no_torch():
    """Nothing the window imports before its first paint imports torch, timm or torchaudio
    (seconds), nor numpy or matplotlib (tens of milliseconds each: the window must appear
    within 2x of a bare PySide6 window)."""
    code = (
        "import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]);"
        "import sand_gui.ui.app, sand_gui.ui.main_window as m;"
        "from PySide6.QtCore import QSettings; from sand_gui.ui.settings import Settings;"
        "w = m.MainWindow(Settings(QSettings(sys.argv[1], QSettings.Format.IniFormat)), load_model=False); w.show();"
        "bad = [x for x in ('torch', 'timm', 'torchaudio', 'numpy', 'matplotlib') if x in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    ini = str(Path(os.environ.get("TMPDIR", "/tmp")) / "sand_gui_import_check.ini")
    out = subprocess.run(
        [sys.executable, "-c", code, ini], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_no_model_everything_but_analyse_works(qtbot, make_window, patient_dir, session_answers):
    w = make_window(None)
    assert w.model_status.text() == "No model loaded — choose one in Settings"
    assert "No model loaded — choose one in Settings" in w.model_panel.model_label.text()
    assert not w.analysis.analyse_button.isEnabled()
    assert "No model loaded" in w.analysis.analyse_button.toolTip()
    drop_files(w.table.viewport(), [patient_dir / f"ID042_{t}.wav" for t in TASK_IDS[:2]])
    qtbot.waitUntil(lambda: all(status(w, t) == "loaded" for t in TASK_IDS[:2]), timeout=60000)
    # the display uses the default FeatureSpec while no card is known
    w.table.select_task(TASK_IDS[0])
    qtbot.waitUntil(lambda: w.display.data is not None, timeout=60000)
    w.analyse()  # does nothing but say why
    assert w.workspace.analysis is None
    assert "No model loaded" in w.status_line.message()


def test_model_loads_in_background_and_card_shown_at_once(qtbot, make_window, tiny_bundle, monkeypatch):
    from sand_gui.ui.card_dialog import CardDialog

    w = make_window(tiny_bundle, wait_model=False)
    qtbot.waitUntil(
        lambda: "tiny-test-model" in w.model_panel.model_label.text(), timeout=5000
    )  # read_card, before torch
    assert w.model_panel.banner.isVisible()
    assert w.model_status.text() in ("Loading model…",) or w.model_status.text().startswith("Model ready")
    qtbot.waitUntil(lambda: w.classifier is not None, timeout=120000)
    assert w.model_status.text() == f"Model ready: tiny-test-model on {w.classifier.device.name}"
    shown = []
    monkeypatch.setattr(CardDialog, "ask", classmethod(lambda cls, parent, card: shown.append(card)))
    w.model_panel.card_button.click()
    assert shown and shown[0].name == "tiny-test-model"


def _values(settings, **changes):
    from dataclasses import replace

    return replace(settings.values(), **changes)


@pytest.mark.parametrize("damage", ["truncated", "not_a_bundle"])
def test_incompatible_bundle_refused_previous_kept(
    qtbot, make_window, tiny_bundle, settings, tmp_path, monkeypatch, messages, damage
):
    from sand_gui.ui.settings import SettingsDialog

    w = make_window(tiny_bundle)
    previous = w.classifier
    bad = tmp_path / "bad.safetensors"
    data = tiny_bundle.read_bytes()
    bad.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"not a model at all")
    monkeypatch.setattr(
        SettingsDialog,
        "ask",
        classmethod(lambda cls, parent, values, input_devices: _values(settings, bundle_path=bad)),
    )
    w.open_settings()
    qtbot.waitUntil(lambda: bool(messages) and not w.model_loading, timeout=60000)
    assert "refused" in messages[-1] and "previous model" in messages[-1]
    assert ("truncated" in messages[-1]) if damage == "truncated" else ("not a" in messages[-1])
    assert w.classifier is previous
    assert settings.bundle_path == tiny_bundle
    assert w.model_status.text().startswith("Model ready: tiny-test-model")


def test_settings_persist_in_the_given_file(qtbot, make_window, tiny_bundle, settings, tmp_path, monkeypatch):
    from sand_gui.ui.settings import Settings, SettingsDialog

    w = make_window(tiny_bundle)
    other = tmp_path / "other.safetensors"
    other.write_bytes(tiny_bundle.read_bytes())
    new = _values(settings, data_dir=tmp_path / "elsewhere", auto_stop=True, bundle_path=other, input_device="USB mic")
    monkeypatch.setattr(SettingsDialog, "ask", classmethod(lambda cls, parent, values, input_devices: new))
    with qtbot.waitSignal(w.modelChanged, timeout=120000):
        w.open_settings()
    assert w.model.bundle_path == other
    again = Settings(QSettings(settings.q.fileName(), QSettings.Format.IniFormat))
    assert again.data_dir == tmp_path / "elsewhere"
    assert again.auto_stop is True and again.device == "cpu" and again.input_device == "USB mic"
    assert again.bundle_path == other


def test_settings_dialog_round_trip(qtbot, settings):
    from sand_gui.ui.settings import SettingsDialog

    dlg = SettingsDialog(settings.values(), input_devices=["Mic A"])
    qtbot.addWidget(dlg)
    dlg.auto_stop.setChecked(True)
    dlg.device.setCurrentIndex(dlg.device.findData("cpu"))
    v = dlg.values()
    assert v.auto_stop and v.device == "cpu" and v.data_dir == settings.data_dir and v.bundle_path is None


@pytest.mark.usefixtures("session_answers")
def test_rows_are_checked_again_when_a_model_with_another_spec_loads(
    qtbot, make_window, tiny_bundle, patient_dir, tmp_path, monkeypatch
):
    """The patient's 2.5-s recordings pass the tiny model's 0.5-s minimum of voice; a model
    whose spec asks for 3 s of voice rejects them once it is loaded."""
    import dataclasses

    from sandtest import TEST_SPEC, make_tiny_bundle

    w = make_window(tiny_bundle)
    drop_files(w.table.viewport(), [patient_dir / f"ID042_{t}.wav" for t in TASK_IDS])
    qtbot.waitUntil(lambda: all(status(w, t) == "loaded" for t in TASK_IDS), timeout=60000)
    strict = make_tiny_bundle(
        tmp_path / "strict.safetensors", spec=dataclasses.replace(TEST_SPEC, min_voiced_seconds=3.0)
    )
    with qtbot.waitSignal(w.modelChanged, timeout=120000):
        assert w.model.change_bundle(strict)
    qtbot.waitUntil(lambda: all(status(w, t) == "rejected" for t in TASK_IDS), timeout=60000)
    assert "at least 3.0 s is needed" in w.table.status_text("phonationA")
    assert w.workspace.task("phonationA").spec == w.classifier.spec
