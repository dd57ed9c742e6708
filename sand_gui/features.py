"""THE preprocessing: waveform -> VAD trim -> mel dB, delta, delta-delta -> model windows.

Everything the model sees is defined here, once, by a ``FeatureSpec`` stored in each
model bundle; the app, the CLI and ``training`` all call ``prepare_input``. Defaults are
the seed recipe's: 22.05 kHz, 256 mels, n_fft 2048, hop 512, phonation band 50-4000 Hz,
rhythm band 100-6000 Hz, 3 channels [mel dB, delta, delta-delta].

Definition (also checked against librosa in the tests):
1. mel power spectrogram, Hann window, centred frames with reflect padding, HTK mel scale,
   unnormalised triangles, f_min/f_max = the task family's band clipped to the band limit;
2. dB: ``10*log10(max(S, 1e-10))``, floored at ``top_db`` below the recording's maximum;
3. delta = regression slope over ``delta_width`` frames with edge replication (librosa
   ``delta(mode="nearest")``); delta-delta = delta of delta;
4. each channel standardised over the whole trimmed recording (zero mean, unit variance);
5. variable length -> fixed ``n_frames``: a shorter input is right-padded with zeros (the
   channel mean); a longer one is cut into windows of ``n_frames`` that overlap by at least
   half and cover it end to end. Inference averages class probabilities over the windows;
   training draws one random window per recording per epoch.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .errors import AudioError, BundleError
from .quality import Code
from .tasks import PHONATION, Task
from .vad import VoicedRange, detect_voice
from .voicing import check_voicing

NORMALIZATIONS = ("channel_zscore",)
AMIN = 1e-10


@dataclass(frozen=True)
class FeatureSpec:
    """Everything that turns a waveform into the model's input; stored in the model card."""

    sample_rate: int = 22050
    n_fft: int = 2048
    hop_length: int = 512
    n_mels: int = 256
    phonation_band: tuple[float, float] = (50.0, 4000.0)
    rhythm_band: tuple[float, float] = (100.0, 6000.0)
    bandlimit_hz: float | None = None  # low-pass inputs to what the training data held
    top_db: float = 80.0
    delta_width: int = 9
    n_frames: int = 128
    vad_top_db: float = 30.0
    vad_frame_length: int = 2048
    vad_hop_length: int = 512
    min_voiced_seconds: float = 0.5
    normalization: str = "channel_zscore"

    def band(self, family: str) -> tuple[float, float]:
        """(f_min, f_max) in Hz for a task family, clipped to the band limit and Nyquist."""
        lo, hi = self.phonation_band if family == PHONATION else self.rhythm_band
        top = self.sample_rate / 2 if self.bandlimit_hz is None else min(self.bandlimit_hz, self.sample_rate / 2)
        return float(lo), float(min(hi, top))

    @property
    def frames_per_second(self) -> float:
        return self.sample_rate / self.hop_length

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["phonation_band"] = list(self.phonation_band)
        d["rhythm_band"] = list(self.rhythm_band)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> FeatureSpec:
        """Build from a card's dict; BundleError when it asks for what this code cannot do.

        Every field is checked for type and range (``validate``) before the spec is used.
        """
        from .errors import one_line

        if not isinstance(d, dict):
            raise BundleError(f"feature spec: must be a mapping of fields (got {type(d).__name__}).")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(one_line(k, limit=40) for k in d if k not in known)
        if unknown:
            raise BundleError(f"feature spec has fields this version cannot honour: {', '.join(unknown[:5])}.")
        d = {k: tuple(v) if k in ("phonation_band", "rhythm_band") and isinstance(v, list) else v for k, v in d.items()}
        spec = cls(**d)
        spec.validate()
        bands = {k: tuple(float(v) for v in getattr(spec, k)) for k in ("phonation_band", "rhythm_band")}
        return dataclasses.replace(spec, **bands)

    def validate(self) -> None:
        """Raise BundleError for values outside what the code supports: types, the bounds in
        ``sand_gui.card_schema`` (``SPEC_INTS``, ``SPEC_FLOATS``), consistency, and the
        memory one analysis would need."""
        from .card_schema import spec_problems
        from .errors import one_line

        problems = (
            []
            if self.normalization in NORMALIZATIONS
            else [f"normalization {one_line(repr(self.normalization), limit=40)} is unknown"]
        )
        problems += spec_problems(self)
        if problems:
            raise BundleError("feature spec: " + "; ".join(problems) + ".")


SEED_SPEC = FeatureSpec()


@lru_cache(maxsize=16)
def _mel_transform(spec: FeatureSpec, family: str, device: str):
    import torchaudio

    f_min, f_max = spec.band(family)
    return torchaudio.transforms.MelSpectrogram(
        sample_rate=spec.sample_rate,
        n_fft=spec.n_fft,
        win_length=spec.n_fft,
        hop_length=spec.hop_length,
        f_min=f_min,
        f_max=f_max,
        n_mels=spec.n_mels,
        power=2.0,
        center=True,
        pad_mode="reflect",
        norm=None,
        mel_scale="htk",
    ).to(device)


def mel_db(wave, *, spec: FeatureSpec, family: str):
    """Mel power in dB: wave [shape=(..., n)] tensor -> [shape=(..., n_mels, t)]."""
    import torch

    mel = _mel_transform(spec, family, str(wave.device))(wave)
    db = 10.0 * torch.log10(torch.clamp(mel, min=AMIN))
    floor = db.amax(dim=(-2, -1), keepdim=True) - spec.top_db
    return torch.maximum(db, floor)


def stack_deltas(db, *, width: int):
    """[mel, delta, delta-delta]: [shape=(..., m, t)] -> [shape=(..., 3, m, t)]."""
    import torch
    import torchaudio.functional as AF

    d1 = AF.compute_deltas(db, win_length=width, mode="replicate")
    d2 = AF.compute_deltas(d1, win_length=width, mode="replicate")
    return torch.stack([db, d1, d2], dim=-3)


def normalize(feats):
    """Standardise each channel over (mels, time): [shape=(..., 3, m, t)], same shape."""
    mean = feats.mean(dim=(-2, -1), keepdim=True)
    std = feats.std(dim=(-2, -1), keepdim=True)
    return (feats - mean) / (std + 1e-5)


def compute_features(wave, *, spec: FeatureSpec, family: str):
    """Model features of trimmed audio: tensor [shape=(..., n)] -> [shape=(..., 3, n_mels, t)].

    Works batched and on any torch device (CPU or CUDA).
    """
    return mel_and_features(wave, spec=spec, family=family)[1]


def mel_and_features(wave, *, spec: FeatureSpec, family: str):
    """``(mel dB [shape=(..., n_mels, t)], model features [shape=(..., 3, n_mels, t)])`` in one
    pass: the dB panel a view shows beside exactly what the model gets."""
    db = mel_db(wave, spec=spec, family=family)
    return db, normalize(stack_deltas(db, width=spec.delta_width))


def window_starts(n: int, *, n_frames: int) -> list[int]:
    """Start frames of the windows covering ``n`` frames (overlap at least half)."""
    if n <= n_frames:
        return [0]
    count = math.ceil((n - n_frames) / (n_frames // 2)) + 1
    return [int(round(s)) for s in np.linspace(0, n - n_frames, count)]


def to_windows(feats, *, n_frames: int):
    """Fixed-width windows: [shape=(3, m, t)] -> [shape=(w, 3, m, n_frames)]."""
    import torch
    import torch.nn.functional as F

    t = feats.shape[-1]
    if t < n_frames:
        return F.pad(feats, (0, n_frames - t)).unsqueeze(0)
    return torch.stack([feats[..., s : s + n_frames] for s in window_starts(t, n_frames=n_frames)])


@dataclass
class PreparedInput:
    """A recording made ready for the model."""

    voiced: VoicedRange  # kept range, in samples at spec.sample_rate
    features: object  # tensor [shape=(3, n_mels, t)] of the trimmed audio
    windows: object  # tensor [shape=(w, 3, n_mels, n_frames)]
    sample_rate: int

    @property
    def voiced_seconds(self) -> float:
        return self.voiced.length / self.sample_rate


def trim(samples: np.ndarray, *, spec: FeatureSpec, name: str = "recording", family: str | None = None) -> VoicedRange:
    """Energy VAD with the spec's settings, then the voicing check on what it kept.

    ``samples`` [shape=(n,)] at ``spec.sample_rate``. AudioError (with its ``code``) when the
    samples are not finite (NON_FINITE), when too little remains (TOO_SHORT), or when what
    remains holds no voice (NO_VOICE, ``voicing.check_voicing``: noise, hum, a fan or clicks
    survive an energy VAD at any level). ``family`` only shapes the no-voice sentence.
    """
    samples = np.asarray(samples)
    if not np.isfinite(samples).all():
        raise AudioError(f"{name}: the samples are not finite (NaN or infinite values).", code=Code.NON_FINITE)
    voiced = detect_voice(
        samples, top_db=spec.vad_top_db, frame_length=spec.vad_frame_length, hop_length=spec.vad_hop_length
    )
    seconds = voiced.length / spec.sample_rate
    if seconds < spec.min_voiced_seconds:
        raise AudioError(
            f"{name}: {seconds:.2f} s of voice after trimming; at least {spec.min_voiced_seconds:.1f} s is needed.",
            code=Code.TOO_SHORT,
        )
    check_voicing(samples[voiced.start : voiced.stop], sample_rate=spec.sample_rate, name=name, family=family)
    return voiced


def prepare_input(
    samples: np.ndarray, *, spec: FeatureSpec, task: Task, name: str = "recording", device: str = "cpu"
) -> PreparedInput:
    """The one path from a waveform at ``spec.sample_rate`` [shape=(n,)] to model input.

    AudioError as ``trim`` raises it, and NON_FINITE if the features are not finite.
    """
    import torch

    voiced = trim(samples, spec=spec, name=name, family=task.family)
    wave = torch.from_numpy(np.ascontiguousarray(samples[voiced.start : voiced.stop], dtype=np.float32)).to(device)
    feats = compute_features(wave, spec=spec, family=task.family)
    if not bool(torch.isfinite(feats).all()):
        raise AudioError(f"{name}: the features of this recording are not finite numbers.", code=Code.NON_FINITE)
    return PreparedInput(voiced, feats, to_windows(feats, n_frames=spec.n_frames), spec.sample_rate)
