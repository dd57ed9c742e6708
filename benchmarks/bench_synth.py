"""The synthetic corpus generator: speed, and what independent tools measure on its audio.

    .venv/bin/python benchmarks/bench_synth.py                 # 300 patients x 8 tasks, timed
    .venv/bin/python benchmarks/bench_synth.py --workers 2     # the same in two processes
    .venv/bin/python benchmarks/bench_synth.py --measure 50    # Praat F0/HNR/jitter/shimmer per class

Figures, not pass/fail; the README quotes them.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from training.synth import generate_corpus  # noqa: E402


def speed(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        summary = generate_corpus(
            Path(tmp) / "corpus",
            patients=args.patients,
            seed=args.seed,
            sample_rate=args.sample_rate,
            workers=args.workers,
        )
        seconds = time.perf_counter() - started
    print(
        f"{summary.patients} patients x 8 tasks ({summary.files} files, {summary.audio_seconds / 3600:.2f} h of audio "
        f"at {args.sample_rate} Hz) in {seconds:.1f} s with {args.workers} worker(s): "
        f"{summary.patients / seconds:.1f} patients/s, {summary.audio_seconds / seconds:.0f}x real time "
        f"[{platform.machine()}, Python {platform.python_version()}]"
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
        generate_corpus(root, patients=args.measure, seed=args.seed, sample_rate=sr, class_priors="uniform")
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
    args = ap.parse_args()
    measure(args) if args.measure else speed(args)


if __name__ == "__main__":
    main()
