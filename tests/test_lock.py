"""The pinned environment (.ci/lock.txt) against pyproject.toml's ranges and the installed packages.

`make test` installs the lock with --no-deps, so pip no longer checks that it is complete: these tests do.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11 (CI and `make test` use 3.11)

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / ".ci" / "lock.txt"
LEFT_OUT = {"triton"}  # torch.compile's GPU compiler; see the lock's header for why it is not installed
EXTRAS = ("test", "measures", "synth")


def _lock() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep, f"lock line {line!r} is not name==version"
        key = canonicalize_name(name)
        assert key not in pins, f"{name} is pinned twice"
        pins[key] = Version(version)
    return pins


def _project_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in EXTRAS:
        reqs += [Requirement(r) for r in project["optional-dependencies"][extra]]
    return reqs


def test_every_project_requirement_is_pinned_inside_its_range():
    pins = _lock()
    for req in _project_requirements():
        key = canonicalize_name(req.name)
        assert key in pins, f"{req.name} (pyproject.toml) is missing from .ci/lock.txt"
        assert req.specifier.contains(pins[key], prereleases=True), (
            f".ci/lock.txt pins {req.name}=={pins[key]}, outside pyproject.toml's {req.specifier}"
        )


def test_every_pinned_package_has_its_own_requirements_pinned():
    """What `pip check` would say, given that the lock is installed without dependency resolution."""
    pins = _lock()
    missing = []
    for key in pins:
        for text in metadata.requires(key) or []:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue  # an optional extra, or another platform's requirement
            dep = canonicalize_name(req.name)
            if dep in LEFT_OUT:
                continue
            if dep not in pins:
                missing.append(f"{key} needs {req}")
            elif not req.specifier.contains(pins[dep], prereleases=True):
                missing.append(f"{key} needs {req}, the lock pins {pins[dep]}")
    assert not missing, "; ".join(missing)


def test_the_environment_under_test_is_the_locked_one():
    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        pytest.skip("not running in the project's .venv (made from the lock by make)")
    pins = _lock()
    wrong = []
    for key, version in pins.items():
        try:
            installed = Version(metadata.version(key))
        except metadata.PackageNotFoundError:
            wrong.append(f"{key} not installed")
            continue
        if installed != version:
            wrong.append(f"{key} {installed} installed, {version} locked")
    assert not wrong, "; ".join(wrong)


def test_nothing_left_out_is_imported_by_the_product():
    for folder in ("sand_gui", "training"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for name in LEFT_OUT:
                assert f"import {name}" not in text and f"from {name}" not in text, f"{path} imports {name}"
