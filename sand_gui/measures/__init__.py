"""The measures clinicians already read, computed by Praat beside the network's vote.

Sustained vowels: Praat's voice report (F0, jitter, shimmer, HNR, unvoiced frames, voice
breaks), CPPS, F1/F2; across /a/ /i/ /u/: the vowel space area; /pa/ /ta/ /ka/: syllable count,
rate, period regularity, rate change and intensity variation. Each measure carries its healthy
reference range and source (``norms``) and is either a finite number or "not measurable" with
the reason. Settings (``settings``) are stored with every result.

Qt-free and optional: Praat comes from praat-parselmouth (GPL-3, ``pip install
'sand-gui[measures]'``), imported only when a measure is computed; without it every entry point
raises ``MeasuresUnavailable``, one sentence saying what to install.

    from sand_gui.measures import measure_patient
    result = measure_patient({"phonationA": "ID1_phonationA.wav", ...}, spec=classifier.spec, sex="F")
    json.dumps(result.to_dict(), allow_nan=False)
"""

from .norms import Flag, Norm, norm_for
from .patient import (
    across_measures,
    f2_ratio,
    formant_centralization_ratio,
    measure_patient,
    measure_recording,
    measure_task,
    triangle_area,
    vowel_space_area,
)
from .results import (
    DDK_MEASURES,
    PATIENT_MEASURES,
    VOWEL_MEASURES,
    Measure,
    PatientMeasures,
    TaskMeasures,
    Why,
)
from .settings import MeasuresUnavailable, Settings, normalise_sex, praat, settings_for

__all__ = [
    "DDK_MEASURES",
    "PATIENT_MEASURES",
    "VOWEL_MEASURES",
    "Flag",
    "Measure",
    "MeasuresUnavailable",
    "Norm",
    "PatientMeasures",
    "Settings",
    "TaskMeasures",
    "Why",
    "across_measures",
    "f2_ratio",
    "formant_centralization_ratio",
    "measure_patient",
    "measure_recording",
    "measure_task",
    "norm_for",
    "normalise_sex",
    "praat",
    "settings_for",
    "triangle_area",
    "vowel_space_area",
]
