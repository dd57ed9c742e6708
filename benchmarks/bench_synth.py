"""The synthetic corpus generator: speed, and what independent tools measure on its audio.

    .venv/bin/python benchmarks/bench_synth.py                 # 300 patients x 8 tasks, timed
    .venv/bin/python benchmarks/bench_synth.py --workers 2     # the same in two processes
    .venv/bin/python benchmarks/bench_synth.py --measure 50    # Praat F0/HNR/jitter/shimmer per class
    .venv/bin/python benchmarks/bench_synth.py --compare --patients 100 --workers 2
        # all families (default) / without codecs (no telephone, voip channels) / generator 1.0's families
    .venv/bin/python benchmarks/bench_synth.py --channels room,noisy   # any family selection, as sand-train synth

Figures, not pass/fail; the README quotes them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from training.synth import LEGACY, Families, generate_corpus  # noqa: E402
from training.synth.families import KINDS, parse_families  # noqa: E402

NO_CODECS = Families(channels=("smartphone", "room", "noisy", "badphone"))


def speed(args, families: Families, label: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        summary = generate_corpus(
            Path(tmp) / "corpus",
            patients=args.patients,
            seed=args.seed,
            sample_rate=args.sample_rate,
            workers=args.workers,
            families=families,
        )
        seconds = time.perf_counter() - started
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{label}: {summary.patients} patients x 8 tasks ({summary.files} files, "
        f"{summary.audio_seconds / 3600:.2f} h of audio at {args.sample_rate} Hz) in {seconds:.1f} s with "
        f"{args.workers} worker(s): {summary.patients / seconds:.1f} patients/s, "
        f"{summary.audio_seconds / seconds:.0f}x real time [{platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load average {load:.1f}]"
    )


def measure(args) -> None:
    """Praat (parselmouth) on every vowel and an envelope count on every DDK train, per class."""
    import parselmouth
    from parselmouth.praat import call
    from scipy.signal import butter, find_peaks, sosfiltfilt

    from sand_gui.audio import load_recording
    from sand_gui.tasks import PHONATION, TASK_IDS, get_task

    sr = args.sample_rate
    rows: dict[int, list[list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "corpus"
        generate_corpus(  # a clean phone: the measures are compared with the generator's truth
            root,
            patients=args.measure,
            seed=args.seed,
            sample_rate=sr,
            class_priors="uniform",
            families=Families(channels=("smartphone",)),
        )
        meta = json.loads((root / "synthetic.json").read_text())
        for p in meta["patients"]:
            for task_id in TASK_IDS:
                x = load_recording(root / "training" / task_id / f"{p['id']}_{task_id}.wav", sample_rate=sr).samples
                fact = p["recordings"][task_id]
                if get_task(task_id).family == PHONATION:
                    snd = parselmouth.Sound(x.astype(np.float64), sampling_frequency=sr)
                    f0 = snd.to_pitch(pitch_floor=60.0, pitch_ceiling=500.0).selected_array["frequency"]
                    hnr = snd.to_harmonicity_cc(minimum_pitch=60.0).values
                    pp = call(snd, "To PointProcess (periodic, cc)", 60.0, 500.0)
                    jit = call(pp, "Get jitter (local)", 0, 0, 0.0001, 0.02, 1.3)
                    shim = call([snd, pp], "Get shimmer (local)", 0, 0, 0.0001, 0.02, 1.3, 1.6)
                    rows.setdefault(p["class"], []).append(
                        [
                            abs(np.median(f0[f0 > 0]) / fact["f0_hz"] - 1),
                            float(hnr[hnr > -200].mean()),
                            fact["hnr_db"],
                            100 * jit,
                            100 * fact["jitter"],
                            100 * shim,
                            100 * fact["shimmer"],
                            np.nan,
                        ]
                    )
                else:
                    y = sosfiltfilt(butter(4, (150.0, 1200.0), btype="bandpass", fs=sr, output="sos"), x)
                    frame, hop = int(0.02 * sr), int(0.005 * sr)
                    idx = np.arange(frame)[None, :] + hop * np.arange(1 + (len(y) - frame) // hop)[:, None]
                    db = np.convolve(10 * np.log10(np.mean(y[idx] ** 2, axis=1) + 1e-12), np.ones(5) / 5, mode="same")
                    peaks, _ = find_peaks(db, prominence=6.0, distance=16, height=db.max() - 25)
                    rate = (len(peaks) - 1) / ((peaks[-1] - peaks[0]) * hop / sr)
                    rows.setdefault(p["class"], []).append([np.nan] * 7 + [abs(rate / fact["rate_target"] - 1)])
    print(
        f"{args.measure} patients (uniform priors, seed {args.seed}); medians per class, Praat measure / generator target"
    )
    print("class | F0 error | HNR dB | jitter % | shimmer % | DDK rate error")
    for c in sorted(rows):
        m = np.nanmedian(np.array(rows[c], dtype=float), axis=0)
        worst_f0 = np.nanmax(np.array(rows[c], dtype=float)[:, 0])
        worst_rate = np.nanmax(np.array(rows[c], dtype=float)[:, 7])
        print(
            f"{c} | {100 * m[0]:.1f} % (worst {100 * worst_f0:.0f} %) | {m[1]:.1f} / {m[2]:.1f} | {m[3]:.2f} / {m[4]:.2f} "
            f"| {m[5]:.1f} / {m[6]:.1f} | {100 * m[7]:.1f} % (worst {100 * worst_rate:.0f} %)"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=300)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--sample-rate", type=int, default=8000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--measure", type=int, default=0, metavar="N", help="measure N patients instead of timing")
    ap.add_argument("--compare", action="store_true", help="time all families, no codec channels, and 1.0's families")
    for kind in KINDS:
        ap.add_argument(f"--{kind}", metavar="LIST", help=f"{kind} to draw from (default: all)")
    args = ap.parse_args()
    if args.measure:
        return measure(args)
    if args.compare:
        for families, label in (
            (Families(), "all families"),
            (NO_CODECS, "no codec channels"),
            (LEGACY, "1.0 families"),
        ):
            speed(args, families, label)
        return None
    families = Families(**{k: parse_families(getattr(args, k), kind=k) for k in KINDS})
    speed(args, families, "selected families" if any(getattr(args, k) for k in KINDS) else "all families")


if __name__ == "__main__":
    main()
