"""fit: a few epochs on the tiny corpus lower the loss and leave a run folder whose bundle
the application loads; an interrupted run resumes to the very same weights."""

import json
import re

import torch
import yaml
from safetensors.torch import load_file
from train_helpers import write_config

from sand_gui.bundle import load_bundle, read_card
from sand_gui.model import Classifier
from training.config import load_config
from training.loop import fit, fit_from_files


def test_fit_lowers_the_loss_and_writes_a_loadable_bundle(trained):
    run = trained.run_dir
    losses = [row["train_loss"] for row in trained.history]
    assert len(losses) == 3 and losses[-1] < losses[0]
    for name in (
        "config.yaml",
        "log.jsonl",
        "log.csv",
        "confusion.png",
        "summary.json",
        "model.safetensors",
        "checkpoints/last.safetensors",
    ):
        assert (run / name).is_file(), name
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["last.safetensors"]  # one file, one rename
    assert not list(run.rglob("*.part*")), "a temporary file was left behind"
    assert not list(run.rglob("*.pt")) and not list(run.rglob("*.pth")) and not list(run.rglob("*.pkl"))
    rows = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert {"train_loss", "recording_macro_f1", "patient_macro_f1", "patient_f1_per_class"} <= set(rows[0])
    resolved = yaml.safe_load((run / "config.yaml").read_text())
    assert resolved["features"]["n_mels"] == 32 and resolved["epochs"] == 3

    card = read_card(run / "model.safetensors")
    assert card.synthetic and card.architecture == "convnext_atto" and card.spec.n_mels == 32
    assert card.metrics["validation"]["patient_level"]["macro_f1"] >= 0
    clf = Classifier(load_bundle(run / "model.safetensors"), device="cpu")
    probs, _ = clf.predict_recording(torch.zeros(2, 3, 32, 32))
    assert probs.shape == (5,) and abs(probs.sum() - 1) < 1e-5


def _weight_bytes(path) -> dict:
    return {k: v.numpy().tobytes() for k, v in load_file(str(path)).items()}


def test_resume_reproduces_the_uninterrupted_run_bit_for_bit(trained, tmp_path, corpus, cache_dir):
    cfg_file = write_config(
        tmp_path / "tiny.yaml", data=str(corpus), cache=str(cache_dir), run_dir=str(tmp_path / "run")
    )
    first = fit(load_config(cfg_file), stop_after=1)
    assert first.bundle is None and len(first.history) == 1
    assert len((tmp_path / "run/log.jsonl").read_text().splitlines()) == 1
    resumed = fit_from_files(None, [], resume=str(tmp_path / "run"), dry_run=False, progress=False)
    assert [r["epoch"] for r in resumed.history] == [1, 2, 3]
    assert _weight_bytes(trained.bundle) == _weight_bytes(resumed.bundle)
    a, b = (_weight_bytes(r / "checkpoints/last.safetensors") for r in (trained.run_dir, tmp_path / "run"))
    assert a == b  # weights, optimizer moments and best weights alike
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in trained.history]
    assert len((tmp_path / "run/log.jsonl").read_text().splitlines()) == 3


def test_a_run_killed_before_its_first_checkpoint_is_resumed_or_reused(trained, tmp_path, corpus, cache_dir, capsys):
    """stop_after=0 leaves what a kill before the first checkpoint leaves: a folder with config.yaml."""
    cfg_file = write_config(
        tmp_path / "tiny.yaml", data=str(corpus), cache=str(cache_dir), run_dir=str(tmp_path / "run")
    )
    fit(load_config(cfg_file), stop_after=0)
    assert (tmp_path / "run/config.yaml").is_file() and not (tmp_path / "run/checkpoints/last.safetensors").exists()
    # a new fit into the same folder is not refused: it takes the folder (stopped again after one epoch)
    again = fit(load_config(cfg_file), stop_after=1)
    assert [r["epoch"] for r in again.history] == [1]
    # the same command again continues that run (same config) instead of saying "folder exists"
    done = fit_from_files(str(cfg_file), [], resume=None, dry_run=False, progress=False)
    assert [r["epoch"] for r in done.history] == [1, 2, 3]
    assert _weight_bytes(trained.bundle) == _weight_bytes(done.bundle)
    assert "resuming" in capsys.readouterr().err


def test_resume_without_checkpoint_starts_from_the_first_epoch(tmp_path, corpus, cache_dir, capsys):
    cfg_file = write_config(
        tmp_path / "tiny.yaml", data=str(corpus), cache=str(cache_dir), run_dir=str(tmp_path / "run"), epochs=1
    )
    fit(load_config(cfg_file), stop_after=0)
    done = fit_from_files(None, [], resume=str(tmp_path / "run"), dry_run=False, progress=False)
    assert [r["epoch"] for r in done.history] == [1] and done.bundle.is_file()
    assert "no checkpoint yet; starting from the first epoch" in capsys.readouterr().err


def test_dry_run_trains_nothing(tiny_config, tmp_path, capsys):
    res = fit(load_config(tiny_config, [f"run_dir={tmp_path / 'dry'}"]), dry_run=True)
    assert res.network is None and not (tmp_path / "dry").exists()
    # (the count of recordings depends on how many tones the voicing check takes: 80 when all pass)
    assert re.search(r"10 train patients \(\d+ recordings, \d+ per epoch after oversampling", capsys.readouterr().err)


def test_initial_weights_from_a_local_file(tmp_path, tiny_config):
    from safetensors.torch import save_file

    from sand_gui.model import build_network
    from training.network import make_network

    donor = build_network(
        "convnext_atto", num_classes=1000, arch_kwargs={"depths": [1, 1, 1, 1], "dims": [8, 16, 32, 64]}
    )
    save_file({k: v.contiguous() for k, v in donor.state_dict().items()}, str(tmp_path / "in1k.safetensors"))
    net = make_network(load_config(tiny_config, [f"init_weights={tmp_path / 'in1k.safetensors'}"]))
    own, theirs = net.state_dict(), donor.state_dict()
    assert torch.equal(own["stem.0.weight"], theirs["stem.0.weight"])
    assert own["head.fc.weight"].shape == (5, 64)  # the 1000-class head is left out
