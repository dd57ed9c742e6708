"""Leave-one-mechanism-out table (``training.lomo``): a model's patient scores in and out of
distribution, with macro-F1, mean absolute class error, quadratic weighted kappa and recall.

    python benchmarks/bench_lomo.py                                   # the bundled model, no training
    python benchmarks/bench_lomo.py --config training/configs/ordinal.yaml --set epochs=3  # train, then score
    python benchmarks/bench_lomo.py --model runs/x/model.safetensors --test-sets 3 --json lomo.json

Corpora and features are kept under ``--work`` and reused when asked for again with the same
settings. Seen families: Rosenberg source, cascade tract, articulation a, smartphone channel
(plus telephone/room/noisy with ``--seen-channels new``); held out: LF source, parallel tract,
articulation b, VoIP and bad-phone channels.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", default="runs/lomo", help="folder for corpora, cache and run (default: runs/lomo)")
    p.add_argument("--model", help="bundle to score (default: the bundled model)")
    p.add_argument("--config", help="train this config on the seen families first, then score its bundle")
    p.add_argument("--set", dest="overrides", nargs="+", default=[], metavar="KEY=VALUE", help="config overrides")
    p.add_argument(
        "--seen-channels",
        default="smartphone",
        help="channel families of the training corpus (comma list; default smartphone; "
        "'new' = smartphone,telephone,room,noisy); voip and badphone are always held out",
    )
    p.add_argument("--train-patients", type=int, default=300)
    p.add_argument("--test-patients", type=int, default=100, help="patients of each test set (default 100)")
    p.add_argument(
        "--test-sets",
        type=int,
        default=1,
        help="test sets per side, pooled in each row with each set's macro-F1 beside (default 1; "
        "one 100-patient set can swing a macro-F1 by 0.08)",
    )
    p.add_argument("--priors", choices=("uniform", "sand"), default="uniform", help="class priors of the test corpora")
    p.add_argument(
        "--train-priors",
        choices=("uniform", "sand"),
        default="uniform",
        help="class priors of the training corpus (default uniform: as many severe as healthy voices)",
    )
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--workers", type=int, default=1, help="processes generating the corpora")
    p.add_argument("--json", metavar="FILE", help="also write the result as JSON")
    p.add_argument(
        "--write-card",
        metavar="BUNDLE",
        help="also store the table in BUNDLE's card as metrics.lomo (the recipe's out-of-distribution figure "
        "beside a model trained on every family)",
    )
    a = p.parse_args(argv)

    from sand_gui.errors import SandError
    from training.lomo import NEW_CHANNELS, SEEN, Split, run

    chosen = ("smartphone", *NEW_CHANNELS) if a.seen_channels == "new" else tuple(a.seen_channels.split(","))
    split = Split(seen=dict(SEEN, channels=chosen))

    t0 = time.perf_counter()
    try:
        res = run(
            a.work,
            model=a.model,
            config=a.config,
            overrides=a.overrides,
            split=split,
            train_patients=a.train_patients,
            test_patients=a.test_patients,
            test_sets=a.test_sets,
            priors=a.priors,
            train_priors=a.train_priors,
            seed=a.seed,
            device=a.device,
            workers=a.workers,
            progress=sys.stderr.isatty(),
        )
    except SandError as exc:
        print(f"bench_lomo: error: {exc}", file=sys.stderr)
        return 2
    res["seconds"] = round(time.perf_counter() - t0, 1)
    sets = f" in each of {a.test_sets} test sets" if a.test_sets > 1 else " each"
    print(f"model: {res['model']}; {res['test_patients']} test patients{sets}, {res['priors']} priors\n")
    print(res["table"])
    if a.write_card:
        from sand_gui.bundle import load_bundle
        from training.evaluate import store_card_metric
        from training.lomo import card_entry

        recipe = f"{a.config or res['model']} {' '.join(a.overrides)}".strip()
        try:
            store_card_metric(load_bundle(a.write_card), "lomo", card_entry(res, recipe=recipe))
        except SandError as exc:
            print(f"bench_lomo: error: {exc}", file=sys.stderr)
            return 2
        print(f"stored as metrics.lomo in {a.write_card}")
    if a.json:
        out = Path(a.json)
        tmp = out.with_name(f".{out.name}.part")
        tmp.write_text(json.dumps(res, indent=1, allow_nan=False), encoding="utf-8")
        tmp.replace(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
