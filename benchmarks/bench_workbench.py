"""The workbench's core (figures, not pass/fail): how fast a dataset opens and a batch runs.

    .venv/bin/python benchmarks/bench_workbench.py                      # 300 synthetic patients x 8 tasks
    .venv/bin/python benchmarks/bench_workbench.py --data DIR           # an existing dataset instead
    .venv/bin/python benchmarks/bench_workbench.py --batch-patients 20 --device cuda

(a) ``DatasetIndex.open`` on the dataset (goal: under 2 s for 300 patients x 8 tasks):
    cold = a fresh interpreter's first open, imports included; warm = the same open again in
    that process; also the open without reading headers (``headers=False``).
(b) ``run_batch`` with the bundled model over the first N patients: recordings per second
    with an empty feature cache, then again with the cache filled.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OPEN = """
import json, sys, time
t0 = time.perf_counter()
from sand_gui.dataset_index import DatasetIndex
index = DatasetIndex.open(sys.argv[1])
cold = time.perf_counter() - t0
t1 = time.perf_counter(); DatasetIndex.open(sys.argv[1]); warm = time.perf_counter() - t1
t2 = time.perf_counter(); DatasetIndex.open(sys.argv[1], headers=False); bare = time.perf_counter() - t2
cells = sum(len(r.cells) for r in index.rows)
print(json.dumps({"patients": len(index.rows), "cells": cells, "cold_s": cold, "warm_s": warm, "no_headers_s": bare}))
"""


def open_times(data: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", OPEN, str(data)], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def batch_times(data: Path, *, patients: int, device: str, cache: Path) -> dict:
    from sand_gui.batch import run_batch
    from sand_gui.dataset_index import DatasetIndex
    from sand_gui.model import Classifier
    from sand_gui.resources import default_bundle_path

    clf = Classifier.from_file(default_bundle_path(), device=device)
    index = DatasetIndex.open(data)
    rows = index.rows[:patients]
    figures = {"device": clf.device.name, "model": clf.card.name}
    for run in ("empty_cache", "filled_cache"):
        t = time.perf_counter()
        res = run_batch(index, rows, clf, cache_dir=cache)
        seconds = time.perf_counter() - t
        figures[run] = {"recordings": len(res.recordings), "seconds": seconds, "per_s": len(res.recordings) / seconds}
        figures[run] |= {"computed": res.cache["computed"], "reused": res.cache["reused"]}
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, help="an existing dataset (default: generate a synthetic one)")
    ap.add_argument("--patients", type=int, default=300, help="patients of the generated corpus")
    ap.add_argument("--batch-patients", type=int, default=10, help="patients the batch run covers (0: skip)")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None:
            from training.synth import generate_corpus

            t = time.perf_counter()
            data = generate_corpus(Path(tmp) / "corpus", patients=args.patients, seed=3).root
            print(f"generated {args.patients} synthetic patients in {time.perf_counter() - t:.0f} s")
        o = open_times(data)
        print(
            f"open {o['patients']} patients x 8 tasks ({o['cells']} cells): cold {o['cold_s']:.2f} s "
            f"(fresh process, imports included), warm {o['warm_s']:.2f} s, without headers {o['no_headers_s']:.2f} s"
        )
        if args.batch_patients:
            b = batch_times(data, patients=args.batch_patients, device=args.device, cache=Path(tmp) / "cache")
            for run in ("empty_cache", "filled_cache"):
                r = b[run]
                print(
                    f"batch ({run.replace('_', ' ')}): {r['recordings']} recordings in {r['seconds']:.1f} s = "
                    f"{r['per_s']:.2f} recordings/s (features computed {r['computed']}, reused {r['reused']})"
                )
            print(f"model {b['model']} on {b['device']}")
    print(f"[{platform.machine()}, Python {platform.python_version()}]")


if __name__ == "__main__":
    main()
