"""GSM 06.10 and Opus through the system's own codec libraries (libgsm, libopus), in process.

These are the libraries ffmpeg's ``libgsm`` and ``libopus`` encoders wrap (Debian packages
``libgsm1`` and ``libopus0``); calling them through ``ctypes`` gives the same codecs without
starting two ffmpeg processes per call, which cost far more than the coding itself.

* GSM 06.10 full rate: 8 kHz, frames of 160 samples -> 33 bytes (13 kbit/s).
* Opus (RFC 6716), VoIP application, complexity 2, 20 ms frames at the requested bit rate,
  decoded with the encoder's look-ahead removed so that the output lines up with the input.

Signals at other rates are resampled to 8 kHz and back (``scipy.signal.resample_poly``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache
from math import gcd

import numpy as np
from scipy.signal import resample_poly

from sand_gui.errors import UsageError

GSM_FRAME = 160
OPUS_RATE = 8000
OPUS_FRAME = 160  # 20 ms at 8 kHz
OPUS_APPLICATION_VOIP = 2048
OPUS_SET_BITRATE = 4002
OPUS_GET_LOOKAHEAD = 4027
OPUS_SET_COMPLEXITY = 4010
OPUS_COMPLEXITY = 2  # of 0-10: a low-end phone app's setting; 40 % of the time of libopus's default 10
DEBIAN_PACKAGE = {"gsm": "libgsm1", "opus": "libopus0"}


@cache
def _library(name: str) -> ctypes.CDLL:
    path = ctypes.util.find_library(name)
    if path is None:
        raise UsageError(f"the {name} codec needs the {name} library, which is not installed ({DEBIAN_PACKAGE[name]}).")
    lib = ctypes.CDLL(path)
    if name == "gsm":
        lib.gsm_create.restype = ctypes.c_void_p
        lib.gsm_destroy.argtypes = [ctypes.c_void_p]
        lib.gsm_encode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        lib.gsm_decode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    else:
        lib.opus_encoder_create.restype = ctypes.c_void_p
        lib.opus_encoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
        lib.opus_decoder_create.restype = ctypes.c_void_p
        lib.opus_decoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
        lib.opus_encode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int32]
        lib.opus_decode.argtypes = [
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_int32,
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_int,
        ]
        lib.opus_encoder_destroy.argtypes = [ctypes.c_void_p]
        lib.opus_decoder_destroy.argtypes = [ctypes.c_void_p]
    return lib


def _to_8k(pcm: np.ndarray, sample_rate: int) -> np.ndarray:
    if sample_rate == 8000:
        return pcm.astype(np.int16)
    g = gcd(8000, sample_rate)
    return np.clip(np.round(resample_poly(pcm.astype(np.float64), 8000 // g, sample_rate // g)), -32768, 32767).astype(
        np.int16
    )


def _from_8k(pcm: np.ndarray, sample_rate: int, n: int) -> np.ndarray:
    if sample_rate != 8000:
        g = gcd(8000, sample_rate)
        y = resample_poly(pcm.astype(np.float64), sample_rate // g, 8000 // g)
        pcm = np.clip(np.round(y), -32768, 32767).astype(np.int16)
    return np.pad(pcm[:n], (0, max(n - len(pcm), 0))).astype(np.int16)


def gsm_roundtrip(pcm: np.ndarray, sample_rate: int) -> np.ndarray:
    """int16 PCM [shape=(n,)] through GSM 06.10 (libgsm) and back: -> int16 [shape=(n,)]."""
    lib = _library("gsm")
    x = _to_8k(pcm, sample_rate)
    frames = -(-len(x) // GSM_FRAME)
    x = np.ascontiguousarray(np.pad(x, (0, frames * GSM_FRAME - len(x))), dtype=np.int16)
    out = np.zeros_like(x)
    frame = ctypes.create_string_buffer(33)
    enc, dec = lib.gsm_create(), lib.gsm_create()
    try:
        for i in range(frames):
            lib.gsm_encode(enc, x[i * GSM_FRAME :].ctypes.data, frame)
            lib.gsm_decode(dec, frame, out[i * GSM_FRAME :].ctypes.data)
    finally:
        lib.gsm_destroy(enc)
        lib.gsm_destroy(dec)
    return _from_8k(out, sample_rate, len(pcm))


def opus_roundtrip(pcm: np.ndarray, sample_rate: int, *, bitrate: int) -> np.ndarray:
    """int16 PCM [shape=(n,)] through Opus (libopus, VoIP mode, ``bitrate`` bit/s) and back: -> int16 [shape=(n,)]."""
    lib = _library("opus")
    err = ctypes.c_int(0)
    enc = lib.opus_encoder_create(OPUS_RATE, 1, OPUS_APPLICATION_VOIP, ctypes.byref(err))
    dec = lib.opus_decoder_create(OPUS_RATE, 1, ctypes.byref(err)) if enc else None
    if not enc or not dec:
        raise UsageError(f"libopus refused to create a coder (error {err.value}).")
    try:
        handle = ctypes.c_void_p(enc)  # opus_encoder_ctl is variadic: every argument gets its exact C type
        lib.opus_encoder_ctl(handle, ctypes.c_int(OPUS_SET_BITRATE), ctypes.c_int32(int(bitrate)))
        lib.opus_encoder_ctl(handle, ctypes.c_int(OPUS_SET_COMPLEXITY), ctypes.c_int32(OPUS_COMPLEXITY))
        look = ctypes.c_int32(0)
        lib.opus_encoder_ctl(handle, ctypes.c_int(OPUS_GET_LOOKAHEAD), ctypes.byref(look))
        x = _to_8k(pcm, sample_rate)
        frames = -(-(len(x) + look.value) // OPUS_FRAME)
        x = np.ascontiguousarray(np.pad(x, (0, frames * OPUS_FRAME - len(x))), dtype=np.int16)
        out = np.zeros_like(x)
        packet = ctypes.create_string_buffer(1500)
        for i in range(frames):
            size = lib.opus_encode(enc, x[i * OPUS_FRAME :].ctypes.data, OPUS_FRAME, packet, 1500)
            if size < 0:
                raise UsageError(f"libopus failed to encode a frame (error {size}).")
            lib.opus_decode(dec, packet, size, out[i * OPUS_FRAME :].ctypes.data, OPUS_FRAME, 0)
    finally:
        lib.opus_encoder_destroy(enc)
        if dec:
            lib.opus_decoder_destroy(dec)
    return _from_8k(out[look.value :], sample_rate, len(pcm))
