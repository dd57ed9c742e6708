"""Severity class -> the parameters of a synthetic speaker, with where each value comes from.

This table is the only definition of severity: every family of ``families`` (Rosenberg or LF
source, cascade or parallel tract, DDK style a or b, any channel) reads the same parameters;
the families change how a voice is made and recorded, never how impaired it is.

A patient of class c gets a latent severity ``s ~ N(mu_c, 0.04)`` with
``mu = {5: 0.00, 4: 0.22, 3: 0.45, 2: 0.68, 1: 0.90}`` (0 = healthy, 1 = loss of useful speech);
adjacent classes overlap, as ALSFRS-R speech scores do in the clinic. Each parameter is a
line in ``s`` (on a log scale for the ratio-like ones) from its healthy to its severe value,
plus the speaker's own deviation (``spread``, same scale) that has nothing to do with
severity, clipped to a physiological range. The end points:

* DDK rate: healthy adults repeat /pa/ at about 6-7 syllables/s, /ta/ a little and /ka/
  clearly slower (Fletcher 1972; Kent, Kent & Rosenbek 1987). Rates fall with bulbar ALS
  to 2-3 syllables/s in severe dysarthria (Nishio & Niimi 2000; Rong et al. 2015).
  We use 6.3 -> 2.6 syllables/s for /pa/, x0.97 for /ta/, x0.92 for /ka/.
* Jitter, shimmer, HNR: healthy sustained vowels have local jitter well under 1 %
  (MDVP threshold 1.04 %), local shimmer about 2-3 % (threshold 3.81 %) and HNR near
  20 dB (Teixeira et al. 2013; Boersma 1993). ALS raises jitter and shimmer and lowers HNR,
  measurably so even before dysarthria is perceived (Silbergleit et al. 1997; Kent et al.
  1994; Tomik & Guiloff 2010). We use jitter 0.35 -> 2.8 %, shimmer 1.4 -> 7 % and
  HNR 22 -> 10 dB; Praat measures shimmer 3-5 points higher and HNR 2-5 dB lower on the
  finished audio (tremor, noise and jitter add up; figures in the README).
* Tremor and flutter: ALS voices show low-frequency tremor and a rapid "flutter"
  (Aronson et al. 1992); we model a 4-7 Hz modulation of depth 0.4 -> 5 % of F0.
* Hypernasality, vowel centralisation, shortened phonation and imprecise consonants are
  hallmarks of the flaccid-spastic dysarthria of ALS (Tomik & Guiloff 2010; Weismer et al.
  2001). No published scale maps them to numbers; ours are assumptions: nasal coupling
  0.03 -> 0.85, centralisation 0 -> 35 %, sustained vowels 6.5 -> 3.2 s (3-8 s), imprecise
  consonants 2 -> 75 % of syllables, DDK rhythm CV 5 -> 28 % and fatigue 0 -> 30 %.
* Voice breaks and creak appear only past s = 0.25 (assumption).
* Speaker: F0 about 118 Hz for men and 205 Hz for women (s.d. ~10 %), rising a little
  after 60 in men and falling after 40 in women (Nishio & Niimi 2008); age and sex are
  independent of class.

Expected difficulty (measured with ``training.synth.difficulty``, 300 patients, SAND priors,
5-fold, patient-level macro-F1, mean of 10 seeds): a classifier on the TRUE per-patient
parameters scores 0.93 +/- 0.02 (balanced logistic regression) and 0.97 +/- 0.01 (nearest
centroid); uniform priors 0.96 / 0.97. A logistic regression on crude mel statistics of the
audio scores 0.87 (SAND priors, seed 0; 0.87 uniform, seed 1). A spectrogram model should
land between the two (a convnext_atto scored 0.83 when the speaker spreads were 1.25x
today's and the audio baseline 0.79); a figure near 1.0 on this corpus means a leak, not
success.

Fletcher SG (1972). Time-by-count measurement of diadochokinetic syllable rate. JSHR 15:763-770.
Kent RD, Kent JF, Rosenbek JC (1987). Maximum performance tests of speech production. JSHD 52:367-387.
Nishio M, Niimi S (2000). Changes over time in dysarthric patients with ALS: speaking rate and
maximum repetition rate. Clin Linguist Phon 14(7):485-497.
Rong P, Yunusova Y, Wang J, Green JR (2015). Predicting early bulbar decline in ALS: a speech
subsystem approach. Behav Neurol 2015:183027.
Teixeira JP, Oliveira C, Lopes C (2013). Vocal acoustic analysis - jitter, shimmer and HNR
parameters. Procedia Technology 9:1112-1122.
Boersma P (1993). Accurate short-term analysis of the fundamental frequency and the
harmonics-to-noise ratio of a sampled sound. Proc. Inst. Phonetic Sciences 17:97-110.
Silbergleit AK, Johnson AF, Jacobson BH (1997). Acoustic analysis of voice in individuals with
ALS and perceptually normal vocal quality. J Voice 11(2):222-231.
Kent RD et al. (1994). Laryngeal dysfunction in neurological disease: ALS, Parkinson disease,
and stroke. J Med Speech-Lang Pathol 2(3):157-175.
Aronson AE, Ramig LO, Winholtz WS, Silber SR (1992). Rapid voice tremor, or "flutter," in
amyotrophic lateral sclerosis. Ann Otol Rhinol Laryngol 101(6):511-518.
Tomik B, Guiloff RJ (2010). Dysarthria in amyotrophic lateral sclerosis: a review.
Amyotroph Lateral Scler 11(1-2):4-15.
Weismer G et al. (2001). Folia Phoniatr Logop 53(1):1-18 (see ``vowels``).
Nishio M, Niimi S (2008). Changes in speaking fundamental frequency characteristics with aging.
Folia Phoniatr Logop 60(3):120-127.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sand_gui.classes import CLASS_NUMBERS

CLASS_SEVERITY = {5: 0.00, 4: 0.22, 3: 0.45, 2: 0.68, 1: 0.90}
SEVERITY_SD = 0.04
assert set(CLASS_SEVERITY) == set(CLASS_NUMBERS)


@dataclass(frozen=True)
class Param:
    """One severity-driven parameter: healthy -> severe along ``s``, plus a speaker spread."""

    name: str
    healthy: float
    severe: float
    log: bool  # interpolate and spread on a log scale
    spread: float  # speaker s.d. (natural-log units when ``log``)
    low: float
    high: float
    unit: str
    knee: float = 0.0  # the parameter stays at ``healthy`` until s passes the knee

    def value(self, s: float, z: float) -> float:
        """The parameter at latent severity ``s`` for a speaker deviation ``z`` ~ N(0, 1)."""
        u = max(s - self.knee, 0.0) / (1.0 - self.knee) if self.knee else s
        if self.log:
            v = np.exp(np.log(self.healthy) + (np.log(self.severe) - np.log(self.healthy)) * u + self.spread * z)
        else:
            v = self.healthy + (self.severe - self.healthy) * u + self.spread * z
        return float(np.clip(v, self.low, self.high))


PARAMS: tuple[Param, ...] = (
    Param("ddk_rate", 6.3, 2.6, False, 0.36, 1.5, 8.5, "syllables/s"),
    Param("ddk_cv", 0.05, 0.28, True, 0.2, 0.02, 0.5, "fraction"),
    Param("imprecision", 0.02, 0.75, False, 0.064, 0.0, 0.95, "probability"),
    Param("fatigue", 0.0, 0.30, False, 0.04, 0.0, 0.5, "fraction"),
    Param("jitter", 0.0035, 0.028, True, 0.24, 0.001, 0.06, "fraction"),
    Param("shimmer", 0.014, 0.07, True, 0.2, 0.005, 0.2, "fraction"),
    Param("hnr_db", 22.0, 10.0, False, 1.6, 4.0, 30.0, "dB"),
    Param("tremor_depth", 0.004, 0.05, True, 0.28, 0.001, 0.1, "fraction of F0"),
    Param("breaks_per_s", 0.0, 0.5, False, 0.04, 0.0, 1.0, "1/s", knee=0.25),
    Param("creak_fraction", 0.0, 0.25, False, 0.024, 0.0, 0.4, "fraction", knee=0.25),
    Param("nasality", 0.03, 0.85, False, 0.064, 0.0, 1.0, "coupling 0..1"),
    Param("centralisation", 0.0, 0.35, False, 0.032, 0.0, 0.6, "fraction"),
    Param("phonation_s", 6.5, 3.2, False, 0.64, 3.0, 8.0, "s"),
    Param("open_quotient", 0.55, 0.75, False, 0.032, 0.4, 0.9, "fraction"),
)
PARAM_NAMES = tuple(p.name for p in PARAMS)
DDK_RATE_FACTOR = {"pa": 1.0, "ta": 0.97, "ka": 0.92}


def speaker_f0(sex: str, age: int) -> float:
    """Typical sustained-vowel F0 in Hz for sex ("M"/"F") and age (Nishio & Niimi 2008 trends)."""
    if sex == "M":
        return 118.0 + 0.3 * max(age - 60, 0)
    return 205.0 - 0.5 * max(age - 40, 0)


def draw_patient(
    klass: int, *, sex: str, age: int, rng: np.random.Generator, typical: bool = False
) -> dict[str, float]:
    """True parameters of one patient of ``klass``; ``typical`` puts it at the class centre.

    Returns {"severity": s, "f0_hz": ..., "tract_scale": ..., "tremor_hz": ..., *PARAM_NAMES}.
    """
    z = np.zeros(len(PARAMS) + 4) if typical else rng.standard_normal(len(PARAMS) + 4)
    s = CLASS_SEVERITY[klass] + SEVERITY_SD * z[0]
    out = {"severity": float(s)}
    out["f0_hz"] = float(speaker_f0(sex, age) * np.exp(0.10 * z[1]))
    out["tract_scale"] = float(np.exp(0.04 * z[2]))
    out["tremor_hz"] = float(5.5 + 1.5 * np.tanh(z[3]))  # 4-7 Hz
    for p, zi in zip(PARAMS, z[4:]):
        out[p.name] = p.value(s, float(zi))
    return out


def class_table(*, samples: int = 4000, seed: int = 0) -> dict[int, dict[str, tuple[float, float]]]:
    """Mean and s.d. of every parameter per class, estimated by drawing ``samples`` patients each."""
    rng = np.random.default_rng(seed)
    table = {}
    for c in CLASS_NUMBERS:
        draws = [draw_patient(c, sex="M", age=60, rng=rng) for _ in range(samples)]
        table[c] = {
            k: (float(np.mean([d[k] for d in draws])), float(np.std([d[k] for d in draws])))
            for k in ("severity", *PARAM_NAMES)
        }
    return table
