"""Config: the seed's defaults, YAML files, --set overrides."""

import pytest

from sand_gui.errors import UsageError
from sand_gui.features import SEED_SPEC
from training.config import CONFIG_DIR, TrainConfig, load_config


def test_defaults_are_the_seed_recipe():
    cfg = TrainConfig()
    assert (cfg.architecture, cfg.epochs, cfg.batch_size, cfg.lr, cfg.weight_decay) == ("convnext_base", 75, 16, 1e-4, 0.01)
    assert (cfg.focal_gamma, cfg.specaugment_p, cfg.drop_path_rate, cfg.scheduler) == (2.0, 0.7, 0.1, "cosine")
    assert cfg.oversample == {1: 21, 2: 5, 3: 2} and cfg.spec == SEED_SPEC
    assert load_config(CONFIG_DIR / "convnext_base.yaml").spec == SEED_SPEC


@pytest.mark.parametrize("name", ["convnext_base", "convnext_small", "convnext_large", "bundled"])
def test_shipped_configs_load(name):
    cfg = load_config(CONFIG_DIR / f"{name}.yaml")
    assert cfg.architecture.startswith("convnext")


def test_overrides(tiny_config):
    cfg = load_config(tiny_config, ["epochs=5", "lr=0.01", "features.n_mels=40", "oversample.1=10",
                                    "arch_kwargs.dims=[8,16,32,64]", "val_sheet=null"])
    assert cfg.epochs == 5 and cfg.lr == 0.01 and cfg.spec.n_mels == 40 and cfg.val_sheet is None
    assert cfg.oversample[1] == 10 and cfg.oversample[2] == 2
    assert cfg.spec.sample_rate == 8000  # untouched keys of the file stay


@pytest.mark.parametrize("override, message", [
    ("epochs=two", "whole number"), ("nope=1", "unknown key 'nope'"), ("epochs", "key=value"),
    ("features.n_mels=2", "n_mels 2"), ("features.colour=1", "cannot honour"), ("amp=3", "true or false"),
    ("lr.x=1", "not a mapping"),
])
def test_bad_overrides_are_usage_errors(tiny_config, override, message):
    with pytest.raises(UsageError, match=message):
        load_config(tiny_config, [override])
