"""The network: built only through ``timm.create_model``, run on CUDA or the CPU.

``resolve_device`` is the one place a device is chosen: ``auto`` means CUDA when present
and a probe forward pass succeeds there, else the CPU. ``Classifier.predict`` falls back
to the CPU for the call when CUDA fails mid-way (out of memory, driver error) and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .bundle import Bundle, ModelCard, load_bundle
from .card_schema import MAX_BATCH, MAX_PARAMS, check_architecture
from .errors import BundleError, DeviceError

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def build_network(architecture: str, *, num_classes: int, arch_kwargs: dict | None = None, drop_path_rate: float = 0.0):
    """A timm network with 3 input channels and ``num_classes`` outputs; never downloads.

    The same allow-list as a card's (``card_schema.check_architecture``: a ConvNeXt, known
    arguments with bounded values, never a path or ``pretrained``) is applied here too, and
    the network is first built on torch's ``meta`` device (no memory) to count its
    parameters against ``MAX_PARAMS`` before it is built for real.
    """
    import timm
    import torch

    kwargs = dict(arch_kwargs or {})
    if drop_path_rate:
        kwargs["drop_path_rate"] = drop_path_rate
    check_architecture(architecture, kwargs, num_classes=num_classes)
    if not timm.is_model(architecture):
        raise BundleError(f"architecture {architecture!r} is not known to timm {timm.__version__}.")
    with torch.device("meta"):
        count = sum(
            p.numel()
            for p in timm.create_model(
                architecture, pretrained=False, num_classes=num_classes, in_chans=3, **kwargs
            ).parameters()
        )
    if count > MAX_PARAMS:
        raise BundleError(f"architecture {architecture} has {count:,} parameters; the limit is {MAX_PARAMS:,}.")
    return timm.create_model(architecture, pretrained=False, num_classes=num_classes, in_chans=3, **kwargs)


@dataclass(frozen=True)
class DeviceChoice:
    device: str  # torch device string: "cpu" or "cuda"
    name: str  # human name: GPU model or "CPU"
    note: str = ""  # why this device, when it is not what was asked for


def _cpu_name() -> str:
    import platform

    return f"CPU ({platform.processor() or platform.machine()})"


def resolve_device(preference: str = "auto") -> DeviceChoice:
    """Pick the compute device; DeviceError only when ``cuda`` is demanded and unusable."""
    import torch

    if preference not in DEVICE_CHOICES:
        raise DeviceError(f"device {preference!r} is unknown; choose one of {', '.join(DEVICE_CHOICES)}.")
    if preference == "cpu":
        return DeviceChoice("cpu", _cpu_name())
    reason = "no CUDA device is present"
    if torch.cuda.is_available():
        try:
            probe = torch.nn.Conv2d(3, 4, 3).to("cuda")
            probe(torch.zeros(1, 3, 8, 8, device="cuda")).sum().item()
            return DeviceChoice("cuda", torch.cuda.get_device_name(0))
        except Exception as exc:  # driver or runtime failure
            reason = f"the CUDA probe failed ({str(exc).splitlines()[0]})"
    if preference == "cuda":
        raise DeviceError(f"CUDA was requested but {reason}.")
    return DeviceChoice("cpu", _cpu_name(), f"using the CPU: {reason}")


class Classifier:
    """A bundle's network, ready to turn model windows into class probabilities."""

    def __init__(self, bundle: Bundle, *, device: str = "auto"):
        import torch

        self.bundle = bundle
        self.card: ModelCard = bundle.card
        self.spec = bundle.card.spec
        self.device = resolve_device(device)
        net = build_network(
            self.card.architecture, num_classes=len(self.card.class_numbers), arch_kwargs=self.card.arch_kwargs
        )
        try:
            net.load_state_dict(bundle.state_dict, strict=True)
        except RuntimeError as exc:
            first = str(exc).splitlines()[1].strip() if len(str(exc).splitlines()) > 1 else str(exc)
            raise BundleError(
                f"{bundle.path.name}: weights do not fit architecture {self.card.architecture} ({first})."
            ) from None
        self.network = net.eval().to(self.device.device)
        self._torch = torch
        self.warm_up()

    def warm_up(self) -> None:
        """One forward pass of a model-shaped input, so the first real analysis is not slowed
        by one-off kernel selection (seconds on the CPU)."""
        s = self.spec
        self.predict(self._torch.zeros(1, 3, s.n_mels, s.n_frames))

    @classmethod
    def from_file(cls, path: str | Path, *, device: str = "auto") -> Classifier:
        return cls(load_bundle(path), device=device)

    def _forward(self, windows, device: str) -> np.ndarray:
        torch = self._torch
        net = self.network.to(device)
        with torch.inference_mode():
            chunks = [
                class_probabilities(net(w.to(device)), objective=self.card.objective).cpu()
                for w in windows.split(MAX_BATCH)
            ]
        return torch.cat(chunks).numpy()

    def predict(self, windows) -> tuple[np.ndarray, str]:
        """Class probabilities [shape=(w, n_classes)] of windows [shape=(w, 3, m, t)].

        Returns ``(probabilities, note)``; ``note`` says when CUDA failed and the CPU was used.
        """
        if self.device.device == "cpu":
            return self._forward(windows, "cpu"), ""
        try:
            return self._forward(windows, self.device.device), ""
        except (RuntimeError, MemoryError) as exc:  # torch.OutOfMemoryError is a RuntimeError
            reason = str(exc).splitlines()[0][:160] if str(exc) else exc.__class__.__name__
            try:
                self._torch.cuda.empty_cache()
            except RuntimeError:
                pass
            probs = self._forward(windows, "cpu")
            try:  # back to the GPU for the next analysis, if it still works
                self.network.to(self.device.device)
            except RuntimeError:
                self.device = DeviceChoice("cpu", _cpu_name(), f"using the CPU: CUDA failed ({reason})")
                self.network.to("cpu")
            return probs, f"CUDA failed ({reason}); this analysis ran on the CPU"

    def predict_recording(self, windows) -> tuple[np.ndarray, str]:
        """One recording's class probabilities [shape=(n_classes,)]: the mean over its windows."""
        probs, note = self.predict(windows)
        return recording_probabilities(probs), note


def class_probabilities(logits, *, objective: str = "softmax"):
    """Class probabilities [shape=(b, c)] of network outputs [shape=(b, c)]: the ONE place
    where a card's ``objective`` is honoured (the app, ``evaluate``, ``predict``, training).

    ``softmax``: the usual softmax. ``corn`` (ordinal, Shi, Cao & Raschka 2023): the first c-1
    outputs are the logits of P(class > k | class > k-1); their running product is P(class > k),
    and the differences of consecutive cumulative probabilities are the class probabilities,
    non-negative and summing to 1 by construction. The last output is unused.
    """
    import torch

    logits = logits.float()
    if objective == "softmax":
        return torch.softmax(logits, dim=-1)
    if objective != "corn":
        raise BundleError(f"objective {objective!r} is unknown; this version knows softmax and corn.")
    above = torch.cumprod(torch.sigmoid(logits[..., :-1]), dim=-1)  # P(class index > k), k = 0..c-2
    upper = torch.cat([torch.ones_like(above[..., :1]), above], dim=-1)
    lower = torch.cat([above, torch.zeros_like(above[..., :1])], dim=-1)
    return (upper - lower).clamp_min(0.0)


def recording_probabilities(window_probs: np.ndarray) -> np.ndarray:
    """How window probabilities [shape=(w, c)] become a recording's [shape=(c,)]: their mean.

    Used by ``Classifier`` and by ``training`` so evaluation can never differ from the app.
    """
    return np.asarray(window_probs, dtype=np.float64).mean(axis=0)
