"""The generator's families: each renders, differs measurably from its sibling, and is drawn, restricted
and recorded as asked (``training.synth.families``, ``source_lf``, ``tract_parallel``, ``ddk``)."""

from __future__ import annotations

import csv
import filecmp
import json
import shutil

import numpy as np
import pytest
from scipy.signal import find_peaks

from sand_gui.errors import UsageError
from training.cli import main
from training.synth import LEGACY, Families, generate_corpus
from training.synth.corpus import plan_patients
from training.synth.ddk import Articulation, TrainSpec, ddk_train, syllable_onsets
from training.synth.families import KINDS, draw_voice
from training.synth.render import render_patient
from training.synth.source import SourceSpec, glottal_source
from training.synth.source_lf import lf_flow, lf_timing, rd_for_open_quotient
from training.synth.tract_parallel import Tract
from training.synth.vowels import vocal_tract, vowel_formants

SR = 8000
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")


def band_db(x: np.ndarray, lo: float, hi: float) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    f = np.fft.rfftfreq(len(x), 1 / SR)
    return float(10 * np.log10(spectrum[(f >= lo) & (f < hi)].sum()))


def steady_source(model: str, open_quotient: float):
    spec = SourceSpec(
        f0_hz=120.0,
        jitter=0.0,
        shimmer=0.0,
        tremor_hz=5.0,
        tremor_depth=0.0,
        breaks_per_s=0.0,
        creak_fraction=0.0,
        open_quotient=open_quotient,
        drift=0.0,
        model=model,
    )
    return glottal_source(2 * SR, spec=spec, sample_rate=SR, rng=np.random.default_rng(0))


# --- source ----------------------------------------------------------------------------------


def test_lf_follows_fants_rd_regressions():
    """Fant (1995): Rd = 1 gives tp 0.484, te 0.650, ta 0.038 of the period; the flow opens from
    and closes to zero, peaks at 1, and the Rd matching an open quotient puts te there."""
    tp, te, ta = lf_timing(1.0)
    assert (round(tp, 3), round(te, 3), round(ta, 3)) == (0.484, 0.65, 0.038)
    flow = lf_flow(np.linspace(0.0, 1.0, 1001), rd=1.0)
    assert flow[0] == 0.0 and flow[-1] < 1e-3 and abs(flow.max() - 1.0) < 1e-3
    assert abs(np.argmax(flow) / 1000 - tp) < 0.01
    for oq in (0.55, 0.65, 0.75):
        assert abs(lf_timing(rd_for_open_quotient(oq))[1] - oq) < 0.005


@pytest.mark.parametrize("open_quotient", [0.55, 0.75])
def test_lf_and_rosenberg_differ_in_spectral_tilt(open_quotient):
    """The LF return phase softens the closure: 2-4 kHz re 0-1 kHz of the excitation falls at least
    5 dB more than Rosenberg's abrupt closure gives, at the healthy and at the severe open quotient."""
    tilt = {
        m: band_db(steady_source(m, open_quotient).excitation, 2000, 4000)
        - band_db(steady_source(m, open_quotient).excitation, 0, 1000)
        for m in ("rosenberg", "lf")
    }
    assert tilt["lf"] < tilt["rosenberg"] - 5.0, tilt


def test_lf_grows_breathier_with_the_severity_open_quotient():
    """The same severity row (open quotient 0.55 -> 0.75) steepens the LF tilt by more than 5 dB."""
    tilt = [
        band_db(steady_source("lf", oq).excitation, 2000, 4000) - band_db(steady_source("lf", oq).excitation, 0, 1000)
        for oq in (0.55, 0.75)
    ]
    assert tilt[1] < tilt[0] - 5.0, tilt


# --- tract -----------------------------------------------------------------------------------


@pytest.mark.parametrize("vowel", ["a", "i", "u"])
def test_parallel_and_cascade_say_the_same_vowel_with_another_spectrum(vowel):
    """Same formants (F2 peak within 3 %), but the parallel band-pass bank drops the region below
    150 Hz by at least 6 dB more than the cascade."""
    impulse = np.zeros(4096)
    impulse[0] = 1.0
    formants = vowel_formants(vowel, sex="M", tract_scale=1.0, centralisation=0.0)
    f = np.fft.rfftfreq(4096, 1 / SR)
    low = {}
    for model in ("cascade", "parallel"):
        h = vocal_tract(impulse, formants=formants, nasality=0.0, sample_rate=SR, tract=Tract(model))
        spectrum = 20 * np.log10(np.abs(np.fft.rfft(h)) + 1e-12)
        peaks, _ = find_peaks(spectrum, prominence=3)
        assert np.min(np.abs(f[peaks] - formants[1])) < 0.03 * formants[1], (model, f[peaks])
        low[model] = spectrum[(f > 50) & (f < 150)].mean() - spectrum[peaks].max()
    assert low["parallel"] < low["cascade"] - 6.0, low


# --- articulation ----------------------------------------------------------------------------


def test_articulation_b_keeps_the_rate_and_glides_from_the_velar_locus():
    """Styles a and b read the same rate and rhythm (same syllables and realised rate for one seed);
    b's /ka/ vowels start from the velar pinch (1-2.6 kHz centroid 40-60 ms after the release more than
    100 Hz above mid-vowel), a's do not (within 60 Hz)."""
    src = SourceSpec(
        f0_hz=120, jitter=0.005, shimmer=0.02, tremor_hz=5, tremor_depth=0.005, breaks_per_s=0, creak_fraction=0.0
    )
    spec = TrainSpec("ka", 5.0, 0.1, 0.0, 0.0, 4.0)

    def centroid(seg):
        s = np.abs(np.fft.rfft(seg * np.hanning(len(seg)), 1024)) ** 2
        f = np.fft.rfftfreq(1024, 1 / SR)
        m = (f >= 900) & (f < 2600)
        return (s[m] * f[m]).sum() / s[m].sum()

    shift, facts = {}, {}
    for style in ("a", "b"):
        y, facts[style] = ddk_train(
            spec,
            source=src,
            sex="M",
            tract_scale=1.0,
            centralisation=0.0,
            nasality=0.05,
            hnr_db=30.0,
            sample_rate=SR,
            rng=np.random.default_rng(1),
            articulation=Articulation(style, 0.35, 1.0, 0.05, 0.003),
        )
        r = np.random.default_rng(1)  # ddk_train's first draws: the syllable bounds, then the first closure
        bounds = syllable_onsets(spec, rng=r)
        release = r.uniform(0.03, 0.06) + bounds[:-1]
        early = [centroid(y[int((t + 0.04) * SR) : int((t + 0.06) * SR)]) for t in release]
        mid = [centroid(y[int((t + 0.10) * SR) : int((t + 0.12) * SR)]) for t in release]
        shift[style] = float(np.median(np.array(early) - np.array(mid)))
    assert facts["a"]["syllables"] == facts["b"]["syllables"] and facts["a"]["rate"] == facts["b"]["rate"]
    assert shift["b"] > 100.0 and abs(shift["a"]) < 60.0, shift


# --- drawing, restricting, recording ---------------------------------------------------------


def test_every_family_is_drawn_and_each_ingredient_has_its_own_stream():
    voices = [draw_voice(seed=0, index=i, sex="F", families=Families()) for i in range(120)]
    for kind, key in (
        ("sources", "source"),
        ("tracts", "tract"),
        ("articulations", "articulation"),
        ("channels", "channel"),
    ):
        seen = [v.families()[key] for v in voices]
        assert set(seen) == set(KINDS[kind])
        assert min(seen.count(f) for f in KINDS[kind]) >= 120 / len(KINDS[kind]) / 2.5
    restricted = [draw_voice(seed=0, index=i, sex="F", families=Families(sources=("lf",))) for i in range(120)]
    assert all(v.source == "lf" for v in restricted)
    assert [v.tract for v in restricted] == [v.tract for v in voices]
    assert [v.channel for v in restricted] == [v.channel for v in voices]


def test_families_never_touch_the_severity_parameters():
    plan = plan_patients(5, seed=4)[2]
    legacy, _ = render_patient(plan, seed=4, sample_rate=SR, families=LEGACY)
    other, _ = render_patient(
        plan, seed=4, sample_rate=SR, families=Families(("lf",), ("parallel",), ("b",), ("badphone",))
    )
    assert legacy["params"] == other["params"]
    assert legacy["families"] == {
        "source": "rosenberg",
        "tract": "cascade",
        "articulation": "a",
        "channel": "smartphone",
    }
    assert other["families"] == {"source": "lf", "tract": "parallel", "articulation": "b", "channel": "badphone"}


def test_selection_is_honoured_and_recorded_in_labels_and_json(tmp_path):
    out = tmp_path / "c"
    args = [
        "synth",
        str(out),
        "--patients",
        "3",
        "--seed",
        "2",
        "--quiet",
        "--sources",
        "lf",
        "--tracts",
        "parallel",
        "--articulations",
        "b",
        "--channels",
        "noisy,badphone",
    ]
    assert main(args) == 0
    meta = json.loads((out / "synthetic.json").read_text())
    assert meta["families"] == {
        "sources": ["lf"],
        "tracts": ["parallel"],
        "articulations": ["b"],
        "channels": ["noisy", "badphone"],
    }
    with open(out / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["ID"] for r in rows] == [p["id"] for p in meta["patients"]]
    for row, p in zip(rows, meta["patients"]):
        assert (row["Source"], row["Tract"], row["Articulation"]) == ("lf", "parallel", "b")
        assert row["Channel"] in ("noisy", "badphone") and row["Channel"] == p["families"]["channel"]
        assert p["voice"]["channel"]["family"] == row["Channel"] and p["voice"]["source"]["model"] == "lf"


def test_unknown_families_are_refused_in_one_line(tmp_path, capsys):
    with pytest.raises(
        UsageError, match=r"^tracts: lpc\\n is not a known family; use a subset of cascade, parallel\.$"
    ):
        Families(tracts=("lpc\n",))
    assert main(["synth", str(tmp_path / "c"), "--patients", "1", "--seed", "0", "--channels", "phone"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "channels: phone is not a known family" in err[0]
    assert not (tmp_path / "c").exists()


@needs_ffmpeg
def test_codec_channels_give_the_same_bytes_for_one_seed(tmp_path):
    """VoIP (Opus through ffmpeg) and telephone patients: one seed, identical files, in one process or two."""
    fam = Families(channels=("voip", "telephone"))
    a = generate_corpus(tmp_path / "a", patients=2, seed=9, families=fam)
    b = generate_corpus(tmp_path / "b", patients=2, seed=9, families=fam, workers=2)
    files = sorted(str(p.relative_to(a.root)) for p in a.root.rglob("*") if p.is_file())
    _, mismatch, errors = filecmp.cmpfiles(a.root, b.root, files, shallow=False)
    assert len(files) == 19 and not mismatch and not errors
    assert {p["families"]["channel"] for p in json.loads((a.root / "synthetic.json").read_text())["patients"]} <= {
        "voip",
        "telephone",
    }
