"""Where the shipped resources (models, demo patients, icons) are, installed or not.

``resources/`` at the repository root is installed as the package ``sand_gui._resources``
(see ``pyproject.toml``), so the same lookup works for ``pip install .`` and a checkout.
"""

from __future__ import annotations

from importlib import resources as _ir
from pathlib import Path


def resources_dir() -> Path:
    """The folder holding ``models/``, ``demo/`` and ``icons/``."""
    try:
        return Path(str(_ir.files("sand_gui._resources")))
    except ModuleNotFoundError:  # running from a checkout without installation
        return Path(__file__).resolve().parent.parent / "resources"


def default_bundle_path() -> Path | None:
    """The application's default model bundle, or None when none is shipped."""
    models = resources_dir() / "models"
    found = sorted(models.glob("*.safetensors")) if models.is_dir() else []
    return found[0] if found else None


def demo_dir() -> Path:
    return resources_dir() / "demo"
