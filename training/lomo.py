"""Leave-one-mechanism-out: does a model score patients made by mechanisms it never heard?

A model trained on synthetic speech can learn the synthesiser instead of the dysarthria. The
honest check is to hold out whole *mechanisms*: generate the training corpus with some
families of each ingredient of ``training.synth`` (glottal source, vocal tract, /pa/-/ta/-/ka/
articulation, recording channel) and score the model on patients made only with families it
never saw, next to patients made with the families it was trained on (in distribution).

The default split (``SEEN`` / ``HELD_OUT``) is the generator's history: the families of the
first generator (Rosenberg source, cascade formants, articulation ``a``, the smartphone
channel) against the families added since (Liljencrants-Fant source, parallel formants,
articulation ``b``, telephone / VoIP codecs, rooms, noise, bad phones). So the bundled model,
trained on the first generator, is scored out of distribution without any training here.

``run`` generates the corpora (``training.synth.generate_corpus``), optionally trains
(``training.loop.fit`` on the seen families), and scores with ``training.evaluate.evaluate``
(the application's classifier and vote); ``format_table`` gives patient macro-F1, mean
absolute class error, quadratic weighted kappa and per-class recall side by side.
``benchmarks/bench_lomo.py`` is its command line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from sand_gui.classes import CLASS_NUMBERS
from sand_gui.errors import UsageError, one_line

SEEN = {"sources": ("rosenberg",), "tracts": ("cascade",), "articulations": ("a",), "channels": ("smartphone",)}
HELD_OUT = {
    "sources": ("lf",),
    "tracts": ("parallel",),
    "articulations": ("b",),
    "channels": ("telephone", "voip", "room", "noisy", "badphone"),
}


@dataclass
class Split:
    """Which families make the training corpus and which make the out-of-distribution test."""

    seen: dict = field(default_factory=lambda: dict(SEEN))
    held_out: dict = field(default_factory=lambda: dict(HELD_OUT))

    def check(self) -> None:
        """UsageError when a kind's held-out families overlap its seen ones (no honest test)."""
        for kind in SEEN:
            shared = set(self.seen[kind]) & set(self.held_out[kind])
            if shared:
                raise UsageError(
                    f"{kind}: {one_line(', '.join(sorted(shared)))} is both seen and held out; "
                    "a held-out family must never be trained on."
                )


def families(chosen: dict):
    """``training.synth.families.Families`` of a mapping kind -> family names."""
    from .synth.families import Families

    return Families(**{k: tuple(v) for k, v in chosen.items()})


def make_corpus(out: Path, chosen: dict, *, patients: int, seed: int, id_offset: int, priors: str, workers: int):
    """A synthetic corpus of ``patients`` made only with the ``chosen`` families (reused when
    ``out`` already holds one made with the same settings)."""
    from .synth import generate_corpus

    stamp = {"patients": patients, "seed": seed, "id_offset": id_offset, "priors": priors, "families": chosen}
    mark = out.with_name(f"{out.name}.lomo.json")  # beside the corpus: the generator owns its folder
    if mark.is_file() and json.loads(mark.read_text(encoding="utf-8")) == json.loads(json.dumps(stamp)):
        return out
    generate_corpus(
        out,
        patients=patients,
        seed=seed,
        class_priors=priors,
        id_offset=id_offset,
        workers=workers,
        families=families(chosen),
    )
    tmp = mark.with_name(f".{mark.name}.part")
    tmp.write_text(json.dumps(stamp, indent=1, allow_nan=False), encoding="utf-8")
    tmp.replace(mark)
    return out


def summarise(result: dict) -> dict:
    """The figures of one evaluation that the table shows (patient level, plus recording macro-F1)."""
    pat, rec = result["patient_level"], result["recording_level"]
    return {
        "patients": pat["n"],
        "patient_macro_f1": pat["macro_f1"],
        "patient_accuracy": pat["accuracy"],
        "mean_absolute_error": pat.get("mean_absolute_error"),
        "quadratic_weighted_kappa": pat.get("quadratic_weighted_kappa"),
        "recording_macro_f1": rec["macro_f1"],
        "recall": {c: pat["per_class"][str(c)]["recall"] for c in CLASS_NUMBERS},
        "support": {c: pat["per_class"][str(c)]["support"] for c in CLASS_NUMBERS},
        "confusion_matrix": pat["confusion_matrix"],
        "vote": result.get("vote", "majority"),
        "skipped": len(result.get("skipped", [])),
    }


def score(model, data: Path, *, cache: Path | None, device: str) -> dict:
    """``summarise`` of ``training.evaluate.evaluate`` on every patient of ``data``."""
    from .evaluate import evaluate

    return summarise(evaluate(model, data, sheet="training", cache=cache, device=device))


def _num(v) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def format_table(rows: dict[str, dict]) -> str:
    """A markdown table: one row per evaluation (name -> ``summarise`` output)."""
    head = "| evaluation | patients | macro-F1 | MAE | QWK | " + " | ".join(f"recall {c}" for c in CLASS_NUMBERS) + " |"
    lines = [head, "|" + "---|" * (5 + len(CLASS_NUMBERS))]
    for name, r in rows.items():
        recalls = " | ".join(
            f"{_num(r['recall'][c])} ({r['support'][c]})" if r["recall"][c] is not None else "n/a"
            for c in CLASS_NUMBERS
        )
        lines.append(
            f"| {name} | {r['patients']} | {_num(r['patient_macro_f1'])} | {_num(r['mean_absolute_error'])} | "
            f"{_num(r['quadratic_weighted_kappa'])} | {recalls} |"
        )
    return "\n".join(lines)


def run(
    work: str | Path,
    *,
    model: str | Path | None = None,
    config: str | Path | None = None,
    overrides: list[str] = (),
    split: Split | None = None,
    train_patients: int = 300,
    test_patients: int = 100,
    priors: str = "uniform",
    seed: int = 11,
    device: str = "auto",
    workers: int = 1,
    progress: bool = False,
) -> dict:
    """Score a model in and out of distribution; with ``config``, train it first on the seen
    families (``model`` None and no ``config``: the bundled model).

    Corpora: training (``train_patients``, seed ``seed``, only when training), in-distribution
    test (seen families, seed ``seed + 1``, IDs from 5000) and out-of-distribution test
    (held-out families, seed ``seed + 2``, IDs from 6000), all with class ``priors``.
    Returns {"model", "split", "rows": {name: summarise}, "table": markdown}.
    """
    split = split or Split()
    split.check()
    work = Path(work)
    cache = work / "cache"
    if config is not None:
        from .loop import fit_from_files

        train = make_corpus(
            work / "train", split.seen, patients=train_patients, seed=seed, id_offset=0, priors="sand", workers=workers
        )
        runs = [f"data={train}", f"cache={cache}", "train_sheet=train", "val_sheet=val", f"run_dir={work / 'run'}"]
        result = fit_from_files(str(config), runs + list(overrides), resume=None, dry_run=False, progress=progress)
        if result.bundle is None:
            raise UsageError(f"{one_line(work / 'run')}: the training run did not finish; no model to score.")
        model = result.bundle
    seen = make_corpus(
        work / "test-seen",
        split.seen,
        patients=test_patients,
        seed=seed + 1,
        id_offset=5000,
        priors=priors,
        workers=workers,
    )
    held = make_corpus(
        work / "test-held-out",
        split.held_out,
        patients=test_patients,
        seed=seed + 2,
        id_offset=6000,
        priors=priors,
        workers=workers,
    )
    rows = {
        "in distribution (seen families)": score(model, seen, cache=cache, device=device),
        "out of distribution (held-out families)": score(model, held, cache=cache, device=device),
    }
    return {
        "model": str(model) if model else "bundled",
        "split": {"seen": split.seen, "held_out": split.held_out},
        "test_patients": test_patients,
        "priors": priors,
        "rows": rows,
        "table": format_table(rows),
    }
