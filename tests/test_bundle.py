import json
import secrets
import struct
import subprocess
import sys

import pytest
import torch
from sandtest import TEST_SPEC, TINY_ARCH, TINY_KWARGS, make_tiny_bundle

from sand_gui.bundle import (
    CARD_KEY,
    FORMAT_VERSION,
    ModelCard,
    load_bundle,
    read_card,
    save_bundle,
    seal,
    upgrade_bundle,
)
from sand_gui.errors import BundleError
from sand_gui.model import Classifier

SEALED_BY = "does not match its card's checksum"


def test_round_trip_restores_weights_and_card(tmp_path, tiny_bundle):
    b = load_bundle(tiny_bundle)
    assert b.card.architecture == TINY_ARCH and b.card.arch_kwargs == TINY_KWARGS
    assert b.card.spec == TEST_SPEC
    assert b.card.class_numbers == [1, 2, 3, 4, 5] and b.card.label(5) == "Healthy control"
    assert b.card.synthetic is True
    assert {"sand_gui", "torch", "timm"} <= set(b.card.software)
    assert b.card.to_dict()["format_version"] == FORMAT_VERSION == 2 and len(b.card.bundle_sha256) == 64
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
        for reader in (read_card, load_bundle):
            with pytest.raises(BundleError, match=rf"cut{cut}.safetensors: .*(truncated|not a)"):
                reader(p)


def test_tampered_weights_are_refused(tmp_path, tiny_bundle):
    data = bytearray(tiny_bundle.read_bytes())
    data[-10] ^= 0xFF
    p = tmp_path / "tampered.safetensors"
    p.write_bytes(bytes(data))
    for reader in (read_card, load_bundle):
        with pytest.raises(
            BundleError, match=f"tampered.safetensors: the file {SEALED_BY}; the model card or the weights were altered"
        ):
            reader(p)


def _rewrite_card(src, dst, edit, *, sealed=True):
    """Edit the card of ``src`` into ``dst``; ``sealed`` recomputes the checksum as a forger would."""
    data = src.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    card = json.loads(header["__metadata__"][CARD_KEY])
    edit(card)
    if sealed:
        card["bundle_sha256"] = secrets.token_hex(32)  # the placeholder seal() replaces
    header["__metadata__"][CARD_KEY] = json.dumps(card)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    out = struct.pack("<Q", len(raw)) + raw + data[8 + n :]
    dst.write_bytes(seal(out) if sealed else out)
    return dst


@pytest.mark.parametrize(
    "edit",
    [
        lambda c: c["feature_spec"].update(n_mels=65),
        lambda c: c["feature_spec"].update(sample_rate=16000),
        lambda c: c["classes"][0].update(label="Healthy control"),
        lambda c: c["training_data"].update(synthetic=False),
        lambda c: c.update(notes=c["notes"] + " "),
    ],
    ids=["n_mels", "sample_rate", "label", "synthetic", "notes"],
)
def test_any_edit_of_the_card_is_refused(tmp_path, tiny_bundle, edit):
    p = _rewrite_card(tiny_bundle, tmp_path / "edited.safetensors", edit, sealed=False)
    for reader in (read_card, load_bundle):
        with pytest.raises(BundleError, match=f"edited.safetensors: the file {SEALED_BY}"):
            reader(p)


def test_one_byte_edits_of_the_card_text_are_refused(tmp_path, tiny_bundle):
    """The same edits made in place, one byte each, without touching the header length."""
    data = tiny_bundle.read_bytes()
    edits = [
        (b'\\"n_mels\\": 64', b'\\"n_mels\\": 65'),
        (b'\\"sample_rate\\": 8000', b'\\"sample_rate\\": 9000'),
        (b"Severe dysarthria", b"Severe dysarthriA"),
        (b'\\"synthetic\\": true', b'\\"synthetic\\": True'),
    ]
    for old, new in edits:
        assert data.count(old) == 1 and len(old) == len(new)
        p = tmp_path / "byte.safetensors"
        p.write_bytes(data.replace(old, new))
        with pytest.raises(BundleError, match="byte.safetensors: "):
            read_card(p)


@pytest.mark.parametrize(
    "edit, reason",
    [
        (lambda c: c.update(format_version=99), "format version 99 is newer"),
        (lambda c: c["feature_spec"].update(normalization="pcen"), "normalization 'pcen' is unknown"),
        (lambda c: c["feature_spec"].update(sample_rate=1000), "sample_rate 1000 is outside 4000-96000"),
        (lambda c: c["feature_spec"].update(new_thing=1), "cannot honour: new_thing"),
        (lambda c: c.update(tasks=["phonationZ"]), "unknown tasks"),
        (lambda c: c.pop("feature_spec"), "lacks the field 'feature_spec'"),
        (lambda c: c.update(format="something.else"), "not a sand_gui model bundle"),
        (lambda c: c.update(architecture="convnext_nonexistent"), "architecture 'convnext_nonexistent' is not allowed"),
        (
            lambda c: c.update(arch_kwargs={"checkpoint_path": "/etc/passwd"}),
            "arch_kwargs 'checkpoint_path' is not allowed",
        ),
        (
            lambda c: c.update(arch_kwargs={"depths": [1, 1, 1, 1], "dims": [16, 32, 64, 128]}),
            "weights do not fit architecture convnext_atto",
        ),
        (lambda c: c["feature_spec"].update(n_frames=10**9), "n_frames 1000000000 is outside 8-1024"),
        (lambda c: c.update(classes=c["classes"][::2]), "classes must list the 5 SAND classes"),
    ],
)
def test_incompatible_card_is_refused(tmp_path, tiny_bundle, edit, reason):
    """A forger can re-seal an edited card: the field checks must refuse it on their own."""
    p = _rewrite_card(tiny_bundle, tmp_path / "odd.safetensors", edit)
    for reader in (read_card, load_bundle):
        with pytest.raises(BundleError, match=f"odd.safetensors: .*{reason}") as err:
            reader(p)
        assert "\n" not in str(err.value) and str(err.value).endswith(".")


def test_a_plain_safetensors_file_is_not_a_bundle(tmp_path):
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, tmp_path / "plain.safetensors")
    with pytest.raises(BundleError, match="not a sand_gui model bundle"):
        load_bundle(tmp_path / "plain.safetensors")


def test_renamed_labels_travel_in_the_card_but_class_numbers_are_fixed(tmp_path):
    import timm

    net = timm.create_model(TINY_ARCH, pretrained=False, num_classes=5, **TINY_KWARGS)
    labels = ["worst", "bad", "middle", "good", "best"]
    card = ModelCard(
        name="renamed", architecture=TINY_ARCH, arch_kwargs=TINY_KWARGS, spec=TEST_SPEC, class_labels=labels
    )
    p = save_bundle(tmp_path / "renamed.safetensors", net.state_dict(), card)
    assert Classifier.from_file(p, device="cpu").card.label(3) == "middle"
    three = ModelCard(
        name="three",
        architecture=TINY_ARCH,
        arch_kwargs=TINY_KWARGS,
        spec=TEST_SPEC,
        class_numbers=[1, 3, 5],
        class_labels=["worst", "middle", "best"],
    )
    with pytest.raises(BundleError, match="three.safetensors: classes must list the 5 SAND classes"):
        save_bundle(
            tmp_path / "three.safetensors",
            timm.create_model(TINY_ARCH, num_classes=3, **TINY_KWARGS).state_dict(),
            three,
        )
    assert not (tmp_path / "three.safetensors").exists()


def test_save_refuses_what_the_reader_would_refuse_and_writes_nothing(tmp_path, tiny_bundle):
    b = load_bundle(tiny_bundle)
    for change, reason in (
        (dict(metrics={"f1": float("nan")}), "metrics holds a number that is not finite"),
        (dict(arch_kwargs={"pretrained": True}), "'pretrained' is not allowed"),
        (dict(name="two\nlines"), "control characters"),
    ):
        card = ModelCard(**{**vars(b.card), **change})
        with pytest.raises(BundleError, match=f"bad.safetensors: .*{reason}"):
            save_bundle(tmp_path / "bad.safetensors", b.state_dict, card)
        assert list(tmp_path.iterdir()) == []


def test_same_weights_give_same_checksum(tmp_path):
    a = make_tiny_bundle(tmp_path / "a.safetensors", seed=3)
    b = make_tiny_bundle(tmp_path / "b.safetensors", seed=3)
    assert read_card(a).weights_sha256 == read_card(b).weights_sha256


def _as_format_1(src, dst):
    def downgrade(card):
        card["format_version"] = 1
        del card["bundle_sha256"]

    return _rewrite_card(src, dst, downgrade, sealed=False)


def test_format_1_is_refused_with_how_to_resave_and_upgrade_keeps_the_weights(tmp_path, tiny_bundle):
    old = _as_format_1(tiny_bundle, tmp_path / "old.safetensors")
    for reader in (read_card, load_bundle):
        with pytest.raises(
            BundleError,
            match=r"old.safetensors: bundle format 1 does not protect its model card .*python -m sand_gui.bundle upgrade old.safetensors",
        ):
            reader(old)
    new = upgrade_bundle(old, tmp_path / "new.safetensors")
    was, now = load_bundle(tiny_bundle), load_bundle(new)
    assert now.card.weights_sha256 == was.card.weights_sha256
    assert {k: v for k, v in now.card.to_dict().items() if k != "bundle_sha256"} == {
        k: v for k, v in was.card.to_dict().items() if k != "bundle_sha256"
    }
    assert all(torch.equal(now.state_dict[k], v) for k, v in was.state_dict.items())


def test_upgrade_refuses_a_format_1_file_whose_weights_were_edited(tmp_path, tiny_bundle):
    old = bytearray(_as_format_1(tiny_bundle, tmp_path / "old.safetensors").read_bytes())
    old[-5] ^= 1
    (tmp_path / "old.safetensors").write_bytes(bytes(old))
    with pytest.raises(BundleError, match="old.safetensors: weights do not match the card's checksum"):
        upgrade_bundle(tmp_path / "old.safetensors", tmp_path / "new.safetensors")
    assert not (tmp_path / "new.safetensors").exists()


def test_upgrade_command_line(tmp_path, tiny_bundle):
    old = _as_format_1(tiny_bundle, tmp_path / "old.safetensors")

    def run(*a):
        return subprocess.run(
            [sys.executable, "-m", "sand_gui.bundle", *map(str, a)], capture_output=True, text=True, timeout=120
        )

    bad = run("check", old)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "upgrade old.safetensors" in bad.stderr
    up = run("upgrade", old)
    assert up.returncode == 0 and up.stdout.strip() == "old.safetensors: saved as bundle format 2."
    ok = run("check", old)
    assert ok.returncode == 0 and "sealed" in ok.stdout
    assert run("frobnicate").returncode == 2
