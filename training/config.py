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
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sand_gui.dataset import TRAIN_SHEET, VALIDATION_SHEET
from sand_gui.errors import SandError, UsageError, one_line
from sand_gui.feature_cache import spec_key  # noqa: F401  (re-exported: the cache key lives in the core)
from sand_gui.features import FeatureSpec

from .config_rules import RULES, Bad

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
    except Bad as exc:
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
