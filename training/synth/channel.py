"""Recording channel like SAND's: a smartphone app writing 8 kHz, 16-bit mono WAV.

Every recording goes through this phone (``capture`` then ``quantise``); a patient's channel
family (``channel_spec``: telephone, VoIP, room, noise, bad phone) is applied in between.

Per recording: 0.3-1.0 s of leading and trailing silence holding only room noise; room noise
(white noise through a random one-pole low-pass: pink-to-brown "room tone") at an SNR of
34-50 dB against the speech's RMS, so that the 30 dB energy VAD of ``sand_gui.vad`` finds the
speech; a microphone colouring (2nd-order high-pass at 80-250 Hz, a +/-5 dB presence peak at
1-3 kHz); a gain putting the peak at -18 to -3 dBFS, or, in 4 % of recordings, 0.5-2 dB above
full scale so that the loudest peaks clip lightly; 16-bit quantisation with TPDF dither.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from .dynamics import highpass, peaking

CLIP_PROBABILITY = 0.04


@dataclass(frozen=True)
class Channel:
    """One recording's channel, drawn by ``draw_channel``."""

    lead_s: float
    trail_s: float
    snr_db: float
    noise_pole: float  # one-pole low-pass coefficient of the room noise
    highpass_hz: float
    presence_hz: float
    presence_db: float
    peak_dbfs: float  # > 0 means light clipping


def draw_channel(rng: np.random.Generator) -> Channel:
    """A random channel within the ranges of the module docstring."""
    hot = rng.random() < CLIP_PROBABILITY
    return Channel(
        lead_s=float(rng.uniform(0.3, 1.0)),
        trail_s=float(rng.uniform(0.3, 1.0)),
        snr_db=float(rng.uniform(34.0, 50.0)),
        noise_pole=float(rng.uniform(0.5, 0.97)),
        highpass_hz=float(rng.uniform(80.0, 250.0)),
        presence_hz=float(rng.uniform(1000.0, 3000.0)),
        presence_db=float(rng.uniform(-5.0, 5.0)),
        peak_dbfs=float(rng.uniform(0.5, 2.0) if hot else rng.uniform(-18.0, -3.0)),
    )


def capture(speech: np.ndarray, *, channel: Channel, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Speech [shape=(n,)] as the phone's microphone and gain leave it: float [shape=(lead + n + trail,)]."""
    lead, trail = int(channel.lead_s * sample_rate), int(channel.trail_s * sample_rate)
    x = np.concatenate([np.zeros(lead), speech, np.zeros(trail)])
    active = speech[np.abs(speech) > 0.01 * np.abs(speech).max()] if speech.size else speech
    speech_rms = float(np.sqrt(np.mean(active**2))) if active.size else 1.0
    noise = lfilter([1.0 - channel.noise_pole], [1.0, -channel.noise_pole], rng.standard_normal(len(x)))
    noise *= speech_rms * 10 ** (-channel.snr_db / 20) / max(float(np.sqrt(np.mean(noise**2))), 1e-12)
    y = highpass(x + noise, cutoff_hz=channel.highpass_hz, sample_rate=sample_rate)
    y = peaking(y, freq=channel.presence_hz, gain_db=channel.presence_db, sample_rate=sample_rate)
    return y * 10 ** (channel.peak_dbfs / 20) / max(float(np.abs(y).max()), 1e-12)


def quantise(y: np.ndarray, *, rng: np.random.Generator) -> np.ndarray:
    """Float samples (full scale 1.0) [shape=(n,)] -> int16 with TPDF dither, clipped at full scale."""
    y = np.clip(y * 32767.0 + rng.uniform(-0.5, 0.5, len(y)) + rng.uniform(-0.5, 0.5, len(y)), -32768, 32767)
    return np.round(y).astype(np.int16)


def record(speech: np.ndarray, *, channel: Channel, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Speech [shape=(n,)] as the phone stores it: int16 [shape=(lead + n + trail,)]."""
    return quantise(capture(speech, channel=channel, sample_rate=sample_rate, rng=rng), rng=rng)
