"""Foundation benchmarks (figures, not pass/fail): run ``python benchmarks/bench_analyze.py``.

(a) ``analyze`` of one 8-task patient end to end vs the bare timm forward pass on the same
    eight prepared tensors, same model, same process: ratio (goal <= 1.3 on the CPU),
    for convnext_base (seed spec, 22.05 kHz / 256 mels) and convnext_atto (8 kHz / 64 mels);
(b) features per recording: sand_gui (torchaudio) vs the librosa reference (goal: not slower);
(c) peak memory (max RSS) of a fresh process running ``sand-gui analyze``.
Random weights: speed does not depend on them. ``--device cuda`` runs (a) on the GPU.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from sandtest import ddk, vowel  # noqa: E402

from sand_gui.bundle import ModelCard, save_bundle  # noqa: E402
from sand_gui.features import SEED_SPEC, FeatureSpec  # noqa: E402
from sand_gui.model import Classifier, build_network  # noqa: E402
from sand_gui.pipeline import analyze, prepare_task  # noqa: E402
from sand_gui.tasks import TASK_IDS, get_task  # noqa: E402

SMALL_SPEC = FeatureSpec(
    sample_rate=8000,
    n_fft=512,
    hop_length=128,
    n_mels=64,
    rhythm_band=(100.0, 4000.0),
    bandlimit_hz=4000.0,
    n_frames=128,
    vad_frame_length=512,
    vad_hop_length=128,
)


def write_patient(folder: Path, *, sr: int = 8000, seconds: float = 5.0) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for i, t in enumerate(TASK_IDS):
        x = (
            vowel(seconds, sr=sr, seed=i, lead=0.3)
            if get_task(t).family == "phonation"
            else ddk(seconds, sr=sr, seed=i, lead=0.3)
        )
        out[t] = folder / f"B001_{t}.wav"
        sf.write(out[t], x, sr, subtype="PCM_16")
    return out


def bundle_for(arch: str, spec: FeatureSpec, path: Path) -> Path:
    torch.manual_seed(0)
    net = build_network(arch, num_classes=5)
    return save_bundle(
        path,
        net.state_dict(),
        ModelCard(
            name=f"bench-{arch}",
            architecture=arch,
            spec=spec,
            training_data={"description": "random weights (benchmark)", "synthetic": True},
        ),
    )


def median_time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_analyze(arch: str, spec: FeatureSpec, tmp: Path, *, device: str, repeats: int) -> dict:
    recs = write_patient(tmp / arch, sr=8000)
    clf = Classifier.from_file(bundle_for(arch, spec, tmp / f"{arch}.safetensors"), device=device)
    prepared = [prepare_task(p, task_id=t, spec=spec)[0].windows for t, p in recs.items()]
    dev = clf.device.device

    def bare_per_task():  # the eight tensors, one forward each
        with torch.inference_mode():
            for w in prepared:
                torch.softmax(clf.network(w.to(dev)), -1).cpu()

    batch = torch.cat(prepared)

    def bare_batched():  # the eight tensors in one forward (what analyze does)
        with torch.inference_mode():
            torch.softmax(clf.network(batch.to(dev)), -1).cpu()

    t_task = median_time(bare_per_task, repeats)
    t_batch = median_time(bare_batched, repeats)
    t_full = median_time(lambda: analyze(recs, clf), repeats)
    return {
        "arch": arch,
        "device": clf.device.name,
        "windows": len(batch),
        "analyze_s": round(t_full, 3),
        "bare_forward_per_task_s": round(t_task, 3),
        "bare_forward_batched_s": round(t_batch, 3),
        "ratio_vs_per_task": round(t_full / t_task, 3),
        "ratio_vs_batched": round(t_full / t_batch, 3),
    }


def bench_features(tmp: Path, *, repeats: int) -> dict:
    import librosa

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_features import librosa_reference

    from sand_gui.features import compute_features

    out = {}
    for name, spec in (("seed 22.05 kHz/256 mels", SEED_SPEC), ("bundled 8 kHz/64 mels", SMALL_SPEC)):
        y = vowel(5.0, sr=spec.sample_rate, lead=0.0)
        wave = torch.from_numpy(y)
        ours = median_time(lambda: compute_features(wave, spec=spec, family="phonation"), repeats)  # noqa: B023
        ref = median_time(lambda: librosa_reference(y, spec, "phonation"), repeats)  # noqa: B023
        out[name] = {
            "sand_gui_ms": round(1000 * ours, 2),
            "librosa_ms": round(1000 * ref, 2),
            "speedup": round(ref / ours, 2),
        }
    out["librosa_version"] = librosa.__version__
    return out


def bench_memory(tmp: Path) -> dict:
    out = {}
    for arch, spec in (("convnext_atto", SMALL_SPEC), ("convnext_base", SEED_SPEC)):
        recs = write_patient(tmp / f"mem_{arch}", sr=8000)
        bundle = bundle_for(arch, spec, tmp / f"mem_{arch}.safetensors")
        # VmHWM (peak resident set of this process image); ru_maxrss would include the parent's
        code = (
            "import sys; from sand_gui.cli import main; rc=main(['analyze', sys.argv[1], '--model', sys.argv[2], '--device', 'cpu', '--json']);"
            "print('MAXRSS', [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0], file=sys.stderr)"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code, str(next(iter(recs.values())).parent), str(bundle)],
            capture_output=True,
            text=True,
        )
        rss = [l for l in proc.stderr.splitlines() if l.startswith("MAXRSS")]
        out[arch] = {
            "peak_rss_mb": round(int(rss[0].split()[1]) / 1024, 1) if rss else None,
            "bundle_mb": round(bundle.stat().st_size / 2**20, 1),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-base", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        report = {
            "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads, {platform.processor() or ''}".strip(
                ", "
            ),
            "torch": torch.__version__,
        }
        if args.device == "cuda":
            report["gpu"] = torch.cuda.get_device_name(0)
        report["a_analyze_vs_bare"] = [
            bench_analyze("convnext_atto", SMALL_SPEC, tmp, device=args.device, repeats=args.repeats)
        ]
        if not args.skip_base:
            report["a_analyze_vs_bare"].append(
                bench_analyze("convnext_base", SEED_SPEC, tmp, device=args.device, repeats=args.repeats)
            )
        report["b_features_per_5s_recording"] = bench_features(tmp, repeats=max(5, args.repeats))
        if args.device == "cpu":
            report["c_peak_memory"] = bench_memory(tmp)
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
