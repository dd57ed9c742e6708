"""Bundles as an attacker makes them: a hostile corpus generated at test time, and fuzzing.

Every case must end in one ``BundleError`` sentence (one line, naming the file, ending in a
full stop) from ``read_card`` and ``load_bundle`` alike, and ``Classifier.from_file`` must
refuse it before building anything: no other exception, bounded time, bounded memory.
The corpus starts from a real tiny bundle:

- tampering: every byte of its header and 200 bytes of its weights changed in place;
- card fields: each set to wrong types, extremes, NaN/Infinity, negatives, forbidden
  architecture arguments, and re-sealed as a forger would (so the field checks, not the
  checksum, must refuse them);
- malformed safetensors: headers of every shape (list, number, text, bad tensor entries,
  overlapping or out-of-range offsets, deep nesting, huge lengths, non-UTF-8, repeated
  keys, metadata that is not a mapping, a card that is not text), sparse giant files.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import struct
import subprocess
import sys
import textwrap
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sandtest import TEST_SPEC, TINY_ARCH, TINY_KWARGS

from sand_gui import card_schema
from sand_gui.bundle import (
    CARD_KEY,
    MAX_FILE,
    MAX_HEADER,
    ModelCard,
    load_bundle,
    read_card,
    seal,
)
from sand_gui.card_schema import ARCHITECTURES, param_count
from sand_gui.errors import BundleError, SandError, one_line
from sand_gui.features import SEED_SPEC, FeatureSpec
from sand_gui.tasks import TASK_IDS

NAN, INF = float("nan"), float("inf")
BIG = "@@1e999@@"  # written as the JSON literal 1e999, which Python reads as infinity


# ---------------------------------------------------------------- building blocks


def parts(data: bytes) -> tuple[dict, dict, bytes]:
    """(header, card, payload) of bundle bytes."""
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    return header, json.loads(header["__metadata__"][CARD_KEY]), data[8 + n :]


def pack(header, payload: bytes = b"", *, length: int | None = None) -> bytes:
    """Safetensors framing around ``header`` (a dict / any JSON value, or raw text/bytes)."""
    raw = header if isinstance(header, bytes) else (header if isinstance(header, str) else json.dumps(header)).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw) if length is None else length) + raw + payload


def with_card(base: bytes, card: dict, *, sealed: bool = True) -> bytes:
    """``base`` with its card replaced by ``card`` (raw JSON text allowed: NaN, 1e999)."""
    header, _, payload = parts(base)
    card = dict(card)
    if sealed:
        card["bundle_sha256"] = secrets.token_hex(32)  # the placeholder seal() replaces
    header["__metadata__"][CARD_KEY] = json.dumps(card).replace(f'"{BIG}"', "1e999").replace(f'"-{BIG}"', "-1e999")
    data = pack(header, payload)
    return seal(data) if sealed else data


def refused(path, reader) -> str:
    """``reader(path)`` must raise BundleError with one sentence naming the file; returns it."""
    with pytest.raises(BundleError) as err:
        reader(path)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(one_line(path.name) + ": ") and msg.endswith("."), msg
    return msg


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> bytes:
    from sandtest import make_tiny_bundle

    return make_tiny_bundle(tmp_path_factory.mktemp("hostile") / "base.safetensors").read_bytes()


# ---------------------------------------------------------------- card cases (re-sealed)

BAD_INTS = [None, True, "64", 64.5, -1, 0, 10**12, 10**400, NAN, INF, BIG, [64], {"v": 64}]
BAD_FLOATS = [None, True, "80", NAN, INF, -INF, BIG, f"-{BIG}", -1, 0, 1e308, [80.0]]
BAD_BANDS = [
    None,
    [],
    [50.0],
    [50.0, 4000.0, 1.0],
    ["50", "4000"],
    [4000.0, 50.0],
    [-1.0, 100.0],
    [NAN, 100.0],
    [0.0, 1e9],
    [True, 100],
    "50-4000",
    [50.0, BIG],
    {"lo": 50},
]
FORBIDDEN_KWARGS = [
    "pretrained",
    "checkpoint_path",
    "pretrained_cfg",
    "pretrained_cfg_overlay",
    "features_only",
    "in_chans",
    "num_classes",
    "cache_dir",
    "scriptable",
    "exportable",
    "no_jit",
    "pretrained_strict",
    "act_layer",
    "norm_layer",
    "stem_type",
    "patch_size",
    "global_pool",
    "output_stride",
    "head_hidden_size",
    "out_indices",
    "feature_cfg",
    "device",
    "dtype",
    "__class__",
]
BAD_ARCH_KWARGS = (
    [None, [], "depths", 5]
    + [{k: v} for k in FORBIDDEN_KWARGS for v in (True, "/etc/passwd")]
    + [
        {"pretrained_cfg_overlay": {"file": "/etc/passwd"}},
        {"depths": [1, 1, 1]},
        {"depths": [1, 1, 1, 1000]},
        {"depths": [1, 1, 1, -1]},
        {"depths": [1, 1, 1, 1.5]},
        {"depths": [1, 1, 1, True]},
        {"depths": "1,1,1,1"},
        {"dims": [8, 16, 32, 10**9]},
        {"dims": [8, 16, 32, 4]},
        {"dims": [8, 16, 32, NAN]},
        {"drop_rate": 1.0},
        {"drop_rate": -0.1},
        {"drop_rate": NAN},
        {"drop_path_rate": BIG},
        {"ls_init_value": None},
        {"ls_init_value": 0},
        {"ls_init_value": 5},
        {"head_init_scale": 0},
        {"head_init_scale": INF},
        {"kernel_sizes": 4},
        {"kernel_sizes": 99},
        {"kernel_sizes": [7, 7]},
        {"kernel_sizes": "7"},
        {"conv_mlp": "yes"},
        {"use_grn": 1},
        {"depths": [40, 40, 40, 40], "dims": [2048] * 4},  # 5 billion parameters
        {"depths": [1, 1, 1, 1], "dims": [16, 32, 64, 128]},  # allowed, but not these weights
        {"depths": [1, 1, 1, 1], "dims": [8, 16, 32, 64], "kernel_sizes": 3},  # fewer parameters than stored
    ]
)


def card_cases(card: dict) -> list[tuple[str, dict]]:
    """(label, edited card) pairs, every one of which must be refused."""
    cases = []

    def put(label, **changes):
        cases.append((label, {**card, **changes}))

    def spec(label, **changes):
        put(f"spec.{label}", feature_spec={**card["feature_spec"], **changes})

    for name in card_schema.SPEC_INTS:
        for i, v in enumerate(BAD_INTS):
            spec(f"{name}.{i}", **{name: v})
    for name in card_schema.SPEC_FLOATS:
        for i, v in enumerate(BAD_FLOATS):
            spec(f"{name}.{i}", **{name: v})
    for name in ("phonation_band", "rhythm_band"):
        for i, v in enumerate(BAD_BANDS):
            spec(f"{name}.{i}", **{name: v})
    for i, v in enumerate(["4000", 0, -1, NAN, BIG, 1e9, True, [4000]]):
        spec(f"bandlimit.{i}", bandlimit_hz=v)
    for i, v in enumerate([None, "pcen", 5, ["channel_zscore"]]):
        spec(f"normalization.{i}", normalization=v)
    spec("unknown", pcen=True)
    spec("hop>n_fft", hop_length=1024, n_fft=512)
    spec("vad_hop>frame", vad_hop_length=1024, vad_frame_length=512)
    spec("even_delta", delta_width=8)
    spec("mels>bins", n_mels=300)
    spec("voice<fft", min_voiced_seconds=0.05, n_fft=2048, hop_length=512)
    spec("empty_band", bandlimit_hz=1000, phonation_band=[2000.0, 4000.0])
    spec("memory", sample_rate=96000, n_fft=16384, hop_length=16, n_mels=512, n_frames=1024, vad_hop_length=16)
    for i, v in enumerate([None, [], "x", 5, [1, 2]]):
        put(f"feature_spec.{i}", feature_spec=v)

    for i, v in enumerate([None, 5, "", " ", "x" * 201, "a\nb", "a\x1b[2Jb", ["x"], {"a": 1}]):
        put(f"name.{i}", name=v)
    for i, v in enumerate(
        [
            "resnet50",
            "convnext_xlarge",
            "convnext_xxlarge",
            "vit_huge_patch14_224",
            "",
            None,
            3,
            "../../etc/passwd",
            "convnext_atto\n",
            ["convnext_atto"],
        ]
    ):
        put(f"architecture.{i}", architecture=v)
    for i, v in enumerate(BAD_ARCH_KWARGS):
        put(f"arch_kwargs.{i}", arch_kwargs=v)

    classes = card["classes"]
    bad_classes = [
        None,
        [],
        "12345",
        classes[:3],
        classes[::2],
        classes + [{"number": 6, "label": "x"}],
        classes[::-1],
        [{**c, "number": c["number"] - 1} for c in classes],
        [{**c, "number": str(c["number"])} for c in classes],
        [{**c, "number": float(c["number"])} for c in classes],
        [{**c, "number": True} for c in classes],
        [classes[0]] * 5,
        [{**c, "extra": 1} for c in classes],
        [{"number": c["number"]} for c in classes],
    ]
    bad_classes += [
        [{**c, "label": v} if c["number"] == 3 else c for c in classes]
        for v in ("", "   ", None, 5, "x" * 81, "two\nlines", "\x00", ["x"])
    ]
    for i, v in enumerate(bad_classes):
        put(f"classes.{i}", classes=v)
    for i, v in enumerate(
        [None, [], "phonationA", ["phonationZ"], ["phonationA", "phonationA"], [1], list(TASK_IDS) * 2, ["PHONATIONA"]]
    ):
        put(f"tasks.{i}", tasks=v)

    deep = {}
    for _ in range(12):
        deep = {"a": deep}
    bad_json = [
        None,
        [],
        "x",
        5,
        deep,
        {"a": NAN},
        {"a": BIG},
        {"a": [INF]},
        {"a": "x" * 2001},
        {"a": list(range(30000))},
        {"a": 2**64},
        {"x" * 201: 1},
    ]
    for i, v in enumerate(bad_json):
        put(f"training_data.{i}", training_data=v)
        put(f"metrics.{i}", metrics=v)
    for i, v in enumerate(["false", 0, None, [False]]):
        put(f"synthetic.{i}", training_data={**card["training_data"], "synthetic": v})
    for i, v in enumerate([None, [], "x", {"torch": 5}, {"torch": "x" * 201}, {"torch": "2.0\n"}]):
        put(f"software.{i}", software=v)
    for i, v in enumerate([None, 5, "x" * 65, "2026\n01"]):
        put(f"created.{i}", created=v)
    for i, v in enumerate([None, 5, "x" * 10_001, "bell\x07"]):
        put(f"notes.{i}", notes=v)
    for i, v in enumerate([None, "", "xyz", "A" * 64, "g" * 64, 5]):
        put(f"weights_sha256.{i}", weights_sha256=v)
    for i, v in enumerate([None, 0, -1, 1, "2", 2.0, True, 3, 10**100, [2]]):
        put(f"format_version.{i}", format_version=v)
    for i, v in enumerate([None, "sand_gui.bundle ", 5]):
        put(f"format.{i}", format=v)
    put("unknown_field", evil=1)
    for key in card:
        if key not in ("bundle_sha256", "format"):
            cases.append((f"missing.{key}", {k: v for k, v in card.items() if k != key}))
    return cases


def test_the_seed_recipe_and_the_test_spec_pass_every_bound():
    for spec in (
        SEED_SPEC,
        TEST_SPEC,
        FeatureSpec(sample_rate=16000, n_fft=512, hop_length=160, n_mels=80),
        FeatureSpec(sample_rate=48000, n_fft=4096, hop_length=1024, n_mels=256, phonation_band=(50.0, 8000.0)),
    ):
        assert FeatureSpec.from_dict(spec.to_dict()) == spec
        assert card_schema.analysis_bytes("convnext_atto", {}, spec) < card_schema.MAX_ANALYSIS_BYTES
    for arch in ("convnext_base", "convnext_large"):  # the seed's recipes
        assert card_schema.analysis_bytes(arch, {}, SEED_SPEC) < card_schema.MAX_ANALYSIS_BYTES


def test_every_hostile_card_is_refused_by_the_field_checks(tmp_path, base):
    """Re-sealed, so only the field checks stand between these cards and the code."""
    _, card, _ = parts(base)
    cases = card_cases(card)
    assert len(cases) > 350
    p = tmp_path / "hostile.safetensors"
    for label, edited in cases:
        p.write_bytes(with_card(base, edited))
        for reader in (read_card, load_bundle):
            msg = refused(p, reader)
            assert "checksum" not in msg or label.startswith("weights_sha256"), (label, msg)


def test_a_card_whose_network_would_need_too_much_memory_is_refused(good_card):
    """n_mels 512 x n_frames 1024 is within each bound, but through convnext_atto's 40
    channels a batch of 64 windows would need about 2.4 GB."""
    spec = {**good_card["feature_spec"], "n_fft": 2048, "hop_length": 512, "n_mels": 512, "n_frames": 1024}
    card = {**good_card, "architecture": "convnext_atto", "arch_kwargs": {}, "feature_spec": spec}
    with pytest.raises(
        BundleError,
        match=r"^big: one analysis with this network and feature spec would need about 2\.\d GiB; the limit is 2 GiB\.$",
    ):
        ModelCard.from_dict(card, source="big")
    assert ModelCard.from_dict({**card, "arch_kwargs": TINY_KWARGS}, source="tiny").spec.n_frames == 1024


@pytest.mark.parametrize("key", FORBIDDEN_KWARGS)
def test_build_network_refuses_forbidden_arguments_before_timm_sees_them(key):
    from sand_gui.model import build_network

    with pytest.raises(BundleError, match=f"arch_kwargs '{key}' is not allowed"):
        build_network(TINY_ARCH, num_classes=5, arch_kwargs={**TINY_KWARGS, key: "/etc/passwd"})


def test_build_network_bounds_parameters_before_building(monkeypatch):
    from sand_gui import model

    t = time.perf_counter()
    with pytest.raises(BundleError, match="has 5,[0-9,]+ parameters; the limit is 200,000,000"):
        model.build_network("convnext_base", num_classes=5, arch_kwargs={"depths": [40] * 4, "dims": [2048] * 4})
    assert time.perf_counter() - t < 30  # refused from the card: building 5 G parameters would take minutes and ~20 GB
    with pytest.raises(BundleError, match="not allowed"):
        model.build_network("resnet50", num_classes=5)
    monkeypatch.setattr(model, "MAX_PARAMS", 1000)  # the meta-device count, checked on its own
    with pytest.raises(BundleError, match="convnext_atto has 62,317 parameters; the limit is 1,000"):
        model.build_network(TINY_ARCH, num_classes=5, arch_kwargs=TINY_KWARGS)


@pytest.mark.parametrize(
    "arch",
    [
        pytest.param(a, marks=pytest.mark.slow) if a.endswith(("small", "base", "large")) else a
        for a in sorted(ARCHITECTURES)
    ],
)
def test_parameter_count_is_exact_for_every_allowed_architecture(arch):
    import timm
    import torch

    for kwargs in (
        {},
        {
            "depths": [1, 2, 1, 1],
            "dims": [8, 16, 24, 40],
            "kernel_sizes": [3, 5, 7, 9],
            "use_grn": True,
            "ls_init_value": 0.5,
            "conv_mlp": True,
        },
    ):
        with torch.device("meta"):
            net = timm.create_model(arch, pretrained=False, num_classes=5, in_chans=3, **kwargs)
        assert sum(p.numel() for p in net.state_dict().values()) == param_count(arch, kwargs, num_classes=5)


# ---------------------------------------------------------------- tampering (not re-sealed)

HEADER_STRIDE = 3  # every third byte of the header (about 2,150 offsets), and 200 of the weights


def tamper_offsets(base: bytes) -> list[int]:
    (n,) = struct.unpack("<Q", base[:8])
    return list(range(0, 8 + n, HEADER_STRIDE)) + [8 + n + round(i * (len(base) - 9 - n) / 199) for i in range(200)]


def test_bytes_all_over_the_header_and_weights_are_covered_by_the_seal(tmp_path, base):
    offsets = tamper_offsets(base)
    p = tmp_path / "tampered.safetensors"
    p.write_bytes(base)
    reasons = {}
    with open(p, "r+b") as fh:
        for at in offsets:
            fh.seek(at)
            fh.write(bytes([base[at] ^ 0x01]))
            fh.flush()
            msg = refused(p, read_card)
            reasons[msg.split(": ", 1)[1][:40]] = reasons.get(msg.split(": ", 1)[1][:40], 0) + 1
            fh.seek(at)
            fh.write(base[at : at + 1])
    assert sum(reasons.values()) == len(offsets) > 2000
    assert reasons.get("the file does not match its card's check", 0) > 500, reasons
    for at in offsets[:: max(1, len(offsets) // 40)]:  # the full loader, on a sample
        p.write_bytes(base[:at] + bytes([base[at] ^ 0x01]) + base[at + 1 :])
        refused(p, load_bundle)


def test_one_byte_edits_that_keep_valid_json_are_refused_by_the_seal(tmp_path, base):
    _, card, _ = parts(base)
    assert card["training_data"]["synthetic"] is True
    p = tmp_path / "edited.safetensors"
    for edit in (
        {"feature_spec": {**card["feature_spec"], "n_mels": 65}},
        {"feature_spec": {**card["feature_spec"], "sample_rate": 8001}},
        {"classes": [{"number": 1, "label": "Healthy control"}] + card["classes"][1:]},
        {"training_data": {**card["training_data"], "synthetic": False}},
    ):
        p.write_bytes(with_card(base, {**card, **edit}, sealed=False))
        assert "does not match its card's checksum" in refused(p, load_bundle)


# ---------------------------------------------------------------- malformed safetensors


def header_cases(base: bytes) -> list[tuple[str, bytes]]:
    header, card, payload = parts(base)
    meta = header["__metadata__"]
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    first = next(iter(tensors))
    t0 = tensors[first]
    card_text = meta[CARD_KEY]

    def entry(**changes):
        e = {**t0, **changes}
        for k in [k for k, v in changes.items() if v is ...]:
            del e[k]
        return pack({**header, first: e}, payload)

    cases = [
        ("empty", b""),
        ("seven_bytes", b"\x01" * 7),
        ("zero_length", struct.pack("<Q", 0) + payload),
        ("length_2^63", pack(header, payload, length=2**63)),
        ("length_over_max", pack(header, payload, length=MAX_HEADER + 1)),
        ("length_past_end", pack(header, b"", length=len(json.dumps(header)) + 8 + len(payload) + 16)),
        ("length_short", pack(json.dumps(header), payload, length=16)),
    ]
    for label, value in [
        ("list", []),
        ("number", 5),
        ("string", "x"),
        ("null", None),
        ("true", True),
        ("float", 1.5),
        ("empty_mapping", {}),
        ("list_of_header", [header]),
    ]:
        cases.append((f"header_{label}", pack(value, payload)))
    cases += [
        ("not_utf8", pack(b'{"\xff\xfe": 1}', payload)),
        ("utf16", pack(json.dumps(header).encode("utf-16"), payload)),
        ("bom", pack(b"\xef\xbb\xbf" + json.dumps(header).encode(), payload)),
        ("nan_in_header", pack(json.dumps(header)[:-1] + ', "x": NaN}', payload)),
        ("huge_int", pack('{"x": ' + "9" * 5000 + "}", payload)),
        ("deep_list", pack("[" * 100_000 + "]" * 100_000, payload)),
        ("deep_dict", pack('{"a":' * 50_000 + "1" + "}" * 50_000, payload)),
        ("truncated_json", pack(json.dumps(header)[:-5], payload)),
        ("binary_noise", pack(bytes(range(256)) * 4, payload)),
    ]
    dup = json.dumps(header)[:-1] + f", {json.dumps(first)}: {json.dumps(t0)}}}"
    cases.append(("duplicate_tensor", pack(dup, payload)))
    cases.append(
        ("duplicate_card_key", pack({**header, "__metadata__": {CARD_KEY: card_text[:-1] + ', "name": "x"}'}}, payload))
    )
    for label, value in [("list", []), ("text", "x"), ("number", 1), ("null", None)]:
        cases.append((f"metadata_{label}", pack({**header, "__metadata__": value}, payload)))
    for label, value in [
        ("number", 5),
        ("list", [card_text]),
        ("mapping", card),
        ("null", None),
        ("bytes_like", "\udcff"),
    ]:
        cases.append((f"card_{label}", pack({**header, "__metadata__": {CARD_KEY: value}}, payload)))
    cases += [
        ("card_not_json", pack({**header, "__metadata__": {CARD_KEY: "{not json"}}, payload)),
        (
            "card_nan",
            pack({**header, "__metadata__": {CARD_KEY: card_text.replace('"top_db": 80.0', '"top_db": NaN')}}, payload),
        ),
        ("card_deep", pack({**header, "__metadata__": {CARD_KEY: "[" * 100_000 + "]" * 100_000}}, payload)),
        (
            "card_huge",
            pack({**header, "__metadata__": {CARD_KEY: json.dumps({**card, "notes": "x" * 1_100_000})}}, payload),
        ),
        ("card_extra_meta", pack({**header, "__metadata__": {**meta, "other": "x"}}, payload)),
        ("no_metadata", pack(tensors, payload)),
        ("no_card", pack({**header, "__metadata__": {"x": "y"}}, payload)),
    ]
    bad_entries = [
        ("no_offsets", dict(data_offsets=...)),
        ("no_dtype", dict(dtype=...)),
        ("no_shape", dict(shape=...)),
        ("extra_key", dict(extra=1)),
        ("dtype_f64", dict(dtype="F64")),
        ("dtype_i8", dict(dtype="I8")),
        ("dtype_number", dict(dtype=5)),
        ("dtype_object", dict(dtype="object")),
        ("shape_text", dict(shape="x")),
        ("shape_negative", dict(shape=[-1])),
        ("shape_float", dict(shape=[1.5])),
        ("shape_bool", dict(shape=[True])),
        ("shape_huge", dict(shape=[2**70])),
        ("shape_rank9", dict(shape=[1] * 9)),
        ("offsets_one", dict(data_offsets=[5])),
        ("offsets_reversed", dict(data_offsets=t0["data_offsets"][::-1])),
        ("offsets_negative", dict(data_offsets=[-1, 3])),
        ("offsets_text", dict(data_offsets=["0", "4"])),
        ("offsets_huge", dict(data_offsets=[0, 10**30])),
        ("offsets_vs_shape", dict(shape=[1])),
        ("offsets_null", dict(data_offsets=None)),
    ]
    cases += [(f"entry_{label}", entry(**changes)) for label, changes in bad_entries]
    for label, value in [("list", [1, 2]), ("number", 3), ("string", "F32"), ("null", None)]:
        cases.append((f"entry_is_{label}", pack({**header, first: value}, payload)))
    spans = sorted((v["data_offsets"], k) for k, v in tensors.items())
    (a0, a1), name_a = spans[0]
    (b0, b1), name_b = spans[1]
    overlap = {**header, name_b: {**tensors[name_b], "data_offsets": [a0, a0 + b1 - b0]}}
    cases += [
        ("overlap", pack(overlap, payload)),
        ("out_of_range", entry(data_offsets=[len(payload), len(payload) + a1 - a0])),
        ("gap", pack({k: v for k, v in header.items() if k != name_a}, payload)),
        ("trailing_bytes", pack(header, payload + b"\0" * 8)),
        ("missing_bytes", pack(header, payload[:-4])),
    ]
    many = {**header, **{f"t{i}": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]} for i in range(10_001)}}
    cases.append(("ten_thousand_tensors", pack(many, payload)))
    return cases


def test_malformed_headers_of_every_shape_are_one_sentence(tmp_path, base):
    cases = header_cases(base)
    assert len(cases) > 70
    for label, data in cases:
        p = tmp_path / f"{label}.safetensors"
        p.write_bytes(data)
        t = time.perf_counter()
        for reader in (read_card, load_bundle):
            refused(p, reader)
        assert time.perf_counter() - t < 5, label


def test_giant_sparse_files_are_refused_before_reading(tmp_path, base):
    huge = tmp_path / "huge.safetensors"
    with open(huge, "wb") as fh:
        fh.write(base[:8])
        fh.truncate(MAX_FILE + 1)  # sparse: nothing is written
    claims = tmp_path / "claims.safetensors"
    with open(claims, "wb") as fh:
        fh.write(struct.pack("<Q", MAX_HEADER) + b"[" * 1000)
        fh.truncate(MAX_HEADER + 64)
    t = time.perf_counter()
    assert "a bundle holds at most" in refused(huge, load_bundle)
    assert "claims.safetensors: header is " in refused(claims, load_bundle)
    assert time.perf_counter() - t < 5


def test_paths_that_are_not_bundles(tmp_path):
    assert "not found" in refused(tmp_path / "missing.safetensors", read_card)
    (tmp_path / "folder.safetensors").mkdir()
    assert "is a folder" in refused(tmp_path / "folder.safetensors", load_bundle)
    odd = tmp_path / "two\nlines.safetensors"
    odd.write_bytes(b"\0" * 3)
    assert "two\\nlines.safetensors: file is truncated" in refused(odd, load_bundle)


def _corpus(base: bytes) -> dict[str, bytes]:
    _, card, _ = parts(base)
    out = {f"card_{i:03d}": with_card(base, edited) for i, (_, edited) in enumerate(card_cases(card))}
    out |= {f"header_{i:03d}": data for i, (_, data) in enumerate(header_cases(base))}
    for at in range(8, len(base), 997):
        out[f"flip_{at:07d}"] = base[:at] + bytes([base[at] ^ 0x01]) + base[at + 1 :]
    return out


@pytest.mark.slow
def test_the_whole_corpus_is_refused_within_bounded_memory_and_time(tmp_path, base):
    """In a fresh process: torch, timm and one real model loaded first, then every hostile
    file through ``Classifier.from_file``; the peak resident memory (reset after the warm-up)
    may rise at most 300 MB above the resident memory before, and no file may take more
    than a few seconds."""
    good = tmp_path / "good.safetensors"
    good.write_bytes(base)
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, data in _corpus(base).items():
        (folder / f"{name}.safetensors").write_bytes(data)
    with open(folder / "sparse.safetensors", "wb") as fh:
        fh.write(base[:8])
        fh.truncate(MAX_FILE + 1)
    script = textwrap.dedent("""
        import json, pathlib, sys, time
        from sand_gui.errors import SandError
        from sand_gui.model import Classifier

        def kib(field):  # from /proc/self/status: VmRSS now, VmHWM the peak since the last reset
            for line in open("/proc/self/status"):
                if line.startswith(field + ":"):
                    return int(line.split()[1])

        Classifier.from_file(sys.argv[1], device="cpu")
        with open("/proc/self/clear_refs", "w") as fh:  # reset the peak (Linux >= 4.0)
            fh.write("5")
        before = kib("VmRSS")
        wrong, slowest, n = [], 0.0, 0
        for p in sorted(pathlib.Path(sys.argv[2]).iterdir()):
            n += 1
            t = time.perf_counter()
            try:
                Classifier.from_file(p, device="cpu")
                wrong.append(p.name + ": accepted")
            except SandError as exc:
                if "\\n" in str(exc):
                    wrong.append(p.name + ": two lines")
            except BaseException as exc:
                wrong.append(f"{p.name}: {type(exc).__name__}")
            slowest = max(slowest, time.perf_counter() - t)
        print(json.dumps({"n": n, "grew_mib": (kib("VmHWM") - before) / 1024, "rss_mib": before / 1024,
                          "slowest_s": slowest, "wrong": wrong}))
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.dirname(__file__), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-c", script, str(good), str(folder)], capture_output=True, text=True, timeout=600, env=env
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print("hostile corpus:", result)
    assert result["wrong"] == [] and result["n"] > 450
    assert result["grew_mib"] < 300 and result["slowest_s"] < 10


# ---------------------------------------------------------------- fuzzing

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def _bounded(fn, *args):
    """``fn(*args)``: a SandError or a result, never another exception, within 5 s."""
    t = time.perf_counter()
    try:
        return fn(*args)
    except SandError as exc:
        assert "\n" not in str(exc)
        return None
    finally:
        assert time.perf_counter() - t < 5


@FUZZ
@given(
    d=st.dictionaries(
        st.sampled_from([f.name for f in FeatureSpec.__dataclass_fields__.values()]) | st.text(max_size=8),
        json_values,
        max_size=8,
    )
)
def test_fuzz_feature_spec(d):
    spec = _bounded(FeatureSpec.from_dict, d)
    if spec is not None:  # accepted: every bound really holds
        assert (
            card_schema.spec_problems(spec) == [] and card_schema.feature_bytes(spec) <= card_schema.MAX_ANALYSIS_BYTES
        )


@pytest.fixture(scope="module")
def good_card(base) -> dict:
    return parts(base)[1]


@FUZZ
@given(data=st.data())
def test_fuzz_card_validator(good_card, data):
    card = json.loads(json.dumps(good_card))
    where = data.draw(
        st.sampled_from(
            [("card", k) for k in card]
            + [("feature_spec", k) for k in card["feature_spec"]]
            + [("arch_kwargs", k) for k in ("depths", "dims", "drop_rate", "x")]
        )
    )
    target = card if where[0] == "card" else card[where[0]]
    target[where[1]] = data.draw(json_values)
    result = _bounded(ModelCard.from_dict, card)
    if result is not None:
        assert result.class_numbers == [1, 2, 3, 4, 5] and result.architecture in ARCHITECTURES
        assert json.loads(json.dumps(result.to_dict(), allow_nan=False)) == result.to_dict()
    _bounded(ModelCard.from_dict, data.draw(json_values))


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(blob=st.binary(max_size=2048) | st.builds(pack, json_values, st.binary(max_size=64)))
def test_fuzz_any_bytes(fuzz_dir, blob):
    p = fuzz_dir / "any.safetensors"
    p.write_bytes(blob)
    assert _bounded(read_card, p) is None
    assert _bounded(load_bundle, p) is None


@FUZZ
@given(data=st.data())
def test_fuzz_mutated_real_bundle(fuzz_dir, base, data):
    at = data.draw(st.integers(0, len(base) - 1))
    patch = data.draw(st.binary(min_size=1, max_size=16))
    mutated = base[:at] + patch + base[at + len(patch) :] if data.draw(st.booleans()) else base[:at] + patch + base[at:]
    p = fuzz_dir / "mutated.safetensors"
    p.write_bytes(mutated)
    card = _bounded(read_card, p)
    assert card is None or mutated == base
    assert (_bounded(load_bundle, p) is None) == (mutated != base)


def test_corpus_counts(base):
    """The figures the README's reliability section quotes."""
    _, card, _ = parts(base)
    counts = {"card": len(card_cases(card)), "header": len(header_cases(base)), "tamper": len(tamper_offsets(base))}
    print("hostile bundle cases:", counts, "total", sum(counts.values()))
    assert all(v > 50 for v in counts.values()) and math.isfinite(sum(counts.values()))
