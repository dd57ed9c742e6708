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

import numpy as np

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


def _row(pat: dict, *, recording=None, vote: str = "majority", skipped: int = 0) -> dict:
    """The figures the table shows of one patient-level report (``training.metrics``);
    ``recording``: the recording-level report, when there is one."""
    return {
        "patients": pat["n"],
        "patient_macro_f1": pat["macro_f1"],
        "patient_accuracy": pat["accuracy"],
        "mean_absolute_error": pat.get("mean_absolute_error"),
        "quadratic_weighted_kappa": pat.get("quadratic_weighted_kappa"),
        "recording_macro_f1": None if recording is None else recording["macro_f1"],
        "recording_confusion_matrix": None if recording is None else recording["confusion_matrix"],
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
        recording=result["recording_level"],
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


def _cases(cm) -> tuple[list[int], list[int]]:
    """The (true, predicted) class lists that a confusion matrix (rows: true class) counts."""
    y_true, y_pred = [], []
    for i, t in enumerate(CLASS_NUMBERS):
        for j, q in enumerate(CLASS_NUMBERS):
            y_true += [t] * int(cm[i][j])
            y_pred += [q] * int(cm[i][j])
    return y_true, y_pred


def pool(rows: list[dict]) -> dict:
    """One row for the patients of several test sets together (their confusion matrices summed,
    every score recomputed), with each set's macro-F1 under ``sets``: one 100-patient set can
    swing a macro-F1 by 0.08, so a figure to rely on needs several."""
    from .metrics import ordinal_report

    if len(rows) == 1:
        return rows[0]

    def summed(key):
        mats = [r[key] for r in rows]
        return None if any(m is None for m in mats) else np.sum(np.asarray(mats, dtype=np.int64), axis=0).tolist()

    pat = ordinal_report(*_cases(summed("confusion_matrix")), CLASS_NUMBERS)
    rec_cm = summed("recording_confusion_matrix")
    recording = None if rec_cm is None else ordinal_report(*_cases(rec_cm), CLASS_NUMBERS)
    row = _row(pat, recording=recording, vote=rows[0]["vote"], skipped=sum(r["skipped"] for r in rows))
    row["sets"] = [r["patient_macro_f1"] for r in rows]
    return row


def _num(v) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def format_table(rows: dict[str, dict]) -> str:
    """A markdown table: one row per evaluation (name -> ``summarise`` or ``pool`` output); rows
    pooled over several test sets add each set's macro-F1."""
    sets = any(r.get("sets") for r in rows.values())
    head = "| evaluation | patients | macro-F1 | MAE | QWK | " + " | ".join(f"recall {c}" for c in CLASS_NUMBERS) + " |"
    head += " macro-F1 per test set |" if sets else ""
    lines = [head, "|" + "---|" * (5 + len(CLASS_NUMBERS) + sets)]
    for name, r in rows.items():
        recalls = " | ".join(
            f"{_num(r['recall'][c])} ({r['support'][c]})" if r["recall"][c] is not None else "n/a"
            for c in CLASS_NUMBERS
        )
        per_set = f" {' / '.join(_num(v) for v in r.get('sets') or [r['patient_macro_f1']])} |" if sets else ""
        lines.append(
            f"| {name} | {r['patients']} | {_num(r['patient_macro_f1'])} | {_num(r['mean_absolute_error'])} | "
            f"{_num(r['quadratic_weighted_kappa'])} | {recalls} |{per_set}"
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
    the corpus sizes (``test_patients`` per set, ``test_sets`` sets), and each row as an evaluation level (n, macro-F1, accuracy, MAE, QWK,
    per-class recall and support, confusion matrix, and each set's macro-F1 when pooled) that the card
    dialog shows as a table;
    ``recipe`` says which training produced the figures."""
    entry = {
        "protocol": "leave-one-mechanism-out (training.lomo)",
        "recipe": recipe,
        "split": {side: {k: list(v) for k, v in fams.items()} for side, fams in res["split"].items()},
        "train_patients": res.get("train_patients"),
        "train_priors": res.get("train_priors"),
        "test_patients": res["test_patients"],
        "test_sets": res.get("test_sets", 1),
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
        } | ({"macro_f1_per_set": row["sets"]} if row.get("sets") else {})
    return entry


def evaluation_corpora(work: Path, split: Split, *, sets: int, patients: int, seed: int, priors: str, workers: int):
    """{row name: [corpus folder, ...]}: ``sets`` in-distribution test corpora (seen families) and
    as many out-of-distribution ones (held-out families), ``patients`` each with class ``priors``.
    Set k (from 0) uses seeds ``seed + 1 + 100 k`` (in) and ``seed + 2 + 100 k`` (out), IDs from
    5000 and 6000; set 0 keeps the folder names of a one-set run, so its corpora are reused."""
    if sets < 1:
        raise UsageError(f"--test-sets {sets}: at least one test set is needed.")
    sides = (
        ("in distribution (seen families)", f"test-seen-{tag(split.seen)}", split.seen, 1, 5000),
        ("out of distribution (held-out families)", f"test-held-out-{tag(split.held_out)}", split.held_out, 2, 6000),
    )
    return {
        name: [
            make_corpus(
                work / (folder if k == 0 else f"{folder}-set{k + 1}"),
                chosen,
                patients=patients,
                seed=seed + step + 100 * k,
                id_offset=offset,
                priors=priors,
                workers=workers,
            )
            for k in range(sets)
        ]
        for name, folder, chosen, step, offset in sides
    }


def run(
    work: str | Path,
    *,
    model: str | Path | None = None,
    config: str | Path | None = None,
    overrides: list[str] = (),
    split: Split | None = None,
    train_patients: int = 300,
    test_patients: int = 100,
    test_sets: int = 1,
    priors: str = "uniform",
    train_priors: str = "uniform",
    seed: int = 11,
    device: str = "auto",
    workers: int = 1,
    progress: bool = False,
) -> dict:
    """Score a model in and out of distribution; with ``config``, train it first on the seen
    families (``model`` None and no ``config``: the bundled model).

    Corpora: training (``train_patients``, seed ``seed``, class ``train_priors``, only when training) and
    ``test_sets`` pairs of test corpora (``evaluation_corpora``), each row pooling its sets' patients (``pool``).
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
    rows = {}
    for name, corpora in evaluation_corpora(
        work, split, sets=test_sets, patients=test_patients, seed=seed, priors=priors, workers=workers
    ).items():
        scored = [score(model, data, cache=cache, device=device) for data in corpora]
        rows[name] = pool(scored)
        for part in scored[0].get("parts", {}):  # a fused bundle: its measures and fusion too
            rows[f"{name}, {part}"] = pool([r["parts"][part] for r in scored])
        rows[name].pop("parts", None)
    return {
        "model": str(model) if model else "bundled",
        "train_patients": train_patients if config is not None else None,
        "split": {"seen": split.seen, "held_out": split.held_out},
        "test_patients": test_patients,
        "test_sets": test_sets,
        "priors": priors,
        "train_priors": train_priors if config is not None else None,
        "rows": rows,
        "table": format_table(rows),
    }
