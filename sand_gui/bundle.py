"""Model bundles: one ``.safetensors`` file whose header metadata holds a JSON model card.

The card describes the model completely (timm architecture and its arguments, class
numbers and labels, the FeatureSpec, training data, measured metrics, date, software
versions) and carries the SHA-256 of the weight payload. Loading parses the header as JSON
and the tensors with safetensors: nothing is ever unpickled. A truncated or tampered file,
or a card asking for what this code cannot honour, is refused with a ``BundleError``.
Reading the card needs no torch, so a window can show it at once.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import struct
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .classes import DEFAULT_LABELS
from .errors import BundleError
from .features import FeatureSpec
from .tasks import TASK_IDS

FORMAT = "sand_gui.bundle"
FORMAT_VERSION = 1
CARD_KEY = "sand_gui.card"
MAX_HEADER = 10_000_000


@dataclass
class ModelCard:
    """What a bundle says about its model. ``to_dict``/``from_dict`` give the JSON form."""

    name: str
    architecture: str  # a timm model name, e.g. "convnext_atto"
    spec: FeatureSpec
    arch_kwargs: dict = field(default_factory=dict)  # extra timm.create_model arguments
    class_numbers: list[int] = field(default_factory=lambda: list(DEFAULT_LABELS))
    class_labels: list[str] = field(default_factory=lambda: list(DEFAULT_LABELS.values()))
    tasks: list[str] = field(default_factory=lambda: list(TASK_IDS))
    training_data: dict = field(default_factory=dict)  # description, synthetic, patients, ...
    metrics: dict = field(default_factory=dict)
    created: str = ""
    software: dict = field(default_factory=dict)
    notes: str = ""
    weights_sha256: str = ""

    @property
    def synthetic(self) -> bool:
        """True unless the card states that the model was trained on patient data."""
        return self.training_data.get("synthetic", True) is not False

    def label(self, number: int) -> str:
        return self.class_labels[self.class_numbers.index(int(number))]

    def to_dict(self) -> dict:
        return {
            "format": FORMAT, "format_version": FORMAT_VERSION, "name": self.name,
            "architecture": self.architecture, "arch_kwargs": self.arch_kwargs,
            "classes": [{"number": n, "label": l} for n, l in zip(self.class_numbers, self.class_labels)],
            "tasks": self.tasks, "feature_spec": self.spec.to_dict(),
            "training_data": self.training_data, "metrics": self.metrics, "created": self.created,
            "software": self.software, "notes": self.notes, "weights_sha256": self.weights_sha256,
        }

    @classmethod
    def from_dict(cls, d: dict, *, source: str = "bundle") -> "ModelCard":
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise BundleError(f"{source}: not a sand_gui model bundle (no model card).")
        version = d.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise BundleError(f"{source}: bundle format version {version!r} is newer than this application supports ({FORMAT_VERSION}).")
        try:
            classes = d["classes"]
            numbers = [int(c["number"]) for c in classes]
            labels = [str(c["label"]) for c in classes]
            spec = FeatureSpec.from_dict(d["feature_spec"])
            card = cls(
                name=str(d["name"]), architecture=str(d["architecture"]), spec=spec,
                arch_kwargs=dict(d.get("arch_kwargs") or {}), class_numbers=numbers,
                class_labels=labels, tasks=list(d.get("tasks") or TASK_IDS),
                training_data=dict(d.get("training_data") or {}), metrics=dict(d.get("metrics") or {}),
                created=str(d.get("created", "")), software=dict(d.get("software") or {}),
                notes=str(d.get("notes", "")), weights_sha256=str(d.get("weights_sha256", "")),
            )
        except BundleError as exc:
            raise BundleError(f"{source}: {exc}") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise BundleError(f"{source}: model card is malformed ({exc!r}).") from None
        if len(numbers) < 2 or len(set(numbers)) != len(numbers):
            raise BundleError(f"{source}: model card lists invalid classes {numbers}.")
        bad = [t for t in card.tasks if t not in TASK_IDS]
        if bad:
            raise BundleError(f"{source}: model card names unknown tasks {bad}.")
        return card


def _split(data: bytes, *, source: str) -> tuple[dict, bytes]:
    """(header dict, payload bytes) of a safetensors file, checking its framing."""
    if len(data) < 8:
        raise BundleError(f"{source}: file is truncated (only {len(data)} bytes).")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER or 8 + n > len(data):
        raise BundleError(f"{source}: file is truncated or not a safetensors bundle.")
    try:
        header = json.loads(data[8 : 8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BundleError(f"{source}: header is not valid JSON; not a safetensors bundle.") from None
    payload = data[8 + n :]
    ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__" and isinstance(v, dict)]
    if len(payload) < max(ends, default=0):
        raise BundleError(f"{source}: file is truncated ({len(payload)} of {max(ends)} weight bytes present).")
    return header, payload


def read_card(path: str | Path) -> ModelCard:
    """The model card of a bundle, without loading the weights or importing torch."""
    path = Path(path)
    source = path.name
    if not path.is_file():
        raise BundleError(f"{source}: model bundle not found.")
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise BundleError(f"{source}: file is truncated (only {len(head)} bytes).")
        (n,) = struct.unpack("<Q", head)
        if n > MAX_HEADER:
            raise BundleError(f"{source}: not a safetensors bundle.")
        raw = fh.read(n)
    try:
        meta = json.loads(raw).get("__metadata__") or {}
        card = json.loads(meta[CARD_KEY])
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, AttributeError, TypeError):
        raise BundleError(f"{source}: not a sand_gui model bundle (no readable model card).") from None
    return ModelCard.from_dict(card, source=source)


@dataclass
class Bundle:
    """A verified bundle: its card, its weights (torch tensors) and the file's SHA-256."""

    path: Path
    card: ModelCard
    state_dict: dict
    file_sha256: str


def load_bundle(path: str | Path) -> Bundle:
    """Read and verify a bundle; BundleError if truncated, tampered or incompatible."""
    from safetensors.torch import load as st_load

    path = Path(path)
    source = path.name
    if not path.is_file():
        raise BundleError(f"{source}: model bundle not found.")
    data = path.read_bytes()
    header, payload = _split(data, source=source)
    try:
        card = ModelCard.from_dict(json.loads(header["__metadata__"][CARD_KEY]), source=source)
    except (KeyError, TypeError, json.JSONDecodeError):
        raise BundleError(f"{source}: not a sand_gui model bundle (no readable model card).") from None
    digest = hashlib.sha256(payload).hexdigest()
    if digest != card.weights_sha256:
        raise BundleError(f"{source}: weights do not match the card's checksum; the file was altered or damaged.")
    try:
        tensors = st_load(data)
    except Exception as exc:
        raise BundleError(f"{source}: weights cannot be read ({exc}).") from None
    return Bundle(path, card, tensors, hashlib.sha256(data).hexdigest())


def software_versions() -> dict:
    import timm
    import torch

    return {"sand_gui": __version__, "torch": torch.__version__, "timm": timm.__version__}


def save_bundle(path: str | Path, state_dict: dict, card: ModelCard) -> Path:
    """Write weights + card as one safetensors file; fills checksum, date and versions."""
    from safetensors.torch import save as st_save

    path = Path(path)
    tensors = {k: v.detach().cpu().contiguous() for k, v in state_dict.items()}
    blank = st_save(tensors, metadata={CARD_KEY: "{}"})
    _, payload = _split(blank, source=path.name)
    card.weights_sha256 = hashlib.sha256(payload).hexdigest()
    card.created = card.created or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    card.software = card.software or software_versions()
    data = st_save(tensors, metadata={CARD_KEY: json.dumps(card.to_dict(), sort_keys=True)})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path
