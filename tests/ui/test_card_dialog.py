"""The model card dialog: metrics as tables (never raw JSON), the synthetic warning on top."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel, QTableWidget
from sandtest import TEST_SPEC

from sand_gui.bundle import ModelCard
from sand_gui.card_view import SYNTHETIC_TEXT, card_html, flat_items, metric_evaluations
from sand_gui.ui.card_dialog import CardDialog

LEVEL = {
    "accuracy": 0.8966666666666666,
    "macro_f1": 0.9010672506959931,
    "n": 300,
    "per_class": {
        str(c): {
            "precision": 0.9,
            "recall": 0.8 + c / 100,
            "f1": 0.85,
            "support": 10 * c,
        }
        for c in range(1, 6)
    },
    "confusion_matrix": [[5 if i == j else i + j for j in range(5)] for i in range(5)],
}
METRICS = {
    "best_epoch": 35,
    "heldout": {
        "data": "synth-heldout",
        "sheet": "SAND - TRAINING set - Task 1",
        "patient_level": LEVEL,
        "recording_level": {**LEVEL, "accuracy": 0.82875, "n": 2400},
    },
    "validation": {
        "data": "synth-train",
        "patient_level": {**LEVEL, "accuracy": 0.9, "n": 60},
    },
}


def card(**kw) -> ModelCard:
    base = {
        "name": "demo-model",
        "architecture": "convnext_atto",
        "spec": TEST_SPEC,
        "metrics": METRICS,
        "training_data": {
            "description": "synthetic corpus",
            "synthetic": True,
            "recipe": {"lr": 0.001, "epochs": 40},
        },
        "notes": "A demonstration.",
    }
    return ModelCard(**{**base, **kw})


def cells(t: QTableWidget) -> list[list[str]]:
    return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


def test_metrics_are_tables_with_the_warning_on_top(qtbot):
    d = CardDialog(card())
    qtbot.addWidget(d)
    d.show()
    assert d.warning.isVisible() and d.warning.text() == SYNTHETIC_TEXT
    assert d.layout().indexOf(d.warning) < d.layout().indexOf(d.tabs)  # above the tabs: never scrolled away
    assert d.tabs.tabText(d.tabs.currentIndex()) == "Performance"
    assert cells(d.summary) == [
        [
            "Held-out test, per patient (vote of the 8 tasks)",
            "synth-heldout",
            "300",
            "89.7 %",
            "0.90",
        ],
        ["Held-out test, per recording", "synth-heldout", "2400", "82.9 %", "0.90"],
        [
            "Validation, per patient (vote of the 8 tasks)",
            "synth-train",
            "60",
            "90.0 %",
            "0.90",
        ],
    ]
    rows = cells(d.per_class)
    assert [r[0] for r in rows] == [f"{c} — {card().label(c)}" for c in range(1, 6)]
    assert rows[0][1:] == ["90.0 %", "81.0 %", "0.85", "10"]
    assert cells(d.confusion)[2] == ["2", "3", "5", "5", "6"] and d.confusion.columnCount() == 5
    assert d.confusion.verticalHeaderItem(0).text() == "true 1"
    other = cells(d.other)
    assert ["best_epoch", "35"] in other and [
        "heldout.sheet",
        "SAND - TRAINING set - Task 1",
    ] in other
    for t in d.findChildren(QTableWidget):  # nowhere a JSON object
        assert not any(text.startswith(("{", "[")) for row in cells(t) for text in row)


def test_picking_another_evaluation_shows_its_details(qtbot):
    d = CardDialog(card())
    qtbot.addWidget(d)
    d.choice.setCurrentIndex(2)
    assert d.choice.currentText().startswith("Validation")
    assert cells(d.per_class)[4] == [
        "5 — " + card().label(5),
        "90.0 %",
        "85.0 %",
        "0.85",
        "50",
    ]
    assert len(d.findChildren(QTableWidget)) == len(set(d.findChildren(QTableWidget)))  # old tables replaced


def test_patient_data_card_without_metrics(qtbot):
    d = CardDialog(
        card(
            metrics={},
            training_data={"description": "SAND training set", "synthetic": False},
            notes="",
        )
    )
    qtbot.addWidget(d)
    d.show()
    assert not d.warning.isVisible() and d.summary is None
    assert any(lab.text() == "No metrics recorded in this card." for lab in d.findChildren(QLabel))
    assert [d.tabs.tabText(i) for i in range(d.tabs.count())] == [
        "Performance",
        "Model",
        "Training data",
        "Preprocessing",
    ]


def test_the_shipped_model_card_reads_as_tables(qtbot):
    from sand_gui.bundle import read_card
    from sand_gui.ui.model_controller import default_bundle_path

    path = default_bundle_path()
    if path is None:
        pytest.skip("no bundled model")
    c = read_card(path)
    d = CardDialog(c)
    qtbot.addWidget(d)
    assert d.summary is not None and d.summary.rowCount() >= 1
    assert all(row[3].endswith("%") for row in cells(d.summary))
    assert d.warning.isVisibleTo(d) == c.synthetic


def test_rows_from_the_card_json():
    evals = metric_evaluations(METRICS)
    assert [e.key for e in evals] == [
        "heldout/patient_level",
        "heldout/recording_level",
        "validation/patient_level",
    ]
    assert evals[0].confusion == LEVEL["confusion_matrix"] and evals[0].per_class["3"]["support"] == 30
    flat = metric_evaluations({"test": {"accuracy": 0.5, "n": 4}})  # scores without levels
    assert [(e.title, e.accuracy, e.n, e.confusion) for e in flat] == [("Test", 0.5, 4, None)]
    assert flat_items({"test": {"accuracy": 0.5, "n": 4, "seed": 3}}, skip_evaluations=True) == [("test.seed", "3")]
    assert flat_items({"a": {"b": [1, 2], "c": None, "d": True, "e": 0.123456}, "f": {}}) == [
        ("a.b", "1, 2"),
        ("a.c", "—"),
        ("a.d", "yes"),
        ("a.e", "0.1235"),
        ("f", "—"),
    ]
    assert flat_items(METRICS, skip_evaluations=True) == [
        ("best_epoch", "35"),
        ("heldout.sheet", "SAND - TRAINING set - Task 1"),
    ]
    text = card_html(card())
    assert SYNTHETIC_TEXT in text and "89.7 %" in text and "{&quot;" not in text


def test_a_leave_one_mechanism_out_entry_shows_as_two_evaluations_with_its_split_below():
    """``metrics.lomo`` (``training.lomo.card_entry``) is read as two evaluations of the same
    recipe — on the families it trained on, and on families it never heard — with per-class
    recall; the split and the recipe stay readable as plain rows."""
    from training.lomo import HELD_OUT, SEEN, card_entry, summarise

    def result(pred):
        from sand_gui.metrics import ordinal_report, report

        y = [1, 2, 3, 4, 5]
        return {
            "patient_level": report(y, pred, list(range(1, 6))) | ordinal_report(y, pred, list(range(1, 6))),
            "recording_level": report(y, pred, list(range(1, 6))),
        }

    res = {
        "split": {"seen": SEEN, "held_out": HELD_OUT},
        "test_patients": 5,
        "priors": "uniform",
        "rows": {
            "in distribution (seen families)": summarise(result([1, 2, 3, 4, 5])),
            "out of distribution (held-out families)": summarise(result([5, 5, 5, 4, 5])),
        },
    }
    evals = metric_evaluations({"lomo": card_entry(res, recipe="robust.yaml")})
    assert [e.title for e in evals] == [
        "Same recipe trained on some synthesis families, families it trained on",
        "Same recipe trained on some synthesis families, only families it never heard",
    ]
    out = evals[1]
    assert out.n == 5 and out.macro_f1 < 0.3 and out.per_class["1"]["recall"] == 0.0 and out.confusion[0][4] == 1
    rows = dict(flat_items({"lomo": card_entry(res, recipe="robust.yaml")}, skip_evaluations=True))
    assert rows["lomo.recipe"] == "robust.yaml" and rows["lomo.split.held_out.tracts"] == "parallel"


def test_the_parts_of_a_fused_evaluation_are_named_after_their_level():
    from sand_gui.card_view import level_title

    assert level_title("out_of_distribution") == "only families it never heard"
    assert level_title("out_of_distribution_praat_measures_alone") == (
        "only families it never heard — Praat measures classifier alone"
    )
    assert level_title("in_distribution_fusion").startswith("families it trained on — fusion")
    assert level_title("in_distribution_something_new") == "families it trained on — something new"
    assert level_title("odd_level") == "odd level"


def test_a_fused_sets_parts_are_evaluations_and_the_deciding_one_comes_first(qtbot):
    """``training.evaluate --write-card`` keeps each part of a fused bundle (the network's vote,
    the measures alone, the fusion) under the set's ``fusion``: each is an evaluation with its
    tables, and the part that decides the class shown leads its set, marked."""
    from sand_gui.card_view import SHOWN

    part = dict(LEVEL, macro_f1=0.66)
    metrics = {
        "heldout": {
            "data": "synth-heldout",
            "patient_level": LEVEL,
            "fusion": {"network": LEVEL, "measures": part, "fusion": part, "decision": "measures"},
        }
    }
    evals = metric_evaluations(metrics, decides="measures")
    assert [e.key for e in evals] == [  # the network's part is the set's patient level: not twice
        "heldout/fusion/measures",
        "heldout/fusion/fusion",
        "heldout/patient_level",
    ]
    assert evals[0].title == "Held-out test, per patient — Praat measures classifier alone" + SHOWN
    assert evals[0].macro_f1 == 0.66 and evals[0].confusion == LEVEL["confusion_matrix"]
    assert evals[1].title == "Held-out test, per patient — fusion of network and measures (the bundle's rule)"
    assert SHOWN not in evals[1].title + evals[2].title
    alone = metric_evaluations({"heldout": {"fusion": metrics["heldout"]["fusion"]}}, decides="network")
    assert alone[0].title == "Held-out test, per patient — the network's vote" + SHOWN
    assert [e.key for e in metric_evaluations(metrics)][-1] == "heldout/patient_level"  # no decider: none marked
    assert not any(SHOWN in e.title for e in metric_evaluations(metrics))
    rows = dict(flat_items(metrics, skip_evaluations=True))
    assert rows == {"heldout.fusion.decision": "measures"}  # the parts are not repeated as plain rows
