"""Leave-one-mechanism-out: does a model score patients made by mechanisms it never heard?

A model trained on synthetic speech can learn the synthesiser instead of the dysarthria. The
honest check is to hold out whole *mechanisms*: generate the training corpus with some
families of each ingredient of ``training.synth`` (glottal source, vocal tract, /pa/-/ta/-/ka/
articulation, recording channel) and score the model on patients made only with families it
never saw, next to patients made with the families it was trained on (in distribution).

The default split (``SEEN`` / ``HELD_OUT``) follows the generator's history: the families of
the first generator (Rosenberg source, cascade formants, articulation ``a``, the smartphone
channel) are seen; the Liljencrants-Fant source, parallel formants, articulation ``b`` and the
VoIP (Opus) and bad-phone channels are held out. The other new channels (telephone codecs,
rooms, noise: ``NEW_CHANNELS``) are neither: a recipe may train with them (``seen_channels``,
and its ``aug_channels``) or without, and is still scored on channels it never heard. So the
bundled model, trained on the first generator, is scored out of distribution without training.

``run`` generates the corpora (``training.synth.generate_corpus``), optionally trains
(``training.loop.fit`` on the seen families), and scores with ``training.evaluate.evaluate``
(the application's classifier and vote); ``format_table`` gives patient macro-F1, mean
absolute class error, quadratic weighted kappa and per-class recall side by side.
``benchmarks/bench_lomo.py`` is its command line.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from sand_gui.classes import CLASS_NUMBERS
from sand_gui.errors import UsageError, one_line

SEEN = {"sources": ("rosenberg",), "tracts": ("cascade",), "articulations": ("a",), "channels": ("smartphone",)}
HELD_OUT = {"sources": ("lf",), "tracts": ("parallel",), "articulations": ("b",), "channels": ("voip", "badphone")}
NEW_CHANNELS = ("telephone", "room", "noisy")  # trained with or without; never in a held-out test


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


def with_channels(extra: tuple[str, ...] = NEW_CHANNELS) -> Split:
    """The default split with ``extra`` channel families added to the seen ones."""
    return Split(seen=dict(SEEN, channels=tuple(dict.fromkeys(SEEN["channels"] + tuple(extra)))))


def tag(chosen: dict) -> str:
    """Short name of a family choice, for folder names ("c-smartphone+telephone")."""
    return (
        "c-" + "+".join(chosen["channels"])
        if {k: v for k, v in chosen.items() if k != "channels"} == {k: v for k, v in SEEN.items() if k != "channels"}
        else hashlib.sha256(json.dumps(chosen, sort_keys=True).encode()).hexdigest()[:10]
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


def _row(pat: dict, *, recording_macro_f1=None, vote: str = "majority", skipped: int = 0) -> dict:
    """The figures the table shows of one patient-level report (``training.metrics``)."""
    return {
        "patients": pat["n"],
        "patient_macro_f1": pat["macro_f1"],
        "patient_accuracy": pat["accuracy"],
        "mean_absolute_error": pat.get("mean_absolute_error"),
        "quadratic_weighted_kappa": pat.get("quadratic_weighted_kappa"),
        "recording_macro_f1": recording_macro_f1,
        "recall": {c: pat["per_class"][str(c)]["recall"] for c in CLASS_NUMBERS},
        "support": {c: pat["per_class"][str(c)]["support"] for c in CLASS_NUMBERS},
        "confusion_matrix": pat["confusion_matrix"],
        "vote": vote,
        "skipped": skipped,
    }


def summarise(result: dict) -> dict:
    """The figures of one evaluation that the table shows (patient level, plus recording
    macro-F1); a fused bundle's evaluation adds ``parts``: the Praat measures classifier alone
    and the fusion, on the same patients."""
    row = _row(
        result["patient_level"],
        recording_macro_f1=result["recording_level"]["macro_f1"],
        vote=result.get("vote", "majority"),
        skipped=len(result.get("skipped", [])),
    )
    if result.get("fusion"):
        row["parts"] = {
            "Praat measures alone": _row(result["fusion"]["measures"]),
            "fusion": _row(result["fusion"]["fusion"]),
        }
    return row


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


ROW_KEYS = {
    "in distribution (seen families)": "in_distribution",
    "out of distribution (held-out families)": "out_of_distribution",
}


def _entry_key(name: str) -> str:
    """A row's key in the card: "out of distribution (held-out families), fusion" -> "out_of_distribution_fusion"."""
    base, _, part = name.partition(", ")
    key = ROW_KEYS.get(base, base)
    return f"{key}_{'_'.join(part.lower().split())}" if part else key


def card_entry(res: dict, *, recipe: str) -> dict:
    """What a model card keeps of a ``run`` result (``metrics.lomo``): the protocol, the split,
    the corpus sizes, and each row as an evaluation level (n, macro-F1, accuracy, MAE, QWK,
    per-class recall and support, confusion matrix) that the card dialog shows as a table;
    ``recipe`` says which training produced the figures."""
    entry = {
        "protocol": "leave-one-mechanism-out (training.lomo)",
        "recipe": recipe,
        "split": {side: {k: list(v) for k, v in fams.items()} for side, fams in res["split"].items()},
        "train_patients": res.get("train_patients"),
        "train_priors": res.get("train_priors"),
        "test_patients": res["test_patients"],
        "priors": res["priors"],
    }
    for name, row in res["rows"].items():
        entry[_entry_key(name)] = {
            "n": row["patients"],
            "macro_f1": row["patient_macro_f1"],
            "accuracy": row["patient_accuracy"],
            "mean_absolute_error": row["mean_absolute_error"],
            "quadratic_weighted_kappa": row["quadratic_weighted_kappa"],
            "per_class": {str(c): {"recall": row["recall"][c], "support": row["support"][c]} for c in row["recall"]},
            "confusion_matrix": row["confusion_matrix"],
        }
    return entry


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
    train_priors: str = "uniform",
    seed: int = 11,
    device: str = "auto",
    workers: int = 1,
    progress: bool = False,
) -> dict:
    """Score a model in and out of distribution; with ``config``, train it first on the seen
    families (``model`` None and no ``config``: the bundled model).

    Corpora: training (``train_patients``, seed ``seed``, class ``train_priors``, only when training), in-distribution
    test (seen families, seed ``seed + 1``, IDs from 5000) and out-of-distribution test
    (held-out families, seed ``seed + 2``, IDs from 6000), all with class ``priors``.
    Returns {"model", "split", "rows": {name: summarise}, "table": markdown}.
    """
    split = split or Split()
    split.check()
    work = Path(work)
    cache = work / "cache"
    seen_tag = tag(split.seen)
    if config is not None:
        from .loop import fit_from_files

        train = make_corpus(
            work / f"train-{seen_tag}",
            split.seen,
            patients=train_patients,
            seed=seed,
            id_offset=0,
            priors=train_priors,
            workers=workers,
        )
        recipe = json.dumps(
            [Path(config).read_text(encoding="utf-8"), list(overrides), seen_tag, train_patients, train_priors]
        )
        run_dir = work / f"run-{Path(config).stem}-{hashlib.sha256(recipe.encode()).hexdigest()[:8]}"
        runs = [f"data={train}", f"cache={cache}", "train_sheet=train", "val_sheet=val", f"run_dir={run_dir}"]
        done = run_dir / "model.safetensors"
        if done.is_file():  # the same recipe on the same corpus already trained: score it again
            model = done
        else:
            resume = str(run_dir) if (run_dir / "config.yaml").is_file() else None
            extra = [] if resume else runs + list(overrides)
            result = fit_from_files(str(config), extra, resume=resume, dry_run=False, progress=progress)
            if result.bundle is None:
                raise UsageError(f"{one_line(run_dir)}: the training run did not finish; no model to score.")
            model = result.bundle
    seen = make_corpus(
        work / f"test-seen-{seen_tag}",
        split.seen,
        patients=test_patients,
        seed=seed + 1,
        id_offset=5000,
        priors=priors,
        workers=workers,
    )
    held = make_corpus(
        work / f"test-held-out-{tag(split.held_out)}",
        split.held_out,
        patients=test_patients,
        seed=seed + 2,
        id_offset=6000,
        priors=priors,
        workers=workers,
    )
    rows = {}
    for name, data in (("in distribution (seen families)", seen), ("out of distribution (held-out families)", held)):
        rows[name] = score(model, data, cache=cache, device=device)
        for part, row in rows[name].pop("parts", {}).items():  # a fused bundle: its measures and fusion too
            rows[f"{name}, {part}"] = row
    return {
        "model": str(model) if model else "bundled",
        "train_patients": train_patients if config is not None else None,
        "split": {"seen": split.seen, "held_out": split.held_out},
        "test_patients": test_patients,
        "priors": priors,
        "train_priors": train_priors if config is not None else None,
        "rows": rows,
        "table": format_table(rows),
    }
