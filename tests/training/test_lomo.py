"""Leave-one-mechanism-out (``training.lomo``): the split is honest, the corpora hold only the
families asked for, the table carries macro-F1 / MAE / QWK / recall; and the maintainer's two
commands on the SAND release as it unpacks (seed recipe, ordinal recipe) pass their dry run."""

from __future__ import annotations

import json
import shutil

import pytest

from sand_gui.bundle import load_bundle, read_card
from sand_gui.classes import CLASS_NUMBERS
from sand_gui.errors import UsageError
from training.cli import main
from training.config import CONFIG_DIR
from training.evaluate import store_card_metric
from training.lomo import (
    HELD_OUT,
    NEW_CHANNELS,
    SEEN,
    Split,
    card_entry,
    evaluation_corpora,
    format_table,
    make_corpus,
    pool,
    run,
    summarise,
    tag,
    with_channels,
)
from training.synth.families import KINDS


def test_the_default_split_holds_out_every_new_family_and_shares_none():
    for kind, allowed in KINDS.items():
        extra = set(NEW_CHANNELS) if kind == "channels" else set()
        assert set(SEEN[kind]) | set(HELD_OUT[kind]) | extra == set(allowed)
        assert not set(SEEN[kind]) & set(HELD_OUT[kind]) and not extra & set(HELD_OUT[kind])
    Split().check()
    with_channels().check()  # training with the new channels still never hears a held-out one
    assert with_channels().seen["channels"] == ("smartphone", *NEW_CHANNELS)
    assert tag(SEEN) == "c-smartphone" and tag(with_channels().seen) == "c-smartphone+telephone+room+noisy"
    assert tag(HELD_OUT) not in (tag(SEEN), tag(with_channels().seen))


def test_a_family_both_seen_and_held_out_is_refused():
    split = Split(held_out=dict(HELD_OUT, sources=("lf", "rosenberg")))
    with pytest.raises(UsageError) as info:
        split.check()
    assert "sources: rosenberg is both seen and held out" in str(info.value) and "\n" not in str(info.value)


def test_a_held_out_corpus_is_made_only_of_held_out_families(tmp_path):
    out = make_corpus(tmp_path / "held", HELD_OUT, patients=5, seed=3, id_offset=700, priors="uniform", workers=1)
    meta = json.loads((out / "synthetic.json").read_text(encoding="utf-8"))
    assert len(meta["patients"]) == 5 and all(p["id"].startswith("ID70") for p in meta["patients"])
    for p in meta["patients"]:
        fam = p["families"]
        assert fam["source"] in HELD_OUT["sources"] and fam["tract"] in HELD_OUT["tracts"]
        assert fam["articulation"] in HELD_OUT["articulations"] and fam["channel"] in HELD_OUT["channels"]
    stamp = (tmp_path / "held.lomo.json").stat().st_mtime_ns
    make_corpus(tmp_path / "held", HELD_OUT, patients=5, seed=3, id_offset=700, priors="uniform", workers=1)
    assert (tmp_path / "held.lomo.json").stat().st_mtime_ns == stamp  # same settings: reused, not remade


@pytest.mark.slow
def test_run_scores_a_model_in_and_out_of_distribution(tmp_path, tiny_bundle):
    res = run(tmp_path / "lomo", model=tiny_bundle, test_patients=5, priors="uniform", seed=4, device="cpu")
    rows = res["rows"]
    assert list(rows) == ["in distribution (seen families)", "out of distribution (held-out families)"]
    for r in rows.values():
        assert r["patients"] == 5 and 0 <= r["patient_macro_f1"] <= 1 and 0 <= r["mean_absolute_error"] <= 4
        assert set(r["recall"]) == set(CLASS_NUMBERS) and sum(r["support"].values()) == 5
    lines = res["table"].splitlines()
    assert "| macro-F1 | MAE | QWK |" in lines[0] and "recall 1" in lines[0] and len(lines) == 4
    json.dumps(res, allow_nan=False)
    # the table goes into a card (metrics.lomo), the file stays sealed and loadable, the weights unchanged
    copy = tmp_path / "model.safetensors"
    shutil.copy(tiny_bundle, copy)
    store_card_metric(load_bundle(copy), "lomo", card_entry(res, recipe="tiny"))
    card = read_card(copy)
    assert card.weights_sha256 == read_card(tiny_bundle).weights_sha256
    stored = card.metrics["lomo"]
    assert stored["recipe"] == "tiny" and stored["split"]["held_out"]["channels"] == list(HELD_OUT["channels"])
    out = stored["out_of_distribution"]
    assert out["macro_f1"] == rows["out of distribution (held-out families)"]["patient_macro_f1"] and out["n"] == 5
    assert sum(c["support"] for c in out["per_class"].values()) == 5
    load_bundle(copy)  # the seal covers the new card


def test_format_table_says_n_a_for_an_undefined_score():
    row = {
        "patients": 2,
        "patient_macro_f1": 0.5,
        "mean_absolute_error": 1.0,
        "quadratic_weighted_kappa": None,
        "recall": {c: (1.0 if c == 3 else None) for c in CLASS_NUMBERS},
        "support": {c: (2 if c == 3 else 0) for c in CLASS_NUMBERS},
    }
    line = format_table({"x": row}).splitlines()[2]
    assert line.startswith("| x | 2 | 0.500 | 1.000 | n/a | n/a | n/a | 1.000 (2) |")


def _scored(y, pred, rec_y, rec_pred):
    from sand_gui.metrics import ordinal_report

    classes = list(CLASS_NUMBERS)
    return summarise(
        {"patient_level": ordinal_report(y, pred, classes), "recording_level": ordinal_report(rec_y, rec_pred, classes)}
    )


def test_several_test_sets_pool_their_patients_and_keep_each_sets_figure():
    """A pooled row scores every patient of every set as one set (not the mean of the sets'
    scores), and keeps each set's macro-F1 beside it, in the table and in the card."""
    from sand_gui.metrics import ordinal_report

    classes = list(CLASS_NUMBERS)
    y1, p1 = [1, 2, 3, 4, 5], [1, 2, 3, 4, 5]
    y2, p2 = [1, 1, 2, 5, 5, 3], [5, 1, 3, 5, 4, 3]
    a = _scored(y1, p1, y1 * 8, p1 * 8)
    b = _scored(y2, p2, y2 * 8, [1] * 48)
    row = pool([a, b])
    whole = ordinal_report(y1 + y2, p1 + p2, classes)
    assert row["patients"] == 11 and row["sets"] == [a["patient_macro_f1"], b["patient_macro_f1"]]
    assert row["patient_macro_f1"] == pytest.approx(whole["macro_f1"])
    assert row["patient_macro_f1"] != pytest.approx((a["patient_macro_f1"] + b["patient_macro_f1"]) / 2)
    assert row["mean_absolute_error"] == pytest.approx(whole["mean_absolute_error"])
    assert row["quadratic_weighted_kappa"] == pytest.approx(whole["quadratic_weighted_kappa"])
    assert row["recall"][1] == pytest.approx(2 / 3) and row["support"][1] == 3
    rec = ordinal_report(y1 * 8 + y2 * 8, p1 * 8 + [1] * 48, classes)
    assert row["recording_macro_f1"] == pytest.approx(rec["macro_f1"])
    assert pool([a]) is a  # one set: its own row, no per-set column
    table = format_table({"one": a, "both": row}).splitlines()
    assert table[0].endswith("| macro-F1 per test set |") and len(table[1].split("|")) == len(table[0].split("|"))
    assert table[-1].endswith(f"| {a['patient_macro_f1']:.3f} / {b['patient_macro_f1']:.3f} |")
    assert "per test set" not in format_table({"one": a})
    res = {
        "split": {},
        "test_patients": 5,
        "test_sets": 2,
        "priors": "uniform",
        "rows": {"in distribution (seen families)": row},
    }
    entry = card_entry(res, recipe="x")
    assert entry["test_sets"] == 2 and entry["in_distribution"]["macro_f1_per_set"] == row["sets"]
    assert entry["in_distribution"]["n"] == 11
    json.dumps(entry, allow_nan=False)


def test_each_test_set_has_seeds_of_its_own_and_the_first_keeps_its_folders(tmp_path):
    sets = evaluation_corpora(tmp_path, Split(), sets=2, patients=2, seed=4, priors="uniform", workers=1)
    (in1, in2), (out1, out2) = sets.values()
    assert in1.name == f"test-seen-{tag(SEEN)}" and out1.name == f"test-held-out-{tag(HELD_OUT)}"
    assert in2.name == f"{in1.name}-set2" and out2.name == f"{out1.name}-set2"
    seeds = [json.loads((d / "synthetic.json").read_text(encoding="utf-8"))["seed"] for d in (in1, out1, in2, out2)]
    assert seeds == [5, 6, 105, 106]
    with pytest.raises(UsageError, match="at least one test set"):
        evaluation_corpora(tmp_path, Split(), sets=0, patients=2, seed=4, priors="uniform", workers=1)


# --- item 7: the maintainer's commands on the SAND release as it unpacks --------------------


@pytest.mark.slow
@pytest.mark.parametrize("config", ["convnext_base.yaml", "ordinal.yaml"])
def test_the_release_commands_pass_their_dry_run(config, corpus, cache_dir, tmp_path, capsys):
    release = tmp_path / "SAND"
    shutil.copytree(corpus, release / "task1")  # as the training archive unpacks
    args = ["fit", "--config", str(CONFIG_DIR / config), "--set", f"data={release}", f"cache={cache_dir}"]
    args += ["init_weights=null", "device=cpu", "--dry-run"]  # here only: no ImageNet weights offline, the CPU
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "10 train patients (80 recordings" in err and "5 validation patients (40 recordings)" in err
    assert "convnext_base on CPU" in err and "75 epochs" in err


def test_a_fused_model_gets_rows_for_its_measures_and_its_fusion_and_the_card_keeps_them():
    """The fused bundled model is scored three ways on the same patients: network, Praat
    measures alone, fusion; each becomes a table row and a card level of its own."""
    from sand_gui.metrics import ordinal_report, report

    classes = list(CLASS_NUMBERS)
    y = [1, 2, 3, 4, 5, 5]
    net, meas, fused = [5, 5, 5, 4, 5, 5], [1, 2, 4, 4, 5, 5], [1, 2, 3, 4, 5, 5]
    level = report(y, net, classes) | ordinal_report(y, net, classes)
    result = {
        "patient_level": level,
        "recording_level": report(y, net, classes),
        "fusion": {
            "network": level,
            "measures": report(y, meas, classes) | ordinal_report(y, meas, classes),
            "fusion": report(y, fused, classes) | ordinal_report(y, fused, classes),
        },
    }
    row = summarise(result)
    assert set(row["parts"]) == {"Praat measures alone", "fusion"}
    assert row["parts"]["fusion"]["patient_macro_f1"] == 1.0 and row["patient_macro_f1"] < 0.5
    assert row["parts"]["Praat measures alone"]["recall"][3] == 0.0 and row["recall"][1] == 0.0
    rows = {"out of distribution (held-out families)": {k: v for k, v in row.items() if k != "parts"}}
    rows |= {f"out of distribution (held-out families), {p}": r for p, r in row["parts"].items()}
    table = format_table(rows).splitlines()
    assert len(table) == 5 and table[-1].startswith("| out of distribution (held-out families), fusion | 6 | 1.000 |")
    entry = card_entry({"split": {}, "test_patients": 6, "priors": "uniform", "rows": rows}, recipe="x")
    assert entry["out_of_distribution_fusion"]["macro_f1"] == 1.0
    assert entry["out_of_distribution_praat_measures_alone"]["per_class"]["3"]["recall"] == 0.0
    json.dumps(entry, allow_nan=False)


def test_the_bundled_recipe_is_the_one_the_leave_one_mechanism_out_table_scored():
    """bundled.yaml = robust.yaml with the overrides of the table's chosen row (docs/training.md):
    every key that shapes training agrees, so the figure on the card belongs to the shipped recipe.
    Only where the data come from, the name, and the held-out VoIP codec (kept out of the table's
    copies so that it stays unheard) differ."""
    from training.config import load_config

    chosen = ["epochs=40", "aug_variants=1", "oversample={}", "loss=focal", "focal_gamma=2.0", "vote=majority"]
    scored = load_config(CONFIG_DIR / "robust.yaml", chosen)
    shipped = load_config(CONFIG_DIR / "bundled.yaml")
    differ = {k for k in vars(shipped) if getattr(shipped, k) != getattr(scored, k)}
    assert differ <= {"name", "data", "cache", "data_description", "notes"}, differ
    assert shipped.spec == scored.spec and shipped.aug_channels == ["telephone", "voip", "room"]
