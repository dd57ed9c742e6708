"""Types and bounds for everything a model card may ask for, checked when a bundle is read.

A card is data from a file anyone may have written (its checksum proves only that nobody
edited it after it was sealed). So before anything is built or allocated from it, every
field gets a type and a range here:

- the FeatureSpec: ints are ints, floats are finite, sizes lie within ``SPEC_INTS`` /
  ``SPEC_FLOATS`` (wide enough for real recipes, the seed's 22.05 kHz / 256 mels / n_fft
  2048 / hop 512 included), and the memory one analysis can ask for stays under
  ``MAX_ANALYSIS_BYTES`` (``analysis_bytes``, computed from the spec, the loader's
  ``MAX_SECONDS`` and the network's widths);
- the architecture: one of ``ARCHITECTURES`` (timm's ConvNeXt family), its arguments one of
  ``ARCH_KWARGS`` with bounded values (never a path, never ``pretrained``), and at most
  ``MAX_PARAMS`` parameters, counted by ``param_count`` without building anything;
- the rest: classes exactly the SAND classes 1..5 with short one-line labels, known tasks,
  bounded text, and training data / metrics as small, finite JSON.

Checks raise ``BundleError`` with one sentence and no file name (the bundle reader adds
it). Nothing here imports torch.
"""

from __future__ import annotations

import math

from .classes import CLASS_NUMBERS
from .errors import BundleError, one_line
from .tasks import TASK_IDS

GIB = 2**30
MAX_ANALYSIS_BYTES = 2 * GIB  # one recording's features + one batch through the network
MAX_PARAMS = 200_000_000  # convnext_large (198 M, the seed's best model) is the largest allowed
MAX_BATCH = 64  # windows per forward pass (the Classifier's batch; bounds activation memory)
MAX_NUM_CLASSES = 22_000  # build_network outputs (ImageNet-22k heads for initial weights)

# FeatureSpec fields: (low, high), inclusive.
SPEC_INTS = {
    "sample_rate": (4000, 96000),
    "n_fft": (64, 16384),
    "hop_length": (16, 16384),
    "n_mels": (8, 512),
    "delta_width": (3, 63),
    "n_frames": (8, 1024),
    "vad_frame_length": (16, 16384),
    "vad_hop_length": (16, 16384),
}
SPEC_FLOATS = {"top_db": (1.0, 200.0), "vad_top_db": (1.0, 200.0), "min_voiced_seconds": (0.05, 60.0)}
BAND_HZ = (0.0, 48000.0)  # band edges
BANDLIMIT_HZ = (1000.0, 48000.0)  # bandlimit_hz, when not null

# timm ConvNeXt models: name -> (depths, dims, GRN in blocks, layer-scale gamma in blocks).
_V1, _V2 = (False, True), (True, False)
ARCHITECTURES: dict[str, tuple[tuple[int, ...], tuple[int, ...], bool, bool]] = {
    "convnext_atto": ((2, 2, 6, 2), (40, 80, 160, 320), *_V1),
    "convnext_femto": ((2, 2, 6, 2), (48, 96, 192, 384), *_V1),
    "convnext_pico": ((2, 2, 6, 2), (64, 128, 256, 512), *_V1),
    "convnext_nano": ((2, 2, 8, 2), (80, 160, 320, 640), *_V1),
    "convnext_tiny": ((3, 3, 9, 3), (96, 192, 384, 768), *_V1),
    "convnext_small": ((3, 3, 27, 3), (96, 192, 384, 768), *_V1),
    "convnext_base": ((3, 3, 27, 3), (128, 256, 512, 1024), *_V1),
    "convnext_large": ((3, 3, 27, 3), (192, 384, 768, 1536), *_V1),
    "convnextv2_atto": ((2, 2, 6, 2), (40, 80, 160, 320), *_V2),
    "convnextv2_femto": ((2, 2, 6, 2), (48, 96, 192, 384), *_V2),
    "convnextv2_pico": ((2, 2, 6, 2), (64, 128, 256, 512), *_V2),
    "convnextv2_nano": ((2, 2, 8, 2), (80, 160, 320, 640), *_V2),
    "convnextv2_tiny": ((3, 3, 9, 3), (96, 192, 384, 768), *_V2),
    "convnextv2_small": ((3, 3, 27, 3), (96, 192, 384, 768), *_V2),
    "convnextv2_base": ((3, 3, 27, 3), (128, 256, 512, 1024), *_V2),
    "convnextv2_large": ((3, 3, 27, 3), (192, 384, 768, 1536), *_V2),
}
DEPTH_RANGE = (1, 40)  # blocks per stage
DIM_RANGE = (8, 2048)  # channels per stage
KERNEL_RANGE = (3, 15)  # odd depthwise kernel sizes
# arch_kwargs keys that may reach timm.create_model; anything else (pretrained, checkpoint_path,
# pretrained_cfg*, features_only, in_chans, num_classes, ...) is refused.
ARCH_KWARGS = (
    "depths",
    "dims",
    "kernel_sizes",
    "drop_rate",
    "drop_path_rate",
    "ls_init_value",
    "head_init_scale",
    "conv_mlp",
    "use_grn",
)

CARD_FIELDS = (
    "format",
    "format_version",
    "name",
    "architecture",
    "arch_kwargs",
    "classes",
    "tasks",
    "feature_spec",
    "training_data",
    "metrics",
    "created",
    "software",
    "notes",
    "weights_sha256",
    "bundle_sha256",
)
# Optional fields (older cards lack them): name -> allowed values, the first is the default.
# objective: how the network's outputs become class probabilities (sand_gui.model.class_probabilities);
# vote: how task votes become the patient's class (sand_gui.votes.VOTE_RULES).
OPTIONAL_FIELDS = {"objective": ("softmax", "corn"), "vote": ("majority", "median")}
MAX_NAME = 200  # characters of the model's name
MAX_LABEL = 80  # characters of a class label
MAX_NOTES = 10_000
MAX_TEXT = 2000  # any other string inside training data, metrics, software
MAX_JSON_DEPTH = 8
MAX_JSON_NODES = 20_000
MAX_JSON_INT = 2**63


def _show(value: object) -> str:
    return one_line(repr(value), limit=60)


def is_int(value: object) -> bool:
    """A JSON integer (bools are not numbers here)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """A finite JSON number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def _int_problem(what: str, value: object, low: int, high: int) -> str | None:
    if not is_int(value):
        return f"{what} must be an integer (got {_show(value)})"
    if not low <= value <= high:
        return f"{what} {_show(value)} is outside {low}-{high}"
    return None


def _float_problem(what: str, value: object, low: float, high: float) -> str | None:
    if not is_number(value):
        return f"{what} must be a finite number (got {_show(value)})"
    if not low <= value <= high:
        return f"{what} {_show(value)} is outside {low:g}-{high:g}"
    return None


# ---------------------------------------------------------------- the FeatureSpec


def spec_problems(spec) -> list[str]:
    """What is wrong with a FeatureSpec's values (types, ranges, consistency, memory); [] if nothing."""
    problems = [p for name, (lo, hi) in SPEC_INTS.items() if (p := _int_problem(name, getattr(spec, name), lo, hi))]
    problems += [
        p for name, (lo, hi) in SPEC_FLOATS.items() if (p := _float_problem(name, getattr(spec, name), lo, hi))
    ]
    for name in ("phonation_band", "rhythm_band"):
        band = getattr(spec, name)
        if not isinstance(band, (list, tuple)) or len(band) != 2 or not all(is_number(v) for v in band):
            problems.append(f"{name} must be two finite numbers in Hz (got {_show(band)})")
        elif not BAND_HZ[0] <= band[0] < band[1] <= BAND_HZ[1]:
            problems.append(f"{name} {band[0]:g}-{band[1]:g} Hz is not a band within {BAND_HZ[0]:g}-{BAND_HZ[1]:g} Hz")
    if spec.bandlimit_hz is not None and (p := _float_problem("bandlimit_hz", spec.bandlimit_hz, *BANDLIMIT_HZ)):
        problems.append(p)
    if problems:  # the checks below need numbers in range
        return problems
    if spec.hop_length > spec.n_fft:
        problems.append(f"hop {spec.hop_length} is longer than n_fft {spec.n_fft}")
    if spec.vad_hop_length > spec.vad_frame_length:
        problems.append(f"VAD hop {spec.vad_hop_length} is longer than its frame {spec.vad_frame_length}")
    if spec.delta_width % 2 == 0:
        problems.append(f"delta width {spec.delta_width} must be odd")
    if spec.n_mels > spec.n_fft // 2 + 1:
        problems.append(f"n_mels {spec.n_mels} exceeds the {spec.n_fft // 2 + 1} frequency bins of n_fft {spec.n_fft}")
    if spec.min_voiced_seconds * spec.sample_rate <= spec.n_fft // 2:
        problems.append(f"min_voiced_seconds {spec.min_voiced_seconds:g} s is shorter than half an FFT frame")
    nyquist = spec.sample_rate / 2 if spec.bandlimit_hz is None else min(spec.bandlimit_hz, spec.sample_rate / 2)
    for name in ("phonation_band", "rhythm_band"):
        lo, hi = getattr(spec, name)
        if lo >= min(hi, nyquist):
            problems.append(f"{name.replace('_band', '')} band {lo:g}-{min(hi, nyquist):g} Hz is empty")
    if not problems and (need := feature_bytes(spec)) > MAX_ANALYSIS_BYTES:
        problems.append(
            f"one analysis would need about {need / GIB:.1f} GiB for features; the limit is {MAX_ANALYSIS_BYTES / GIB:.0f} GiB"
        )
    return problems


def feature_bytes(spec) -> int:
    """Peak bytes of turning the longest recording the loader keeps into model windows.

    Counts the loaded samples (float32 and the float64 mix-down), the VAD's float64 work
    arrays, the STFT (framed copy, complex spectrum, power), the mel/delta stack with its
    intermediates and the overlapping windows. An upper estimate, not a measurement.
    """
    from .audio import MAX_SECONDS

    n = math.ceil(MAX_SECONDS * spec.sample_rate)
    frames = n // spec.hop_length + 1
    bins = spec.n_fft // 2 + 1
    windows = 1 if frames <= spec.n_frames else math.ceil((frames - spec.n_frames) / (spec.n_frames // 2)) + 1
    samples = 12 * n
    vad = 32 * (n + spec.vad_frame_length) + 48 * (n // spec.vad_hop_length + 1)
    stft = frames * (4 * spec.n_fft + 12 * bins)
    mels = 48 * frames * spec.n_mels
    return samples + vad + stft + mels + 12 * spec.n_mels * spec.n_frames * windows


# ---------------------------------------------------------------- the architecture


def _stage_ints(name: str, value: object, low: int, high: int) -> str | None:
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        return f"arch_kwargs {name} must be a list of 4 integers (got {_show(value)})"
    bad = [v for v in value if not is_int(v) or not low <= v <= high]
    return f"arch_kwargs {name} must be 4 integers from {low} to {high} (got {_show(value)})" if bad else None


def _kernel_problem(value: object) -> str | None:
    values = value if isinstance(value, (list, tuple)) else [value]
    if isinstance(value, (list, tuple)) and len(value) != 4:
        return f"arch_kwargs kernel_sizes must be one odd integer or 4 (got {_show(value)})"
    lo, hi = KERNEL_RANGE
    if not all(is_int(v) and lo <= v <= hi and v % 2 == 1 for v in values):
        return f"arch_kwargs kernel_sizes must be odd integers from {lo} to {hi} (got {_show(value)})"
    return None


def _kwarg_problem(key: str, value: object) -> str | None:
    if key == "depths":
        return _stage_ints(key, value, *DEPTH_RANGE)
    if key == "dims":
        return _stage_ints(key, value, *DIM_RANGE)
    if key == "kernel_sizes":
        return _kernel_problem(value)
    if key in ("drop_rate", "drop_path_rate"):
        ok = is_number(value) and 0 <= value < 1
        return None if ok else f"arch_kwargs {key} must be a number in [0, 1) (got {_show(value)})"
    if key == "ls_init_value":
        ok = is_number(value) and 0 < value <= 1  # timm drops None-valued arguments: null means nothing
        return None if ok else f"arch_kwargs ls_init_value must be a number in (0, 1] (got {_show(value)})"
    if key == "head_init_scale":
        ok = is_number(value) and 0 < value <= 10
        return None if ok else f"arch_kwargs head_init_scale must be a number in (0, 10] (got {_show(value)})"
    if key in ("conv_mlp", "use_grn"):
        return None if isinstance(value, bool) else f"arch_kwargs {key} must be true or false (got {_show(value)})"
    return None


def check_architecture(architecture: object, arch_kwargs: object, *, num_classes: int = len(CLASS_NUMBERS)) -> None:
    """BundleError unless ``architecture`` is an allowed ConvNeXt, its arguments are allowed
    keys with bounded values and the network has at most ``MAX_PARAMS`` parameters."""
    if not isinstance(architecture, str) or architecture not in ARCHITECTURES:
        raise BundleError(
            f"architecture {_show(architecture)} is not allowed; use a ConvNeXt: {', '.join(ARCHITECTURES)}."
        )
    if not isinstance(arch_kwargs, dict):
        raise BundleError(f"arch_kwargs must be a mapping (got {_show(arch_kwargs)}).")
    unknown = [k for k in arch_kwargs if k not in ARCH_KWARGS]
    if unknown:
        raise BundleError(f"arch_kwargs {_show(unknown[0])} is not allowed; allowed keys are {', '.join(ARCH_KWARGS)}.")
    problems = [p for k, v in arch_kwargs.items() if (p := _kwarg_problem(k, v))]
    if problems:
        raise BundleError("; ".join(problems) + ".")
    if not is_int(num_classes) or not 1 <= num_classes <= MAX_NUM_CLASSES:
        raise BundleError(f"the network's {_show(num_classes)} outputs are outside 1-{MAX_NUM_CLASSES}.")
    count = param_count(architecture, arch_kwargs, num_classes=num_classes)
    if count > MAX_PARAMS:
        raise BundleError(
            f"architecture {architecture} with these arch_kwargs has {count:,} parameters; the limit is {MAX_PARAMS:,}."
        )


def _widths(architecture: str, arch_kwargs: dict) -> tuple[list[int], list[int]]:
    depths, dims, _, _ = ARCHITECTURES[architecture]
    return list(arch_kwargs.get("depths", depths)), list(arch_kwargs.get("dims", dims))


def param_count(architecture: str, arch_kwargs: dict, *, num_classes: int) -> int:
    """Exact parameter count of an allowed ConvNeXt (3 input channels), from its arguments
    alone: the bound is checked before anything is built, and a bundle's tensors must add
    up to it. (Checked against timm for every allowed model in the tests.)"""
    depths, dims = _widths(architecture, arch_kwargs)
    _, _, grn, gamma = ARCHITECTURES[architecture]
    grn = arch_kwargs.get("use_grn", grn)
    gamma = gamma or "ls_init_value" in arch_kwargs
    kernels = arch_kwargs.get("kernel_sizes", 7)
    kernels = list(kernels) if isinstance(kernels, (list, tuple)) else [kernels] * 4
    total = 3 * 16 * dims[0] + dims[0] + 2 * dims[0]  # 4x4 patch stem + its norm
    for i, (depth, d, k) in enumerate(zip(depths, dims, kernels)):
        if i:
            total += 2 * dims[i - 1] + 4 * dims[i - 1] * d + d  # norm + 2x2 downsampling conv
        block = k * k * d + d + 2 * d + 8 * d * d + 5 * d + (8 * d if grn else 0) + (d if gamma else 0)
        total += depth * block
    return total + 2 * dims[-1] + dims[-1] * num_classes + num_classes  # head norm + classifier


def forward_bytes(architecture: str, arch_kwargs: dict, spec) -> int:
    """Peak activation bytes of one batch of ``MAX_BATCH`` windows: the widest stage's block
    (its 4x MLP expansion plus input and output), an upper estimate."""
    _, dims = _widths(architecture, arch_kwargs)
    widest = max(
        6 * d * math.ceil(spec.n_mels / 4 / 2**i) * math.ceil(spec.n_frames / 4 / 2**i) for i, d in enumerate(dims)
    )
    return 4 * MAX_BATCH * (widest + 3 * spec.n_mels * spec.n_frames)


def analysis_bytes(architecture: str, arch_kwargs: dict, spec) -> int:
    """Memory one recording's analysis can ask for: features, then one batch through the network."""
    return feature_bytes(spec) + forward_bytes(architecture, arch_kwargs, spec)


# ---------------------------------------------------------------- the rest of the card


def check_text(value: object, what: str, *, limit: int, one_line_only: bool = True, empty: bool = True) -> None:
    """BundleError unless ``value`` is a string of at most ``limit`` characters (printable,
    without line breaks when ``one_line_only``; not blank unless ``empty``)."""
    if not isinstance(value, str):
        raise BundleError(f"{what} must be text (got {_show(value)}).")
    if len(value) > limit:
        raise BundleError(f"{what} is {len(value)} characters long; at most {limit} are allowed.")
    if not empty and not value.strip():
        raise BundleError(f"{what} is empty.")
    if not (value if one_line_only else value.replace("\n", "").replace("\t", "")).isprintable():
        kinds = "control characters or line breaks" if one_line_only else "control characters"
        raise BundleError(f"{what} {_show(value)} holds {kinds}.")


def check_json(value: object, what: str, *, max_depth: int = MAX_JSON_DEPTH, max_nodes: int = MAX_JSON_NODES) -> None:
    """BundleError unless ``value`` is small, finite JSON: numbers finite (ints below 2**63),
    strings and keys at most ``MAX_TEXT`` characters, nesting and size bounded."""
    stack, seen = [(value, 0)], 0
    while stack:
        v, depth = stack.pop()
        seen += 1
        if seen > max_nodes:
            raise BundleError(f"{what} holds more than {max_nodes} values.")
        if depth > max_depth:
            raise BundleError(f"{what} is nested more than {max_depth} levels deep.")
        if v is None or isinstance(v, bool):
            continue
        if is_int(v):
            if abs(v) >= MAX_JSON_INT:
                raise BundleError(f"{what} holds an integer too large for JSON readers.")
        elif isinstance(v, float):
            if not math.isfinite(v):
                raise BundleError(f"{what} holds a number that is not finite ({v!r}).")
        elif isinstance(v, str):
            if len(v) > MAX_TEXT:
                raise BundleError(f"{what} holds a text of {len(v)} characters; at most {MAX_TEXT} are allowed.")
        elif isinstance(v, (list, tuple)):
            stack.extend((x, depth + 1) for x in v)
        elif isinstance(v, dict):
            for k, x in v.items():
                if not isinstance(k, str) or len(k) > MAX_NAME:
                    raise BundleError(f"{what} holds a key that is not a short text ({_show(k)}).")
                stack.append((x, depth + 1))
        else:
            raise BundleError(f"{what} holds a value that is not JSON ({_show(v)}).")


def _check_mapping(value: object, what: str) -> None:
    if not isinstance(value, dict):
        raise BundleError(f"{what} must be a mapping (got {_show(value)}).")
    check_json(value, what)


def check_classes(classes: object) -> None:
    """The SAND classes 1..5 in order, each with a short one-line label (the app's meanings,
    votes and reports depend on these numbers; only the labels may be renamed)."""
    if not isinstance(classes, list) or len(classes) != len(CLASS_NUMBERS):
        raise BundleError(f"classes must list the {len(CLASS_NUMBERS)} SAND classes (got {_show(classes)}).")
    for number, entry in zip(CLASS_NUMBERS, classes):
        if not isinstance(entry, dict) or set(entry) != {"number", "label"}:
            raise BundleError(f"class entry {_show(entry)} must hold exactly a number and a label.")
        if not is_int(entry["number"]) or entry["number"] != number:
            raise BundleError(
                f"classes must be numbered {', '.join(map(str, CLASS_NUMBERS))} in order (got {_show(entry['number'])} at place {number})."
            )
        check_text(entry["label"], f"class {number}'s label", limit=MAX_LABEL, empty=False)


def check_tasks(tasks: object) -> None:
    if not isinstance(tasks, list) or not tasks or len(tasks) > len(TASK_IDS):
        raise BundleError(f"tasks must list some of the {len(TASK_IDS)} SAND tasks (got {_show(tasks)}).")
    bad = [t for t in tasks if not isinstance(t, str) or t not in TASK_IDS]
    if bad:
        raise BundleError(f"model card names unknown tasks {_show(bad)}.")
    if len(set(tasks)) != len(tasks):
        raise BundleError(f"model card lists a task twice ({_show(tasks)}).")


def check_digest(value: object, what: str) -> None:
    if not isinstance(value, str) or len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise BundleError(f"{what} must be 64 lowercase hexadecimal digits (got {_show(value)}).")


def check_card_fields(d: dict) -> None:
    """Every field of a card dict except the FeatureSpec (``FeatureSpec.from_dict`` checks
    that) and the format (the bundle reader checks that first)."""
    unknown = [k for k in d if k not in CARD_FIELDS and k not in OPTIONAL_FIELDS and k != FUSION_FIELD]
    if unknown:
        raise BundleError(f"model card has a field this version cannot honour: {_show(unknown[0])}.")
    for key, allowed in OPTIONAL_FIELDS.items():
        if key in d and (not isinstance(d[key], str) or d[key] not in allowed):
            raise BundleError(f"model card {key} {_show(d[key])} is not one of {', '.join(allowed)}.")
    missing = [k for k in CARD_FIELDS if k not in d]
    if missing:
        raise BundleError(f"model card lacks the field {missing[0]!r}.")
    check_text(d["name"], "model name", limit=MAX_NAME, empty=False)
    check_classes(d["classes"])
    check_architecture(d["architecture"], d["arch_kwargs"], num_classes=len(CLASS_NUMBERS))
    check_tasks(d["tasks"])
    _check_mapping(d["training_data"], "training_data")
    if "synthetic" in d["training_data"] and not isinstance(d["training_data"]["synthetic"], bool):
        raise BundleError(
            f"training_data synthetic must be true or false (got {_show(d['training_data']['synthetic'])})."
        )
    _check_mapping(d["metrics"], "metrics")
    _check_mapping(d["software"], "software")
    for key, version in d["software"].items():
        check_text(version, f"software version of {_show(key)}", limit=MAX_NAME)
    check_text(d["created"], "created", limit=64)
    check_text(d["notes"], "notes", limit=MAX_NOTES, one_line_only=False)
    check_digest(d["weights_sha256"], "weights_sha256")
    check_digest(d["bundle_sha256"], "bundle_sha256")
    if FUSION_FIELD in d:
        check_fusion(d[FUSION_FIELD])


# ---------------------------------------------------------------- the measures model and its fusion

FUSION_FIELD = "fusion"  # optional: present exactly when the bundle carries a measures model
FUSION_KEYS = ("feature_names", "measures", "decision", "w_network", "model_sha256", "validation", "training")
FUSION_DECISIONS = ("weighted", "network", "measures")
MAX_FEATURES = 1000  # names in a measure vector
MAX_MEASURES_MODEL = 16 * 2**20  # bytes of the measures model's JSON
MAX_TREES = 20_000


def check_fusion(section: object) -> None:
    """The card's ``fusion`` section: exactly ``FUSION_KEYS``; unique short measure names; the
    measures identity (schema version, sample rate, settings digest); one of ``FUSION_DECISIONS``;
    the network's weight in [0, 1]; the model's digest; small, finite JSON for the rest."""
    if not isinstance(section, dict) or set(section) != set(FUSION_KEYS):
        raise BundleError(f"fusion must be a mapping of exactly {', '.join(FUSION_KEYS)} (got {_show(section)}).")
    names = section["feature_names"]
    if not isinstance(names, list) or not 1 <= len(names) <= MAX_FEATURES:
        raise BundleError(f"fusion feature_names must list 1-{MAX_FEATURES} measure names (got {_show(names)}).")
    for name in names:
        check_text(name, "a fusion feature name", limit=MAX_NAME, empty=False)
    if len(set(names)) != len(names):
        raise BundleError("fusion feature_names lists a measure twice.")
    ident = section["measures"]
    if not isinstance(ident, dict) or set(ident) != {"schema_version", "sample_rate", "settings_sha256"}:
        raise BundleError(
            f"fusion measures must hold exactly schema_version, sample_rate and settings_sha256 (got {_show(ident)})."
        )
    if p := _int_problem("fusion measures schema_version", ident["schema_version"], 1, 1000):
        raise BundleError(p + ".")
    if p := _int_problem("fusion measures sample_rate", ident["sample_rate"], *SPEC_INTS["sample_rate"]):
        raise BundleError(p + ".")
    check_digest(ident["settings_sha256"], "fusion measures settings_sha256")
    if not isinstance(section["decision"], str) or section["decision"] not in FUSION_DECISIONS:
        raise BundleError(f"fusion decision {_show(section['decision'])} is not one of {', '.join(FUSION_DECISIONS)}.")
    if p := _float_problem("fusion w_network", section["w_network"], 0.0, 1.0):
        raise BundleError(p + ".")
    check_digest(section["model_sha256"], "fusion model_sha256")
    _check_mapping(section["validation"], "fusion validation")
    _check_mapping(section["training"], "fusion training")


def _field(d: object, *path: str) -> object:
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def check_measures_model(model: object, *, n_classes: int, n_features: int) -> None:
    """BundleError unless ``model`` (the measures model's parsed JSON) is an XGBoost tree model
    in XGBoost's native JSON form: a ``learner`` whose objective is ``multi:softprob`` over
    ``n_classes`` classes, a ``gbtree`` booster and ``n_features`` inputs. Only this shape is
    ever handed to XGBoost (whose JSON loader builds trees from numbers; no code, no pickle)."""
    if not isinstance(model, dict) or not isinstance(model.get("learner"), dict) or "version" not in model:
        raise BundleError("its measures model is not an XGBoost model in XGBoost's JSON format.")
    learner = model["learner"]
    objective = _field(learner, "objective", "name")
    if objective != "multi:softprob":
        raise BundleError(f"its measures model has objective {_show(objective)}; only multi:softprob is allowed.")
    if _field(learner, "gradient_booster", "name") != "gbtree":
        raise BundleError("its measures model is not a gbtree (tree) booster; only trees are allowed.")
    params = learner.get("learner_model_param")
    classes = _field(params, "num_class")
    if classes != str(n_classes):
        raise BundleError(f"its measures model has {_show(classes)} classes; the card lists {n_classes}.")
    features = _field(params, "num_feature")
    if features != str(n_features):
        raise BundleError(
            f"its measures model reads {_show(features)} measures; the card names {n_features} feature names."
        )
    trees = _field(learner, "gradient_booster", "model", "trees")
    if not isinstance(trees, list) or not 1 <= len(trees) <= MAX_TREES:
        raise BundleError(f"its measures model must hold 1-{MAX_TREES} trees.")
