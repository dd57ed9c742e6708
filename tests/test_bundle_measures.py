"""A bundle that carries a measures model (XGBoost JSON in a U8 tensor of the same sealed file):
round trip, old bundles unchanged, tampering and crafted payloads refused in one sentence, and
loading never executes code."""

from __future__ import annotations

import hashlib
import json
import pickle
import struct
import sys

import numpy as np
import pytest
from fusedtest import fusion_section, make_fused_bundle, measures_model_json

from sand_gui.bundle import CARD_KEY, MEASURES_KEY, ModelCard, load_bundle, read_card, save_bundle, seal
from sand_gui.errors import BundleError
from sand_gui.fusion import Fusion
from sand_gui.measures.vector import FEATURE_NAMES


@pytest.fixture(scope="module")
def fused_path(tmp_path_factory):
    return make_fused_bundle(tmp_path_factory.mktemp("fused") / "fused.safetensors")


def refused(path, *, start: str = "") -> str:
    with pytest.raises(BundleError) as err:
        load_bundle(path)
    text = str(err.value)
    assert "\n" not in text and "Traceback" not in text and text.endswith(".")
    assert text.startswith(path.name + ": " + start), text
    return text


def forge(tmp_path, fused_path, *, blob: bytes, name: str = "forged.safetensors", edit=None, key: str = MEASURES_KEY):
    """A self-consistent, re-sealed copy of ``fused_path`` with ``blob`` as its measures model
    (what a forger can make: the seal proves integrity, not authorship)."""
    import torch
    from safetensors.torch import save as st_save

    bundle = load_bundle(fused_path)
    card = bundle.card.to_dict()
    card["fusion"]["model_sha256"] = hashlib.sha256(blob).hexdigest()
    card["bundle_sha256"] = "ab" * 32
    if edit:
        edit(card)
    tensors = dict(bundle.state_dict)
    tensors[key] = torch.frombuffer(bytearray(blob), dtype=torch.uint8)
    data = seal(st_save(tensors, metadata={CARD_KEY: json.dumps(card)}))
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_round_trip(fused_path, tmp_path):
    bundle = load_bundle(fused_path)
    assert bundle.measures_model == measures_model_json()
    assert MEASURES_KEY not in bundle.state_dict
    fusion = bundle.card.fusion
    assert fusion["decision"] == "weighted" and fusion["w_network"] == 0.5
    assert fusion["model_sha256"] == hashlib.sha256(bundle.measures_model).hexdigest()
    assert read_card(fused_path).fusion == fusion
    plain = load_bundle(fused_path.with_name("fused-plain.safetensors"))
    assert bundle.card.weights_sha256 == plain.card.weights_sha256  # the weights are the network's alone
    again = save_bundle(
        tmp_path / "again.safetensors", bundle.state_dict, bundle.card, measures_model=bundle.measures_model
    )
    assert load_bundle(again).measures_model == bundle.measures_model


def test_bundle_without_measures_loads_as_before(tiny_bundle):
    bundle = load_bundle(tiny_bundle)
    assert bundle.measures_model is None and bundle.card.fusion is None
    assert "fusion" not in bundle.card.to_dict()
    assert Fusion.from_bundle(bundle) is None


def test_fusion_and_model_go_together(fused_path, tmp_path):
    bundle = load_bundle(fused_path)
    with pytest.raises(BundleError, match="go together"):
        save_bundle(tmp_path / "x.safetensors", bundle.state_dict, bundle.card)
    card = ModelCard.from_dict(bundle.card.to_dict() | {"fusion": fusion_section()})
    card.fusion = None
    with pytest.raises(BundleError, match="go together"):
        save_bundle(tmp_path / "y.safetensors", bundle.state_dict, card, measures_model=bundle.measures_model)


@pytest.mark.parametrize("where", ["model", "card"])
def test_edited_byte_refused(fused_path, tmp_path, where):
    data = bytearray(fused_path.read_bytes())
    if where == "model":
        at = data.rindex(b'"multi:softprob"') + 2  # inside the measures model's JSON, at the end of the file
        data[at] = ord("n")
    else:
        at = data.index(b"weighted")  # the card's fusion decision (the card is escaped JSON in the header)
        data[at : at + 8] = b"measures"
    path = tmp_path / "edited.safetensors"
    path.write_bytes(bytes(data))
    refused(path)


def test_pickle_blob_refused_without_unpickling(fused_path, tmp_path):
    class Boom:
        def __reduce__(self):
            return (print, ("unpickled!",))

    for protocol in (0, 4):
        path = forge(
            tmp_path, fused_path, blob=pickle.dumps(Boom(), protocol=protocol), name=f"p{protocol}.safetensors"
        )
        text = refused(path, start="its measures model is not")
        assert "JSON" in text or "UTF-8" in text


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda m: m["learner"]["objective"].update(name="reg:squarederror"), "objective"),
        (lambda m: m["learner"]["gradient_booster"].update(name="gblinear"), "gbtree"),
        (lambda m: m["learner"]["learner_model_param"].update(num_class="3"), "classes"),
        (lambda m: m["learner"]["learner_model_param"].update(num_feature="7"), "reads '7' measures"),
        (lambda m: m.pop("learner"), "not an XGBoost model"),
    ],
)
def test_crafted_model_json_refused(fused_path, tmp_path, change, words):
    model = json.loads(measures_model_json())
    change(model)
    text = refused(forge(tmp_path, fused_path, blob=json.dumps(model).encode()))
    assert words in text


def test_nan_in_model_json_refused(fused_path, tmp_path):
    raw = measures_model_json().replace(b'"version"', b'"x": NaN, "version"', 1)
    assert "NaN" in refused(forge(tmp_path, fused_path, blob=raw))


def test_card_and_file_must_agree(fused_path, tmp_path):
    blob = measures_model_json()
    no_section = forge(tmp_path, fused_path, blob=blob, name="a.safetensors", edit=lambda c: c.pop("fusion"))
    refused(no_section, start="the card does not describe the measures model")
    other = forge(tmp_path, fused_path, blob=blob, name="b.safetensors", key="head.extra")
    assert "U8" in refused(other) or "dtype" in refused(other)
    bad_digest = forge(
        tmp_path, fused_path, blob=blob, name="c.safetensors", edit=lambda c: c["fusion"].update(model_sha256="1" * 64)
    )
    refused(bad_digest, start="the measures model does not match")
    bad_w = forge(tmp_path, fused_path, blob=blob, name="d.safetensors", edit=lambda c: c["fusion"].update(w_network=2))
    assert "w_network" in refused(bad_w)


def test_oversized_blob_header_refused(fused_path, tmp_path):
    data = bytearray(fused_path.read_bytes())
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    header[MEASURES_KEY]["dtype"] = "F32"
    raw = json.dumps(header).encode()
    path = tmp_path / "dtype.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(data[8 + n :]))
    assert "U8" in refused(path)


EVENTS = ("pickle.find_class", "exec", "compile", "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn")


def test_loading_never_executes_code(fused_path):
    """An audit hook records every event that runs code or unpickles while a fused bundle is
    loaded and its measures model is built and used (imports done beforehand, as the hook cannot
    tell an import's own compile from a payload's)."""
    Fusion.from_bundle(load_bundle(fused_path)).probabilities_of(np.zeros((1, len(FEATURE_NAMES)), np.float32))
    seen, active = [], [False]

    def hook(event, args):
        if active[0] and event.startswith(EVENTS):
            seen.append(event)

    sys.addaudithook(hook)
    active[0] = True
    try:
        fusion = Fusion.from_bundle(load_bundle(fused_path))
        p = fusion.probabilities_of(np.full((2, len(FEATURE_NAMES)), np.nan, np.float32))
    finally:
        active[0] = False
    assert seen == [] and p.shape == (2, 5)
