"""The measures classifier's learning curve: held-out scores against the number of training patients.

    python benchmarks/bench_measures_curve.py --train runs/final/synth-train --test heldout=runs/final/synth-heldout
    python benchmarks/bench_measures_curve.py --train A --train B --test in=C --test out=D \\
        --sizes 60 120 240 480 960 --repeats 3 --cache runs/final/cache --workers 2 --json curve.json

Every recording of every corpus (the SAND layout; every labelled patient of its training
sheets) is measured with Praat as the app measures it, through the cache of ``sand-train fuse``
(``--cache``: a second run reads the measures back), then ``training.measures_curve`` fits the
recipe's XGBoost classifier on class-stratified subsets of the training patients and scores
each fit on every test corpus: macro-F1, mean absolute class error, quadratic weighted kappa
and class-1 recall, mean (s.d.) over ``--repeats`` draws. Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def corpus_vectors(root: str, *, spec, cache, workers: int):
    """(vectors, classes) of every labelled patient of ``root``'s whole training sheet."""
    from sand_gui.dataset import SandLayout
    from training.data import list_recordings, select_patients
    from training.measures_fit import patient_measures, vectors

    layout = SandLayout(root)
    patients = [p for p in select_patients(layout, "training") if p.label is not None]
    refs, _ = list_recordings(layout, patients, labelled=True)
    measures = patient_measures(patients, refs, spec=spec, cache=cache, workers=workers)
    return vectors(measures, [p.id for p in patients]), [int(p.label) for p in patients]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", action="append", required=True, help="training corpus (repeat to pool several)")
    p.add_argument("--test", action="append", required=True, metavar="NAME=DIR", help="test corpus (repeatable)")
    p.add_argument("--sizes", type=int, nargs="+", help="training sizes (default: 1/8, 1/4, 1/2 and all)")
    p.add_argument("--repeats", type=int, default=3, help="draws per size below the whole set (default 3)")
    p.add_argument("--config", default="training/configs/robust.yaml", help="the FeatureSpec's config")
    p.add_argument("--cache", help="measures cache folder (as sand-train fuse --cache)")
    p.add_argument("--workers", type=int, default=1, help="processes measuring recordings")
    p.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    a = p.parse_args(argv)

    from sand_gui.classes import CLASS_NUMBERS
    from training.config import load_config
    from training.measures_curve import learning_curve, summarise

    spec = load_config(a.config).spec
    started = time.perf_counter()
    xs, ys = [], []
    for root in a.train:
        x, y = corpus_vectors(root, spec=spec, cache=a.cache, workers=a.workers)
        xs.append(x)
        ys += y
    import numpy as np

    x = np.concatenate(xs)
    tests = {}
    for item in a.test:
        name, _, root = item.partition("=")
        tx, ty = corpus_vectors(root, spec=spec, cache=a.cache, workers=a.workers)
        tests[name] = (tx, ty)
    measured = time.perf_counter() - started
    sizes = a.sizes or [max(len(ys) // 8, 10), len(ys) // 4, len(ys) // 2, len(ys)]
    sizes = [s for s in sizes if s <= len(ys)]
    started = time.perf_counter()
    rows = summarise(learning_curve(x, ys, tests, sizes=sizes, classes=CLASS_NUMBERS, repeats=a.repeats))
    fitted = time.perf_counter() - started

    print(
        f"measures classifier learning curve: {len(ys)} training patients ({', '.join(a.train)}); "
        f"measured/read in {measured:.0f} s, fitted in {fitted:.0f} s "
        f"[{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}]"
    )
    for name, (_, ty) in tests.items():
        print(f"\n{name}: {len(ty)} patients")
        print(f"{'patients':>8}  {'draws':>5}  {'macro-F1':>14}  {'MAE':>6}  {'QWK':>6}  {'recall 1':>8}")
        for r in rows:
            sd = r[f"{name}.macro_f1.sd"]
            f1 = f"{r[f'{name}.macro_f1']:.3f}" + (f" ({sd:.3f})" if sd is not None else "")
            rec = r[f"{name}.recall_1"]
            print(
                f"{r['patients']:>8}  {r['draws']:>5}  {f1:>14}  {r[f'{name}.mae']:>6.3f}  "
                f"{r[f'{name}.qwk']:>6.3f}  {'n/a' if rec is None else f'{rec:.2f}':>8}"
            )
    if a.json:
        Path(a.json).write_text(json.dumps({"train": a.train, "tests": a.test, "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
