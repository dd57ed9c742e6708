"""Training configuration: one flat dataclass, read from YAML, overridden with ``--set``.

Every item of the seed recipe is a key whose default is the seed's value, so an empty
config file reproduces the paper (ConvNeXt-Base, 75 epochs, batch 16, AdamW 1e-4 / 0.01,
cosine schedule, focal loss gamma 2 with class weights, oversampling 1: 21x, 2: 5x, 3: 2x,
SpecAugment on 70 % of samples, stochastic depth 0.1, ImageNet-1k initial weights).
The ``features`` mapping becomes the core's ``FeatureSpec``; keys it omits keep the
core's defaults (the seed's). Overrides use dotted keys for mappings:
``--set epochs=2 features.n_mels=64 oversample.1=10``; values are parsed as YAML.

Every key is checked when it is read, before any data is loaded: its type and its range
(``RULES``), so that nonsense ends in one sentence naming the file, the key and the value.
Numbers may be written in any usual spelling: ``1e-3``, ``1E-3``, ``.001``, ``1_000``
(YAML 1.1 reads ``1e-3`` as text; it is taken as the number it spells). Unknown keys are
refused with the nearest known one.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sand_gui.classes import CLASS_NUMBERS
from sand_gui.dataset import TRAIN_SHEET, VALIDATION_SHEET
from sand_gui.errors import SandError, UsageError, one_line
from sand_gui.feature_cache import spec_key  # noqa: F401  (re-exported: the cache key lives in the core)
from sand_gui.features import FeatureSpec

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
MAX_CONFIG_BYTES = 1_000_000  # a config is a page of text; anything larger is not one


@dataclass
class TrainConfig:
    """A training run. Paths are relative to the working directory."""

    name: str = "convnext_base"
    notes: str = ""  # copied into the model card
    # data
    data: str = "data/sand"  # dataset root in the SAND layout
    train_sheet: str = TRAIN_SHEET  # a sheet name, an alias (train, val, training, test) or labels.csv[:split]
    val_sheet: str | None = VALIDATION_SHEET  # None: no validation, the last epoch is kept
    val_data: str | None = None  # validation root when it differs from ``data``
    cache: str | None = None  # feature cache folder (see ``sand-train preprocess``); None: in memory only
    data_description: str = "SAND challenge Task 1 (ALS dysarthria severity), official training baseline split"
    synthetic: bool = False  # goes into the model card: was the training speech synthetic?
    # features: FeatureSpec fields; omitted ones keep the seed's defaults
    features: dict = field(default_factory=dict)
    # network
    architecture: str = "convnext_base"
    arch_kwargs: dict = field(default_factory=dict)
    drop_path_rate: float = 0.1
    init_weights: str | None = "imagenet"  # imagenet | timm:<name.tag> | a .safetensors path | null
    # recipe
    epochs: int = 75
    batch_size: int = 16
    lr: float = 1e-4
    weight_decay: float = 0.01
    scheduler: str = "cosine"  # cosine | constant
    loss: str = "focal"  # focal | cross_entropy | corn (ordinal; see losses.corn_loss)
    vote: str = "majority"  # majority | median: the patient's class from the task votes (sand_gui.votes)
    focal_gamma: float = 2.0
    class_weights: str | list | None = "balanced"  # balanced | balanced_raw | none | [w1..w5]
    oversample: dict = field(default_factory=lambda: {1: 21, 2: 5, 3: 2})
    specaugment_p: float = 0.7
    freq_masks: int = 2
    freq_mask_width: float = 0.15  # at most this share of mel bands per mask
    time_masks: int = 2
    time_mask_width: float = 0.15  # at most this share of frames per mask
    time_shift: float = 0.0  # circular shift by up to this share of the window
    hflip_p: float = 0.0  # time reversal: not advised (destroys onsets)
    vflip_p: float = 0.0  # frequency flip: not advised (no meaning on a mel axis)
    rotation_deg: float = 0.0  # not advised (mixes time and frequency)
    color_jitter: float = 0.0  # not advised (features are already standardised)
    # waveform augmentation (training.wave_augment): aug_variants augmented copies of each
    # training recording, made once and cached; each epoch draws the clean one or a copy
    aug_variants: int = 0  # 0: off (the seed recipe)
    aug_codec_p: float = 0.0  # share of copies through a phone/telephony codec
    aug_reverb_p: float = 0.0  # share of copies through a simulated room
    aug_noise_p: float = 0.0  # share of copies with added noise (white, pink or brown)
    aug_snr_db: list = field(default_factory=lambda: [10.0, 30.0])  # [lo, hi] SNR of that noise, dB
    aug_gain_db: float = 0.0  # gain drawn from +/- this many dB
    aug_speed: float = 0.0  # speed (tempo and pitch) drawn from 1 +/- this share
    aug_pitch_semitones: float = 0.0  # pitch shift drawn from +/- this many semitones
    aug_eq_db: float = 0.0  # spectral envelope re-coloured by a smooth random curve of +/- this many dB
    data_workers: int = 1  # processes making features and augmented copies that are not cached yet
    aug_channels: list = field(default_factory=lambda: ["telephone", "voip", "room"])  # what codec/room copies use
    # running
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    amp: bool = True  # mixed precision, CUDA only
    amp_dtype: str = "bfloat16"  # bfloat16 | float16 (float16 adds a gradient scaler)
    eval_batch_size: int = 64
    out: str = "runs"
    run_dir: str | None = None  # default: <out>/<name>-<UTC time>

    @property
    def spec(self) -> FeatureSpec:
        return make_spec(self.features)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["features"] = self.spec.to_dict()
        d["oversample"] = {int(k): v for k, v in self.oversample.items()}
        return d


def make_spec(features: dict, *, source: str = "config") -> FeatureSpec:
    """The FeatureSpec of a config's ``features`` mapping (seed defaults for omitted keys)."""
    try:
        return FeatureSpec.from_dict(dict(features or {}))
    except SandError as exc:
        raise UsageError(f"{source}: features: {str(exc).removeprefix('feature spec: ').rstrip('.')}.") from None
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{source}: features: {one_line(exc)}.") from None


# --- the rules ---------------------------------------------------------------------------


class _Bad(ValueError):
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
    """An int or float from a YAML value, numbers spelled as text included; _Bad otherwise."""
    if isinstance(value, bool):
        raise _Bad("a number (not true/false)")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        text = value.strip().replace("_", "")
        return int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
    raise _Bad("a number")


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
        except _Bad:
            raise _Bad(what) from None
        if isinstance(v, float):
            if not (math.isfinite(v) and v.is_integer()):
                raise _Bad(what)
            v = int(v)
        if not lo <= v <= hi:
            raise _Bad(what)
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
        except _Bad:
            raise _Bad(what) from None
        if not math.isfinite(v) or v < lo or v > hi or (lo_open and v == lo) or (hi_open and v == hi):
            raise _Bad(what)
        return v

    return check


def _bool(value):
    if not isinstance(value, bool):
        raise _Bad("true or false")
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
            raise _Bad(what)
        if pattern is not None and not pattern.fullmatch(value):
            raise _Bad(what)
        return value

    return check


def _choice(*options: str, optional: bool = False) -> Callable:
    what = "one of " + ", ".join(options) + (" or null" if optional else "")

    def check(value):
        if value is None and optional:
            return None
        if value not in options:
            raise _Bad(what)
        return value

    return check


def _features(value):
    """A mapping of FeatureSpec fields to values of the field's type; ranges: FeatureSpec.validate."""
    value = {} if value is None else value
    if not isinstance(value, dict):
        raise _Bad("a mapping of feature settings")
    known = {f.name: f.type for f in dataclasses.fields(FeatureSpec)}
    out = {}
    for key, v in value.items():
        if key not in known:
            raise _Bad("", sub=key, known=known)
        kind, v = known[key], _numbers_in(v)
        try:
            if kind == "int":
                v = _int(-(2**31), 2**31, what="a whole number")(v)
            elif kind.startswith("float"):
                v = None if v is None and "None" in kind else _float(-1e12, 1e12)(v)  # ranges: validate()
            elif kind.startswith("tuple"):
                if not isinstance(v, (list, tuple)) or len(v) != 2:
                    raise _Bad("a pair [low, high] of numbers")
                v = [_float(-1e12, 1e12)(x) for x in v]
            elif not isinstance(v, str):
                raise _Bad("text")
        except _Bad as exc:
            raise _Bad(str(exc), sub=key, value=v) from None
        out[key] = v
    return out


def _arch_kwargs(value):
    """timm keyword arguments: plain numbers, flags, short words and lists of numbers; never a
    path or an option that loads weights (the bundle reader re-checks them against its allow-list)."""
    value = {} if value is None else value
    if not isinstance(value, dict):
        raise _Bad("a mapping of architecture arguments")
    out = {}
    for key, v in value.items():
        if not isinstance(key, str) or not _WORD.fullmatch(key) or key in FORBIDDEN_ARCH_KWARGS:
            raise _Bad("an architecture argument a config may set (no paths, no weight loading)", sub=key, value=v)
        v = _numbers_in(v)
        flat = v if isinstance(v, list) else [v]
        if len(flat) > 16 or not all(
            v is None
            or isinstance(x, bool)
            or (isinstance(x, (int, float)) and math.isfinite(x) and abs(x) <= 1e6)
            or (isinstance(x, str) and _WORD.fullmatch(x))
            for x in flat
        ):
            raise _Bad("a number, a flag, a short word or a short list of numbers", sub=key, value=v)
        out[key] = v
    return out


def _class_weights(value):
    what = f"balanced, balanced_raw, none, null or a list of {len(CLASS_NUMBERS)} positive numbers"
    if value is None or value in ("balanced", "balanced_raw", "none"):
        return value
    if isinstance(value, list) and len(value) == len(CLASS_NUMBERS):
        try:
            return [_float(0, 1e6, lo_open=True)(v) for v in value]
        except _Bad:
            pass
    raise _Bad(what)


def _oversample(value):
    """class -> how many times its recordings are drawn per epoch (1 = once)."""
    what = f"a mapping of classes {CLASS_NUMBERS[0]}..{CLASS_NUMBERS[-1]} to whole numbers from 1 to 1000"
    value = {} if value is None else value
    if not isinstance(value, dict):
        raise _Bad(what)
    out = {}
    for k, v in value.items():
        try:
            klass = _int(CLASS_NUMBERS[0], CLASS_NUMBERS[-1])(k)
        except _Bad:
            raise _Bad(f"the classes {CLASS_NUMBERS[0]} to {CLASS_NUMBERS[-1]}", sub=k, value=v) from None
        try:
            out[klass] = _int(1, 1000)(v)
        except _Bad as exc:
            raise _Bad(str(exc), sub=k, value=v) from None
    return out


def _pair(lo: float, hi: float) -> Callable:
    """A list [low, high] of finite numbers within [lo, hi], low <= high."""
    what = f"a pair [low, high] of numbers from {lo:g} to {hi:g}, low first"

    def check(value):
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise _Bad(what)
        try:
            pair = [_float(lo, hi)(v) for v in value]
        except _Bad:
            raise _Bad(what) from None
        if pair[0] > pair[1]:
            raise _Bad(what)
        return pair

    return check


def _aug_channels(value):
    """The generator's channel families that codec and room copies may draw from."""
    from .wave_augment import AUG_CHANNELS

    what = f"a list of one or more of {', '.join(AUG_CHANNELS)}"
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) for v in value):
        raise _Bad(what)
    if any(v not in AUG_CHANNELS for v in value):
        raise _Bad(what)
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
_FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}
assert set(RULES) == set(_FIELDS), set(RULES) ^ set(_FIELDS)
_MAPPINGS = {"features", "arch_kwargs", "oversample"}


def _show(value) -> str:
    """A value as a sentence quotes it: text in quotes, one line, short."""
    return one_line(repr(value) if isinstance(value, str) else value, limit=80)


def _nearest(key, known, *, prefix: str = "") -> str:
    match = difflib.get_close_matches(str(key), list(known), n=1, cutoff=0.0)
    return f" (did you mean {prefix + match[0]!r}?)" if match else ""


def check_value(key: str, value, *, source: str):
    """``value`` of ``key`` as the config holds it (numbers parsed, mappings normalised);
    UsageError naming ``source``, the key and the value when it breaks the key's rule."""
    if key not in RULES:
        raise UsageError(f"{source}: unknown key {one_line(repr(key), limit=80)}{_nearest(key, RULES)}.")
    try:
        return RULES[key](value)
    except _Bad as exc:
        if exc.sub is None:
            raise UsageError(f"{source}: {key} {_show(value)} is not {exc}.") from None
        name = f"{key}.{one_line(exc.sub, limit=60)}"
        if exc.known is not None:
            raise UsageError(
                f"{source}: unknown key {name!r}{_nearest(exc.sub, exc.known, prefix=key + '.')}."
            ) from None
        if str(exc).startswith("the classes"):
            raise UsageError(f"{source}: {name} is not a class; the keys of {key} are {exc}.") from None
        raise UsageError(f"{source}: {name} {_show(exc.value)} is not {exc}.") from None


def apply(cfg: TrainConfig, values: dict, *, source: str) -> TrainConfig:
    """Set keys of ``values`` on ``cfg``; UsageError naming the first unknown or bad key."""
    for key, value in values.items():
        setattr(cfg, key, check_value(key, value, source=source))
    return cfg


def validate(cfg: TrainConfig, *, source: str = "config") -> TrainConfig:
    """Check every key of a config built in code as ``load_config`` checks a file's; the spec too."""
    for key in RULES:
        setattr(cfg, key, check_value(key, getattr(cfg, key), source=source))
    make_spec(cfg.features, source=source)
    return cfg


def parse_override(text: str) -> tuple[str, object]:
    """``a.b=1`` -> ("a.b", 1); the value is parsed as YAML (numbers, lists, null)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"--set {one_line(repr(text), limit=80)}: expected key=value.")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    return key.strip(), value


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice (YAML would silently keep the last)."""


def _mapping_without_duplicates(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, (str, int, float, bool)) or key is None:
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"key {key!r} appears twice", key_node.start_mark)
            seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def read_yaml(path: Path) -> dict:
    """A config file's mapping; UsageError when it is missing, too large, not text or not YAML."""
    name = one_line(path)
    if path.is_dir():
        raise UsageError(f"{name}: is a folder, not a config file.")
    if not path.is_file():
        raise UsageError(f"{name}: config file not found.")
    size = path.stat().st_size
    if size > MAX_CONFIG_BYTES:
        raise UsageError(f"{name}: {size} bytes is too large for a config file (at most {MAX_CONFIG_BYTES}).")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{name}: not a text file (a config is UTF-8 YAML).") from None
    try:
        values = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: no Python objects
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise UsageError(f"{name}: not valid YAML{at} ({one_line(first, limit=120)}).") from None
    except RecursionError:
        raise UsageError(f"{name}: nested too deeply to be a config.") from None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise UsageError(f"{name}: a config must be a mapping of keys to values.")
    return values


def load_config(path: str | Path | None, overrides: list[str] = ()) -> TrainConfig:
    """Defaults, then the YAML file, then ``--set`` overrides; every key and the spec validated."""
    cfg = TrainConfig()
    if path is not None:
        path = Path(path)
        apply(cfg, read_yaml(path), source=one_line(path))
        make_spec(cfg.features, source=one_line(path))  # the ranges of the features, now, not in the middle of a run
    for text in overrides:
        key, value = parse_override(text)
        head, _, rest = key.partition(".")
        if rest:
            if head not in _MAPPINGS:
                raise UsageError(
                    f"--set {one_line(key, limit=80)}: {one_line(repr(head), limit=80)} is not a mapping key "
                    f"({', '.join(sorted(_MAPPINGS))})."
                )
            mapping = dict(getattr(cfg, head))
            sub = int(rest) if head == "oversample" and rest.isdigit() else rest
            mapping[sub] = value
            value = mapping
        apply(cfg, {head: value}, source="--set")
        if head == "features":
            make_spec(cfg.features, source="--set")
    make_spec(cfg.features)
    return cfg


def save_config(cfg: TrainConfig, path: Path) -> None:
    """The resolved config, written to a temporary name and renamed."""
    from .checkpoint import atomic_write

    text = yaml.safe_dump(cfg.to_dict(), sort_keys=False)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
