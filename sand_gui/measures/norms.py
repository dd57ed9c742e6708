"""Reference ranges for healthy adults, each with its source, population and software.

A value outside a range is flagged; a measure without a published range that fits (same
measure, same task, comparable software) carries ``Norm.none(reason)`` and is never flagged.
Praat and MDVP values differ (Praat's waveform-matching periods are far less sensitive to
additive noise than MDVP's peak picking), so every range says which software produced it.

Sources (each checked; see docs/measures.md for the table):

* Boersma P. Praat manual, *Voice 1. Voice breaks*, *Voice 2. Jitter*, *Voice 3. Shimmer*
  (Praat 6.x, fon.hum.uva.nl/praat/manual): quotes MDVP's (Kay Elemetrics Multi-Dimensional
  Voice Program) thresholds for pathology and says of each jitter threshold that "the correct
  threshold is probably lower" for Praat; gives 0 as the normative fraction of unvoiced frames.
* Murton O, Hillman R, Mehta D (2020). Cepstral peak prominence values for clinical voice
  evaluation. Am J Speech Lang Pathol 29(3):1596-1607: CPPS cutoff 14.45 dB (Praat) for
  sustained /a/, 50 vocally healthy speakers vs 295 patients with voice disorders (English).
* Buckley DP, Abur D, Stepp CE (2023). Normative values of cepstral peak prominence measures
  in typical speakers by sex, speech stimuli, and software type across the life span. Am J
  Speech Lang Pathol 32(4):1565-1577: CPPS is lower for /i/ than /a/ and lower in females,
  which is why the /a/ cutoff is not applied to the other vowels.
* Icht M, Ben-David BM (2014). Oral-diadochokinesis rates across languages: English and Hebrew
  norms. J Commun Disord 48:27-37: an English norm of 6.2 +/- 0.8 syllables/s (lower boundary
  5.4) exists only for the sequential task /pataka/, not for /pa/ /ta/ /ka/ repeated alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

PRAAT_MANUAL = "Boersma P, Praat manual: Voice 2. Jitter / Voice 3. Shimmer (quoting MDVP)"
MDVP_POPULATION = "MDVP's normative sample (not described in the Praat manual); sustained vowels"
MDVP_SOFTWARE = (
    "MDVP (peak picking); Praat measures lower jitter on noisy voices, so the Praat "
    "manual calls the true Praat threshold probably lower"
)


class Flag(str, Enum):
    """Where a value lies against its reference range."""

    BELOW = "below"
    WITHIN = "within"
    ABOVE = "above"


@dataclass(frozen=True)
class Norm:
    """A healthy-adult range ``[low, high]`` (either end may be open) with its provenance,
    or no range at all (``low`` and ``high`` None) with ``note`` saying why."""

    low: float | None
    high: float | None
    source: str = ""
    population: str = ""
    software: str = ""
    note: str = ""

    @classmethod
    def none(cls, reason: str) -> Norm:
        return cls(None, None, note=reason)

    @property
    def defined(self) -> bool:
        return self.low is not None or self.high is not None

    def flag(self, value: float | None) -> Flag | None:
        """BELOW / WITHIN / ABOVE, or None when there is no value or no range."""
        if value is None or not self.defined:
            return None
        if self.low is not None and value < self.low:
            return Flag.BELOW
        if self.high is not None and value > self.high:
            return Flag.ABOVE
        return Flag.WITHIN

    def to_dict(self) -> dict:
        return {
            "low": self.low,
            "high": self.high,
            "source": self.source,
            "population": self.population,
            "software": self.software,
            "note": self.note,
        }


def _mdvp(high: float, name: str) -> Norm:
    return Norm(
        None,
        high,
        source=PRAAT_MANUAL,
        population=MDVP_POPULATION,
        software=MDVP_SOFTWARE,
        note=f"MDVP threshold for pathology ({name}); flagged above it",
    )


_NOT_COMPARABLE_F0 = (
    "no single healthy range: F0 depends on sex, age and language, and the "
    "published means (e.g. CSL, Felippe et al. 2006) are not Praat ranges"
)

NORMS: dict[str, Norm] = {
    "f0_mean_hz": Norm.none(_NOT_COMPARABLE_F0),
    "f0_sd_hz": Norm.none("no published Praat range for the F0 SD of a sustained vowel was found"),
    "f0_sd_st": Norm.none("no published Praat range for the F0 SD (semitones) of a sustained vowel was found"),
    "f0_range_hz": Norm.none("no published range for the F0 range within a sustained vowel was found"),
    "f0_range_st": Norm.none("no published range for the F0 range within a sustained vowel was found"),
    "jitter_local": _mdvp(1.040, "Jitt"),
    "jitter_rap": _mdvp(0.680, "RAP"),
    "jitter_ppq5": _mdvp(0.840, "PPQ"),
    "shimmer_local": _mdvp(3.810, "Shim"),
    "shimmer_local_db": _mdvp(0.350, "ShdB"),
    "shimmer_apq3": Norm.none("the Praat manual gives no MDVP threshold for APQ3"),
    "shimmer_apq11": _mdvp(3.070, "APQ"),
    "hnr_db": Norm.none("no Praat HNR threshold was verified; MDVP/CSL noise ratios (NHR) are not comparable"),
    "unvoiced_fraction": Norm(
        None,
        0.0,
        source="Boersma P, Praat manual: Voice 1. Voice breaks",
        population="normal healthy voices sustaining a vowel",
        software="Praat (voice report, fraction of locally unvoiced frames)",
        note="normative value 0: 'every non-zero value can be considered a sign of pathology'",
    ),
    "voice_breaks": Norm.none("the Praat manual gives no threshold for the number of voice breaks"),
    "phonation_seconds": Norm.none(
        "the SAND protocol does not record maximum phonation time to exhaustion, so MPT norms do not apply"
    ),
    "f1_hz": Norm.none("formant frequencies depend on the vowel, sex and language; no Italian Praat range was found"),
    "f2_hz": Norm.none("formant frequencies depend on the vowel, sex and language; no Italian Praat range was found"),
    "vowel_space_area": Norm.none("no published /a/-/i/-/u/ triangle area for healthy Italian adults was found"),
    "formant_centralization_ratio": Norm.none(
        "Sapir et al. (2010) measured FCR on vowels cut from English phrases, not on sustained Italian vowels; "
        "no range for this task was found"
    ),
    "f2i_f2u_ratio": Norm.none(
        "Sapir et al. (2010) measured F2i/F2u on vowels cut from English phrases, not on sustained Italian vowels; "
        "no range for this task was found"
    ),
    "syllable_count": Norm.none("the count depends on how long the patient repeats; use the rate"),
    "ddk_rate": Norm.none(
        "no verified norm for /pa/, /ta/ or /ka/ repeated alone; the English norm of Icht & Ben-David "
        "(2014), 6.2 +/- 0.8 syllables/s, is for /pataka/"
    ),
    "period_mean_ms": Norm.none("no verified norm for the syllable period of /pa/ /ta/ /ka/"),
    "period_sd_ms": Norm.none("no verified norm for the syllable-period SD of /pa/ /ta/ /ka/"),
    "period_cv_pct": Norm.none("no verified norm for the syllable-period CV of /pa/ /ta/ /ka/"),
    "rate_change_pct": Norm.none("no verified norm for the change of DDK rate within a train"),
    "intensity_sd_db": Norm.none("no verified norm for the syllable-to-syllable intensity SD"),
}

CPPS_A = Norm(
    14.45,
    None,
    source="Murton, Hillman & Mehta (2020), Am J Speech Lang Pathol 29:1596-1607",
    population="50 vocally healthy vs 295 voice-disordered English-speaking adults, sustained /a/",
    software="Praat CPPS (full-band recordings; here up to the recording's Nyquist frequency)",
    note="cutoff separating healthy from disordered voices; flagged below it",
)
CPPS_OTHER = Norm.none(
    "the Praat cutoff (Murton et al. 2020) was measured on /a/ only; CPPS is lower on /i/ "
    "(Buckley et al. 2023), so it is not applied to other vowels"
)


def norm_for(key: str, *, task_id: str) -> Norm:
    """The reference range of measure ``key`` on task ``task_id``."""
    if key == "cpps_db":
        return CPPS_A if task_id == "phonationA" else CPPS_OTHER
    return NORMS.get(key, Norm.none("no published range is known for this measure"))
