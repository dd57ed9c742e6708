"""Praat measures: speed beside the network, and agreement with known values (figures, not pass/fail).

Run ``python benchmarks/bench_measures.py`` (``--help`` for options). On a synthetic corpus
(``training.synth``, written to a temporary folder):

(a) speed: ``measure_patient`` of one 8-task patient, in this process (``workers=0``) and in
    two processes (``workers=2``), vs ``sand_gui.pipeline.analyze`` with the bundled model on
    the CPU, same patient, same process; medians of ``--repeats`` runs after one warm-up, and
    the ratio measures / analysis; plus the time per vowel and per DDK task;
(c) parallel: what the window and ``sand-gui analyze`` do: the measures in separate processes
    (``measuring.run_measures``, started first, waited for by a thread) while the network
    analyses in this process; wall time until both are done, vs the network alone (goal: ratio
    <= 2, i.e. the measures add at most the network's own time), with one measuring process and
    with two (the ratio of the two says which the app should use);
(b) agreement: the DDK syllable count and rate, and the vowels' F0 mean, against the
    generator's true values in ``synthetic.json`` (median and worst error).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sand_gui.measures import measure_patient, measure_recording
from sand_gui.measuring import run_measures
from sand_gui.resources import default_bundle_path
from sand_gui.tasks import TASK_IDS

# torch, the model and the corpus generator are imported in main(), not here: a spawned
# measuring process re-imports this script, and must not pay for torch as the window's does not


def load_classifier(path):
    from sand_gui.model import Classifier

    return Classifier.from_file(path, device="cpu")


def analyze(recs, clf):
    from sand_gui.pipeline import analyze as run

    return run(recs, clf)


def median_time(fn, repeats: int) -> tuple[float, float]:
    """Median wall-clock and CPU time (this process, all its threads) of ``fn`` after a warm-up.
    The CPU time is the steadier figure on a shared machine; it excludes child processes."""
    fn()  # warm-up
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def patient_files(root: Path, pid: str) -> dict[str, Path]:
    return {t: root / "training" / t / f"{pid}_{t}.wav" for t in TASK_IDS}


def bench_speed(root: Path, meta: dict, *, repeats: int) -> dict:
    clf = load_classifier(default_bundle_path())
    p = meta["patients"][0]
    recs = patient_files(root, p["id"])
    (t_net, c_net) = median_time(lambda: analyze(recs, clf), repeats)
    (t_meas, c_meas) = median_time(lambda: measure_patient(recs, spec=clf.spec, sex=p["sex"]), repeats)
    (t_proc, _) = median_time(lambda: measure_patient(recs, spec=clf.spec, sex=p["sex"], workers=2), repeats)
    res = measure_patient(recs, spec=clf.spec, sex=p["sex"])
    vowel_ms = [t.elapsed_ms for t in res.tasks if t.task.startswith("phonation")]
    ddk_ms = [t.elapsed_ms for t in res.tasks if t.task.startswith("rhythm")]
    audio_s = sum(t.get("phonation_seconds").value for t in res.tasks if t.task.startswith("phonation"))
    return {
        "patient": p["id"],
        "model": default_bundle_path().name,
        "device": clf.device.name,
        "vowel_seconds_measured": round(audio_s, 2),
        "torch_threads": __import__("torch").get_num_threads(),
        "analyze_s": round(t_net, 3),
        "measures_s": round(t_meas, 3),
        "measures_2_processes_s": round(t_proc, 3),
        "analyze_cpu_s": round(c_net, 3),
        "measures_cpu_s": round(c_meas, 3),
        "ratio_measures_vs_analyze": round(t_meas / t_net, 1),
        "ratio_measures_vs_analyze_cpu": round(c_meas / c_net, 1),
        "ratio_2_processes_vs_analyze": round(t_proc / t_net, 1),
        "per_vowel_ms_median": round(statistics.median(vowel_ms), 1),
        "per_ddk_task_ms_median": round(statistics.median(ddk_ms), 1),
    }


def bench_parallel(root: Path, meta: dict, *, repeats: int) -> dict:
    """Network alone, measures alone (one process), and both at once (measures first)."""
    from concurrent.futures import ThreadPoolExecutor

    clf = load_classifier(default_bundle_path())
    p = meta["patients"][0]
    recs = patient_files(root, p["id"])

    def both(workers: int = 1):
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(run_measures, recs, clf.spec, sex=p["sex"], workers=workers)
            analyze(recs, clf)
            pending.result()

    import resource

    def children_cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_CHILDREN)  # the measuring processes, once joined
        return r.ru_utime + r.ru_stime

    (t_net, c_net) = median_time(lambda: analyze(recs, clf), repeats)
    c0 = children_cpu()
    (t_meas, _) = median_time(lambda: run_measures(recs, clf.spec, sex=p["sex"], workers=1), repeats)
    c_meas = (children_cpu() - c0) / (repeats + 1)  # per run (the warm-up included)
    (t_both, _) = median_time(both, repeats)
    (t_meas2, _) = median_time(lambda: run_measures(recs, clf.spec, sex=p["sex"], workers=2), repeats)
    (t_both2, _) = median_time(lambda: both(2), repeats)
    return {
        "patient": p["id"],
        "network_alone_s": round(t_net, 3),
        "network_alone_cpu_s": round(c_net, 3),
        "measures_alone_1_process_s": round(t_meas, 3),
        "measures_process_cpu_s": round(c_meas, 3),
        "both_in_parallel_s": round(t_both, 3),
        "ratio_parallel_total_vs_network_alone": round(t_both / t_net, 2),
        "added_by_measures_s": round(t_both - t_net, 3),
        "measures_alone_2_processes_s": round(t_meas2, 3),
        "both_in_parallel_measures_in_2_processes_s": round(t_both2, 3),
        "ratio_2_vs_1_measuring_processes_in_parallel": round(t_both2 / t_both, 2),
        "load_average_1min_after": round(os.getloadavg()[0], 2),
    }


def bench_agreement(root: Path, meta: dict, *, spec) -> dict:
    count_err, rate_err, f0_err = [], [], []
    for p in meta["patients"]:
        for task_id, truth in p["recordings"].items():
            res = measure_recording(
                root / "training" / task_id / f"{p['id']}_{task_id}.wav", task_id=task_id, spec=spec, sex=p["sex"]
            )
            if task_id.startswith("rhythm"):
                count_err.append(res.get("syllable_count").value - truth["syllables"])
                rate = res.get("ddk_rate").value
                rate_err.append(100 * abs(rate - truth["rate"]) / truth["rate"] if rate else 100.0)
            else:
                f0 = res.get("f0_mean_hz").value
                f0_err.append(100 * abs(f0 - truth["f0_hz"]) / truth["f0_hz"] if f0 else 100.0)
    c, r, f = np.array(count_err), np.array(rate_err), np.array(f0_err)
    return {
        "ddk_trains": len(c),
        "count_exact_share": round(float((c == 0).mean()), 3),
        "count_within_1_share": round(float((np.abs(c) <= 1).mean()), 3),
        "count_worst_error": int(c[np.argmax(np.abs(c))]),
        "rate_error_pct_median": round(float(np.median(r)), 2),
        "rate_error_pct_p90": round(float(np.quantile(r, 0.9)), 2),
        "rate_error_pct_worst": round(float(r.max()), 2),
        "vowels": len(f),
        "f0_error_pct_median": round(float(np.median(f)), 2),
        "f0_error_pct_p90": round(float(np.quantile(f, 0.9)), 2),
        "f0_error_pct_worst": round(float(f.max()), 2),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--patients", type=int, default=10, help="synthetic patients for the agreement (default 10)")
    ap.add_argument("--seed", type=int, default=5, help="synthetic corpus seed (default 5)")
    ap.add_argument("--class-priors", default="sand", choices=["sand", "uniform"])
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-agreement", action="store_true")
    ap.add_argument("--skip-parallel", action="store_true")
    args = ap.parse_args(argv)
    from training.synth.corpus import generate_corpus

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "synth"
        generate_corpus(root, patients=args.patients, seed=args.seed, class_priors=args.class_priors)
        meta = json.loads((root / "synthetic.json").read_text())
        from sand_gui.bundle import read_card

        spec = read_card(default_bundle_path()).spec
        out = {
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
            "corpus": {"patients": args.patients, "seed": args.seed, "class_priors": args.class_priors},
        }
        if not args.skip_parallel:
            out["parallel"] = bench_parallel(root, meta, repeats=args.repeats)
        if not args.skip_speed:
            out["speed"] = bench_speed(root, meta, repeats=args.repeats)
        if not args.skip_agreement:
            out["agreement"] = bench_agreement(root, meta, spec=spec)
    json.dump(out, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
