"""The synthetic corpus: measured on its audio with independent tools, read back by sand_gui.

F0 comes from Praat (parselmouth), HNR from Praat's cross-correlation harmonicity, syllable
rates from counting envelope peaks; the layout is read by ``sand_gui.dataset`` and every file
loaded by ``sand_gui.audio`` and trimmed by the app's VAD.
"""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import butter, find_peaks, sosfiltfilt

from sand_gui.audio import load_recording
from sand_gui.classes import CLASS_NUMBERS
from sand_gui.dataset import (
    MANIFEST,
    TRAIN_SHEET,
    TRAINING_SHEET,
    VALIDATION_SHEET,
    WORKBOOK,
    SandLayout,
    read_manifest,
    read_sheet,
)
from sand_gui.errors import UsageError
from sand_gui.features import FeatureSpec, trim
from sand_gui.resources import demo_dir
from sand_gui.tasks import PHONATION, RHYTHM, TASK_IDS, get_task
from training.synth import class_counts, generate_corpus, largest_remainder, plan_patients
from training.synth.families import Families

parselmouth = pytest.importorskip("parselmouth")

SR = 8000
SPEC = FeatureSpec(
    sample_rate=SR,
    n_fft=512,
    hop_length=128,
    n_mels=64,
    rhythm_band=(100.0, 4000.0),
    vad_frame_length=512,
    vad_hop_length=128,
)
PHONATION_TASKS = [t for t in TASK_IDS if get_task(t).family == PHONATION]
RHYTHM_TASKS = [t for t in TASK_IDS if get_task(t).family == RHYTHM]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Ten patients, two per class, every voice family on a clean phone, and what the generator says about them."""
    root = tmp_path_factory.mktemp("synth") / "corpus"
    calls = []
    summary = generate_corpus(
        root,
        patients=10,
        seed=7,
        class_priors="uniform",
        progress=lambda done, total: calls.append((done, total)),
        families=Families(channels=("smartphone",)),
    )
    assert calls[-1] == (10, 10)
    meta = json.loads((root / "synthetic.json").read_text())
    return root, summary, {p["id"]: p for p in meta["patients"]}


def load(path: Path) -> np.ndarray:
    return load_recording(path, sample_rate=SR).samples.astype(np.float64)


def praat_f0(x: np.ndarray) -> float:
    pitch = parselmouth.Sound(x, sampling_frequency=SR).to_pitch(pitch_floor=60.0, pitch_ceiling=500.0)
    f0 = pitch.selected_array["frequency"]
    return float(np.median(f0[f0 > 0]))


def praat_hnr(x: np.ndarray) -> float:
    h = parselmouth.Sound(x, sampling_frequency=SR).to_harmonicity_cc(minimum_pitch=60.0)
    v = h.values[h.values > -200]
    return float(v.mean())


def envelope_rate(x: np.ndarray) -> float:
    """Syllables/s from vowel-nucleus peaks: 20 ms RMS of the 150-1200 Hz band every 5 ms,
    peaks 6 dB above their dips and at least 80 ms apart."""
    x = sosfiltfilt(butter(4, (150.0, 1200.0), btype="bandpass", fs=SR, output="sos"), x)
    frame, hop = int(0.02 * SR), int(0.005 * SR)
    n = 1 + (len(x) - frame) // hop
    idx = np.arange(frame)[None, :] + hop * np.arange(n)[:, None]
    db = 10 * np.log10(np.mean(x[idx] ** 2, axis=1) + 1e-12)
    db = np.convolve(db, np.ones(5) / 5, mode="same")
    peaks, _ = find_peaks(db, prominence=6.0, distance=int(0.08 / 0.005), height=db.max() - 25)
    return (len(peaks) - 1) / ((peaks[-1] - peaks[0]) * hop / SR)


# --- class priors -------------------------------------------------------------------------


def test_sand_priors_reproduce_the_training_set():
    assert class_counts(272, class_priors="sand") == {1: 6, 2: 26, 3: 57, 4: 76, 5: 107}
    assert class_counts(300, class_priors="sand") == {1: 6, 2: 29, 3: 63, 4: 84, 5: 118}


@pytest.mark.parametrize("n", [5, 6, 7, 11, 23, 300, 1001])
def test_class_counts_sum_and_cover_every_class(n):
    for priors in ("sand", "uniform"):
        counts = class_counts(n, class_priors=priors)
        assert sum(counts.values()) == n
        assert min(counts.values()) >= 1
        assert counts == class_counts(n, class_priors=priors)
    uniform = class_counts(n, class_priors="uniform")
    assert max(uniform.values()) - min(uniform.values()) <= 1


def test_largest_remainder_breaks_ties_by_class():
    assert largest_remainder({1: 1, 2: 1, 3: 1}, 5) == {1: 2, 2: 2, 3: 1}
    assert class_counts(3, class_priors="sand") == {1: 0, 2: 0, 3: 1, 4: 1, 5: 1}


def test_split_is_stratified_80_20():
    plans = plan_patients(300, seed=1)
    val = [p for p in plans if p.split == "validation"]
    assert len(val) == 60
    for c in CLASS_NUMBERS:
        members = [p for p in plans if p.klass == c]
        share = sum(p.split == "validation" for p in members) / len(members)
        assert abs(share - 0.2) <= 1.0 / len(members) + 1e-9
    assert 0.45 < np.mean([p.sex == "M" for p in plans]) < 0.65
    assert all(18 <= p.age <= 90 for p in plans)


# --- layout -------------------------------------------------------------------------------


def test_layout_reads_back(corpus):
    root, summary, truth = corpus
    layout = SandLayout(root)
    everyone = layout.patients()
    assert [p.id for p in everyone] == [f"ID{i:03d}" for i in range(10)] == summary.ids
    assert {p.id: p.label for p in everyone} == {k: v["class"] for k, v in truth.items()}
    assert all(p.sex in ("M", "F") and 18 <= p.age <= 90 for p in everyone)
    train = read_sheet(root / WORKBOOK, TRAIN_SHEET)
    val = read_sheet(root / WORKBOOK, VALIDATION_SHEET)
    assert sorted(p.id for p in train + val) == [p.id for p in read_sheet(root / WORKBOOK, TRAINING_SHEET)]
    assert len(val) == 2
    assert read_manifest(root / MANIFEST) == everyone
    for p in everyone:
        found = layout.recordings(p.id)
        assert sorted(found) == sorted(TASK_IDS)
        assert all(path == layout.audio_path(p.id, t) for t, path in found.items())


def test_every_recording_loads_and_trims_to_the_voice(corpus):
    root, _, truth = corpus
    layout = SandLayout(root)
    for pid, facts in truth.items():
        for task_id, path in layout.recordings(pid).items():
            rec = load_recording(path, sample_rate=SR)
            assert rec.source_rate == SR and rec.source_channels == 1
            kept = trim(rec.samples, spec=SPEC, name=path.name)
            fact = facts["recordings"][task_id]
            assert abs(kept.start / SR - fact["first_s"]) < 0.1, (path.name, kept.start / SR, fact["first_s"])
            assert abs(kept.stop / SR - fact["last_s"]) < 0.1, (path.name, kept.stop / SR, fact["last_s"])
            assert kept.start / SR > 0.2 and (kept.n_samples - kept.stop) / SR > 0.2


def test_other_sample_rates_on_request(tmp_path):
    generate_corpus(tmp_path / "c", patients=1, seed=3, sample_rate=16000)
    rec = load_recording(tmp_path / "c" / "training" / "rhythmTA" / "ID000_rhythmTA.wav", sample_rate=16000)
    assert rec.source_rate == 16000 and rec.seconds > 3


# --- the audio measures what the parameters say ------------------------------------------


def test_f0_matches_target(corpus):
    """Praat's F0 within 5 % of the target. In class 1 (jitter ~2-4 %, HNR ~10 dB, creak) Praat
    may halve F0 on a vowel, as it does on real severe dysarthria: there, only the patient's
    median vowel is held to 5 %."""
    root, _, truth = corpus
    worst, worst_severe = 0.0, 0.0
    for pid, facts in truth.items():
        errors = []
        for task_id in PHONATION_TASKS:
            target = facts["recordings"][task_id]["f0_hz"]
            errors.append(abs(praat_f0(load(root / "training" / task_id / f"{pid}_{task_id}.wav")) / target - 1))
        if facts["class"] == 1:
            worst_severe = max(worst_severe, float(np.median(errors)))
        else:
            worst = max(worst, max(errors))
    assert worst < 0.05, f"worst F0 error {worst:.1%}"
    assert worst_severe < 0.05, f"worst class-1 median F0 error {worst_severe:.1%}"


def test_syllable_rate_matches_target(corpus):
    """Envelope-counted rate within 10 % of the target (15 % in class 1, where most closures
    are incomplete and a syllable's dip can vanish); the median error is small."""
    root, _, truth = corpus
    errors = {c: [] for c in CLASS_NUMBERS}
    for pid, facts in truth.items():
        for task_id in RHYTHM_TASKS:
            target = facts["recordings"][task_id]["rate_target"]
            rate = envelope_rate(load(root / "training" / task_id / f"{pid}_{task_id}.wav"))
            errors[facts["class"]].append(abs(rate / target - 1))
    mild = [e for c in (2, 3, 4, 5) for e in errors[c]]
    assert max(mild) < 0.10, f"worst rate error {max(mild):.1%}"
    assert max(errors[1]) < 0.15, f"worst class-1 rate error {max(errors[1]):.1%}"
    assert np.median(mild + errors[1]) < 0.03


def test_hnr_falls_with_severity(corpus):
    root, _, truth = corpus
    by_class: dict[int, list[float]] = {c: [] for c in CLASS_NUMBERS}
    for pid, facts in truth.items():
        for task_id in ("phonationA", "phonationO"):
            by_class[facts["class"]].append(praat_hnr(load(root / "training" / task_id / f"{pid}_{task_id}.wav")))
    mean = {c: np.mean(v) for c, v in by_class.items()}
    assert mean[5] > 15.0
    assert mean[5] - mean[1] > 6.0
    assert mean[5] > mean[3] > mean[1]


def test_ddk_slows_with_severity(corpus):
    _, _, truth = corpus
    rate = {c: np.mean([p["params"]["ddk_rate"] for p in truth.values() if p["class"] == c]) for c in CLASS_NUMBERS}
    assert rate[5] > rate[3] > rate[1]


def test_true_parameters_are_informative_but_not_perfect():
    from training.synth.difficulty import true_parameter_f1

    f1 = true_parameter_f1(300, seed=0, model="centroid")
    assert 0.8 < f1 < 0.99


# --- determinism and bad input ------------------------------------------------------------


def test_same_seed_same_bytes(tmp_path):
    """One seed, identical bytes (in one process or two); another seed, other audio."""
    a = generate_corpus(tmp_path / "a", patients=2, seed=11)
    b = generate_corpus(tmp_path / "b", patients=2, seed=11, workers=2)
    files = sorted(p.relative_to(a.root) for p in a.root.rglob("*") if p.is_file())
    assert len(files) == 2 * 8 + 3
    assert files == sorted(p.relative_to(b.root) for p in b.root.rglob("*") if p.is_file())
    match, mismatch, errors = filecmp.cmpfiles(a.root, b.root, [str(f) for f in files], shallow=False)
    assert not mismatch and not errors
    c = generate_corpus(tmp_path / "c", patients=2, seed=12, id_offset=500)
    assert c.ids == ["ID500", "ID501"]
    assert (c.root / "training" / "phonationA" / "ID500_phonationA.wav").read_bytes() != (
        a.root / "training" / "phonationA" / "ID000_phonationA.wav"
    ).read_bytes()
    # regenerating into a previous synthetic corpus replaces it
    again = generate_corpus(tmp_path / "a", patients=1, seed=11)
    assert len(list((again.root / "training").rglob("*.wav"))) == 8


def test_bad_requests_are_refused(tmp_path):
    with pytest.raises(UsageError, match="at least 1"):
        generate_corpus(tmp_path / "x", patients=0, seed=0)
    with pytest.raises(UsageError, match="priors"):
        generate_corpus(tmp_path / "x", patients=5, seed=0, class_priors="clinic")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not empty"):
        generate_corpus(tmp_path / "busy", patients=5, seed=0)


# --- demo patients ------------------------------------------------------------------------


def test_demo_patients_load():
    root = demo_dir()
    layout = SandLayout(root)
    patients = layout.patients()
    assert [(p.id, p.label) for p in patients] == [(f"ID90{c}", c) for c in CLASS_NUMBERS]
    assert "SYNTHETIC" in (root / "README.md").read_text() and "SYNTHETIC" in (root / "synthetic.json").read_text()
    total = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    assert total < 4 * 1024 * 1024
    for p in patients:
        found = layout.recordings(p.id)
        assert sorted(found) == sorted(TASK_IDS)
        for path in found.values():
            trim(load_recording(path, sample_rate=SR).samples, spec=SPEC, name=path.name)
