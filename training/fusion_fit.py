"""``sand-train fuse``: add a measures classifier and its late fusion to a trained bundle.

1. Measure every recording of the training and validation patients (``measures_fit``, cached).
2. Fit the measures classifier (XGBoost) on the training patients only.
3. Run the bundle's network on the validation patients: each patient's mean task probabilities
   and its vote (the card's vote rule: today's decision).
4. Choose the rule on the validation patients only (``fit_fusion``): the network's vote, the
   measures alone, or ``w * network + (1 - w) * measures`` for w on a grid over [0, 1]. The
   network's vote and the measures alone are candidates, so the chosen rule never scores below
   the better of the two on these patients. ``rule`` fixes it instead (``--rule measures``,
   ``network`` or ``w=0.3``, with ``--because``, stored in the card): for a model whose
   validation patients come from the same simulation as its training patients, where the
   leave-one-mechanism-out table (``training.lomo``) says which part carries over to unheard
   voices and validation cannot.
5. Write a new bundle: the same weights, the card with a ``fusion`` section, and the measures
   model's XGBoost JSON inside the same sealed file (``sand_gui.bundle``).

``--more-measures-data`` adds the patients of further corpora to step 2 only (never to
validation): the measures classifier keeps improving with patients long after a network's
training split runs out (``benchmarks/bench_measures_curve.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sand_gui.bundle import load_bundle, save_bundle
from sand_gui.dataset import SandLayout
from sand_gui.errors import DatasetError, UsageError, one_line
from sand_gui.fusion import combine
from sand_gui.measures.vector import FEATURE_NAMES, measures_identity
from sand_gui.metrics import patient_votes, report
from sand_gui.model import Classifier

from .data import check_disjoint, list_recordings, resolve_sheet, select_patients
from .measures_fit import fit_measures_model, patient_measures, predict_proba, vectors

W_GRID = tuple(round(i / 20, 2) for i in range(21))  # 0.00, 0.05, ..., 1.00


@dataclass
class FusionChoice:
    decision: str  # "weighted" | "network" | "measures"
    w_network: float
    macro_f1: float
    accuracy: float
    candidates: dict  # "network", "measures", "w=0.35", ... -> {"macro_f1", "accuracy"}


def fit_fusion(
    labels: Sequence[int],
    network: np.ndarray,
    votes: Sequence[int],
    measures: np.ndarray,
    class_numbers: Sequence[int],
) -> FusionChoice:
    """The rule with the best macro-F1 (then accuracy) on these patients; on a tie the weighted
    fusion nearest w = 0.5 is preferred (both parts heard), then the network's vote.

    ``network`` and ``measures``: probabilities [shape=(n, n_classes)]; ``votes``: the network's
    majority vote per patient [shape=(n,)]; a row of ``measures`` that is NaN has no measure.
    """
    classes = list(class_numbers)
    votes = np.asarray(votes)
    cands = [("weighted", w) for w in sorted(W_GRID, key=lambda w: (abs(w - 0.5), w))]
    cands += [("network", 1.0), ("measures", 0.0)]
    scored = {}
    best, best_key = None, None
    for decision, w in cands:
        pred = combine(decision, w, network, votes, measures, classes)
        r = report(list(labels), [int(c) for c in pred], classes)
        name = decision if decision != "weighted" else f"w={w:.2f}"
        scored[name] = {"macro_f1": round(r["macro_f1"], 4), "accuracy": round(r["accuracy"], 4)}
        key = (r["macro_f1"], r["accuracy"])
        if best_key is None or key > best_key:
            best, best_key = (decision, w), key
    return FusionChoice(best[0], best[1], float(best_key[0]), float(best_key[1]), scored)


def parse_rule(text: str) -> tuple[str, float] | None:
    """``--rule``: "auto" -> None (the validation patients choose); "network", "measures" or
    "w=0.30" (weighted, w on the grid) -> (decision, w_network). UsageError otherwise."""
    t = text.strip().lower()
    if t == "auto":
        return None
    if t == "network":
        return "network", 1.0
    if t == "measures":
        return "measures", 0.0
    if t.startswith("w="):
        try:
            w = round(float(t[2:]), 2)
        except ValueError:
            w = -1.0
        if w in W_GRID:
            return "weighted", w
    raise UsageError(
        f"--rule {one_line(text)}: use auto, network, measures or w=W with W one of 0.00, 0.05, ..., 1.00."
    )


def more_measures_patients(roots: Sequence[str | Path], taken: dict[str, str], *, spec, cache, workers, progress):
    """[(vectors, classes, corpus name, skipped), ...] of every labelled patient of each corpus's
    training sheet, measured through the same cache. A patient ID already in ``taken`` (ID -> where)
    or in two of these corpora is refused: the same ID may be the same person, and a validation
    patient must never be learnt from."""
    out, taken = [], dict(taken)
    for root in roots:
        layout = SandLayout(root)
        patients = [p for p in select_patients(layout, "training") if p.label is not None]
        if not patients:
            raise DatasetError(f"{one_line(root)}: no labelled patient to add to the measures classifier's training.")
        for p in patients:
            if p.id in taken:
                raise DatasetError(
                    f"{one_line(root)}: patient {one_line(p.id)} is also in {one_line(taken[p.id])}; "
                    "a patient the measures classifier learns from must appear once, and never among the validation patients."
                )
            taken[p.id] = str(root)
        refs, skipped = list_recordings(layout, patients, labelled=True)
        m = patient_measures(patients, refs, spec=spec, cache=cache, workers=workers, progress=progress)
        out.append((vectors(m, [p.id for p in patients]), [p.label for p in patients], Path(root).name, skipped))
    return out


def _network_on(bundle, clf: Classifier, layout: SandLayout, sheet: str, *, cache, progress: bool):
    from .evaluate import _items, _records

    patients, items, skipped = _items(layout, sheet, clf.spec, labelled=True, cache=cache, progress=progress)
    verdicts = patient_votes(_records(clf, items, progress=progress), bundle.card.class_numbers, rule=bundle.card.vote)
    return patients, verdicts, skipped


def fuse_bundle(
    model: str | Path,
    data: str | Path,
    out: str | Path,
    *,
    train_sheet: str = "train",
    val_sheet: str = "val",
    cache: str | Path | None = None,
    workers: int = 1,
    device: str = "auto",
    progress: bool = False,
    rule: str = "auto",
    because: str = "",
    more_data: Sequence[str | Path] = (),
) -> dict:
    """Write ``out``: ``model``'s network with a measures classifier fitted on ``train_sheet`` and
    the fusion rule chosen on ``val_sheet`` of ``data`` (or fixed by ``rule``, for the reason
    ``because``); returns a summary (strict JSON).

    ``more_data``: further SAND-layout corpora whose every labelled patient (training sheet) the
    measures classifier also learns from (``more_measures_patients``): it needs many more patients
    than a network's training split holds, and they cost Praat time only."""
    fixed = parse_rule(rule)
    if fixed is not None and not because.strip():
        raise UsageError(
            f"--rule {one_line(rule)} fixes the fusion rule: say why with --because (it goes into the card)."
        )
    out = Path(out)
    if out.suffix != ".safetensors":
        raise UsageError(f"--out {one_line(out.name)}: a bundle's name must end in .safetensors.")
    if Path(model).resolve() == out.resolve():
        raise UsageError(f"--out {one_line(out.name)}: write the fused bundle to a new file, not over --model.")
    bundle = load_bundle(model)
    classes = bundle.card.class_numbers
    spec = bundle.card.spec
    layout = SandLayout(data)
    train, val = select_patients(layout, train_sheet), select_patients(layout, val_sheet)
    check_disjoint({resolve_sheet(train_sheet): train, resolve_sheet(val_sheet): val})
    refs, skipped = list_recordings(layout, train + val, labelled=True)
    measures = patient_measures(train + val, refs, spec=spec, cache=cache, workers=workers, progress=progress)

    x_train, y_train = vectors(measures, [p.id for p in train]), [p.label for p in train]
    extra = more_measures_patients(
        more_data,
        {p.id: resolve_sheet(val_sheet) for p in val} | {p.id: str(data) for p in train},
        spec=spec,
        cache=cache,
        workers=workers,
        progress=progress,
    )
    for x_more, y_more, _, more_skipped in extra:
        x_train, y_train = np.concatenate([x_train, x_more]), y_train + y_more
        skipped += more_skipped
    fitted = fit_measures_model(x_train, y_train, classes)

    clf = Classifier(bundle, device=device)
    val_patients, verdicts, more = _network_on(bundle, clf, layout, val_sheet, cache=cache, progress=progress)
    ids = [p.id for p in val_patients if p.id in verdicts]
    if not ids:
        raise DatasetError(f"{one_line(data)}: no validation patient has a usable recording for the network.")
    labels = [p.label for p in val_patients if p.id in verdicts]
    net = np.array([[verdicts[i].mean_probabilities[c] for c in classes] for i in ids])
    votes = np.array([verdicts[i].final_class for i in ids])
    x = vectors(measures, ids)
    meas = predict_proba(fitted.booster, x, n_classes=len(classes))
    meas[np.isnan(x).all(axis=1)] = np.nan  # no measure at all: the network alone, as in the app
    choice = fit_fusion(labels, net, votes, meas, classes)
    best = {"decision": choice.decision, "w_network": choice.w_network}
    if fixed is not None:
        name = fixed[0] if fixed[0] != "weighted" else f"w={fixed[1]:.2f}"
        scored = choice.candidates[name]
        choice = FusionChoice(fixed[0], fixed[1], scored["macro_f1"], scored["accuracy"], choice.candidates)

    card = bundle.card
    card.fusion = {
        "feature_names": list(FEATURE_NAMES),
        "measures": measures_identity(sample_rate=spec.sample_rate),
        "decision": choice.decision,
        "w_network": choice.w_network,
        "model_sha256": "0" * 64,  # filled by save_bundle
        "validation": {
            "sheet": resolve_sheet(val_sheet),
            "patients": len(ids),
            "chosen": {"macro_f1": round(choice.macro_f1, 4), "accuracy": round(choice.accuracy, 4)},
            "network": choice.candidates["network"],
            "measures": choice.candidates["measures"],
        }
        | ({"fixed_because": one_line(because, limit=400), "preferred": best} if fixed is not None else {}),
        "training": {
            "sheet": resolve_sheet(train_sheet),
            "patients": len(y_train),
            **({"more_data": [{"data": name, "patients": len(y)} for _, y, name, _ in extra]} if extra else {}),
            "model": "xgboost multi:softprob, class-balanced sample weights",
            "params": fitted.params,
            "cv": fitted.cv,
        },
    }
    card.weights_sha256 = ""
    save_bundle(out, bundle.state_dict, card, measures_model=fitted.json_bytes())
    return {
        "out": str(out),
        "decision": choice.decision,
        "w_network": choice.w_network,
        "validation": card.fusion["validation"],
        "training": card.fusion["training"],
        "skipped": [str(s) for s in skipped + more],
    }


def format_summary(res: dict) -> str:
    v = res["validation"]
    rule = {"weighted": f"fusion, w(network) = {res['w_network']:.2f}", "network": "the network's vote"}.get(
        res["decision"], "the measures alone"
    )
    rows = [("network (vote)", v["network"]), ("measures", v["measures"]), ("chosen", v["chosen"])]
    if v.get("fixed_because"):
        rows[-1] = ("fixed rule", v["chosen"])
        lines = [f"{res['out']}: {rule}, fixed: {v['fixed_because']}"]
        lines.append(f"  scored on {v['patients']} validation patients [{v['sheet']}]:")
    else:
        lines = [f"{res['out']}: {rule}, chosen on {v['patients']} validation patients [{v['sheet']}]"]
    lines += [f"  {name:<15} macro-F1 {s['macro_f1']:.3f}  accuracy {s['accuracy']:.3f}" for name, s in rows]
    return "\n".join(lines)
