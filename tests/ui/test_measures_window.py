"""The Praat measures in the window: computed beside the analysis in another process while the
event loop keeps turning, shown beside the selected task's vote with flags, "not measurable"
with its reason, a patient summary, the settings one click away, the report carrying them, and
one line saying what to install when Praat is missing. Real bundle, real audio, real Praat."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import soundfile as sf

from sand_gui.tasks import TASK_IDS

from .conftest import OUTPUT, drop_files, wait_checked

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("session_answers")]


def _noisy_vowel(patient_dir):
    """phonationE becomes noise: the loader finds no voice, so every measure is not measurable."""
    noise = 0.2 * np.random.default_rng(0).standard_normal(3 * 8000)
    sf.write(patient_dir / "ID042_phonationE.wav", noise.astype(np.float32), 8000, subtype="PCM_16")


def _analyse(qtbot, w, patient_dir):
    drop_files(w.table.viewport(), [patient_dir / f"ID042_{t}.wav" for t in TASK_IDS])
    wait_checked(qtbot, w, TASK_IDS)
    with qtbot.waitSignal(w.resultShown, timeout=300000):
        w.analyse()


def test_measures_beside_the_votes_without_blocking_the_window(
    qtbot, make_window, tiny_bundle, patient_dir, tmp_path, monkeypatch, messages
):
    from PySide6.QtCore import QTimer

    from sand_gui.ui.dialogs import ExportDialog
    from sand_gui.ui.measures_panel import SettingsDialog, SummaryDialog

    _noisy_vowel(patient_dir)
    w = make_window(tiny_bundle)
    ws, panel = w.workspace, w.measures.panel
    assert "Analyse" in panel.state.text() and panel.table.rowCount() == 0
    ticks = []  # GUI-thread timer ticks while the measures run: the event loop keeps turning
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(ws.measuring))
    timer.start(20)
    progress = []
    ws.subscribe(lambda change, _t: progress.append(w.status_line.message()) if ws.measuring else None)
    _analyse(qtbot, w, patient_dir)
    qtbot.waitUntil(lambda: not ws.measuring, timeout=300000)
    timer.stop()
    assert sum(ticks) >= 5, f"the event loop stalled while measuring ({sum(ticks)} ticks)"
    assert any("Praat measures: " in p and "/8 tasks" in p for p in progress), progress
    assert ws.measures is not None and ws.measures_error is None
    assert "Praat measures ready" in w.status_line.message()

    w.table.select_task("phonationA")
    vote = next(t for t in ws.analysis.result.tasks if t.task == "phonationA")
    assert f"vote {vote.predicted_class}" in panel.title.text() and "Sustained /a/" in panel.title.text()
    rows = {panel.table.item(r, 0).text(): r for r in range(panel.table.rowCount())}
    assert panel.table.rowCount() == 19 and "Jitter (local) (%)" in rows
    assert panel.table.item(rows["Jitter (local) (%)"], 2).text() == "≤ 1.04 %"
    flags = [panel.flag_text(r) for r in range(panel.table.rowCount())]
    # the generated vowel has unvoiced frames around it: flagged above Praat's normative 0 %
    assert panel.flag_text(rows["Locally unvoiced frames (%)"]) == "▲ above range", flags
    assert "within range" in flags and "" in flags  # jitter within, F0 without a range
    assert all("nan" not in panel.table.item(r, 1).text().lower() for r in range(19))

    w.table.select_task("phonationE")
    cell = panel.table.item(0, 1).text()
    assert cell.startswith("not measurable: ") and "ID042_phonationE" in cell and "no voice found" in cell
    assert panel.table.columnSpan(0, 1) == 3

    shown = []
    monkeypatch.setattr(SummaryDialog, "exec", lambda self: shown.append(self) or 0)
    monkeypatch.setattr(SettingsDialog, "exec", lambda self: shown.append(self) or 0)
    panel.summary_button.click()
    panel.settings_button.click()
    summary, settings = shown
    assert summary.table.rowCount() == 8 and summary.table.item(0, 1).text() == f"{vote.predicted_class} " + (
        f"({vote.confidence:.0%})"
    )  # each task's vote beside its measures
    assert summary.table.item(1, 1).text() == "rejected by the analysis"
    assert summary.table.item(1, 2).text() == "n/m" and "not measurable" in summary.table.item(1, 2).toolTip()
    cpps_a = summary.table.item(0, 6).text()  # /a/'s CPPS: a clean generated vowel, above the 14.45 dB cutoff
    assert float(cpps_a) > 14.45 and "▼" not in cpps_a and summary.table.item(5, 6).text() == "–"
    assert summary.table.item(5, 7).text().startswith("5.")  # rhythmPA's DDK rate, ~5 syll/s generated
    assert "Vowel space area" in summary.across.text()
    assert "Sound: To Pitch (cc)" in settings.text.toPlainText() and "Praat 6" in settings.text.toPlainText()

    n_flagged = sum(len(t.flagged) for t in ws.measures.tasks)
    assert w.analysis.tabs.tabText(w.measures.tab_index) == f"Praat measures ({n_flagged} flagged)" and n_flagged
    w.resize(1366, 768)
    w.analysis.tabs.setCurrentIndex(w.measures.tab_index)
    w.table.select_task("phonationA")
    qtbot.wait(200)
    OUTPUT.mkdir(exist_ok=True)
    assert w.grab().save(str(OUTPUT / "measures_window.png"))

    base = tmp_path / "export" / "ID042_report"
    monkeypatch.setattr(ExportDialog, "ask", classmethod(lambda cls, parent, suggestion: base))
    with qtbot.waitSignal(w.exported, timeout=120000):
        w.analysis.export_button.click()
    data = json.loads(base.with_suffix(".json").read_text())
    assert data["measures"]["status"] == "measured" and len(data["measures"]["tasks"]) == 8
    assert data["measures"]["settings"]["praat_commands"]["pitch"].startswith("Sound: To Pitch (cc)")
    kept = json.loads((w.session.folder / "last_result.json").read_text())
    assert kept["measures"]["status"] == "measured"  # the session keeps them beside the result
    assert not messages, messages


def test_without_praat_the_panel_says_what_to_install_and_a_fusion_is_shown(
    qtbot, make_window, tiny_bundle, patient_dir, monkeypatch, messages
):
    from sand_gui import workspace
    from sand_gui.fusion import FusedVerdict

    monkeypatch.setitem(sys.modules, "parselmouth", None)  # as if praat-parselmouth were not installed
    # a stand-in for a bundle with a measures model (the tiny bundle has none): H1's verdict type
    seen = []

    def fake_fuse(classifier, result, measures):
        seen.append(measures)
        return FusedVerdict(result.verdict.final_class, {}, "network", "no measures: Praat is not installed.")

    monkeypatch.setattr(workspace, "fuse_if_possible", fake_fuse)
    w = make_window(tiny_bundle)
    _analyse(qtbot, w, patient_dir)
    qtbot.waitUntil(lambda: not w.workspace.measuring, timeout=120000)
    panel = w.measures.panel
    text = panel.state.text()
    assert "praat-parselmouth" in text and "pip install 'sand-gui[measures]'" in text and "\n" not in text
    assert panel.table.rowCount() == 0 and not panel.summary_button.isEnabled()
    assert "install" in w.status_line.message()
    assert type(seen[-1]).__name__ == "MeasuresUnavailable"
    assert panel.fused.isVisibleTo(panel) and "used: network" in panel.fused.text()
    assert "no measures: Praat is not installed." in panel.fused.text()
    votes = w.analysis.result_panel.fused  # also under the class, in the Votes tab on screen
    assert votes.isVisible() and votes.text() == "Decided by the network's vote (no measures: Praat is not installed.)."
    assert not messages, messages  # no message box: a missing option is a state, not an error
