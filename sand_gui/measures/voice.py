"""Sustained vowels: Praat's voice report measures, CPPS and formants of one trimmed recording.

Every number is computed by Praat (through praat-parselmouth's ``praat.call``) with the
commands and arguments in ``Settings.commands()``; this module only chooses the time range,
converts Praat's fractions to percent, and turns undefined results into "not measurable" with
the reason:

* shorter than ``MIN_SECONDS``: nothing but the phonation time is measurable (too short);
* less than ``MIN_PERIODIC_SECONDS`` of frames Praat calls voiced: F0, jitter, shimmer, HNR,
  voice breaks and formants are not measurable (no periodicity); CPPS and the fraction of
  unvoiced frames still are, since they describe exactly such a voice;
* Praat returning ``--undefined--`` for a measure: that measure only.

F0 statistics, F1 and F2 (medians of the Burg formant tracks) and the voice report (unvoiced
frames, voice breaks) are taken between the first and the last glottal pulse, so leading or trailing
breath does not count (the Praat manual, *Voice 1*: "you will not select the leading and
trailing silences when measuring this parameter").
"""

from __future__ import annotations

import math
import re

import numpy as np

from ..errors import one_line
from .results import VOWEL_MEASURES, Measure, Why, measured, not_measurable
from .settings import Settings, praat

MIN_SECONDS = 0.25  # below this Praat's 3-period pitch windows leave too few frames
MIN_PERIODIC_SECONDS = 0.5  # voiced frames needed for perturbation measures (50+ periods at 100 Hz)
PERIODIC = (
    "f0_mean_hz",
    "f0_sd_hz",
    "f0_sd_st",
    "f0_range_hz",
    "f0_range_st",
    "jitter_local",
    "jitter_rap",
    "jitter_ppq5",
    "shimmer_local",
    "shimmer_local_db",
    "shimmer_apq3",
    "shimmer_apq11",
    "hnr_db",
    "voice_breaks",
    "f1_hz",
    "f2_hz",
)
METHOD = {
    "f0_mean_hz": "f0",
    "f0_sd_hz": "f0",
    "f0_sd_st": "f0",
    "f0_range_hz": "f0",
    "f0_range_st": "f0",
    "jitter_local": "jitter",
    "jitter_rap": "jitter",
    "jitter_ppq5": "jitter",
    "shimmer_local": "shimmer",
    "shimmer_local_db": "shimmer",
    "shimmer_apq3": "shimmer",
    "shimmer_apq11": "shimmer",
    "hnr_db": "hnr",
    "cpps_db": "cpps",
    "unvoiced_fraction": "voicing",
    "voice_breaks": "voicing",
    "phonation_seconds": "",
    "f1_hz": "formants",
    "f2_hz": "formants",
}
_UNVOICED = re.compile(r"Fraction of locally unvoiced frames:.*?\(\s*(\d+)\s*/\s*(\d+)\s*\)")
_BREAKS = re.compile(r"Number of voice breaks:\s*(\d+)")


def _safe(parselmouth, fn):
    """``fn()``, or NaN when Praat refuses (a PraatError: too short, no pulses, ...)."""
    try:
        return fn()
    except parselmouth.PraatError:
        return math.nan


def parse_voice_report(text: str) -> tuple[float | None, int | None]:
    """(percentage of locally unvoiced frames, number of voice breaks) from Praat's voice report."""
    m = _UNVOICED.search(text)
    unvoiced = None
    if m and int(m.group(2)) > 0:
        unvoiced = 100.0 * int(m.group(1)) / int(m.group(2))
    b = _BREAKS.search(text)
    return unvoiced, (int(b.group(1)) if b else None)


def measure_vowel(samples: np.ndarray, *, sample_rate: int, task_id: str, settings: Settings) -> list[Measure]:
    """All vowel measures of a trimmed recording ``samples`` [shape=(n,)] at ``sample_rate``,
    in the order of ``VOWEL_MEASURES``."""
    parselmouth, call = praat()
    x = np.asarray(samples, dtype=np.float64)
    seconds = len(x) / sample_rate
    cmd = settings.commands()

    def method(key: str) -> str:
        return cmd.get(METHOD[key], "length of the kept (trimmed) range")

    out: dict[str, Measure] = {
        "phonation_seconds": measured(
            "phonation_seconds", seconds, task_id=task_id, method=method("phonation_seconds")
        ),
    }
    if seconds < MIN_SECONDS:
        reason = f"{seconds:.2f} s of signal; at least {MIN_SECONDS:.2f} s is needed."
        for key in VOWEL_MEASURES:
            out.setdefault(
                key, not_measurable(key, task_id=task_id, why=Why.TOO_SHORT, reason=reason, method=method(key))
            )
        return [out[k] for k in VOWEL_MEASURES]

    try:
        _praat_measures(
            out, parselmouth, call, x, sample_rate=sample_rate, task_id=task_id, settings=settings, method=method
        )
    except parselmouth.PraatError as exc:  # Praat refused this signal: whatever is left is undefined
        first = one_line(str(exc).strip().splitlines()[0] if str(exc).strip() else "no reason given", limit=120)
        first = first.rstrip(". ")
        for key in VOWEL_MEASURES:
            out.setdefault(
                key,
                not_measurable(
                    key,
                    task_id=task_id,
                    why=Why.UNDEFINED,
                    method=method(key),
                    reason=f"Praat could not analyse this recording ({first}).",
                ),
            )
    return [out[k] for k in VOWEL_MEASURES]


def _praat_measures(
    out: dict[str, Measure],
    parselmouth,
    call,
    x: np.ndarray,
    *,
    sample_rate: int,
    task_id: str,
    settings: Settings,
    method,
) -> None:
    """Fill ``out`` with the Praat measures of ``x`` (see ``measure_vowel``)."""
    snd = parselmouth.Sound(x, sampling_frequency=float(sample_rate))
    pitch = call(snd, "To Pitch (cc)", *settings.pitch_args())
    pulses = call([snd, pitch], "To PointProcess (cc)")
    voiced_seconds = float(np.count_nonzero(pitch.selected_array["frequency"] > 0)) * pitch.dt
    n_pulses = int(call(pulses, "Get number of points"))

    def put(key: str, value, undefined: str | None = None) -> None:
        out[key] = measured(key, value, task_id=task_id, method=method(key), undefined=undefined)

    cepstrogram = _safe(parselmouth, lambda: call(snd, "To PowerCepstrogram", *settings.cepstrogram_args()))
    cpps = (
        math.nan
        if isinstance(cepstrogram, float)
        else _safe(parselmouth, lambda: call(cepstrogram, "Get CPPS", *settings.cpps_args()))
    )
    put("cpps_db", cpps)
    t1 = call(pulses, "Get time from index", 1) if n_pulses >= 3 else 0.0
    t2 = call(pulses, "Get time from index", n_pulses) if n_pulses >= 3 else 0.0
    report = _safe(parselmouth, lambda: call([snd, pitch, pulses], "Voice report", *settings.voice_report_args(t1, t2)))
    unvoiced, breaks = parse_voice_report(report) if isinstance(report, str) else (None, None)
    put("unvoiced_fraction", unvoiced)

    if voiced_seconds < MIN_PERIODIC_SECONDS or n_pulses < 3:
        reason = (
            f"only {voiced_seconds:.2f} s of periodic voice found (Praat pitch, "
            f"{settings.pitch_floor:g}-{settings.pitch_ceiling:g} Hz); at least "
            f"{MIN_PERIODIC_SECONDS:.1f} s is needed."
        )
        for key in PERIODIC:
            out[key] = not_measurable(key, task_id=task_id, why=Why.NO_PERIODICITY, reason=reason, method=method(key))
        return

    put("f0_mean_hz", call(pitch, "Get mean", t1, t2, "Hertz"))
    put("f0_sd_hz", call(pitch, "Get standard deviation", t1, t2, "Hertz"))
    put("f0_sd_st", call(pitch, "Get standard deviation", t1, t2, "semitones"))
    lo = call(pitch, "Get minimum", t1, t2, "Hertz", "Parabolic")
    hi = call(pitch, "Get maximum", t1, t2, "Hertz", "Parabolic")
    put("f0_range_hz", hi - lo)
    put("f0_range_st", 12.0 * math.log2(hi / lo) if lo > 0 and hi > 0 else math.nan)
    for kind, key in (("local", "jitter_local"), ("rap", "jitter_rap"), ("ppq5", "jitter_ppq5")):
        put(
            key,
            100.0 * _safe(parselmouth, lambda k=kind: call(pulses, f"Get jitter ({k})", *settings.perturbation_args())),
        )
    for kind, key, scale in (
        ("local", "shimmer_local", 100.0),
        ("local_dB", "shimmer_local_db", 1.0),
        ("apq3", "shimmer_apq3", 100.0),
        ("apq11", "shimmer_apq11", 100.0),
    ):
        put(
            key,
            scale
            * _safe(parselmouth, lambda k=kind: call([snd, pulses], f"Get shimmer ({k})", *settings.shimmer_args())),
            undefined=(
                f"{VOWEL_MEASURES[key][0]}: Praat needs more consecutive periods than this recording has."
                if kind == "apq11"
                else None
            ),
        )
    harmonicity = call(snd, "To Harmonicity (cc)", *settings.harmonicity_args())
    put("hnr_db", call(harmonicity, "Get mean", 0, 0))
    put("voice_breaks", breaks)
    formant = call(snd, "To Formant (burg)", *settings.formant_args())
    for n, key in ((1, "f1_hz"), (2, "f2_hz")):
        put(key, _safe(parselmouth, lambda n=n: call(formant, "Get quantile", n, t1, t2, "hertz", 0.5)))
