"""The import-linter contracts in pyproject.toml name every core module, so a new module cannot
slip past the "core never imports Qt" rule or the layer order by being forgotten."""

from __future__ import annotations

import pkgutil
from pathlib import Path

import pytest

import sand_gui

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11 (CI and `make test` use 3.11)

ROOT = Path(__file__).resolve().parents[1]


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def _top_level() -> set[str]:
    return {m.name for m in pkgutil.iter_modules(sand_gui.__path__) if not m.name.startswith("_")}


def test_every_core_module_is_forbidden_to_import_qt():
    qt_free = next(c for c in _contracts() if c["name"].startswith("The core never imports Qt"))
    listed = {m.removeprefix("sand_gui.") for m in qt_free["source_modules"]}
    assert _top_level() - {"ui", "cli"} == listed


def test_every_module_has_a_layer():
    layers = next(c for c in _contracts() if c["type"] == "layers")["layers"]
    placed = {name.strip() for layer in layers for name in layer.split("|")}
    assert _top_level() == placed
