"""``sand-gui``: the application (no arguments) and ``sand-gui analyze`` / ``sand-gui card``.

Exit codes: 0 with a result; 2 with one line on stderr for usage errors, bad bundles,
or when no task is valid.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import SandError, UsageError
from .tasks import TASK_IDS


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sand-gui", description="Dysarthria severity assessment (SAND Task 1).")
    sub = p.add_subparsers(dest="command")
    a = sub.add_parser("analyze", help="assess one patient from audio files")
    a.add_argument("path", help="an audio file, a patient folder, or a SAND-layout root (with --id)")
    a.add_argument("--id", dest="patient_id", help="patient ID inside a SAND-layout root, e.g. ID042")
    a.add_argument("--task", choices=TASK_IDS, help="task of a single file whose name does not say it")
    a.add_argument("--model", help="model bundle (.safetensors); default: the bundled model")
    a.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    a.add_argument("--json", action="store_true", help="print the JSON result (schema in the README)")
    c = sub.add_parser("card", help="print a model bundle's card")
    c.add_argument("bundle", nargs="?", help="model bundle; default: the bundled model")
    sub.add_parser("gui", help="open the application window (the default)")
    return p


def _bundle_path(arg: str | None) -> Path:
    from .resources import default_bundle_path

    if arg:
        return Path(arg)
    path = default_bundle_path()
    if path is None:
        raise UsageError("no model bundle given and none is shipped in resources/models; pass --model.")
    return path


def format_table(result) -> str:
    """The readable form of an AnalysisResult."""
    d = result.to_dict()
    lines = [f"{'task':<11} {'class':>5} {'conf':>5} {'voiced s':>8}  notes"]
    by_task = {t["task"]: t for t in d["tasks"]}
    for task_id in TASK_IDS:
        t = by_task.get(task_id)
        if t is None:
            lines.append(f"{task_id:<11} {'-':>5} {'-':>5} {'-':>8}  missing")
        elif t["error"]:
            lines.append(f"{task_id:<11} {'-':>5} {'-':>5} {'-':>8}  REJECTED: {t['error']}")
        else:
            conf = max(t["probabilities"].values())
            lines.append(f"{task_id:<11} {t['class']:>5} {conf:>5.2f} {t['trimmed_seconds']:>8.2f}  {'; '.join(t['warnings'])}")
    lines.append("")
    if d["quality_ok"]:
        lines.append(f"Final class: {d['final_class']} - {d['final_label']}   ({d['vote_summary']})")
    else:
        lines.append(d["quality_message"])
        lines.append(f"Vote of the usable tasks (not a verdict): class {d['final_class']} - {d['final_label']}   ({d['vote_summary']})")
    model = d["model"]
    lines.append(f"Model: {model['name']} ({model['architecture']}), trained on: {model['training_data']}")
    if model["synthetic"]:
        lines.append("NOTE: this model was trained on SYNTHETIC speech; a demonstration, not a clinical instrument.")
    lines.append(f"Device: {d['device']}{' - ' + d['device_note'] if d['device_note'] else ''}   {d['elapsed_ms']:.0f} ms")
    return "\n".join(lines)


def run_analyze(args) -> int:
    from .dataset import collect_recordings
    from .model import Classifier
    from .pipeline import analyze

    recordings = collect_recordings(args.path, patient_id=args.patient_id, task=args.task)
    classifier = Classifier.from_file(_bundle_path(args.model), device=args.device)
    result = analyze(recordings, classifier)
    if result.verdict is None:
        reasons = "; ".join(t.error for t in result.tasks if t.error)
        print(f"sand-gui: no valid task to assess: {reasons}", file=sys.stderr)
        return 2
    print(json.dumps(result.to_dict(), indent=2) if args.json else format_table(result))
    return 0


def run_card(args) -> int:
    from .bundle import read_card

    print(json.dumps(read_card(_bundle_path(args.bundle)).to_dict(), indent=2))
    return 0


def run_gui() -> int:
    """Open the window; on a Linux machine without a display, say so in one line instead."""
    import os

    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")
    )
    if headless:
        raise UsageError("no display found (neither DISPLAY nor WAYLAND_DISPLAY is set); run it on a desktop, "
                         "or use `sand-gui analyze` on the command line.")
    from .ui.app import main as gui_main

    return gui_main()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "analyze":
            return run_analyze(args)
        if args.command == "card":
            return run_card(args)
        return run_gui()
    except SandError as exc:
        print(f"sand-gui: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
