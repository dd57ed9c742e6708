"""Config: the seed's defaults, YAML files, --set overrides, and every key typed and ranged
before any data is loaded (one sentence naming the file, the key and the value)."""

import dataclasses
import math

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sand_gui.errors import SandError, UsageError
from sand_gui.features import SEED_SPEC
from training.cli import main
from training.config import CONFIG_DIR, RULES, TrainConfig, load_config, validate


def test_defaults_are_the_seed_recipe():
    cfg = TrainConfig()
    assert (cfg.architecture, cfg.epochs, cfg.batch_size, cfg.lr, cfg.weight_decay) == (
        "convnext_base",
        75,
        16,
        1e-4,
        0.01,
    )
    assert (cfg.focal_gamma, cfg.specaugment_p, cfg.drop_path_rate, cfg.scheduler) == (2.0, 0.7, 0.1, "cosine")
    assert cfg.oversample == {1: 21, 2: 5, 3: 2} and cfg.spec == SEED_SPEC
    assert load_config(CONFIG_DIR / "convnext_base.yaml").spec == SEED_SPEC
    validate(TrainConfig())  # the defaults pass their own rules


@pytest.mark.parametrize("name", ["convnext_base", "convnext_small", "convnext_large", "bundled"])
def test_shipped_configs_load(name):
    cfg = load_config(CONFIG_DIR / f"{name}.yaml")
    assert cfg.architecture.startswith("convnext")


def test_every_key_has_a_rule():
    assert set(RULES) == {f.name for f in dataclasses.fields(TrainConfig)}


def test_overrides(tiny_config):
    cfg = load_config(
        tiny_config,
        [
            "epochs=5",
            "lr=0.01",
            "features.n_mels=40",
            "oversample.1=10",
            "arch_kwargs.dims=[8,16,32,64]",
            "val_sheet=null",
        ],
    )
    assert cfg.epochs == 5 and cfg.lr == 0.01 and cfg.spec.n_mels == 40 and cfg.val_sheet is None
    assert cfg.oversample[1] == 10 and cfg.oversample[2] == 2
    assert cfg.spec.sample_rate == 8000  # untouched keys of the file stay


# Numbers as people write them; YAML 1.1 reads 1e-3 and 1E-3 as text.
@pytest.mark.parametrize(
    "text, key, value",
    [
        ("lr: 1e-3", "lr", 1e-3),
        ("lr: 1E-3", "lr", 1e-3),
        ("lr: .001", "lr", 1e-3),
        ("lr: 1.0e-3", "lr", 1e-3),
        ("lr: 1e+0", "lr", 1.0),
        ("lr: 2", "lr", 2.0),
        ("lr: '3e-4'", "lr", 3e-4),
        ("weight_decay: 0", "weight_decay", 0.0),
        ("epochs: 1_000", "epochs", 1000),
        ("epochs: 1e3", "epochs", 1000),
        ("epochs: 5.0", "epochs", 5),
        ("batch_size: +8", "batch_size", 8),
        ("focal_gamma: 1_0.5", "focal_gamma", 10.5),
        ("drop_path_rate: 5E-2", "drop_path_rate", 0.05),
        ("seed: 0", "seed", 0),
        ("oversample: {1: 1e1}", "oversample", {1: 10}),
        ("oversample: {'2': '3'}", "oversample", {2: 3}),
        ("class_weights: [1e0, 2, .5, 1, 1]", "class_weights", [1.0, 2.0, 0.5, 1.0, 1.0]),
        ("features: {top_db: 8e1, n_mels: 6.4e1}", "features", {"top_db": 80.0, "n_mels": 64}),
        ("arch_kwargs: {ls_init_value: 1e-6}", "arch_kwargs", {"ls_init_value": 1e-6}),
        ("amp: no", "amp", False),
        ("val_sheet: null", "val_sheet", None),
        ("init_weights: ~", "init_weights", None),
    ],
)
def test_numbers_in_any_spelling(tmp_path, text, key, value):
    path = tmp_path / "c.yaml"
    path.write_text(text + "\n", encoding="utf-8")
    assert getattr(load_config(path), key) == value
    assert getattr(load_config(None, [text.replace(": ", "=", 1)]), key) == value


BAD_FILES = [  # (YAML text, words the sentence holds besides the file name)
    ("epochs: -1", "epochs -1 is not a whole number from 1"),
    ("epochs: 0", "epochs 0"),
    ("epochs: 2.5", "epochs 2.5"),
    ("epochs: true", "epochs True"),
    ("epochs: two", "epochs 'two'"),
    ("epochs: [3]", "epochs [3]"),
    ("epochs: 1e9", "epochs '1e9'"),
    ("batch_size: -4", "batch_size -4"),
    ("batch_size: 0", "batch_size 0"),
    ("batch_size: .5", "batch_size 0.5"),
    ("eval_batch_size: 0", "eval_batch_size 0"),
    ("lr: -1", "lr -1 is not a finite number above 0"),
    ("lr: 0", "lr 0"),
    ("lr: .nan", "lr nan"),
    ("lr: .inf", "lr inf"),
    ("lr: nan", "lr 'nan'"),
    ("lr: 1e-3x", "lr '1e-3x'"),
    ("lr: 100", "lr 100"),
    ("lr: null", "lr None"),
    ("lr: '0x10'", "lr '0x10'"),
    ("weight_decay: -0.01", "weight_decay -0.01"),
    ("weight_decay: .inf", "weight_decay inf"),
    ("focal_gamma: -2", "focal_gamma -2"),
    ("drop_path_rate: 1", "drop_path_rate 1"),
    ("specaugment_p: 1.5", "specaugment_p 1.5"),
    ("hflip_p: -0.1", "hflip_p -0.1"),
    ("freq_masks: -1", "freq_masks -1"),
    ("time_masks: 1000", "time_masks 1000"),
    ("time_mask_width: 2", "time_mask_width 2"),
    ("rotation_deg: 720", "rotation_deg 720"),
    ("seed: -1", "seed -1"),
    ("seed: 1e30", "seed '1e30'"),
    ("oversample: {1: 0}", "oversample.1 0"),
    ("oversample: {1: -3}", "oversample.1 -3"),
    ("oversample: {1: 2.5}", "oversample.1 2.5"),
    ("oversample: {7: 2}", "oversample.7 is not a class"),
    ("oversample: [21, 5]", "oversample [21, 5]"),
    ("oversample: {one: 2}", "oversample.one is not a class"),
    ("class_weights: [1, 2]", "class_weights [1, 2]"),
    ("class_weights: [1, 1, 1, 1, -1]", "class_weights"),
    ("class_weights: heavy", "class_weights 'heavy'"),
    ("scheduler: linear", "scheduler 'linear' is not one of cosine, constant"),
    ("loss: mse", "loss 'mse'"),
    ("device: gpu", "device 'gpu'"),
    ("amp: 3", "amp 3 is not true or false"),
    ("amp_dtype: fp8", "amp_dtype 'fp8'"),
    ("synthetic: maybe", "synthetic 'maybe'"),
    ("name: ../../etc", "name '../../etc'"),
    ("name: ''", "name ''"),
    ("data: ''", "data ''"),
    ("data: [a]", "data ['a']"),
    ("architecture: ../x", "architecture '../x'"),
    ("architecture: 42", "architecture 42"),
    ("arch_kwargs: {checkpoint_path: /etc/passwd}", "arch_kwargs.checkpoint_path '/etc/passwd'"),
    ("arch_kwargs: {pretrained: true}", "arch_kwargs.pretrained True"),
    ("arch_kwargs: {dims: [8, /tmp/x]}", "arch_kwargs.dims"),
    ("arch_kwargs: 3", "arch_kwargs 3"),
    ("features: {n_mels: 2}", "n_mels 2"),
    ("features: {n_mels: many}", "features.n_mels 'many'"),
    ("features: {n_fft: .nan}", "features.n_fft nan"),
    ("features: {phonation_band: 50}", "features.phonation_band 50"),
    ("features: {colour: 1}", "unknown key 'features.colour'"),
    ("features: [1]", "features [1]"),
    ("epoch: 3", "unknown key 'epoch' (did you mean 'epochs'?)"),
    ("learning_rate: 1e-3", "unknown key 'learning_rate'"),
    ("batchsize: 8", "(did you mean 'batch_size'?)"),
    ("epochs: 3\nepochs: 4", "key 'epochs' appears twice"),
    ("[1, 2]", "a config must be a mapping"),
    ("epochs: [", "not valid YAML"),
    ("just text", "a config must be a mapping"),
]


@pytest.mark.parametrize("text, words", BAD_FILES)
def test_nonsense_in_a_file_is_one_sentence_naming_file_key_value(tmp_path, text, words):
    path = tmp_path / "bad.yaml"
    path.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(UsageError) as err:
        load_config(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ") and words in message and message.endswith((".", "?).")), message
    assert "\n" not in message and message.count(". ") == 0, message


BAD_OVERRIDES = [
    ("epochs=two", "whole number"),
    ("nope=1", "unknown key 'nope'"),
    ("epochs", "key=value"),
    ("features.n_mels=2", "n_mels 2"),
    ("features.colour=1", "unknown key 'features.colour'"),
    ("amp=3", "true or false"),
    ("lr.x=1", "not a mapping"),
    ("lr=-1", "--set: lr -1"),
    ("batch_size=0", "--set: batch_size 0"),
    ("oversample.1=0", "oversample.1 0"),
    ("oversample.9=2", "oversample.9"),
    ("epochs=-1", "epochs -1"),
    ("=3", "key=value"),
]


@pytest.mark.parametrize("override, message", BAD_OVERRIDES)
def test_bad_overrides_are_usage_errors(tiny_config, override, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        load_config(tiny_config, [override])


@pytest.mark.parametrize("text", ["epochs: -1", "batch_size: -4", "batch_size: 0", "lr: -1"])
def test_the_reported_cases_end_before_any_data_is_read(tmp_path, text, capsys):
    """The issue's cases: exit 2 with one sentence, the data folder (missing here) never looked at."""
    path = tmp_path / "c.yaml"
    path.write_text(f"data: {tmp_path / 'no-such-data'}\nrun_dir: {tmp_path / 'run'}\n{text}\n", encoding="utf-8")
    assert main(["fit", "--config", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"sand-train: error: {path}: {text.split(':')[0]} "), err
    assert not (tmp_path / "run").exists()


def test_a_file_name_with_a_newline_stays_on_one_line(tmp_path, capsys):
    path = tmp_path / "bad\nname\x1b[31m.yaml"
    path.write_text("epochs: -1\n", encoding="utf-8")
    assert main(["fit", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad\\nname\\x1b[31m.yaml" in err and "\x1b" not in err, err


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda p: p.mkdir(), "is a folder, not a config file"),
        (lambda p: p.write_bytes(b"\xff\xfe\x00bad"), "not a text file"),
        (lambda p: p.write_text("a: " + "[" * 700 + "]" * 700), "nested too deeply|YAML"),
    ],
)
def test_unreadable_config_files(tmp_path, make, words):
    path = tmp_path / "c.yaml"
    make(path)
    with pytest.raises(UsageError, match=words):
        load_config(path)


def test_a_config_built_in_code_is_checked_by_fit(tiny_config):
    from training.loop import fit

    cfg = load_config(tiny_config)
    cfg.batch_size = -4
    with pytest.raises(UsageError, match="batch_size -4"):
        fit(cfg, dry_run=True)


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.integers(-5, 100), max_size=6),
    st.dictionaries(
        st.one_of(st.integers(-2, 9), st.text(max_size=6)),
        st.one_of(st.integers(-3, 50), st.text(max_size=4)),
        max_size=4,
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(sorted(RULES) + ["epoch", "colour"]), value=_VALUES)
def test_any_value_of_any_key_is_accepted_whole_or_refused_in_one_sentence(tmp_path, key, value):
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump({key: value}), encoding="utf-8")
    try:
        cfg = load_config(path)
    except SandError as exc:
        assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)
        return
    validate(cfg)  # what was accepted passes every rule again, unchanged
    for name, rule in RULES.items():
        v = getattr(cfg, name)
        assert rule(v) == v
    for number in (cfg.lr, cfg.weight_decay, cfg.focal_gamma, cfg.drop_path_rate):
        assert math.isfinite(number)
    assert cfg.epochs >= 1 and cfg.batch_size >= 1 and cfg.lr > 0 and all(f >= 1 for f in cfg.oversample.values())
