"""Bad input for the measures: never a crash, NaN or meaningless number, always a reason.

A measure that is undefined on a recording (no periodicity, too short, too few syllables,
unusable file) is "not measurable" with a ``Why`` code and one sentence on one line; results
stay strict JSON; without Praat every entry point says in one sentence what to install.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st
from sandtest import TEST_SPEC, ddk, vowel

from sand_gui.errors import SandError, UsageError
from sand_gui.measures import (
    DDK_MEASURES,
    VOWEL_MEASURES,
    Why,
    measure_patient,
    measure_recording,
    measure_task,
    settings_for,
)
from sand_gui.measures.voice import PERIODIC

SR = 8000


def assert_well_formed(res) -> dict:
    """Every measure finite or not measurable with a code and a one-line sentence; strict JSON."""
    for m in res.measures:
        if m.value is None:
            assert isinstance(m.why, Why) and m.reason and "\n" not in m.reason and m.reason.endswith(".")
            assert m.flag is None
        else:
            assert math.isfinite(m.value) and m.why is None and m.reason is None
    return json.loads(json.dumps(res.to_dict(), allow_nan=False))


def test_noise_has_no_periodicity_but_keeps_cpps_and_unvoiced_fraction():
    noise = (0.2 * np.random.default_rng(0).standard_normal(int(1.5 * SR))).astype(np.float32)
    res = measure_task(noise, sample_rate=SR, task_id="phonationA", sex="F")
    for key in PERIODIC:
        m = res.get(key)
        assert m.value is None and m.why is Why.NO_PERIODICITY
        assert m.reason.startswith("only ") and "100-500 Hz" in m.reason
    assert res.get("cpps_db").value < 14.45  # measurable, and below the healthy cutoff
    assert res.get("unvoiced_fraction").value > 50
    assert_well_formed(res)


@pytest.mark.parametrize("n", [0, 1, 400, int(0.2 * SR)])
def test_too_short_vowel_is_not_measurable(n):
    res = measure_task(np.zeros(n, dtype=np.float32) + 0.01, sample_rate=SR, task_id="phonationI")
    assert res.get("phonation_seconds").value == pytest.approx(n / SR)
    for key in VOWEL_MEASURES:
        if key != "phonation_seconds":
            assert res.get(key).why is Why.TOO_SHORT, key
    assert_well_formed(res)


@pytest.mark.parametrize("signal", ["silence", "empty", "noise", "one_click"])
def test_ddk_without_syllables(signal):
    rng = np.random.default_rng(1)
    x = {
        "silence": np.zeros(2 * SR),
        "empty": np.zeros(0),
        "noise": 0.1 * rng.standard_normal(2 * SR),
        "one_click": np.pad(np.hanning(400), (SR, SR)),
    }[signal]
    res = measure_task(x.astype(np.float32), sample_rate=SR, task_id="rhythmKA")
    assert res.get("syllable_count").value <= 1
    assert res.get("ddk_rate").why is Why.TOO_FEW_SYLLABLES
    assert_well_formed(res)


def test_non_finite_samples_give_a_row_with_the_reason():
    x = vowel(1.0, sr=SR)
    x[100] = np.nan
    res = measure_task(x, sample_rate=SR, task_id="phonationU", file="ID9_phonationU.wav")
    assert res.error == "ID9_phonationU.wav: the samples contain NaN or infinite values."
    assert res.error_code == "non_finite"
    assert all(m.why is Why.RECORDING for m in res.measures)
    assert_well_formed(res)


@pytest.mark.parametrize("kind", ["text", "silent", "short", "missing"])
def test_unusable_files_give_a_row_naming_the_file(tmp_path, kind):
    path = tmp_path / "ID7_rhythmPA.wav"
    if kind == "text":
        path.write_text("not audio")
    elif kind == "silent":
        sf.write(path, np.zeros(2 * SR, dtype=np.float32), SR)
    elif kind == "short":
        sf.write(path, ddk(0.3, sr=SR, lead=0.0), SR)
    res = measure_recording(path, task_id="rhythmPA", spec=TEST_SPEC)
    assert res.error and res.error.startswith("ID7_rhythmPA.wav: ") and "\n" not in res.error
    assert (
        res.error_code == {"text": "unreadable", "silent": "silent", "short": "too_short", "missing": "not_found"}[kind]
    )
    assert [m.key for m in res.measures] == list(DDK_MEASURES)
    assert all(m.why is Why.RECORDING and m.reason == res.error for m in res.measures)
    assert_well_formed(res)


def test_a_patient_with_bad_and_missing_recordings_still_gets_the_rest(tmp_path):
    good = tmp_path / "ID8_rhythmTA.wav"
    sf.write(good, ddk(2.5, sr=SR, rate=5.0, seed=2), SR, subtype="PCM_16")
    bad = tmp_path / "ID8_phonationA.wav"
    bad.write_bytes(b"RIFF....WAVEfmt garbage")
    res = measure_patient({"rhythmTA": good, "phonationA": bad}, spec=TEST_SPEC, sex="m")
    assert res.task("phonationA").error and res.task("rhythmTA").error is None
    assert res.task("rhythmTA").get("ddk_rate").value == pytest.approx(5.0, rel=0.03)
    area = res.get("vowel_space_area")
    assert area.why is Why.MISSING and area.reason == "F1/F2 not measurable for phonationA, phonationI, phonationU."
    d = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert d["sex"] == "M" and len(d["missing_tasks"]) == 6


def test_a_sample_rate_below_the_loaders_is_one_usage_sentence():
    with pytest.raises(UsageError) as err:
        measure_task(np.zeros(2000, dtype=np.float32), sample_rate=1000, task_id="phonationA")
    assert str(err.value) == "sample rate 1000 Hz is too low for the measures; at least 4000 Hz is needed."


def test_unknown_sex_is_one_usage_sentence():
    with pytest.raises(UsageError) as err:
        settings_for(sex="x\ny", sample_rate=SR)
    assert str(err.value) == "sex 'x\\\\ny' is not understood; use M, F or leave it empty for unknown."


def test_without_parselmouth_every_entry_point_says_what_to_install(tmp_path):
    code = textwrap.dedent("""
        import sys
        sys.modules["parselmouth"] = None  # as if praat-parselmouth were not installed
        import numpy as np
        import sand_gui.measures as m  # importing needs no Praat
        from sandtest import TEST_SPEC
        for call in (lambda: m.measure_task(np.zeros(8000), sample_rate=8000, task_id="phonationA"),
                     lambda: m.measure_recording("x.wav", task_id="rhythmPA", spec=TEST_SPEC),
                     lambda: m.measure_patient({"rhythmPA": "x.wav"}, spec=TEST_SPEC)):
            try:
                call()
            except m.MeasuresUnavailable as exc:
                assert isinstance(exc, __import__("sand_gui.errors").errors.SandError)
                print(exc)
    """)
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(tmp_path),
        env={**__import__("os").environ, "PYTHONPATH": str(__import__("pathlib").Path(__file__).parent)},
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    sentence = (
        "Praat measures need praat-parselmouth, which is not installed; install it with "
        "pip install 'sand-gui[measures]'."
    )
    assert lines == [sentence] * 3


@settings(max_examples=12, deadline=None)
@given(
    kind=st.sampled_from(["noise", "sine", "silence", "clicks", "vowel", "ddk", "dc"]),
    seconds=st.floats(min_value=0.0, max_value=1.2),
    level=st.floats(min_value=1e-6, max_value=1.0),
    task=st.sampled_from(["phonationA", "phonationO", "rhythmPA"]),
    sex=st.sampled_from(["M", "F", None]),
)
def test_any_signal_gives_finite_values_or_reasons(kind, seconds, level, task, sex):
    n = int(seconds * SR)
    rng = np.random.default_rng(n)
    t = np.arange(n) / SR
    make = {
        "noise": lambda: rng.standard_normal(n),
        "sine": lambda: np.sin(2 * np.pi * 220 * t),
        "silence": lambda: np.zeros(n),
        "clicks": lambda: (np.arange(n) % 997 == 0).astype(float),
        "vowel": lambda: vowel(1.2, sr=SR, lead=0.0)[:n],
        "ddk": lambda: ddk(1.2, sr=SR, lead=0.0)[:n],
        "dc": lambda: np.ones(n),
    }
    x = make[kind]()
    res = measure_task((level * x).astype(np.float32), sample_rate=SR, task_id=task, sex=sex)
    assert_well_formed(res)
    assert isinstance(res.error, (str, type(None)))


@pytest.mark.slow
def test_measuring_in_processes_gives_the_same_result(tmp_path):
    files = {}
    for task_id, x in (("phonationA", vowel(1.0, sr=SR, f0=130.0)), ("rhythmKA", ddk(2.0, sr=SR, rate=6.0))):
        files[task_id] = tmp_path / f"ID5_{task_id}.wav"
        sf.write(files[task_id], x, SR, subtype="PCM_16")
    here = measure_patient(files, spec=TEST_SPEC, sex="F").to_dict()
    there = measure_patient(files, spec=TEST_SPEC, sex="F", workers=2).to_dict()
    for a, b in zip(here["tasks"], there["tasks"]):
        assert [m["value"] for m in a["measures"]] == [m["value"] for m in b["measures"]]
    assert isinstance(SandError, type)
