"""Model bundles: one ``.safetensors`` file whose header metadata holds a JSON model card.

The card describes the model completely (timm architecture and its arguments, class
numbers and labels, the FeatureSpec, training data, measured metrics, date, software
versions). Nothing is ever unpickled: the header is parsed as strict JSON and the tensors
with safetensors.

Format 2 seals the whole file. ``bundle_sha256`` in the card is the SHA-256 of every byte
of the file, read with that field's own 64 hex digits set to ``0``: the card, the tensor
table and the weights together, so a one-byte edit anywhere (a mel count, a label,
``"synthetic": true``) is refused. ``weights_sha256`` (the weight payload alone) names the
weights. A seal proves the file is unchanged since it was written, not who wrote it; so
the card is also checked field by field (``sand_gui.card_schema``) before anything is
built from it, and a malformed header of any shape is one sentence.

A bundle may also carry a measures classifier (``sand_gui.fusion``): XGBoost's native JSON
model as the U8 tensor ``MEASURES_KEY`` of the same file, under the same seal, described by the
card's optional ``fusion`` section (``card_schema.check_fusion``) whose ``model_sha256`` names
it; ``weights_sha256`` then covers the network's weights alone. On loading, its bytes are parsed
as strict JSON and checked for XGBoost's tree-model shape (``card_schema.check_measures_model``)
before anything else sees them; they are never unpickled. A bundle without it loads as before.

Format 1 bundles (weights checksummed, card not) are refused: their card cannot be
trusted, and accepting them would let anyone skip the seal by writing ``1``.
``python -m sand_gui.bundle upgrade OLD [NEW]`` re-saves a trusted copy as format 2.

Reading order, cheapest first, nothing large read or built before it is known to fit:
file size -> header framing -> tensor table -> card JSON -> format -> seal (streamed) ->
card fields -> tensors add up to the architecture -> weights.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import math
import os
import secrets
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .card_schema import (
    FUSION_FIELD,
    GIB,
    MAX_ANALYSIS_BYTES,
    MAX_MEASURES_MODEL,
    MAX_PARAMS,
    OPTIONAL_FIELDS,
    analysis_bytes,
    check_card_fields,
    check_digest,
    check_measures_model,
    param_count,
)
from .classes import DEFAULT_LABELS
from .errors import BundleError, SandError, one_line, storage_error
from .features import FeatureSpec
from .tasks import TASK_IDS

FORMAT = "sand_gui.bundle"
FORMAT_VERSION = 2
CARD_KEY = "sand_gui.card"
UNSEALED = "0" * 64  # bundle_sha256 while the digest is computed
MAX_HEADER = 10_000_000  # bytes of safetensors JSON header
MAX_CARD = 1_000_000  # characters of card JSON
DTYPES = {"F32": 4, "F16": 2, "BF16": 2}  # bytes per element of the dtypes a bundle may hold
MEASURES_KEY = "sand_gui.measures_model"  # optional U8 tensor: the measures model's XGBoost JSON (sand_gui.fusion)
MAX_RANK = 8
MAX_TENSORS = 10_000
MAX_FILE = 8 + MAX_HEADER + 4 * MAX_PARAMS  # bytes; larger files are refused before reading
CHUNK = 1 << 20


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
    weights_sha256: str = ""  # SHA-256 of the weight payload
    bundle_sha256: str = ""  # SHA-256 of the whole file (see the module docstring)
    objective: str = "softmax"  # softmax | corn: how outputs become probabilities (card_schema.OPTIONAL_FIELDS)
    vote: str = "majority"  # majority | median: how task votes become the class (sand_gui.votes.decide)
    fusion: dict | None = None  # the measures model's section (card_schema.check_fusion), or None

    @property
    def synthetic(self) -> bool:
        """True unless the card states that the model was trained on patient data."""
        return self.training_data.get("synthetic", True) is not False

    def label(self, number: int) -> str:
        return self.class_labels[self.class_numbers.index(int(number))]

    def to_dict(self) -> dict:
        d = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "architecture": self.architecture,
            "arch_kwargs": self.arch_kwargs,
            "classes": [{"number": n, "label": l} for n, l in zip(self.class_numbers, self.class_labels)],
            "tasks": self.tasks,
            "feature_spec": self.spec.to_dict(),
            "training_data": self.training_data,
            "metrics": self.metrics,
            "created": self.created,
            "software": self.software,
            "notes": self.notes,
            "weights_sha256": self.weights_sha256,
            "bundle_sha256": self.bundle_sha256,
        } | {k: getattr(self, k) for k, allowed in OPTIONAL_FIELDS.items() if getattr(self, k) != allowed[0]}
        if self.fusion is not None:
            d[FUSION_FIELD] = self.fusion
        return d

    @classmethod
    def from_dict(cls, d: object, *, source: str = "bundle") -> ModelCard:
        """A card from its JSON form, every field checked (``sand_gui.card_schema``);
        BundleError naming ``source`` and the first problem otherwise."""
        _check_format(d, source=source)
        return cls._checked(d, source=source)

    @classmethod
    def _checked(cls, d: dict, *, source: str) -> ModelCard:
        try:
            check_card_fields(d)
            spec = FeatureSpec.from_dict(d["feature_spec"])
            need = analysis_bytes(d["architecture"], d["arch_kwargs"], spec)
            if need > MAX_ANALYSIS_BYTES:
                raise BundleError(
                    f"one analysis with this network and feature spec would need about {need / GIB:.1f} GiB; "
                    f"the limit is {MAX_ANALYSIS_BYTES / GIB:.0f} GiB."
                )
        except BundleError as exc:
            raise BundleError(f"{source}: {exc}") from None
        return cls(
            name=d["name"],
            architecture=d["architecture"],
            spec=spec,
            arch_kwargs=dict(d["arch_kwargs"]),
            class_numbers=[c["number"] for c in d["classes"]],
            class_labels=[c["label"] for c in d["classes"]],
            tasks=list(d["tasks"]),
            training_data=dict(d["training_data"]),
            metrics=dict(d["metrics"]),
            created=d["created"],
            software=dict(d["software"]),
            notes=d["notes"],
            weights_sha256=d["weights_sha256"],
            bundle_sha256=d["bundle_sha256"],
            **{k: d.get(k, allowed[0]) for k, allowed in OPTIONAL_FIELDS.items()},
            fusion=d.get(FUSION_FIELD),
        )


def _check_format(d: object, *, source: str, versions: tuple[int, ...] = (FORMAT_VERSION,)) -> None:
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise BundleError(f"{source}: not a sand_gui model bundle (no model card).")
    version = d.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise BundleError(
            f"{source}: the model card's format version {one_line(repr(version), limit=40)} is not a known version."
        )
    if version > FORMAT_VERSION:
        raise BundleError(
            f"{source}: bundle format version {version} is newer than this application supports ({FORMAT_VERSION})."
        )
    if version not in versions:
        raise BundleError(
            f"{source}: bundle format {version} does not protect its model card against edits; "
            f"re-save a trusted copy with `python -m sand_gui.bundle upgrade {source}`."
        )


# ---------------------------------------------------------------- the safetensors header


class _Refusal(ValueError):
    """A strict-JSON rule broken (raised inside the parser's hooks)."""


def _unique(pairs: list) -> dict:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise _Refusal(f"repeats the key {one_line(repr(dup), limit=40)}")
    return d


def _no_constant(name: str):
    raise _Refusal(f"holds {name}, which strict JSON does not allow")


def strict_json(raw: bytes | str, *, what: str, source: str):
    """Parse UTF-8 JSON refusing NaN/Infinity, repeated keys and absurd nesting, in one sentence."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return json.loads(text, object_pairs_hook=_unique, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise BundleError(f"{source}: {what} is not UTF-8 text; not a sand_gui model bundle.") from None
    except RecursionError:
        raise BundleError(f"{source}: {what} is nested too deeply to be read.") from None
    except _Refusal as exc:
        raise BundleError(f"{source}: {what} {exc}.") from None
    except ValueError:  # JSONDecodeError, or an integer with thousands of digits
        raise BundleError(f"{source}: {what} is not valid JSON; not a sand_gui model bundle.") from None


def _kind(value: object) -> str:
    return {dict: "a mapping", list: "a list", str: "a text", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _is_count(value: object, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= high


def _check_table(header: object, *, payload_len: int, source: str) -> tuple[int, tuple[int, int] | None]:
    """Check every tensor entry of a parsed header against the payload; return the weights'
    element count and the payload span of the measures model (``MEASURES_KEY``), if any.

    Entries must be exactly {dtype, shape, data_offsets} with an allowed dtype, a shape of
    at most ``MAX_RANK`` sizes, offsets that match the shape, and together tile the
    payload with no gap, overlap or excess.
    """
    if not isinstance(header, dict):
        raise BundleError(f"{source}: header is {_kind(header)}, not a table of tensors; not a safetensors bundle.")
    entries = [(k, v) for k, v in header.items() if k != "__metadata__"]
    if len(entries) > MAX_TENSORS:
        raise BundleError(f"{source}: header lists {len(entries)} tensors; at most {MAX_TENSORS} are allowed.")
    spans, total, blob = [], 0, None
    for name, e in entries:
        what = f"{source}: tensor {one_line(repr(name), limit=60)}"
        if not isinstance(e, dict) or set(e) != {"dtype", "shape", "data_offsets"}:
            raise BundleError(f"{what} is not described by exactly a dtype, a shape and data offsets.")
        dtype, shape, offsets = e["dtype"], e["shape"], e["data_offsets"]
        if name == MEASURES_KEY:
            if (
                dtype != "U8"
                or not isinstance(shape, list)
                or len(shape) != 1
                or not _is_count(shape[0], MAX_MEASURES_MODEL)
            ):
                raise BundleError(f"{what} must be one row of at most {MAX_MEASURES_MODEL} bytes (U8).")
            dtype = "U8"  # its span is checked below like any tensor's, with 1 byte per element
        elif not isinstance(dtype, str) or dtype not in DTYPES:
            raise BundleError(
                f"{what} has dtype {one_line(repr(dtype), limit=20)}; only {', '.join(DTYPES)} are allowed."
            )
        if not isinstance(shape, list) or len(shape) > MAX_RANK or not all(_is_count(s, MAX_FILE) for s in shape):
            raise BundleError(f"{what} has an invalid shape {one_line(repr(shape), limit=60)}.")
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(_is_count(o, MAX_FILE) for o in offsets)
            or offsets[0] > offsets[1]
        ):
            raise BundleError(f"{what} has invalid data offsets {one_line(repr(offsets), limit=60)}.")
        count, size = math.prod(shape), DTYPES.get(dtype, 1)
        if offsets[1] - offsets[0] != count * size:
            raise BundleError(
                f"{what} spans {offsets[1] - offsets[0]} bytes but its shape {shape} needs {count * size}."
            )
        spans.append((offsets[0], offsets[1]))
        if name == MEASURES_KEY:
            blob = (offsets[0], offsets[1])
        else:
            total += count
    end = max((e for _, e in spans), default=0)
    if end > payload_len:
        raise BundleError(f"{source}: file is truncated ({payload_len} of {end} weight bytes present).")
    at = 0
    for begin, stop in sorted(spans):
        if begin != at:
            raise BundleError(
                f"{source}: tensor data {'overlap' if begin < at else 'leave a gap'} at weight byte {min(begin, at)}; the file is damaged."
            )
        at = stop
    if at != payload_len:
        raise BundleError(
            f"{source}: file holds {payload_len - at} bytes beyond its tensors; the file was altered or damaged."
        )
    return total, blob


def _card_text(header: dict, *, source: str) -> str:
    meta = header.get("__metadata__")
    if meta is None:
        raise BundleError(f"{source}: not a sand_gui model bundle (no model card).")
    if not isinstance(meta, dict):
        raise BundleError(f"{source}: header metadata is {_kind(meta)}, not a mapping; not a sand_gui model bundle.")
    if CARD_KEY not in meta:
        raise BundleError(f"{source}: not a sand_gui model bundle (no model card).")
    extra = [k for k in meta if k != CARD_KEY]
    if extra:
        raise BundleError(
            f"{source}: header metadata holds {one_line(repr(extra[0]), limit=40)} besides the model card; the file was altered."
        )
    text = meta[CARD_KEY]
    if not isinstance(text, str):
        raise BundleError(f"{source}: the model card is {_kind(text)}, not JSON text.")
    if len(text) > MAX_CARD:
        raise BundleError(f"{source}: the model card is {len(text)} characters long; at most {MAX_CARD} are allowed.")
    return text


@dataclass
class _Parsed:
    head: bytes  # the 8-byte length and the JSON header, as read
    card: dict  # the card's JSON, format checked, fields not yet
    elements: int  # tensor elements in the table (the measures model's bytes not counted)
    blob: tuple[int, int] | None = None  # payload span of the measures model, if any


def _read_head(fh, *, size: int, source: str) -> _Parsed:
    """Framing, tensor table and card JSON of an open bundle of ``size`` bytes."""
    if size > MAX_FILE:
        raise BundleError(
            f"{source}: file is {size / 2**20:.0f} MiB; a bundle holds at most {MAX_FILE / 2**20:.0f} MiB."
        )
    first = fh.read(8)
    if len(first) < 8:
        raise BundleError(f"{source}: file is truncated (only {len(first)} bytes).")
    (n,) = struct.unpack("<Q", first)
    if n > MAX_HEADER:
        raise BundleError(
            f"{source}: not a safetensors bundle (its header would be {n} bytes; at most {MAX_HEADER} are allowed)."
        )
    if 8 + n > size:
        raise BundleError(f"{source}: file is truncated or not a safetensors bundle.")
    raw = fh.read(n)
    if len(raw) != n:
        raise BundleError(f"{source}: file is truncated or not a safetensors bundle.")
    header = strict_json(raw, what="header", source=source)
    elements, blob = _check_table(header, payload_len=size - 8 - n, source=source)
    card = strict_json(_card_text(header, source=source), what="model card", source=source)
    return _Parsed(first + raw, card, elements, blob)


def _digest(head: bytes, chunks, *, claimed: str, source: str) -> str:
    """SHA-256 of ``head`` + ``chunks`` with ``claimed`` (found exactly once in the header)
    read as ``UNSEALED``."""
    token = claimed.encode("ascii")
    at = head.find(token, 8)
    if at < 0 or head.find(token, at + 1) >= 0:
        raise BundleError(
            f"{source}: the card's checksum cannot be located in the header; the file was altered or damaged."
        )
    h = hashlib.sha256()
    h.update(head[:at])
    h.update(UNSEALED.encode("ascii"))
    h.update(head[at + len(token) :])
    for chunk in chunks:
        h.update(chunk)
    return h.hexdigest()


def _verify_seal(parsed: _Parsed, chunks, *, source: str) -> None:
    """The seal over the whole file, then the weights' own checksum (one pass over ``chunks``)."""
    claimed, weights = parsed.card.get("bundle_sha256"), parsed.card.get("weights_sha256")
    try:
        check_digest(claimed, "bundle_sha256")
        check_digest(weights, "weights_sha256")
    except BundleError as exc:
        raise BundleError(f"{source}: {exc}") from None
    payload, model = hashlib.sha256(), hashlib.sha256()
    start, stop = parsed.blob or (0, 0)

    def both():  # the weights' digest leaves out the measures model's span, which has its own
        at = 0
        for chunk in chunks:
            a, b = min(max(start - at, 0), len(chunk)), min(max(stop - at, 0), len(chunk))
            payload.update(chunk[:a])
            model.update(chunk[a:b])
            payload.update(chunk[b:])
            at += len(chunk)
            yield chunk

    if _digest(parsed.head, both(), claimed=claimed, source=source) != claimed:
        raise BundleError(
            f"{source}: the file does not match its card's checksum; the model card or the weights were altered or damaged."
        )
    if payload.hexdigest() != weights:
        raise BundleError(f"{source}: weights do not match the card's checksum; the file was altered or damaged.")
    fusion = parsed.card.get(FUSION_FIELD)
    if (parsed.blob is None) != (fusion is None):
        raise BundleError(
            f"{source}: the card {'describes a measures model the file lacks' if parsed.blob is None else 'does not describe the measures model the file holds'}; the file was altered."
        )
    if parsed.blob is not None and (not isinstance(fusion, dict) or fusion.get("model_sha256") != model.hexdigest()):
        raise BundleError(
            f"{source}: the measures model does not match the card's checksum; the file was altered or damaged."
        )


def _check_elements(card: ModelCard, elements: int, *, source: str) -> None:
    want = param_count(card.architecture, card.arch_kwargs, num_classes=len(card.class_numbers))
    if elements != want:
        raise BundleError(
            f"{source}: weights do not fit architecture {card.architecture} "
            f"({elements} values stored, {want} parameters expected)."
        )


def _chunks(fh):
    while chunk := fh.read(CHUNK):
        yield chunk


def _name(path: Path) -> str:
    return one_line(path.name or str(path))


def _open(path: Path, source: str):
    """The open file and its size; one sentence when it is missing or unreadable."""
    try:
        if path.is_dir():
            raise BundleError(f"{source}: is a folder, not a model bundle.")
        if not path.is_file():
            raise BundleError(f"{source}: model bundle not found.")
        fh = open(path, "rb")  # noqa: SIM115 - the callers close it
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        raise BundleError(
            f"{source}: model bundle cannot be opened ({one_line(getattr(exc, 'strerror', None) or exc, limit=80)})."
        ) from None
    return fh, os.fstat(fh.fileno()).st_size


def read_card(path: str | Path) -> ModelCard:
    """The verified model card of a bundle, without importing torch or keeping the weights
    in memory (they are streamed once through the checksum)."""
    path = Path(path)
    source = _name(path)
    fh, size = _open(path, source)
    try:
        with fh:
            parsed = _read_head(fh, size=size, source=source)
            _check_format(parsed.card, source=source)
            _verify_seal(parsed, _chunks(fh), source=source)
    except OSError as exc:
        raise BundleError(
            f"{source}: model bundle cannot be read ({one_line(exc.strerror or exc, limit=80)})."
        ) from None
    card = ModelCard._checked(parsed.card, source=source)
    _check_elements(card, parsed.elements, source=source)
    return card


@dataclass
class Bundle:
    """A verified bundle: its card, its weights (torch tensors) and the file's SHA-256, and the
    measures model's XGBoost JSON (``card.fusion`` describes it) when it carries one."""

    path: Path
    card: ModelCard
    state_dict: dict
    file_sha256: str
    measures_model: bytes | None = None


def load_bundle(path: str | Path) -> Bundle:
    """Read and verify a bundle; BundleError if truncated, tampered, malformed or incompatible.

    Everything ``read_card`` checks is checked first (streaming, so a hostile file costs
    at most its header in memory); only then are the bytes read once more, their seal
    checked again (the file may have changed in between), and the tensors parsed.
    """
    from safetensors.torch import load as st_load

    path = Path(path)
    source = _name(path)
    card = read_card(path)
    fh, _ = _open(path, source)
    try:
        with fh:
            data = fh.read(MAX_FILE + 1)
    except OSError as exc:
        raise BundleError(
            f"{source}: model bundle cannot be read ({one_line(exc.strerror or exc, limit=80)})."
        ) from None
    n = struct.unpack("<Q", data[:8])[0] if len(data) >= 8 else -1
    if (
        not 0 <= n <= min(MAX_HEADER, len(data) - 8)
        or _digest(data[: 8 + n], [data[8 + n :]], claimed=card.bundle_sha256, source=source) != card.bundle_sha256
    ):
        raise BundleError(f"{source}: the file changed while it was being read; load it again.")
    try:
        tensors = st_load(data)
    except Exception as exc:  # safetensors' own checks; ours above should have caught everything
        raise BundleError(f"{source}: weights cannot be read ({one_line(exc, limit=120)}).") from None
    blob = tensors.pop(MEASURES_KEY, None)
    raw = None if blob is None else blob.numpy().tobytes()
    if raw is not None:
        check_measures_json(raw, card, source=source)
    return Bundle(path, card, tensors, hashlib.sha256(data).hexdigest(), raw)


def check_measures_json(raw: bytes, card: ModelCard, *, source: str) -> None:
    """Strict JSON first, then the shape ``card_schema.check_measures_model`` allows, for the
    card's classes and feature names; never unpickled, never executed."""
    model = strict_json(raw, what="its measures model", source=source)
    try:
        check_measures_model(model, n_classes=len(card.class_numbers), n_features=len(card.fusion["feature_names"]))
    except BundleError as exc:
        raise BundleError(f"{source}: {exc}") from None


def software_versions() -> dict:
    import timm
    import torch

    return {"sand_gui": __version__, "torch": torch.__version__, "timm": timm.__version__}


def seal(data: bytes) -> bytes:
    """Fill in ``bundle_sha256`` of safetensors bytes whose card holds a placeholder there
    (any 64 hex digits that occur nowhere else in the header): the digest is computed with
    that field read as ``UNSEALED`` and written in its place.

    ``save_bundle`` uses it; tests use it to craft self-consistent hostile bundles (a seal
    proves integrity, not authorship, which is why the card is also checked field by field).
    """
    (n,) = struct.unpack("<Q", data[:8])
    head, payload = data[: 8 + n], data[8 + n :]
    placeholder = json.loads(json.loads(head[8:])["__metadata__"][CARD_KEY])["bundle_sha256"]
    token = placeholder.encode("ascii")
    if len(token) != 64 or head.count(token) != 1:
        raise BundleError("the model card's bundle_sha256 placeholder must occur exactly once in the header.")
    digest = _digest(head, [payload], claimed=placeholder, source="bundle")
    return head.replace(token, digest.encode("ascii")) + payload


def _sealed_digest(data: bytes) -> str:
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(json.loads(data[8 : 8 + n])["__metadata__"][CARD_KEY])["bundle_sha256"]


def save_bundle(path: str | Path, state_dict: dict, card: ModelCard, *, measures_model: bytes | None = None) -> Path:
    """Write weights + card as one sealed safetensors file (format 2), atomically.

    Fills the checksums, and the date and software versions when the card has none; checks
    the card with the reader's own rules first, so nothing is written that cannot be loaded.
    ``measures_model`` (XGBoost's JSON, described by ``card.fusion``) is stored as the U8 tensor
    ``MEASURES_KEY`` inside the same file, under the same seal.
    """
    import torch
    from safetensors.torch import save as st_save

    path = Path(path)
    source = _name(path)
    tensors = {k: v.detach().cpu().contiguous() for k, v in state_dict.items() if k != MEASURES_KEY}
    if (measures_model is None) != (card.fusion is None):
        raise BundleError(f"{source}: a measures model and the card's fusion section go together; one is missing.")
    if measures_model is not None:
        check_measures_json(measures_model, card, source=source)
        card.fusion = dict(card.fusion, model_sha256=hashlib.sha256(measures_model).hexdigest())
        tensors[MEASURES_KEY] = torch.frombuffer(bytearray(measures_model), dtype=torch.uint8)
    card.weights_sha256 = UNSEALED
    card.bundle_sha256 = secrets.token_hex(32)  # a placeholder found nowhere else in the header
    card.created = card.created or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    card.software = card.software or software_versions()
    try:
        blank = st_save(tensors, metadata={CARD_KEY: "{}"})
        (n,) = struct.unpack("<Q", blank[:8])
        start, stop = json.loads(blank[8 : 8 + n]).get(MEASURES_KEY, {}).get("data_offsets", (0, 0))
        payload = blank[8 + n :]
        card.weights_sha256 = hashlib.sha256(payload[:start] + payload[stop:]).hexdigest()
        ModelCard.from_dict(card.to_dict(), source=source)
        text = json.dumps(card.to_dict(), sort_keys=True, allow_nan=False)
        data = seal(st_save(tensors, metadata={CARD_KEY: text}))
    except ValueError as exc:  # a NaN in the metrics, a tensor safetensors cannot store
        raise BundleError(f"{source}: the bundle cannot be written ({one_line(exc, limit=120)}).") from None
    except BundleError as exc:
        raise BundleError(str(exc) if str(exc).startswith(f"{source}: ") else f"{source}: {exc}") from None
    card.bundle_sha256 = _sealed_digest(data)
    tmp = path.with_name(path.name + ".part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise storage_error(exc, path) from None
    return path


def upgrade_bundle(src: str | Path, dst: str | Path | None = None) -> Path:
    """Re-save a format-1 bundle as format 2, keeping its weights and card (metrics, date,
    software) as they are; ``dst`` defaults to ``src``. Only for copies you trust: a format-1
    card cannot be verified, only checked field by field."""
    from safetensors.torch import load as st_load

    src = Path(src)
    source = _name(src)
    fh, size = _open(src, source)
    with fh:
        parsed = _read_head(fh, size=size, source=source)
        payload = fh.read()
    _check_format(parsed.card, source=source, versions=(1, FORMAT_VERSION))
    if parsed.card["format_version"] == FORMAT_VERSION:  # already sealed: verify, then copy
        bundle = load_bundle(src)
        return save_bundle(dst, bundle.state_dict, bundle.card, measures_model=bundle.measures_model) if dst else src
    old = dict(parsed.card)
    if hashlib.sha256(payload).hexdigest() != old.get("weights_sha256"):
        raise BundleError(f"{source}: weights do not match the card's checksum; the file was altered or damaged.")
    old.update(format_version=FORMAT_VERSION, bundle_sha256=UNSEALED)  # replaced by save_bundle
    card = ModelCard._checked(old, source=source)
    _check_elements(card, parsed.elements, source=source)
    return save_bundle(dst or src, st_load(parsed.head + payload), card)


def main(argv: list[str] | None = None) -> int:
    """``python -m sand_gui.bundle upgrade OLD [NEW]`` | ``check FILE``: one line out, exit 0 or 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if len(args) in (2, 3) and args[0] == "upgrade":
            out = upgrade_bundle(args[1], args[2] if len(args) == 3 else None)
            print(f"{_name(out)}: saved as bundle format {FORMAT_VERSION}.")
        elif len(args) == 2 and args[0] == "check":
            card = read_card(args[1])
            print(
                f"{_name(Path(args[1]))}: bundle format {FORMAT_VERSION}, sealed, model {card.name!r} ({card.architecture})."
            )
        else:
            print("usage: python -m sand_gui.bundle upgrade OLD [NEW] | check FILE", file=sys.stderr)
            return 2
    except SandError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
