"""The main window on a bundle that carries a measures model: analysing a patient measures it with
Praat beside the analysis; the headline becomes the fused class (``sand_gui.fusion.fuse`` of the
same inputs), with who decided it and the network's vote under it, and the fused line in the
Praat measures tab; before the measures are in, the headline claims no class.

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
    rp = w.analysis.result_panel
    label = w.classifier.card.label(fused.final_class)
    assert rp.headline.text() == f"Class {fused.final_class} — {label}"  # the fused class, in large type
    assert rp.fused.isVisible() and rp.fused.text().startswith(
        "Decided by the fusion of the network and the Praat measures (fusion of the network (w=0.60)"
    )
    v = ws.analysis.result.verdict
    agree = "agrees" if v.final_class == fused.final_class else "differs"
    assert rp.votes.text().startswith(f"The network's vote {agree}: {v.summary}.")
    assert w.measures.panel.fused.text() == line  # the measures tab keeps the fused line
    from sand_gui.report import report_dict

    shown = report_dict(ws.analysis.result, fused=fused)["patient_class"]
    assert (shown["class"], shown["decided_by"], shown["network_class"]) == (fused.final_class, "fusion", v.final_class)
    # the same result without its fused verdict: the measures are not in, no class is claimed
    rp.show_result(ws.analysis.result, class_numbers=[1, 2, 3, 4, 5])
    assert rp.headline.text() == f"Network vote: class {v.final_class} — {ws.analysis.result.final_label}"
    assert "Not the patient's class yet" in rp.fused.text() and rp.fused.isVisible()
    from sand_gui.decision import patient_class

    rp.show_decision(patient_class(ws.analysis.result), measuring="2 of 8 tasks")  # as the measures progress
    assert rp.fused.text().endswith("which are being taken (2 of 8 tasks measured).")
    assert rp.headline.text().startswith("Network vote: class")
    rp.show_decision(ws.decision())  # and back, as the measures controller does when they come in
    assert rp.headline.text() == f"Class {fused.final_class} — {label}"
    assert not messages, messages
