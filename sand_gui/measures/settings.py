"""Analysis settings of the Praat measures: one frozen record per patient, stored with every result.

Praat's own advice decides the numbers:

* **Pitch range by sex** (Praat manual, *Intro 4.2. Configuring the pitch contour*, Praat 6.1):
  "for a male voice, you may want to set the floor to 75 Hz, and the ceiling to 300 Hz; for a
  female voice, set the range to 100-500 Hz instead". Sex unknown: 75-500 Hz, the range of the
  manual's own voice-report example (*Voice 6*).
* **Pitch for voice analysis**: ``To Pitch (cc)`` with the settings Praat's Sound window uses
  when "Optimize for voice analysis" is on (manual, *Voice*): 15 candidates, silence threshold
  0.03, voicing threshold 0.45, octave cost 0.01, octave-jump cost 0.35, voiced/unvoiced cost
  0.14; pulses from ``Sound & Pitch: To PointProcess (cc)`` (manual, *Voice 6*).
* **Jitter / shimmer**: period floor 0.8 / ceiling, period ceiling 1.25 / floor, maximum period
  factor 1.3, maximum amplitude factor 1.6 (manual, *Voice 2*; the voice report's standards).
* **Formants**: ``To Formant (burg)`` with 5 formants below 5000 Hz (male) or 5500 Hz (female,
  unknown) (manual, *FAQ: Formant analysis*). A recording sampled below twice that ceiling is
  analysed up to its Nyquist frequency with proportionally fewer formants (rounded to a half),
  so that one formant per ~1000-1100 Hz is kept: at 8 kHz, 4 (male) or 3.5 (female) below 4000 Hz.
* **CPPS**: ``To PowerCepstrogram`` 60 Hz, 0.002 s, up to 5000 Hz (or Nyquist), pre-emphasis
  from 50 Hz; ``Get CPPS`` without trend subtraction before smoothing, 0.01 s x 0.001 s
  smoothing, peak search 60-330 Hz, tolerance 0.05, parabolic interpolation, trend line from
  0.001 s to the end, straight, robust fit (Hillenbrand & Houde 1996 smoothing; Praat standards).
* **Syllables** (DDK): ``Filter (pass Hann band)`` 0-1000 Hz, then ``To Intensity`` with minimum
  pitch 100 Hz (a 32 ms window that separates syllables up to ~10/s) and time step 0.005 s;
  see ``ddk.py`` for the peak rule and how well it agrees with known counts.

Praat and praat-parselmouth are GPL-3 and optional (``pip install 'sand-gui[measures]'``); they
are imported only inside ``praat()``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..errors import SandError, UsageError, one_line

PITCH_RANGE_HZ = {"M": (75.0, 300.0), "F": (100.0, 500.0), "U": (75.0, 500.0)}
FORMANT_CEILING_HZ = {"M": 5000.0, "F": 5500.0, "U": 5500.0}
N_FORMANTS = 5.0
SEXES = {"m": "M", "male": "M", "man": "M", "f": "F", "female": "F", "woman": "F"}
INSTALL = "pip install 'sand-gui[measures]'"
MIN_SAMPLE_RATE = 4000  # Hz, as the loader (audio.MIN_SOURCE_RATE); Praat's pulse search hangs at 1 kHz


class MeasuresUnavailable(SandError):
    """Praat (praat-parselmouth) is not installed, so no measure can be computed."""


def praat():
    """``(parselmouth, call)``: Praat through praat-parselmouth, imported on first use.

    MeasuresUnavailable (one sentence, with the install command) when it is missing.
    """
    try:
        import parselmouth
        from parselmouth.praat import call
    except ImportError:
        raise MeasuresUnavailable(
            f"Praat measures need praat-parselmouth, which is not installed; install it with {INSTALL}."
        ) from None
    return parselmouth, call


def software_versions() -> dict[str, str]:
    """Versions of Praat and praat-parselmouth that compute the measures."""
    parselmouth, _ = praat()
    return {"praat": str(parselmouth.PRAAT_VERSION), "parselmouth": str(parselmouth.__version__)}


def normalise_sex(sex: object) -> str:
    """``"M"``, ``"F"`` or ``"U"`` (unknown) from the workbook's M/F or words such as "female"."""
    if sex is None:
        return "U"
    key = str(sex).strip().lower()
    if key in ("", "u", "unknown", "?", "nan", "none"):
        return "U"
    if key not in SEXES:
        raise UsageError(f"sex {one_line(sex)!r} is not understood; use M, F or leave it empty for unknown.")
    return SEXES[key]


@dataclass(frozen=True)
class Settings:
    """Every number the measures depend on; ``to_dict`` stores them with each result."""

    sex: str  # "M", "F" or "U"
    sample_rate: int
    pitch_floor: float
    pitch_ceiling: float
    time_step: float = 0.01
    max_candidates: int = 15
    silence_threshold: float = 0.03
    voicing_threshold: float = 0.45
    octave_cost: float = 0.01
    octave_jump_cost: float = 0.35
    voiced_unvoiced_cost: float = 0.14
    max_period_factor: float = 1.3
    max_amplitude_factor: float = 1.6
    hnr_silence_threshold: float = 0.1
    hnr_periods_per_window: float = 1.0
    formant_ceiling: float = 5500.0
    n_formants: float = 5.0
    formant_window: float = 0.025
    preemphasis_hz: float = 50.0
    cepstrum_pitch_floor: float = 60.0
    cepstrum_time_step: float = 0.002
    cepstrum_max_hz: float = 5000.0
    cpps_time_window: float = 0.01
    cpps_quefrency_window: float = 0.001
    cpps_peak_range: tuple[float, float] = (60.0, 330.0)
    intensity_min_pitch: float = 100.0
    intensity_time_step: float = 0.005
    syllable_band_hz: float = 1000.0
    syllable_dip_db: float = 6.0
    syllable_floor_db: float = 25.0
    min_syllable_gap: float = 0.07
    min_period_ratio: float = 0.5
    edge_pad_seconds: float = 0.1

    @property
    def period_floor(self) -> float:
        """Shortest period used for jitter and shimmer: 0.8 / pitch ceiling (Praat, Voice 2)."""
        return 0.8 / self.pitch_ceiling

    @property
    def period_ceiling(self) -> float:
        """Longest period used (and the voice-break limit): 1.25 / pitch floor (Praat, Voice 1-2)."""
        return 1.25 / self.pitch_floor

    def pitch_args(self) -> tuple:
        """Arguments of ``Sound: To Pitch (cc)...`` in Praat 6.1's order."""
        return (
            self.time_step,
            self.pitch_floor,
            self.max_candidates,
            "no",
            self.silence_threshold,
            self.voicing_threshold,
            self.octave_cost,
            self.octave_jump_cost,
            self.voiced_unvoiced_cost,
            self.pitch_ceiling,
        )

    def perturbation_args(self) -> tuple:
        """Range, period floor/ceiling and maximum period factor of ``Get jitter (...)``."""
        return (0.0, 0.0, self.period_floor, self.period_ceiling, self.max_period_factor)

    def shimmer_args(self) -> tuple:
        return self.perturbation_args() + (self.max_amplitude_factor,)

    def harmonicity_args(self) -> tuple:
        return (self.time_step, self.pitch_floor, self.hnr_silence_threshold, self.hnr_periods_per_window)

    def formant_args(self) -> tuple:
        return (0.0, self.n_formants, self.formant_ceiling, self.formant_window, self.preemphasis_hz)

    def cepstrogram_args(self) -> tuple:
        return (self.cepstrum_pitch_floor, self.cepstrum_time_step, self.cepstrum_max_hz, self.preemphasis_hz)

    def cpps_args(self) -> tuple:
        lo, hi = self.cpps_peak_range
        return (
            "no",
            self.cpps_time_window,
            self.cpps_quefrency_window,
            lo,
            hi,
            0.05,
            "Parabolic",
            0.001,
            0.0,
            "Straight",
            "Robust",
        )

    def band_args(self) -> tuple:
        """``Sound: Filter (pass Hann band)...``: keep the vowels' band, drop stop bursts."""
        return (0.0, self.syllable_band_hz, 100.0)

    def intensity_args(self) -> tuple:
        return (self.intensity_min_pitch, self.intensity_time_step, "yes")

    def voice_report_args(self, start: float = 0.0, end: float = 0.0) -> tuple:
        """``Voice report`` from ``start`` to ``end`` s (0, 0: all; the measures pass the first and
        last glottal pulse, as the manual advises leaving out leading and trailing silence)."""
        return (
            start,
            end,
            self.pitch_floor,
            self.pitch_ceiling,
            self.max_period_factor,
            self.max_amplitude_factor,
            self.silence_threshold,
            self.voicing_threshold,
        )

    def commands(self) -> dict[str, str]:
        """The Praat commands with their arguments, as a Praat script would write them."""

        def fmt(args: tuple) -> str:
            return ", ".join(f'"{a}"' if isinstance(a, str) else f"{a:g}" for a in args)

        p = fmt(self.perturbation_args())
        s = fmt(self.shimmer_args())
        return {
            "pitch": f"Sound: To Pitch (cc): {fmt(self.pitch_args())}",
            "pulses": "Sound & Pitch: To PointProcess (cc)",
            "f0": (
                "Pitch: Get mean / Get standard deviation (Hertz, semitones) / Get minimum / Get maximum "
                "(Parabolic): first pulse, last pulse"
            ),
            "jitter": f"PointProcess: Get jitter (local | rap | ppq5): {p}",
            "shimmer": f"Sound & PointProcess: Get shimmer (local | local_dB | apq3 | apq11): {s}",
            "hnr": f"Sound: To Harmonicity (cc): {fmt(self.harmonicity_args())}; Harmonicity: Get mean: 0, 0",
            "cpps": (
                f"Sound: To PowerCepstrogram: {fmt(self.cepstrogram_args())}; "
                f"PowerCepstrogram: Get CPPS: {fmt(self.cpps_args())}"
            ),
            "voicing": (
                "Sound & Pitch & PointProcess: Voice report: first pulse, last pulse, "
                f"{fmt(self.voice_report_args()[2:])}"
            ),
            "formants": (
                f"Sound: To Formant (burg): {fmt(self.formant_args())}; "
                'Formant: Get quantile: 1 | 2, first pulse, last pulse, "hertz", 0.5'
            ),
            "intensity": (
                f"Sound: Filter (pass Hann band): {fmt(self.band_args())}; "
                f"Sound: To Intensity: {fmt(self.intensity_args())}"
            ),
        }

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["cpps_peak_range"] = list(self.cpps_peak_range)
        d["period_floor"] = self.period_floor
        d["period_ceiling"] = self.period_ceiling
        d["praat_commands"] = self.commands()
        return d


def settings_for(*, sex: object, sample_rate: int) -> Settings:
    """The settings for a speaker of ``sex`` (M/F/unknown) recorded at ``sample_rate`` Hz."""
    key = normalise_sex(sex)
    if not sample_rate >= MIN_SAMPLE_RATE:
        raise UsageError(
            f"sample rate {one_line(sample_rate)} Hz is too low for the measures; at least "
            f"{MIN_SAMPLE_RATE} Hz is needed."
        )
    floor, ceiling = PITCH_RANGE_HZ[key]
    nyquist = sample_rate / 2.0
    formant_ceiling = min(FORMANT_CEILING_HZ[key], nyquist)
    n_formants = max(2.0, round(2 * N_FORMANTS * formant_ceiling / FORMANT_CEILING_HZ[key]) / 2)
    return Settings(
        sex=key,
        sample_rate=int(sample_rate),
        pitch_floor=floor,
        pitch_ceiling=ceiling,
        formant_ceiling=formant_ceiling,
        n_formants=n_formants,
        cepstrum_max_hz=min(5000.0, nyquist),
    )
