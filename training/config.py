"""Training configuration: one flat dataclass, read from YAML, overridden with ``--set``.

Every item of the seed recipe is a key whose default is the seed's value, so an empty
config file reproduces the paper (ConvNeXt-Base, 75 epochs, batch 16, AdamW 1e-4 / 0.01,
cosine schedule, focal loss gamma 2 with class weights, oversampling 1: 21x, 2: 5x, 3: 2x,
SpecAugment on 70 % of samples, stochastic depth 0.1, ImageNet-1k initial weights).
The ``features`` mapping becomes the core's ``FeatureSpec``; keys it omits keep the
core's defaults (the seed's). Overrides use dotted keys for mappings:
``--set epochs=2 features.n_mels=64 oversample.1=10``; values are parsed as YAML.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sand_gui.dataset import TRAIN_SHEET, VALIDATION_SHEET
from sand_gui.errors import SandError, UsageError
from sand_gui.features import FeatureSpec

CONFIG_DIR = Path(__file__).resolve().parent / "configs"


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
    loss: str = "focal"  # focal | cross_entropy
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


def make_spec(features: dict) -> FeatureSpec:
    """The FeatureSpec of a config's ``features`` mapping (seed defaults for omitted keys)."""
    try:
        return FeatureSpec.from_dict(dict(features or {}))
    except SandError as exc:
        raise UsageError(f"config features: {str(exc).removeprefix('feature spec: ')}") from None
    except TypeError as exc:
        raise UsageError(f"config features: {exc}.") from None


def spec_key(spec: FeatureSpec) -> str:
    """Short hash of a FeatureSpec's dict: the name of its feature cache."""
    return hashlib.sha256(json.dumps(spec.to_dict(), sort_keys=True).encode()).hexdigest()[:16]


_FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}
_MAPPINGS = {"features", "arch_kwargs", "oversample"}


def _coerce(key: str, value, *, source: str):
    """Check a value against the field's type; ints are accepted where floats are."""
    kind = _FIELDS[key].type
    if value is None:
        if "None" in kind:
            return None
        raise UsageError(f"{source}: {key} may not be empty.")
    if kind == "bool" and not isinstance(value, bool):
        raise UsageError(f"{source}: {key} must be true or false, not {value!r}.")
    if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        raise UsageError(f"{source}: {key} must be a whole number, not {value!r}.")
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UsageError(f"{source}: {key} must be a number, not {value!r}.")
        return float(value)
    if kind == "dict" and not isinstance(value, dict):
        raise UsageError(f"{source}: {key} must be a mapping, not {value!r}.")
    if kind.startswith("str") and not isinstance(value, (str, list)):
        return str(value)
    return value


def apply(cfg: TrainConfig, values: dict, *, source: str) -> TrainConfig:
    """Set keys of ``values`` on ``cfg``; UsageError naming the first unknown or bad key."""
    for key, value in values.items():
        if key not in _FIELDS:
            raise UsageError(f"{source}: unknown key {key!r}.")
        value = _coerce(key, value, source=source)
        if key == "oversample":
            value = {int(k): int(v) for k, v in value.items()}
        setattr(cfg, key, value)
    return cfg


def parse_override(text: str) -> tuple[str, object]:
    """``a.b=1`` -> ("a.b", 1); the value is parsed as YAML (numbers, lists, null)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"--set {text!r}: expected key=value.")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    return key.strip(), value


def load_config(path: str | Path | None, overrides: list[str] = ()) -> TrainConfig:
    """Defaults, then the YAML file, then ``--set`` overrides; the spec is validated."""
    cfg = TrainConfig()
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise UsageError(f"{path}: config file not found.")
        try:
            values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise UsageError(f"{path.name}: not valid YAML ({str(exc).splitlines()[0]}).") from None
        if not isinstance(values, dict):
            raise UsageError(f"{path.name}: a config must be a mapping of keys to values.")
        apply(cfg, values, source=path.name)
    for text in overrides:
        key, value = parse_override(text)
        head, _, rest = key.partition(".")
        if rest:
            if head not in _MAPPINGS:
                raise UsageError(f"--set {key}: {head!r} is not a mapping key ({', '.join(sorted(_MAPPINGS))}).")
            mapping = dict(getattr(cfg, head))
            sub = int(rest) if head == "oversample" and rest.isdigit() else rest
            mapping[sub] = value
            value = mapping
        apply(cfg, {head: value}, source="--set")
    cfg.spec  # validate the features now, not in the middle of a run
    return cfg


def save_config(cfg: TrainConfig, path: Path) -> None:
    path.write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False), encoding="utf-8")
