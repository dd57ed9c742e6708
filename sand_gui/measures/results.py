"""Result types of the measures: plain dataclasses with a strict-JSON ``to_dict``.

A ``Measure`` either has a finite ``value`` or is *not measurable*, with a ``Why`` code and a
one-sentence ``reason``; it never holds NaN or infinity. ``TaskMeasures`` holds one recording's
measures with the settings that produced them; ``PatientMeasures`` holds a patient's tasks and
the measures across tasks (vowel space area).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum

from .norms import Flag, Norm, norm_for

SCHEMA_VERSION = 1

# key -> (label, unit); the order is the display order
VOWEL_MEASURES: dict[str, tuple[str, str]] = {
    "f0_mean_hz": ("F0 mean", "Hz"),
    "f0_sd_hz": ("F0 SD", "Hz"),
    "f0_sd_st": ("F0 SD", "st"),
    "f0_range_hz": ("F0 range", "Hz"),
    "f0_range_st": ("F0 range", "st"),
    "jitter_local": ("Jitter (local)", "%"),
    "jitter_rap": ("Jitter (RAP)", "%"),
    "jitter_ppq5": ("Jitter (PPQ5)", "%"),
    "shimmer_local": ("Shimmer (local)", "%"),
    "shimmer_local_db": ("Shimmer (local, dB)", "dB"),
    "shimmer_apq3": ("Shimmer (APQ3)", "%"),
    "shimmer_apq11": ("Shimmer (APQ11)", "%"),
    "hnr_db": ("HNR", "dB"),
    "cpps_db": ("CPPS", "dB"),
    "unvoiced_fraction": ("Locally unvoiced frames", "%"),
    "voice_breaks": ("Voice breaks", "count"),
    "phonation_seconds": ("Phonation time after trimming", "s"),
    "f1_hz": ("F1 (median)", "Hz"),
    "f2_hz": ("F2 (median)", "Hz"),
}
DDK_MEASURES: dict[str, tuple[str, str]] = {
    "syllable_count": ("Syllables", "count"),
    "ddk_rate": ("DDK rate", "syll/s"),
    "period_mean_ms": ("Syllable period, mean", "ms"),
    "period_sd_ms": ("Syllable period, SD", "ms"),
    "period_cv_pct": ("Syllable period, CV", "%"),
    "rate_change_pct": ("Rate change, 2nd half vs 1st", "%"),
    "intensity_sd_db": ("Syllable intensity SD", "dB"),
}
PATIENT_MEASURES: dict[str, tuple[str, str]] = {
    "vowel_space_area": ("Vowel space area /a/-/i/-/u/", "Hz²"),
    "formant_centralization_ratio": ("Formant centralisation ratio (FCR)", "ratio"),
    "f2i_f2u_ratio": ("F2 ratio /i/ to /u/", "ratio"),
}


class Why(str, Enum):
    """Why a measure is not measurable (code that reacts to it reads this, not the sentence)."""

    RECORDING = "recording"  # the recording cannot be loaded or has too little voice
    TOO_SHORT = "too_short"  # too little signal for this measure
    NO_PERIODICITY = "no_periodicity"  # no (or too little) periodic voice
    TOO_FEW_SYLLABLES = "too_few_syllables"
    UNDEFINED = "undefined"  # Praat returned --undefined-- or failed on this input
    MISSING = "missing"  # an input measure (e.g. a vowel's F1/F2) is missing


def _spec(key: str) -> tuple[str, str]:
    for table in (VOWEL_MEASURES, DDK_MEASURES, PATIENT_MEASURES):
        if key in table:
            return table[key]
    raise KeyError(key)


def _round(value: float) -> float:
    """Six significant digits: enough for any of these measures, short in JSON."""
    return float(f"{value:.6g}")


@dataclass
class Measure:
    """One measure: a finite ``value`` in ``unit``, or not measurable (``value`` None) with
    ``why`` and a one-sentence ``reason``; ``method`` names the Praat commands; ``norm`` is its
    healthy range (possibly none, with the reason)."""

    key: str
    label: str
    unit: str
    value: float | None
    norm: Norm
    method: str = ""
    why: Why | None = None
    reason: str | None = None

    @property
    def measurable(self) -> bool:
        return self.value is not None

    @property
    def flag(self) -> Flag | None:
        return self.norm.flag(self.value)

    def to_dict(self) -> dict:
        flag = self.flag
        return {
            "key": self.key,
            "label": self.label,
            "unit": self.unit,
            "value": None if self.value is None else _round(self.value),
            "measurable": self.measurable,
            "why": None if self.why is None else self.why.value,
            "reason": self.reason,
            "flag": None if flag is None else flag.value,
            "norm": self.norm.to_dict(),
            "method": self.method,
        }


def measured(key: str, value, *, task_id: str, method: str, undefined: str | None = None) -> Measure:
    """A Measure of ``value``; a None, NaN or infinite value becomes not measurable
    (``Why.UNDEFINED``) with the sentence ``undefined`` (or a generic one)."""
    label, unit = _spec(key)
    norm = norm_for(key, task_id=task_id)
    v = None if value is None else float(value)
    if v is None or not math.isfinite(v):
        reason = undefined or f"{label}: Praat returned no defined value for this recording."
        return Measure(key, label, unit, None, norm, method, Why.UNDEFINED, reason)
    return Measure(key, label, unit, v, norm, method)


def not_measurable(key: str, *, task_id: str, why: Why, reason: str, method: str = "") -> Measure:
    label, unit = _spec(key)
    return Measure(key, label, unit, None, norm_for(key, task_id=task_id), method, why, reason)


@dataclass
class TaskMeasures:
    """The measures of one recording, with the settings that produced them.

    ``voiced`` is the kept range ``(start, stop)`` in samples at ``sample_rate`` (the model's
    trimmed waveform); ``syllable_times`` are the syllable peaks of a DDK task in seconds from
    the start of that range. ``error`` is set when the recording could not be used at all.
    """

    task: str
    file: str
    measures: list[Measure]
    settings: dict
    sample_rate: int | None = None
    voiced: tuple[int, int] | None = None
    syllable_times: list[float] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    error_code: str | None = None  # the loader's quality.Code value (e.g. "no_voice"), when it gave one
    elapsed_ms: float = 0.0

    def get(self, key: str) -> Measure:
        for m in self.measures:
            if m.key == key:
                return m
        raise KeyError(f"{self.task} has no measure {key!r}")

    @property
    def flagged(self) -> list[Measure]:
        return [m for m in self.measures if m.flag in (Flag.BELOW, Flag.ABOVE)]

    def to_dict(self) -> dict:
        return {
            "task": self.task,
            "file": self.file,
            "error": self.error,
            "error_code": self.error_code,
            "warnings": list(self.warnings),
            "sample_rate": self.sample_rate,
            "voiced_samples": None if self.voiced is None else [int(self.voiced[0]), int(self.voiced[1])],
            "syllable_times": [round(float(t), 4) for t in self.syllable_times],
            "measures": [m.to_dict() for m in self.measures],
            "settings": self.settings,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


@dataclass
class PatientMeasures:
    """All tasks of one patient plus the measures across tasks."""

    tasks: list[TaskMeasures]
    across: list[Measure]
    sex: str
    settings: dict
    software: dict
    elapsed_ms: float
    missing_tasks: list[str] = field(default_factory=list)

    def task(self, task_id: str) -> TaskMeasures:
        for t in self.tasks:
            if t.task == task_id:
                return t
        raise KeyError(f"no measures for task {task_id!r}")

    def get(self, key: str) -> Measure:
        for m in self.across:
            if m.key == key:
                return m
        raise KeyError(key)

    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "sex": self.sex,
            "software": self.software,
            "settings": self.settings,
            "tasks": [t.to_dict() for t in self.tasks],
            "across_tasks": [m.to_dict() for m in self.across],
            "missing_tasks": list(self.missing_tasks),
            "elapsed_ms": round(self.elapsed_ms, 1),
        }
