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
    format_table,
    make_corpus,
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
