"""Leave-one-mechanism-out (``training.lomo``): the split is honest, the corpora hold only the
families asked for, the table carries macro-F1 / MAE / QWK / recall; and the maintainer's two
commands on the SAND release as it unpacks (seed recipe, ordinal recipe) pass their dry run."""

from __future__ import annotations

import json
import shutil

import pytest

from sand_gui.classes import CLASS_NUMBERS
from sand_gui.errors import UsageError
from training.cli import main
from training.config import CONFIG_DIR
from training.lomo import HELD_OUT, SEEN, Split, format_table, make_corpus, run
from training.synth.families import KINDS


def test_the_default_split_holds_out_every_new_family_and_shares_none():
    for kind, allowed in KINDS.items():
        assert set(SEEN[kind]) | set(HELD_OUT[kind]) == set(allowed)
        assert not set(SEEN[kind]) & set(HELD_OUT[kind])
    Split().check()


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
