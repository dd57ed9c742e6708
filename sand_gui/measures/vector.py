"""One patient's measures as a fixed vector: the measures classifier's input.

``FEATURE_NAMES`` fixes the order: every numeric measure of each sustained vowel (phonationA ..
phonationU, ``VOWEL_MEASURES`` order), the vowel space area, then every measure of each DDK task
(rhythmPA, rhythmTA, rhythmKA, ``DDK_MEASURES`` order); each name is ``task.measure``
(``across.vowel_space_area`` for the area). A measure that is "not measurable", or whose task was
not recorded, is NaN: XGBoost treats NaN as a missing value and follows the branch it learned for
missing values, which is the documented rule for a patient with some measures missing.

A bundle stores these names and ``measures_identity`` (schema version and a digest of the Praat
settings this version uses at the bundle's sample rate), so a model trained on another vector or
other settings is refused rather than fed the wrong numbers.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from ..errors import SandError
from ..tasks import PHONATION, TASK_IDS, TASKS
from .results import DDK_MEASURES, PATIENT_MEASURES, SCHEMA_VERSION, VOWEL_MEASURES, PatientMeasures
from .settings import normalise_sex, settings_for

ACROSS = "across"
VOWEL_TASKS = tuple(t.id for t in TASKS if t.family == PHONATION)
DDK_TASKS = tuple(t.id for t in TASKS if t.family != PHONATION)
FEATURE_NAMES: tuple[str, ...] = (
    *(f"{t}.{m}" for t in VOWEL_TASKS for m in VOWEL_MEASURES),
    *(f"{ACROSS}.{m}" for m in PATIENT_MEASURES),
    *(f"{t}.{m}" for t in DDK_TASKS for m in DDK_MEASURES),
)
assert set(VOWEL_TASKS) | set(DDK_TASKS) == set(TASK_IDS)


def vectorise(measures: PatientMeasures) -> np.ndarray:
    """The patient's measures [shape=(len(FEATURE_NAMES),), float32], NaN where missing."""
    values: dict[str, float] = {}
    for task in measures.tasks:
        for m in task.measures:
            if m.measurable:
                values[f"{task.task}.{m.key}"] = float(m.value)
    for m in measures.across:
        if m.measurable:
            values[f"{ACROSS}.{m.key}"] = float(m.value)
    out = np.array([values.get(name, np.nan) for name in FEATURE_NAMES], dtype=np.float32)
    out[~np.isfinite(out)] = np.nan  # a float32 overflow is a missing value, never infinity
    return out


def _canonical(d: object) -> str:
    return json.dumps(d, sort_keys=True, allow_nan=False, separators=(",", ":"))


def measures_identity(*, sample_rate: int) -> dict:
    """What a measures model depends on besides the vector: the results' schema version and the
    SHA-256 of the Praat settings (for male, female and unknown speakers) at ``sample_rate``."""
    settings = [settings_for(sex=s, sample_rate=sample_rate).to_dict() for s in ("M", "F", "U")]
    digest = hashlib.sha256(_canonical(settings).encode("utf-8")).hexdigest()
    return {"schema_version": SCHEMA_VERSION, "sample_rate": int(sample_rate), "settings_sha256": digest}


def settings_problem(measures: PatientMeasures, *, sample_rate: int) -> str:
    """Why ``measures`` were not taken with this version's settings at ``sample_rate`` ("" when
    they were): measures taken otherwise cannot be fed to a model trained on these."""
    try:
        want = settings_for(sex=normalise_sex(measures.sex), sample_rate=sample_rate).to_dict()
    except SandError:  # an unknown sex text or a rate too low: these measures cannot be ours
        return "the measures were taken with settings the measures model does not know"
    if _canonical(measures.settings) != _canonical(want):
        return f"the measures were taken with other settings than the measures model's ({sample_rate} Hz)"
    return ""
