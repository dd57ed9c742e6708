"""Waveform augmentation for training: the recording as another phone, room or voice might give it.

A training recording gets ``aug_variants`` augmented copies, each drawn once from a seed of
(run seed, recording, copy number), so the same config always makes the same copies; their
features are made by the core's own path (``sand_gui.audio.load_recording`` ->
``augment_wave`` -> ``sand_gui.features.prepare_input``) and cached like clean features
(``training.data.load_variants``). Each epoch a recording is drawn clean or as one of its
copies. What a copy may get, in this order, each with its config key:

- ``aug_speed``: speed changed by a factor in 1 +/- s (tempo and pitch together, by
  resampling with soxr, as speed perturbation for speech recognition does). Small values
  only: a 5 % change moves a /pa/ rate by 5 %, a third of the step between two classes;
- ``aug_pitch_semitones``: pitch shifted by up to that many semitones, duration kept
  (a phase vocoder, as ``librosa.effects.pitch_shift``); F0 differs between speakers anyway, the severity cues
  (jitter, shimmer, HNR, rate) are meant to survive it;
- ``aug_eq_db``: the copy's spectral envelope re-coloured by a smooth random gain curve (six
  points, log-spaced from 100 Hz to the Nyquist frequency, each +/- that many dB), as another
  vocal tract, microphone or phone would colour it. A fixed linear filter leaves what severity
  changes over time (jitter, shimmer, HNR per band, rate) as it was, so the network is pushed
  to those instead of to one synthesiser's or device's spectral fingerprint. Its numbers come
  from a child of the copy's generator (``Generator.spawn``), so copies made without it are
  unchanged;
- ``aug_codec_p``: a telephone or VoIP channel of the synthetic generator (band limit, AGC and
  a G.711 / GSM / G.726 / Opus codec round trip; ``training.synth.channel_spec``, families
  ``CODEC_FAMILIES``);
- ``aug_channels``: which of those families (``telephone``, ``voip``, ``room``) codec and room
  copies may draw from (default all; leave one out to keep it unseen, as ``training.lomo`` does);
- ``aug_reverb_p``: its ``room`` family (a simulated room, pyroomacoustics, with babble or cafe
  noise); a config asking for codecs or rooms where the generator's channels do not exist is
  refused before any data is read;
- ``aug_noise_p`` + ``aug_snr_db``: one of the generator's noise types (white, pink, babble,
  hum, cafe, street; ``training.synth.noise``), or white / pink / brown noise where that module
  is absent, at an SNR drawn from [lo, hi] dB against the speech;
- ``aug_gain_db``: a gain drawn from +/- g dB, then the float range's limit (a hot
  recording clips, as a phone's converter would).

Spectrogram-level augmentation (SpecAugment, time shift) stays in ``training.augment``.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import asdict, dataclass

import numpy as np

from sand_gui.errors import UsageError

NOISE_COLOURS = ("white", "pink", "brown")  # the fallback noises (no training.synth.noise)
CODEC_FAMILIES = ("telephone", "voip")  # training.synth.channel_spec families that hold a codec
ROOM_FAMILIES = ("room",)
AUG_CHANNELS = CODEC_FAMILIES + ROOM_FAMILIES  # the config's aug_channels: what codec/room copies may use


@dataclass(frozen=True)
class WaveAugment:
    """The waveform augmentation a config asks for (see the module note)."""

    codec_p: float = 0.0
    reverb_p: float = 0.0
    noise_p: float = 0.0
    snr_db: tuple[float, float] = (10.0, 30.0)
    gain_db: float = 0.0
    speed: float = 0.0
    pitch_semitones: float = 0.0
    channels: tuple[str, ...] = AUG_CHANNELS
    eq_db: float = 0.0

    @classmethod
    def from_config(cls, cfg) -> WaveAugment:
        return cls(
            codec_p=float(cfg.aug_codec_p),
            reverb_p=float(cfg.aug_reverb_p),
            noise_p=float(cfg.aug_noise_p),
            snr_db=(float(cfg.aug_snr_db[0]), float(cfg.aug_snr_db[1])),
            gain_db=float(cfg.aug_gain_db),
            speed=float(cfg.aug_speed),
            pitch_semitones=float(cfg.aug_pitch_semitones),
            channels=tuple(getattr(cfg, "aug_channels", AUG_CHANNELS)),
            eq_db=float(getattr(cfg, "aug_eq_db", 0.0)),
        )

    @property
    def active(self) -> bool:
        """Whether any copy could differ from the clean recording."""
        return any(
            (self.codec_p, self.reverb_p, self.noise_p, self.gain_db, self.speed, self.pitch_semitones, self.eq_db)
        )

    def codec_families(self) -> tuple[str, ...]:
        return tuple(f for f in CODEC_FAMILIES if f in self.channels)

    def room_families(self) -> tuple[str, ...]:
        return tuple(f for f in ROOM_FAMILIES if f in self.channels)

    def key(self) -> str:
        """Short hash of the settings: the name of their feature cache (the default channel
        list and a zero ``eq_db`` are left out, so caches made before those keys existed keep their name)."""
        settings = asdict(self)
        if tuple(settings["channels"]) == AUG_CHANNELS:
            del settings["channels"]
        if not settings["eq_db"]:
            del settings["eq_db"]
        return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]


def variant_rng(seed: int, patient: str, task: str, variant: int) -> np.random.Generator:
    """The generator of one copy: the same (seed, recording, copy) always draws the same."""
    return np.random.default_rng([int(seed), zlib.crc32(f"{patient}/{task}".encode()), int(variant)])


def _channel():
    """The synthetic generator's channel module when it offers ``apply_channel`` and
    ``draw_channel_spec`` (codecs, rooms); None otherwise."""
    try:
        from .synth import channel_spec
    except ImportError:
        return None
    ok = hasattr(channel_spec, "apply_channel") and hasattr(channel_spec, "draw_channel_spec")
    return channel_spec if ok else None


def _noise():
    """The synthetic generator's noise module (``add_noise``, ``NOISE_TYPES``), or None."""
    try:
        from .synth import noise
    except ImportError:
        return None
    return noise if hasattr(noise, "add_noise") and hasattr(noise, "NOISE_TYPES") else None


def check_available(aug: WaveAugment) -> None:
    """UsageError when the config asks for codecs or rooms and no channel model offers them, or
    when ``aug_channels`` leaves none to draw from."""
    if (aug.codec_p > 0 or aug.reverb_p > 0) and _channel() is None:
        raise UsageError(
            "aug_codec_p and aug_reverb_p need training.synth.channel_spec.apply_channel, which this version "
            "lacks; set them to 0."
        )
    for p, name, fams, offer in (
        (aug.codec_p, "aug_codec_p", aug.codec_families(), CODEC_FAMILIES),
        (aug.reverb_p, "aug_reverb_p", aug.room_families(), ROOM_FAMILIES),
    ):
        if p > 0 and not fams:
            raise UsageError(
                f"{name} is {p:g} but aug_channels holds none of {', '.join(offer)}; add one or set {name} to 0."
            )


def coloured_noise(n: int, *, colour: str, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise [shape=(n,)]: ``white`` (flat), ``pink`` (1/f power) or ``brown`` (1/f^2)."""
    white = rng.standard_normal(n)
    if colour != "white" and n > 1:
        spectrum = np.fft.rfft(white)
        f = np.arange(len(spectrum), dtype=np.float64)
        f[0] = 1.0
        spectrum /= f ** (0.5 if colour == "pink" else 1.0)
        spectrum[0] = 0.0
        white = np.fft.irfft(spectrum, n)
    return white / max(float(np.sqrt(np.mean(white**2))), 1e-12)


def speech_rms(x: np.ndarray) -> float:
    """RMS of the samples above 1 % of the peak (the speech, not the pauses around it)."""
    peak = float(np.abs(x).max()) if x.size else 0.0
    active = x[np.abs(x) > 0.01 * peak] if peak > 0 else x
    return float(np.sqrt(np.mean(active**2))) if active.size else 0.0


def add_noise(x: np.ndarray, *, snr_db: float, colour: str, rng: np.random.Generator) -> np.ndarray:
    """``x`` [shape=(n,)] plus noise of ``colour`` at ``snr_db`` below its speech RMS."""
    level = speech_rms(x) * 10 ** (-snr_db / 20)
    return x + level * coloured_noise(len(x), colour=colour, rng=rng)


def change_speed(x: np.ndarray, *, factor: float, sample_rate: int) -> np.ndarray:
    """``x`` played ``factor`` times faster (shorter and higher for factor > 1), by resampling."""
    import soxr

    if factor == 1.0:
        return x
    return soxr.resample(x.astype(np.float32), sample_rate * factor, sample_rate, quality="HQ").astype(np.float32)


def time_stretch(x: np.ndarray, *, rate: float, n_fft: int = 512, hop: int = 128) -> np.ndarray:
    """``x`` [shape=(n,)] made ``rate`` times faster with its pitch kept: a phase vocoder
    (Flanagan & Golden 1966; the method of ``librosa.effects.time_stretch``) on scipy's STFT,
    so that no numba compilation is paid for it. Length about n / rate."""
    from scipy.signal import istft, stft

    if rate == 1.0 or len(x) < n_fft:
        return x
    _, _, spec = stft(x, nperseg=n_fft, noverlap=n_fft - hop, boundary="zeros", padded=True)
    advance = 2 * np.pi * hop * np.arange(spec.shape[0]) / n_fft  # expected phase step per hop
    steps = np.arange(0, spec.shape[1] - 1, rate)
    mags, angles = np.abs(spec), np.angle(spec)
    phase = angles[:, 0].copy()
    out = np.empty((spec.shape[0], len(steps)), dtype=np.complex128)
    for i, t in enumerate(steps):
        k, frac = int(t), t - int(t)
        out[:, i] = ((1 - frac) * mags[:, k] + frac * mags[:, k + 1]) * np.exp(1j * phase)
        delta = angles[:, k + 1] - angles[:, k] - advance
        phase += advance + delta - 2 * np.pi * np.round(delta / (2 * np.pi))
    _, y = istft(out, nperseg=n_fft, noverlap=n_fft - hop, boundary=True)
    return y[: int(round(len(x) / rate))].astype(np.float32)


def shift_pitch(x: np.ndarray, *, semitones: float, sample_rate: int) -> np.ndarray:
    """``x`` with its pitch moved by ``semitones`` and its length kept: stretched by the
    ratio, then resampled back to the length (the construction of ``librosa.effects.pitch_shift``)."""
    if semitones == 0.0:
        return x
    ratio = 2.0 ** (semitones / 12)
    y = change_speed(
        time_stretch(np.asarray(x, dtype=np.float32), rate=1 / ratio), factor=ratio, sample_rate=sample_rate
    )
    return y[: len(x)] if len(y) >= len(x) else np.pad(y, (0, len(x) - len(y)))


EQ_POINTS = 6  # control points of aug_eq_db's gain curve
EQ_LOW_HZ = 100.0  # the lowest one; the highest is the Nyquist frequency


def eq_curve(n_bins: int, *, sample_rate: int, gains_db: np.ndarray) -> np.ndarray:
    """Linear gains [shape=(n_bins,)] for an rfft of ``n_bins`` bins: ``gains_db`` at
    ``len(gains_db)`` log-spaced frequencies from 100 Hz to Nyquist, interpolated in dB over
    log-frequency (flat below the first point and at DC)."""
    freqs = np.linspace(0.0, sample_rate / 2, n_bins)
    points = np.geomspace(EQ_LOW_HZ, sample_rate / 2, len(gains_db))
    db = np.interp(np.log(np.maximum(freqs, 1.0)), np.log(points), np.asarray(gains_db, dtype=np.float64))
    return 10 ** (db / 20)


def recolour(x: np.ndarray, *, sample_rate: int, gains_db: np.ndarray) -> np.ndarray:
    """``x`` [shape=(n,)] through the zero-phase filter of ``eq_curve``, its speech RMS kept
    (so the colour changes, not the level; the gain step sets the level)."""
    if len(x) < 2:
        return x
    spectrum = np.fft.rfft(np.asarray(x, dtype=np.float64))
    y = np.fft.irfft(spectrum * eq_curve(len(spectrum), sample_rate=sample_rate, gains_db=gains_db), len(x))
    before, after = speech_rms(np.asarray(x, dtype=np.float64)), speech_rms(y)
    if after > 0 and before > 0:
        y *= before / after
    return y.astype(np.float32)


def augment_wave(
    x: np.ndarray, *, sample_rate: int, aug: WaveAugment, rng: np.random.Generator
) -> tuple[np.ndarray, list[str]]:
    """One augmented copy of ``x`` [shape=(n,)] (float, full scale 1) and what was done to it.

        Every random number comes from ``rng``, drawn in a fixed order whatever is applied, so a
        copy depends only on the generator's seed and the settings. Speed, pitch and gain are
    applied to every copy when their setting is above 0 (by an amount drawn from their range);
    codec, room and noise each to the share of copies their probability says.
    """
    draws = rng.random(3)  # codec?, reverb?, noise?
    factor = 1.0 + rng.uniform(-aug.speed, aug.speed)
    semitones = rng.uniform(-aug.pitch_semitones, aug.pitch_semitones)
    snr = rng.uniform(*aug.snr_db)
    noises = _noise()
    kinds = noises.NOISE_TYPES if noises is not None else NOISE_COLOURS
    colour = str(kinds[int(rng.integers(len(kinds)))])
    gain = rng.uniform(-aug.gain_db, aug.gain_db)
    done: list[str] = []
    y = np.asarray(x, dtype=np.float32)
    if aug.eq_db > 0:  # from a child generator: the draws above and below are those of a copy without it
        eq_rng = rng.spawn(1)[0]
        gains = eq_rng.uniform(-aug.eq_db, aug.eq_db, EQ_POINTS)
        y = np.clip(recolour(y, sample_rate=sample_rate, gains_db=gains), -1.0, 1.0)
        done.append("EQ " + " ".join(f"{g:+.0f}" for g in gains) + " dB")
    if aug.speed > 0:
        y = change_speed(y, factor=factor, sample_rate=sample_rate)
        done.append(f"speed x{factor:.3f}")
    if aug.pitch_semitones > 0:
        y = shift_pitch(y, semitones=semitones, sample_rate=sample_rate)
        done.append(f"pitch {semitones:+.2f} st")
    for chosen, families in (
        (draws[0] < aug.codec_p, aug.codec_families()),
        (draws[1] < aug.reverb_p, aug.room_families()),
    ):
        if chosen:
            check_available(aug)
            channel = _channel()
            spec = channel.draw_channel_spec(rng, families=families)
            y = np.asarray(channel.apply_channel(y, sample_rate, channel=spec, rng=rng), dtype=np.float32)
            done.append(f"{spec.family} channel ({', '.join(e.kind for e in spec.effects)})")
    if draws[2] < aug.noise_p:
        if noises is not None:
            y = noises.add_noise(y, sample_rate, kind=colour, snr_db=snr, rng=rng)
        else:
            y = add_noise(y, snr_db=snr, colour=colour, rng=rng)
        y = np.asarray(y, dtype=np.float32)
        done.append(f"{colour} noise {snr:.1f} dB SNR")
    if aug.gain_db > 0:
        y = np.clip(y * np.float32(10 ** (gain / 20)), -1.0, 1.0)
        done.append(f"gain {gain:+.1f} dB")
    return np.ascontiguousarray(y, dtype=np.float32), done
