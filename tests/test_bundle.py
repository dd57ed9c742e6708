import json
import struct

import pytest
import torch

from sand_gui.bundle import CARD_KEY, ModelCard, load_bundle, read_card, save_bundle
from sand_gui.errors import BundleError
from sand_gui.model import Classifier

from sandtest import TEST_SPEC, TINY_ARCH, TINY_KWARGS, make_tiny_bundle


def test_round_trip_restores_weights_and_card(tmp_path, tiny_bundle):
    b = load_bundle(tiny_bundle)
    assert b.card.architecture == TINY_ARCH and b.card.arch_kwargs == TINY_KWARGS
    assert b.card.spec == TEST_SPEC
    assert b.card.class_numbers == [1, 2, 3, 4, 5] and b.card.label(5) == "Healthy control"
    assert b.card.synthetic is True
    assert {"sand_gui", "torch", "timm"} <= set(b.card.software)
    clf = Classifier(b, device="cpu")
    for k, v in clf.network.state_dict().items():
        assert torch.equal(v, b.state_dict[k])
    assert read_card(tiny_bundle).to_dict() == b.card.to_dict()


def test_loading_never_unpickles(tiny_bundle, monkeypatch):
    import pickle

    def boom(*a, **k):
        raise AssertionError("unpickling attempted")

    monkeypatch.setattr(pickle, "load", boom)
    monkeypatch.setattr(pickle, "loads", boom)
    monkeypatch.setattr(torch, "load", boom)
    Classifier.from_file(tiny_bundle, device="cpu")


def test_truncated_bundle_is_refused(tmp_path, tiny_bundle):
    data = tiny_bundle.read_bytes()
    for cut in (4, 100, len(data) // 2, len(data) - 1):
        p = tmp_path / f"cut{cut}.safetensors"
        p.write_bytes(data[:cut])
        with pytest.raises(BundleError, match=rf"cut{cut}.safetensors: .*(truncated|not a)"):
            load_bundle(p)


def test_tampered_weights_are_refused(tmp_path, tiny_bundle):
    data = bytearray(tiny_bundle.read_bytes())
    data[-10] ^= 0xFF
    p = tmp_path / "tampered.safetensors"
    p.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="tampered.safetensors: weights do not match the card's checksum"):
        load_bundle(p)


def _rewrite_card(src, dst, edit):
    data = src.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    card = json.loads(header["__metadata__"][CARD_KEY])
    edit(card)
    header["__metadata__"][CARD_KEY] = json.dumps(card)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    dst.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n :])
    return dst


@pytest.mark.parametrize("edit, reason", [
    (lambda c: c.update(format_version=99), "format version 99 is newer"),
    (lambda c: c["feature_spec"].update(normalization="pcen"), "normalization 'pcen' is unknown"),
    (lambda c: c["feature_spec"].update(sample_rate=1000), "sample rate 1000 Hz is unsupported"),
    (lambda c: c["feature_spec"].update(new_thing=1), "cannot honour: new_thing"),
    (lambda c: c.update(tasks=["phonationZ"]), "unknown tasks"),
    (lambda c: c.pop("feature_spec"), "model card is malformed"),
    (lambda c: c.update(format="something.else"), "not a sand_gui model bundle"),
])
def test_incompatible_card_is_refused(tmp_path, tiny_bundle, edit, reason):
    p = _rewrite_card(tiny_bundle, tmp_path / "odd.safetensors", edit)
    with pytest.raises(BundleError, match=reason):
        load_bundle(p)
    with pytest.raises(BundleError, match=reason):
        read_card(p)


def test_unknown_architecture_and_mismatched_weights_are_refused(tmp_path, tiny_bundle):
    p = _rewrite_card(tiny_bundle, tmp_path / "arch.safetensors", lambda c: c.update(architecture="convnext_nonexistent"))
    with pytest.raises(BundleError, match="not known to timm"):
        Classifier.from_file(p, device="cpu")
    p = _rewrite_card(tiny_bundle, tmp_path / "dims.safetensors", lambda c: c.update(arch_kwargs={"depths": [1, 1, 1, 1], "dims": [16, 32, 64, 128]}))
    with pytest.raises(BundleError, match="dims.safetensors: weights do not fit architecture convnext_atto"):
        Classifier.from_file(p, device="cpu")


def test_a_plain_safetensors_file_is_not_a_bundle(tmp_path):
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, tmp_path / "plain.safetensors")
    with pytest.raises(BundleError, match="not a sand_gui model bundle"):
        load_bundle(tmp_path / "plain.safetensors")


def test_renamed_classes_travel_in_the_card(tmp_path):
    import timm

    net = timm.create_model(TINY_ARCH, pretrained=False, num_classes=3, **TINY_KWARGS)
    card = ModelCard(name="three", architecture=TINY_ARCH, arch_kwargs=TINY_KWARGS, spec=TEST_SPEC,
                     class_numbers=[1, 3, 5], class_labels=["worst", "middle", "best"])
    p = save_bundle(tmp_path / "three.safetensors", net.state_dict(), card)
    clf = Classifier.from_file(p, device="cpu")
    assert clf.card.label(3) == "middle"


def test_same_weights_give_same_checksum(tmp_path):
    a = make_tiny_bundle(tmp_path / "a.safetensors", seed=3)
    b = make_tiny_bundle(tmp_path / "b.safetensors", seed=3)
    assert read_card(a).weights_sha256 == read_card(b).weights_sha256
