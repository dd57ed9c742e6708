"""The main window on a bundle that carries a measures model: analysing a patient measures it with
Praat beside the analysis, and the fused line (class, which part decided, why) appears under the
vote and in the Praat measures tab, equal to ``sand_gui.fusion.fuse`` of the same inputs.

Real parts: the tiny random ConvNeXt with a tiny real XGBoost measures model (tests/fusedtest.py),
eight real 8 kHz WAV files, Praat in its own process."""

from __future__ import annotations

from pathlib import Path

import pytest

from sand_gui.tasks import TASK_IDS

from .conftest import drop_files, wait_checked

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("session_answers")]


@pytest.fixture(scope="module")
def fused_bundle(tmp_path_factory) -> Path:
    pytest.importorskip("xgboost", reason="install xgboost for the measures classifier")
    from fusedtest import make_fused_bundle

    return make_fused_bundle(tmp_path_factory.mktemp("fused") / "fused.safetensors", w=0.6)


def test_analysed_patient_shows_the_fused_verdict_and_which_part_decided(
    qtbot, make_window, fused_bundle, patient_dir, messages
):
    pytest.importorskip("parselmouth", reason="install the measures extra (praat-parselmouth)")
    from sand_gui.fusion import Fusion, fuse
    from sand_gui.report_measures import fusion_line

    w = make_window(fused_bundle)
    assert w.classifier is not None and Fusion.from_bundle(w.classifier.bundle) is not None
    drop_files(w.table.viewport(), [patient_dir / f"ID042_{t}.wav" for t in TASK_IDS])
    wait_checked(qtbot, w, TASK_IDS)
    with qtbot.waitSignal(w.resultShown, timeout=300000):
        w.analyse()
    ws = w.workspace
    qtbot.waitUntil(lambda: not ws.measuring and ws.fused is not None, timeout=300000)
    fused = ws.fused
    assert ws.measures is not None and ws.measures_error is None
    assert fused.used == "fusion" and fused.measures_probabilities and fused.network_probabilities
    assert set(fused.weights) == {"network", "measures"} and abs(fused.weights["network"] - 0.6) < 1e-6
    again = fuse(ws.analysis.result, ws.measures, Fusion.from_bundle(w.classifier.bundle))
    assert (again.final_class, again.used) == (fused.final_class, fused.used)  # the app's own rule
    line = fusion_line(fused)
    assert line.startswith(f"Fused class {fused.final_class} (used: fusion)") and "\n" not in line
    votes, panel = w.analysis.result_panel.fused, w.measures.panel.fused
    assert votes.isVisible() and votes.text() == line  # under the vote, in the Votes tab
    assert panel.text() == line
    assert not messages, messages
