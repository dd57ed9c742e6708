"""How hard the synthetic task is: a simple classifier on the TRUE per-patient parameters.

No audio is rendered: patients are drawn exactly as ``generate_corpus`` draws them and a
standardised multinomial logistic regression (scikit-learn) is scored by patient-level
macro-F1 over a stratified k-fold split. Anything trained on the audio sees these
parameters only through noise, so its score should stay at or below this figure.
``audio_baseline_f1`` gives the other end: a logistic regression on crude mel statistics of
the audio itself.

    .venv/bin/python -m training.synth.difficulty [CORPUS]   # prints the figures for the docs
"""

from __future__ import annotations

import json
import sys

import numpy as np

from .corpus import plan_patients
from .severity import PARAM_NAMES, draw_patient

FEATURES = ("f0_hz", "tremor_hz", *PARAM_NAMES)  # everything but the latent severity itself


def true_parameters(patients: int, *, seed: int, class_priors: str = "sand") -> tuple[np.ndarray, np.ndarray]:
    """Features [shape=(patients, len(FEATURES))] and classes [shape=(patients,)] of a corpus plan."""
    rows, labels = [], []
    for plan in plan_patients(patients, seed=seed, class_priors=class_priors):
        rng = np.random.default_rng([seed, plan.index, 1])  # the stream render_patient uses
        params = draw_patient(plan.klass, sex=plan.sex, age=plan.age, rng=rng)
        rows.append([params[k] for k in FEATURES] + [plan.sex == "M"])
        labels.append(plan.klass)
    return np.asarray(rows, dtype=float), np.asarray(labels)


def true_parameter_f1(
    patients: int = 300, *, seed: int = 0, class_priors: str = "sand", folds: int = 5, model: str = "logistic"
) -> float:
    """Patient-level macro-F1 of ``model`` ("logistic" or "centroid") on the true parameters."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.neighbors import NearestCentroid
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = true_parameters(patients, seed=seed, class_priors=class_priors)
    clf = LogisticRegression(max_iter=2000, class_weight="balanced") if model == "logistic" else NearestCentroid()
    split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    pred = cross_val_predict(make_pipeline(StandardScaler(), clf), x, y, cv=split)
    return float(f1_score(y, pred, average="macro"))


def audio_features(samples: np.ndarray, *, sample_rate: int) -> np.ndarray:
    """Simple statistics of one trimmed recording [shape=(n,)] -> [shape=(99,)]: per 32-band
    mel dB mean, s.d. and mean |frame difference|, duration, envelope modulation peak and s.d."""
    import librosa

    hop = 128
    S = librosa.power_to_db(
        librosa.feature.melspectrogram(
            y=samples, sr=sample_rate, n_fft=512, hop_length=hop, n_mels=32, fmin=50.0, fmax=sample_rate / 2
        ),
        ref=np.max,
        top_db=80.0,
    )
    env = S.mean(axis=0)
    mod = np.abs(np.fft.rfft(env - env.mean(), n=1024))
    freqs = np.fft.rfftfreq(1024, d=hop / sample_rate)
    band = (freqs > 1.0) & (freqs < 12.0)
    return np.concatenate(
        [
            S.mean(1),
            S.std(1),
            np.abs(np.diff(S, axis=1)).mean(1),
            [len(samples) / sample_rate, freqs[band][np.argmax(mod[band])], env.std()],
        ]
    )


def audio_baseline_f1(root, *, folds: int = 5, seed: int = 0) -> float:
    """Patient-level macro-F1 of a logistic regression on ``audio_features`` of all eight
    tasks of each patient of a corpus at ``root`` (trimmed with the app's VAD settings)."""
    from pathlib import Path

    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sand_gui.audio import load_recording
    from sand_gui.dataset import SandLayout
    from sand_gui.errors import AudioError
    from sand_gui.features import FeatureSpec, trim
    from sand_gui.tasks import TASK_IDS

    layout = SandLayout(Path(root))
    rate = json.loads((layout.root / "synthetic.json").read_text())["sample_rate"]
    spec = FeatureSpec(sample_rate=rate, n_fft=512, hop_length=128, n_mels=64, vad_frame_length=512, vad_hop_length=128)
    rows, labels, refused = [], [], 0
    for patient in layout.patients():
        feats = []
        for task_id in TASK_IDS:
            x = load_recording(layout.audio_path(patient.id, task_id), sample_rate=rate).samples
            try:
                kept = trim(x, spec=spec)
            except AudioError:  # the app refuses it (no voice found): the model would never see it either
                refused += 1
                feats.append(None)
                continue
            feats.append(audio_features(x[kept.start : kept.stop], sample_rate=rate))
        size = next(len(f) for f in feats if f is not None)
        rows.append(np.concatenate([f if f is not None else np.zeros(size) for f in feats]))
        labels.append(patient.label)
    if refused:
        print(f"{refused} recordings refused by the app's checks (features set to 0)", file=sys.stderr)
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=3000, class_weight="balanced"))
    pred = cross_val_predict(
        clf, np.asarray(rows), np.asarray(labels), cv=StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    )
    return float(f1_score(labels, pred, average="macro"))


if __name__ == "__main__":
    for priors in ("sand", "uniform"):
        for model in ("logistic", "centroid"):
            scores = [true_parameter_f1(300, seed=s, class_priors=priors, model=model) for s in range(10)]
            print(
                f"{priors:8s} {model:9s} macro-F1 {np.mean(scores):.3f} +/- {np.std(scores):.3f} "
                "(true parameters, 10 seeds x 5 folds, 300 patients)"
            )
    if len(sys.argv) > 1:
        print(f"audio baseline macro-F1 {audio_baseline_f1(sys.argv[1]):.3f} (5 folds, {sys.argv[1]})")
