"""The rule of every training-config key: its type and its range, as one checker per key
(``RULES``). A checker returns the value as the config holds it (numbers parsed from any usual
spelling, mappings normalised) or raises ``Bad`` saying what the value should be;
``config.check_value`` turns that into one sentence naming the file, the key and the value.
Architecture arguments never carry a path or an option that loads weights.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable

from sand_gui.classes import CLASS_NUMBERS
from sand_gui.features import FeatureSpec


class Bad(ValueError):
    """A value breaks its key's rule; the text says what the key must be. ``sub``/``value``
    name the entry of a mapping that breaks it; ``known`` (for an unknown entry) the entries
    that exist, to suggest the nearest."""

    def __init__(self, what: str, *, sub=None, value=None, known=None):
        super().__init__(what)
        self.sub, self.value, self.known = sub, value, known


# A number as people write it: 3, -2, 1_000, 0.5, .5, 5., 1e-3, 1E-3, 2.5e+4 (no nan, no inf).
_NUMBER = re.compile(r"[+-]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,99}")
_ARCH = re.compile(r"[a-z0-9][a-z0-9_.]{0,99}")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
# timm arguments that load files, download or change what the network is: never from a config.
FORBIDDEN_ARCH_KWARGS = frozenset(
    {
        "pretrained",
        "pretrained_cfg",
        "pretrained_cfg_overlay",
        "pretrained_strict",
        "checkpoint_path",
        "cache_dir",
        "features_only",
        "out_indices",
        "num_classes",
        "in_chans",
        "drop_path_rate",
        "scriptable",
        "exportable",
        "no_jit",
    }
)


def _number(value):
    """An int or float from a YAML value, numbers spelled as text included; Bad otherwise."""
    if isinstance(value, bool):
        raise Bad("a number (not true/false)")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        text = value.strip().replace("_", "")
        return int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
    raise Bad("a number")


def _numbers_in(value):
    """``value`` with every string that spells a number turned into that number (lists too)."""
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return _number(value)
    if isinstance(value, list):
        return [_numbers_in(v) for v in value]
    return value


def _int(lo: int, hi: int, *, what: str = "") -> Callable:
    what = what or f"a whole number from {lo} to {hi}"

    def check(value):
        try:
            v = _number(value)
        except Bad:
            raise Bad(what) from None
        if isinstance(v, float):
            if not (math.isfinite(v) and v.is_integer()):
                raise Bad(what)
            v = int(v)
        if not lo <= v <= hi:
            raise Bad(what)
        return v

    return check


def _float(lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False) -> Callable:
    if lo_open or hi_open:
        what = (
            f"a finite number {'above' if lo_open else 'of at least'} {lo:g} "
            f"and {'below' if hi_open else 'at most'} {hi:g}"
        )
    else:
        what = f"a finite number from {lo:g} to {hi:g}"

    def check(value):
        try:
            v = float(_number(value))
        except Bad:
            raise Bad(what) from None
        if not math.isfinite(v) or v < lo or v > hi or (lo_open and v == lo) or (hi_open and v == hi):
            raise Bad(what)
        return v

    return check


def _bool(value):
    if not isinstance(value, bool):
        raise Bad("true or false")
    return value


def _text(
    *, limit: int, pattern: re.Pattern | None = None, what: str = "", optional: bool = False, empty: bool = False
) -> Callable:
    what = what or f"text of at most {limit} characters"

    def check(value):
        if value is None and optional:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and pattern is None:
            value = str(value)  # a sheet or a name that happens to be a number
        if not isinstance(value, str) or len(value) > limit or "\x00" in value or (not value.strip() and not empty):
            raise Bad(what)
        if pattern is not None and not pattern.fullmatch(value):
            raise Bad(what)
        return value

    return check


def _choice(*options: str, optional: bool = False) -> Callable:
    what = "one of " + ", ".join(options) + (" or null" if optional else "")

    def check(value):
        if value is None and optional:
            return None
        if value not in options:
            raise Bad(what)
        return value

    return check


def _features(value):
    """A mapping of FeatureSpec fields to values of the field's type; ranges: FeatureSpec.validate."""
    value = {} if value is None else value
    if not isinstance(value, dict):
        raise Bad("a mapping of feature settings")
    known = {f.name: f.type for f in dataclasses.fields(FeatureSpec)}
    out = {}
    for key, v in value.items():
        if key not in known:
            raise Bad("", sub=key, known=known)
        kind, v = known[key], _numbers_in(v)
        try:
            if kind == "int":
                v = _int(-(2**31), 2**31, what="a whole number")(v)
            elif kind.startswith("float"):
                v = None if v is None and "None" in kind else _float(-1e12, 1e12)(v)  # ranges: validate()
            elif kind.startswith("tuple"):
                if not isinstance(v, (list, tuple)) or len(v) != 2:
                    raise Bad("a pair [low, high] of numbers")
                v = [_float(-1e12, 1e12)(x) for x in v]
            elif not isinstance(v, str):
                raise Bad("text")
        except Bad as exc:
            raise Bad(str(exc), sub=key, value=v) from None
        out[key] = v
    return out


def _arch_kwargs(value):
    """timm keyword arguments: plain numbers, flags, short words and lists of numbers; never a
    path or an option that loads weights (the bundle reader re-checks them against its allow-list)."""
    value = {} if value is None else value
    if not isinstance(value, dict):
        raise Bad("a mapping of architecture arguments")
    out = {}
    for key, v in value.items():
        if not isinstance(key, str) or not _WORD.fullmatch(key) or key in FORBIDDEN_ARCH_KWARGS:
            raise Bad("an architecture argument a config may set (no paths, no weight loading)", sub=key, value=v)
        v = _numbers_in(v)
        flat = v if isinstance(v, list) else [v]
        if len(flat) > 16 or not all(
            v is None
            or isinstance(x, bool)
            or (isinstance(x, (int, float)) and math.isfinite(x) and abs(x) <= 1e6)
            or (isinstance(x, str) and _WORD.fullmatch(x))
            for x in flat
        ):
            raise Bad("a number, a flag, a short word or a short list of numbers", sub=key, value=v)
        out[key] = v
    return out


def _class_weights(value):
    what = f"balanced, balanced_raw, none, null or a list of {len(CLASS_NUMBERS)} positive numbers"
    if value is None or value in ("balanced", "balanced_raw", "none"):
        return value
    if isinstance(value, list) and len(value) == len(CLASS_NUMBERS):
        try:
            return [_float(0, 1e6, lo_open=True)(v) for v in value]
        except Bad:
            pass
    raise Bad(what)


def _oversample(value):
    """class -> how many times its recordings are drawn per epoch (1 = once)."""
    what = f"a mapping of classes {CLASS_NUMBERS[0]}..{CLASS_NUMBERS[-1]} to whole numbers from 1 to 1000"
    value = {} if value is None else value
    if not isinstance(value, dict):
        raise Bad(what)
    out = {}
    for k, v in value.items():
        try:
            klass = _int(CLASS_NUMBERS[0], CLASS_NUMBERS[-1])(k)
        except Bad:
            raise Bad(f"the classes {CLASS_NUMBERS[0]} to {CLASS_NUMBERS[-1]}", sub=k, value=v) from None
        try:
            out[klass] = _int(1, 1000)(v)
        except Bad as exc:
            raise Bad(str(exc), sub=k, value=v) from None
    return out


def _pair(lo: float, hi: float) -> Callable:
    """A list [low, high] of finite numbers within [lo, hi], low <= high."""
    what = f"a pair [low, high] of numbers from {lo:g} to {hi:g}, low first"

    def check(value):
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise Bad(what)
        try:
            pair = [_float(lo, hi)(v) for v in value]
        except Bad:
            raise Bad(what) from None
        if pair[0] > pair[1]:
            raise Bad(what)
        return pair

    return check


def _aug_channels(value):
    """The generator's channel families that codec and room copies may draw from."""
    from .wave_augment import AUG_CHANNELS

    what = f"a list of one or more of {', '.join(AUG_CHANNELS)}"
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) for v in value):
        raise Bad(what)
    if any(v not in AUG_CHANNELS for v in value):
        raise Bad(what)
    return list(dict.fromkeys(value))


def _device(value):
    from sand_gui.model import DEVICE_CHOICES

    return _choice(*DEVICE_CHOICES)(value)


_PATH = _text(limit=4096, what="a path")
_OPTIONAL_PATH = _text(limit=4096, what="a path or null", optional=True)
_SHARE = _float(0.0, 1.0)

RULES: dict[str, Callable] = {
    "name": _text(
        limit=100, pattern=_NAME, what="a name of at most 100 letters, digits, dots, dashes, underscores and plus signs"
    ),
    "notes": _text(limit=10_000, empty=True),
    "data": _PATH,
    "train_sheet": _text(limit=200, what="a sheet name"),
    "val_sheet": _text(limit=200, what="a sheet name or null", optional=True),
    "val_data": _OPTIONAL_PATH,
    "cache": _OPTIONAL_PATH,
    "data_description": _text(limit=2000, empty=True),
    "synthetic": _bool,
    "features": _features,
    "architecture": _text(limit=100, pattern=_ARCH, what="a timm architecture name such as convnext_base"),
    "arch_kwargs": _arch_kwargs,
    "drop_path_rate": _float(0.0, 1.0, hi_open=True),
    "init_weights": _text(limit=4096, what="imagenet, timm:<name>, a .safetensors file or null", optional=True),
    "epochs": _int(1, 100_000),
    "batch_size": _int(1, 65_536),
    "lr": _float(0.0, 10.0, lo_open=True),
    "weight_decay": _float(0.0, 10.0),
    "scheduler": _choice("cosine", "constant"),
    "loss": _choice("focal", "cross_entropy", "corn"),
    "vote": _choice("majority", "median"),
    "focal_gamma": _float(0.0, 20.0),
    "class_weights": _class_weights,
    "oversample": _oversample,
    "specaugment_p": _SHARE,
    "freq_masks": _int(0, 64),
    "freq_mask_width": _SHARE,
    "time_masks": _int(0, 64),
    "time_mask_width": _SHARE,
    "time_shift": _SHARE,
    "hflip_p": _SHARE,
    "vflip_p": _SHARE,
    "rotation_deg": _float(0.0, 180.0),
    "color_jitter": _SHARE,
    "aug_variants": _int(0, 64),
    "aug_codec_p": _SHARE,
    "aug_reverb_p": _SHARE,
    "aug_noise_p": _SHARE,
    "aug_snr_db": _pair(-10.0, 80.0),
    "aug_gain_db": _float(0.0, 40.0),
    "aug_speed": _float(0.0, 0.3),
    "aug_pitch_semitones": _float(0.0, 4.0),
    "aug_eq_db": _float(0.0, 24.0),
    "aug_channels": _aug_channels,
    "data_workers": _int(1, 256),
    "seed": _int(0, 2**32 - 1),
    "device": _device,
    "amp": _bool,
    "amp_dtype": _choice("bfloat16", "float16"),
    "eval_batch_size": _int(1, 4096),
    "out": _PATH,
    "run_dir": _OPTIONAL_PATH,
}
