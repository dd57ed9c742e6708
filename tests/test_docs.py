"""The README and docs/ are a front door: every linked file exists and every command they
show exists (its subcommand answers ``--help``), spelled so that it runs after ``make run``."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
PROGRAMS = ("sand-gui", "sand-train")


def _code_lines(text: str):
    inside = False
    for line in text.splitlines():
        if line.startswith("```"):
            inside = not inside
        elif inside and line.strip():
            yield line.strip()


def _commands() -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(page, program, subcommand, --options) of every command line in a code block."""
    found = []
    for page in PAGES:
        for line in _code_lines(page.read_text(encoding="utf-8")):
            words = line.split("#")[0].split()
            for i, w in enumerate(words):
                name = Path(w).name
                if name in PROGRAMS:
                    sub = words[i + 1] if i + 1 < len(words) and not words[i + 1].startswith(("-", "[")) else ""
                    sub = sub if name == "sand-train" or sub in ("analyze", "card") else ""
                    opts = tuple(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", " ".join(words[i + 1 :])))
                    found.append((page.name, w, sub, opts))
                    break
    return found


def test_every_link_points_at_a_file():
    missing = []
    for page in PAGES:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if "://" in target:
                continue
            if not (page.parent / target).exists():
                missing.append(f"{page.name}: {target}")
    assert not missing, missing


def test_readme_links_every_docs_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in PAGES[1:]:
        assert f"docs/{page.name}" in readme, f"README does not link docs/{page.name}"


def test_commands_are_spelled_to_run_after_make():
    """A bare ``sand-train`` is 'command not found' unless the venv is active: always .venv/bin/."""
    bad = [(page, prog) for page, prog, _, _ in _commands() if prog not in {f".venv/bin/{p}" for p in PROGRAMS}]
    assert not bad, bad


def _documented() -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for _, prog, sub, opts in _commands():
        out.setdefault((Path(prog).name, sub), set()).update(opts)
    return out


@pytest.mark.parametrize("program,sub", sorted(_documented()))
def test_every_documented_command_exists(program, sub, capsys):
    """The subcommand answers --help, and every option the docs show for it is in that help."""
    if program == "sand-gui":
        from sand_gui.cli import main
    else:
        from training.cli import main
    argv = ([sub] if sub else []) + ["--help"]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0, shlex.join([program, *argv])
    text = capsys.readouterr().out
    assert "usage:" in text
    unknown = sorted(o for o in _documented()[(program, sub)] if o not in text and o != "--help")
    assert not unknown, f"{program} {sub}: documented options missing from --help: {unknown}"
