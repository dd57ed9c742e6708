"""The workbench's batch run with a fused bundle: ConvNeXt, the Praat measures classifier and their
fusion side by side in the predictions table and the summary, equal to ``run_batch``'s own
``metrics["fusion"]``; the box is offered only when the bundle carries a measures model.

Real parts: a synthetic corpus written as WAV files, the tiny random ConvNeXt with a tiny real
XGBoost measures model (tests/fusedtest.py), and Praat measuring each patient in its own process.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """A 3-patient synthetic corpus in the SAND layout (Praat takes a few seconds per patient)."""
    from training.synth.corpus import generate_corpus

    out = tmp_path_factory.mktemp("fusedbench") / "corpus"
    generate_corpus(out, patients=3, seed=5)
    return out


@pytest.fixture(scope="module")
def fused_bundle(tmp_path_factory) -> Path:
    pytest.importorskip("xgboost", reason="install xgboost for the measures classifier")
    from fusedtest import make_fused_bundle

    return make_fused_bundle(tmp_path_factory.mktemp("fused") / "fused.safetensors", w=0.6)


@pytest.fixture
def workbench(qtbot, tmp_path):
    """workbench(corpus, bundle) -> a shown WorkbenchWindow with the corpus opened and the model loaded."""
    from sand_gui.ui.workbench.window import WorkbenchWindow

    def make(path: Path, bundle: Path):
        w = WorkbenchWindow(bundle=bundle, device="cpu", cache_dir=tmp_path / "cache")
        qtbot.addWidget(w)
        w.show()
        with qtbot.waitSignal(w.opened, timeout=60000):
            w.open_dataset(path)
        qtbot.waitUntil(lambda: w.classifier is not None, timeout=120000)
        return w

    return make


def cells(model, row: int) -> list[str]:
    return [model.data(model.index(row, c)) for c in range(model.columnCount())]


def test_ticked_box_shows_convnext_measures_and_fusion_side_by_side(qtbot, workbench, corpus, fused_bundle):
    pytest.importorskip("parselmouth", reason="install the measures extra (praat-parselmouth)")
    from sand_gui.batch import part_class
    from sand_gui.ui.workbench.fused_columns import CHECKBOX_TEXT, side_by_side_text
    from sand_gui.ui.workbench.predictions import HEAD, score

    w = workbench(corpus, fused_bundle)
    box = w.batch.with_measures
    assert not box.isHidden() and box.text() == CHECKBOX_TEXT and w.batch.fusion is not None
    box.setChecked(True)
    notes = []
    w.batch.progressed.connect(lambda *_: notes.append(w.batch.note.text()))
    with qtbot.waitSignal(w.batch.done, timeout=300000) as done:
        assert w.batch.run()
    result = done.args[0]
    assert result is not None and w.batch.result is result
    assert any(n.startswith("Praat measures: ") for n in notes), notes  # the patients were measured first
    side = result.metrics["fusion"]
    assert side["measures"]["n"] >= 1  # Praat measured at least one patient the classifier could use
    summary = w.batch.summary.text()
    assert side_by_side_text(side, score) in summary
    for key, name in (("network", "ConvNeXt"), ("measures", "measures"), ("fusion", "fusion")):
        assert f"{name} macro-F1 {score(side[key]['macro_f1'])}, accuracy {score(side[key]['accuracy'])}" in summary
    assert side["network"]["macro_f1"] == result.metrics["patient_level"]["macro_f1"]
    table = w.batch.predictions
    heads = [table.headerData(c, Qt.Orientation.Horizontal) for c in range(len(HEAD) + 2)]
    assert heads == [*HEAD, "Measures", "Fusion"]
    assert table.rowCount() == len(result.patients)
    for row, pid in enumerate(table.ids):
        fused = result.patients[pid].fused
        alone = part_class(result.patients[pid], "measures")
        got = cells(table, row)
        assert got[len(HEAD)] == ("—" if alone is None else str(alone))
        assert got[len(HEAD) + 1] == f"{fused.final_class} ({fused.used})" and fused.used in ("fusion", "network")
    assert table.task_of(len(HEAD) + 2) is not None  # the task columns moved right, still found

    # the measures box has its own row: beside the buttons it made the window wider than a 1366 px screen
    assert w.minimumSizeHint().width() <= 1366, w.minimumSizeHint()
    # the scores and the confusion matrix open on the class the app shows; the other parts one pick away
    panel, classes = w.batch, result.metrics["classes"]
    assert not panel.scored.isHidden() and panel.scored.currentData() == "fusion"
    for part, matrix, words in (
        ("fusion", side["fusion"]["confusion_matrix"], "the class the app shows: "),
        ("network", result.metrics["patient_level"]["confusion_matrix"], "ConvNeXt's majority vote"),
        ("measures", side["measures"]["confusion_matrix"], "the measures classifier alone"),
    ):
        panel.scored.setCurrentIndex(panel.scored.findData(part))
        assert words in panel.summary.text()
        shown = [[panel.confusion.count(t, p) for p in classes] for t in classes]
        assert shown == matrix, part
        for i, t in enumerate(classes):
            for j, p in enumerate(classes):
                if matrix[i][j]:
                    listed = panel.confusion.open_cell(i, j)
                    assert len(listed) == matrix[i][j]
                    assert all(part_class(result.patients[pid], part) == p for pid in listed)
                    assert all(result.patients[pid].true == t for pid in listed)
        f1 = side[part]["per_class"][str(classes[0])]["f1"]
        assert panel.per_class.item(0, 4).text() == score(f1)  # the patient-level F1 column follows the pick


def test_box_unticked_or_plain_bundle_leaves_the_table_as_it_was(qtbot, workbench, corpus, fused_bundle, tiny_bundle):
    from sand_gui.ui.workbench.predictions import HEAD

    plain = workbench(corpus, tiny_bundle)
    assert plain.batch.with_measures.isHidden() and plain.batch.fusion is None
    w = workbench(corpus, fused_bundle)
    assert not w.batch.with_measures.isChecked()
    with qtbot.waitSignal(w.batch.done, timeout=300000) as done:
        assert w.batch.run()
    result = done.args[0]
    assert "fusion" not in result.metrics and all(p.fused is None for p in result.patients.values())
    assert w.batch.predictions.head == HEAD and "Side by side" not in w.batch.summary.text()
    assert w.batch.scored.isHidden()  # only ConvNeXt's vote to score, and the summary says so:
    assert "these scores are ConvNeXt's vote, not the class the app shows" in w.batch.summary.text()
    assert "these scores" not in plain.batch.summary.text()  # nothing to warn about: no plain run made


def test_cancel_while_measuring_writes_nothing(qtbot, workbench, corpus, fused_bundle):
    pytest.importorskip("parselmouth", reason="install the measures extra (praat-parselmouth)")
    w = workbench(corpus, fused_bundle)
    w.batch.with_measures.setChecked(True)
    w.batch.progressed.connect(lambda *_: w.batch.cancel())  # at the first patient's measures
    with qtbot.waitSignal(w.batch.done, timeout=300000) as done:
        assert w.batch.run()
    assert done.args[0] is None and w.batch.result is None
    qtbot.waitUntil(lambda: not w.batch.running, timeout=60000)
    assert "cancelled" in w.batch.note.text() and w.batch.run_button.isEnabled()


def test_without_praat_the_box_is_hidden(qtbot, workbench, corpus, fused_bundle, monkeypatch):
    monkeypatch.setitem(sys.modules, "parselmouth", None)  # as if praat-parselmouth were not installed
    w = workbench(corpus, fused_bundle)
    assert w.batch.with_measures.isHidden() and w.batch.fusion is None and not w.batch.with_measures.isChecked()


@pytest.mark.parametrize(
    ("side", "words"),
    [
        (
            {"decision": "measures", "rule": "the measures classifier alone (fixed: why)"},
            "the measures classifier's class",
        ),
        ({"decision": "network", "rule": "the network's vote (validation preferred it)"}, "ConvNeXt's vote"),
        (
            {"decision": "fusion", "rule": "fusion of the network (w=0.60) and the measures (w=0.40) (fixed: why)"},
            "fusion of the network (w=0.60) and the measures (w=0.40)",
        ),
        (
            {"decision": "fusion", "rule": "fusion of the network (w=0.60) and the measures (w=0.40)"},
            "fusion of the network (w=0.60) and the measures (w=0.40)",
        ),
    ],
)
def test_the_scored_title_names_the_rule_without_its_reason(side, words):
    from sand_gui.ui.workbench.fused_columns import scored_title

    metrics = {"patient_level": {}, "fusion": {**side, "measures": {"n": 4}, "fusion": {}}}
    assert scored_title(metrics, "fusion") == f"the class the app shows: {words}"
    assert scored_title(metrics, "fusion", short=True) == "the class the app shows"
    assert scored_title(metrics, "measures") == "the measures classifier alone, the 4 patients with measures"
    assert (
        scored_title(metrics, "network") == scored_title({"patient_level": {}}, "fusion") == "ConvNeXt's majority vote"
    )
