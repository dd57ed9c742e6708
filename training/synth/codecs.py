"""Voice codecs of telephony and phone apps, applied as an encode -> decode round trip.

* ``g711u`` / ``g711a``: ITU-T G.711 mu-law and A-law (64 kbit/s, the PSTN's codec), computed here
  with numpy from the standard's segment tables (the classic reference implementation's
  arithmetic; the tests check them code for code against ffmpeg's ``pcm_mulaw``/``pcm_alaw``).
* ``gsm``: GSM 06.10 full rate (13 kbit/s) through the system's libgsm (``codec_libs``, in
  process; the tests check it sample for sample against ffmpeg's ``libgsm`` encoder + decoder).
* ``g726``: ITU-T G.726 ADPCM at 16-32 kbit/s through ffmpeg.
* ``opus``: Opus (RFC 6716) at 6-16 kbit/s through the system's libopus (``codec_libs``): what
  WhatsApp-like apps send at low bit rates.

(AMR-NB, the mobile networks' codec, is not offered: Debian's ffmpeg has no AMR-NB encoder.)
The ffmpeg codec runs at 8 kHz (the signal is resampled by ffmpeg on the way in and out when its
rate differs) with ffmpeg's bit-exact flags, so one input gives one output. A call costs two
ffmpeg processes (0.3 s or more for a patient's 40 s of audio, most of it starting them), which is
why GSM and Opus are called in process and the generator codes a patient's eight recordings in
one call.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np

from sand_gui.errors import UsageError, one_line

from .codec_libs import gsm_roundtrip, opus_roundtrip

CODECS = ("g711u", "g711a", "gsm", "g726", "opus")
FFMPEG_CODECS = {"gsm": ("libgsm", "gsm"), "g726": ("g726", "wav"), "opus": ("libopus", "ogg")}
MU_BIAS, MU_CLIP = 0x84, 32635
A_SEGMENT_ENDS = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])


def to_int16(x: np.ndarray) -> np.ndarray:
    """Float samples (full scale 1.0) [shape=(n,)] -> int16 PCM, clipped."""
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)


def mulaw_encode(pcm: np.ndarray) -> np.ndarray:
    """G.711 mu-law: int16 PCM [shape=(n,)] -> uint8 codes."""
    v = pcm.astype(np.int32)
    sign = np.where(v < 0, 0x80, 0)
    mag = np.minimum(np.abs(v), MU_CLIP) + MU_BIAS
    exponent = np.clip(np.floor(np.log2(mag)).astype(np.int32) - 7, 0, 7)
    mantissa = (mag >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)


def mulaw_decode(code: np.ndarray) -> np.ndarray:
    """G.711 mu-law: uint8 codes [shape=(n,)] -> int16 PCM."""
    c = ~code.astype(np.int32) & 0xFF
    exponent, mantissa = (c >> 4) & 0x07, c & 0x0F
    mag = (((mantissa << 3) + MU_BIAS) << exponent) - MU_BIAS
    return np.where(c & 0x80, -mag, mag).astype(np.int16)


def alaw_encode(pcm: np.ndarray) -> np.ndarray:
    """G.711 A-law: int16 PCM [shape=(n,)] -> uint8 codes (13-bit magnitude, even bits inverted)."""
    v = pcm.astype(np.int32) >> 3
    mask = np.where(v >= 0, 0xD5, 0x55)
    v = np.where(v >= 0, v, -v - 1)
    seg = np.searchsorted(A_SEGMENT_ENDS, v)  # first segment whose end >= v
    low = np.where(seg < 2, (v >> 1) & 0x0F, (v >> np.maximum(seg, 1)) & 0x0F)
    code = np.where(seg >= 8, 0x7F, (np.minimum(seg, 7) << 4) | low)
    return (code ^ mask).astype(np.uint8)


def alaw_decode(code: np.ndarray) -> np.ndarray:
    """G.711 A-law: uint8 codes [shape=(n,)] -> int16 PCM."""
    a = code.astype(np.int32) ^ 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    t = np.where(seg == 0, t + 8, t + 0x108)
    t = np.where(seg > 1, t << np.maximum(seg - 1, 0), t)
    return np.where(a & 0x80, t, -t).astype(np.int16)


def ffmpeg_roundtrip(pcm: np.ndarray, sample_rate: int, *, codec: str, bitrate: int) -> np.ndarray:
    """Encode int16 PCM [shape=(n,)] with an ffmpeg codec and decode it again: -> int16 [shape=(n,)]."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise UsageError(f"the {codec} codec needs ffmpeg, which is not installed (apt-get install ffmpeg).")
    encoder, fmt = FFMPEG_CODECS[codec]
    base = [exe, "-nostdin", "-hide_banner", "-loglevel", "error", "-fflags", "+bitexact"]
    raw = ["-f", "s16le", "-ac", "1", "-ar", str(sample_rate)]
    rate = ["-b:a", str(int(bitrate))] if codec != "gsm" else []
    encode = [*base, *raw, "-i", "pipe:0", "-ar", "8000", "-c:a", encoder, *rate, "-flags:a", "+bitexact"]
    decode = [*base, "-i", "pipe:0", *raw, "pipe:1"]
    try:
        coded = subprocess.run([*encode, "-f", fmt, "pipe:1"], input=pcm.astype("<i2").tobytes(), capture_output=True)
        out = subprocess.run(decode, input=coded.stdout, capture_output=True) if coded.returncode == 0 else coded
    except OSError as exc:
        raise UsageError(f"ffmpeg could not be started for the {codec} codec ({exc.strerror}).") from None
    if out.returncode != 0:
        reason = one_line(out.stderr.decode("utf-8", "replace").strip() or f"exit status {out.returncode}", limit=120)
        raise UsageError(f"ffmpeg failed to round-trip the {codec} codec ({reason}).")
    y = np.frombuffer(out.stdout, dtype="<i2")
    return np.pad(y[: len(pcm)], (0, max(len(pcm) - len(y), 0))).astype(np.int16)


def codec_roundtrip(x: np.ndarray, sample_rate: int, *, codec: str, bitrate: int = 0) -> np.ndarray:
    """Float samples [shape=(n,)] through ``codec``'s encoder and decoder: -> float [shape=(n,)].

    ``bitrate`` in bit/s for ``g726`` (16000-32000) and ``opus`` (6000-16000); ignored otherwise.
    """
    if codec not in CODECS:
        raise UsageError(f"codec {one_line(codec)!r} is unknown; use one of {', '.join(CODECS)}.")
    pcm = to_int16(x)
    if codec == "g711u":
        y = mulaw_decode(mulaw_encode(pcm))
    elif codec == "g711a":
        y = alaw_decode(alaw_encode(pcm))
    elif codec == "gsm":
        y = gsm_roundtrip(pcm, sample_rate)
    elif codec == "opus":
        y = opus_roundtrip(pcm, sample_rate, bitrate=bitrate)
    else:
        y = ffmpeg_roundtrip(pcm, sample_rate, codec=codec, bitrate=bitrate)
    return y.astype(np.float64) / 32767.0
