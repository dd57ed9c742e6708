"""``sand-gui``: the application (no arguments) and ``sand-gui analyze`` / ``sand-gui card``.

``analyze`` also computes the Praat measures (``sand_gui.measures``) in a separate process
while the network runs, and prints them with their flags (the table) or under ``measures``
with their settings (``--json``); ``--no-measures`` skips them; without parselmouth one line on
stderr says what to install and the analysis goes on.

Exit codes: 0 with a result; 2 with one line on stderr for usage errors, a bad bundle, a
single recording that cannot be used, no valid task, a folder holding several patients, or
an OS error (no space, read-only, permission, not a folder: the sentence names the path);
141 (128 + SIGPIPE, what a shell reports for a Unix tool whose reader went away) quietly when
the output's reader closed the pipe (``sand-gui analyze … | head``). Every message is one
line whatever the file names hold (``errors.one_line``). JSON output is strict JSON.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .classes import get_class
from .decision import patient_class
from .errors import SandError, UsageError, one_line, storage_error
from .tasks import TASK_IDS

MESSAGE_LIMIT = 2000  # characters of one error line
EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 141
DEBUG_ENV = "SAND_GUI_DEBUG"  # set to 1 to see the traceback of an unexpected error


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line (not usage + error), exit status 2."""

    def error(self, message: str):
        self.exit(
            EXIT_USAGE, f"{self.prog}: error: {one_line(message, limit=MESSAGE_LIMIT)} (see {self.prog} --help)\n"
        )


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="sand-gui", description="Dysarthria severity assessment (SAND Task 1).")
    sub = p.add_subparsers(dest="command")
    a = sub.add_parser("analyze", help="assess one patient from audio files")
    a.add_argument("path", help="an audio file, a patient folder, or a SAND-layout root (with --id)")
    a.add_argument(
        "--id",
        dest="patient_id",
        help="patient ID inside a SAND-layout root, e.g. ID042 or 42 (taken literally, never a pattern)",
    )
    a.add_argument("--task", choices=TASK_IDS, help="task of a single file whose name does not say it")
    a.add_argument("--model", help="model bundle (.safetensors); default: the bundled model")
    a.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    a.add_argument("--json", action="store_true", help="print the JSON result (schema in docs/cli.md)")
    a.add_argument(
        "--report",
        metavar="BASE",
        help="also write the reports BASE.pdf, BASE.json, BASE.csv (per task) and BASE_patient.csv",
    )
    a.add_argument("--no-measures", action="store_true", help="skip the Praat measures (faster; no parselmouth needed)")
    a.add_argument(
        "--sex",
        choices=("M", "F"),
        help="the speaker's sex, for Praat's pitch range and formant ceiling (default: the SAND sheet's, else unknown)",
    )
    c = sub.add_parser("card", help="print a model bundle's card")
    c.add_argument("bundle", nargs="?", help="model bundle; default: the bundled model")
    sub.add_parser("gui", help="open the application window (the default)")
    w = sub.add_parser("workbench", help="open the researcher's workbench, on a dataset folder when given")
    w.add_argument("path", nargs="?", help="a SAND release, a synthetic corpus or any folder of task-named files")
    w.add_argument("--model", help="model bundle (.safetensors); default: the bundled model")
    return p


def _bundle_path(arg: str | None) -> Path:
    from .resources import default_bundle_path

    if arg:
        return Path(arg)
    path = default_bundle_path()
    if path is None:
        raise UsageError("no model bundle given and none is shipped in resources/models; pass --model.")
    return path


def literal_patient_id(text: str) -> str:
    """``--id`` as a literal patient ID (``42`` -> ``ID042``); UsageError for anything that is
    not one (wildcards, separators, ...), so it can never select files as a pattern."""
    from .dataset import normalise_id
    from .session import validate_patient_id

    try:
        return validate_patient_id(normalise_id(text))
    except UsageError:
        raise UsageError(
            f"--id '{one_line(text, limit=60)}' is not a patient ID: use letters, digits, '_' or '-' "
            "(e.g. ID042 or 42); it is read literally, never as a pattern."
        ) from None


def format_table(result, fused=None) -> str:
    """The readable form of an AnalysisResult (one line per task, whatever the file names hold)
    and the patient's class (``decision.patient_class``: with ``fused``, the fused verdict's)."""
    d = result.to_dict()
    lines = [f"{'task':<11} {'class':>5} {'conf':>5} {'voiced s':>8}  notes"]
    by_task = {t["task"]: t for t in d["tasks"]}
    for task_id in TASK_IDS:
        t = by_task.get(task_id)
        if t is None:
            lines.append(f"{task_id:<11} {'-':>5} {'-':>5} {'-':>8}  missing")
        elif t["error"]:
            lines.append(
                f"{task_id:<11} {'-':>5} {'-':>5} {'-':>8}  REJECTED: {one_line(t['error'], limit=MESSAGE_LIMIT)}"
            )
        else:
            conf = max(t["probabilities"].values())
            notes = one_line("; ".join(t["warnings"]), limit=MESSAGE_LIMIT)
            lines.append(f"{task_id:<11} {t['class']:>5} {conf:>5.2f} {t['trimmed_seconds']:>8.2f}  {notes}")
    lines.append("")
    shown = patient_class(result, fused)
    if shown.number is not None:
        vote = f"   ({d['vote_summary']})" if not shown.overrides_vote else ""
        lines.append(f"Final class: {shown.number} - {shown.label}{vote}")
        lines.append(f"             {get_class(shown.number).meaning}")
        if shown.overrides_vote or shown.reason:
            lines.append(one_line(shown.decided_text(), limit=MESSAGE_LIMIT))
        if shown.overrides_vote:
            lines.append(shown.vote_text())
    elif shown.waiting:
        lines.append(f"{shown.heading}   ({d['vote_summary']})")
        lines.append(shown.decided_text())
    else:
        lines.append(d["quality_message"])
        lines.append(
            f"Vote of the usable tasks (not a verdict): class {d['final_class']} - {d['final_label']}   ({d['vote_summary']})"
        )
    model = d["model"]
    lines.append(
        one_line(
            f"Model: {model['name']} ({model['architecture']}), trained on: {model['training_data']}",
            limit=MESSAGE_LIMIT,
        )
    )
    if model["synthetic"]:
        lines.append("NOTE: this model was trained on SYNTHETIC speech; a demonstration, not a clinical instrument.")
    lines.append(
        f"Device: {d['device']}{' - ' + d['device_note'] if d['device_note'] else ''}   {d['elapsed_ms']:.0f} ms"
    )
    return "\n".join(lines)


class _Refused(SandError):
    """No task could be assessed; the message holds the reasons."""


def _measure(recordings, *, spec, sex):
    """The Praat measures in separate processes (``measuring_processes``: Praat holds the GIL; the
    network runs here meanwhile), or the SandError that says why there are none (e.g. parselmouth missing)."""
    from .measuring import measuring_processes, run_measures

    try:
        return run_measures(recordings, spec, sex=sex, workers=measuring_processes())
    except SandError as exc:
        return exc


def _sheet_sex(path, patient_id: str | None) -> str | None:
    """The patient's sex as a SAND dataset's sheet gives it (M/F), or None: Praat's formant
    ceiling depends on it, and at 8 kHz the unknown-sex setting misreads male back vowels."""
    from .dataset import SandLayout
    from .patient_table import normalise_id

    if patient_id is None or not SandLayout.looks_like(path):
        return None
    try:
        want = normalise_id(patient_id)
        found = [p for p in SandLayout(path).patients() if p.id == want]
    except SandError:  # no sheet, or one that cannot be read: the sex stays unknown, as before
        return None
    return found[0].sex if found and found[0].sex in ("M", "F") else None


def run_analyze(args) -> int:
    from concurrent.futures import ThreadPoolExecutor

    from .dataset import collect_recordings
    from .measuring import fuse_if_possible
    from .model import Classifier
    from .pipeline import analyze
    from .report_measures import fusion_section, measures_section, table_lines, unavailable_reason

    patient_id = literal_patient_id(args.patient_id) if args.patient_id is not None else None
    recordings = collect_recordings(args.path, patient_id=patient_id, task=args.task)
    classifier = Classifier.from_file(_bundle_path(args.model), device=args.device)
    sex = args.sex or _sheet_sex(args.path, patient_id)
    with ThreadPoolExecutor(1, thread_name_prefix="sand-measures") as pool:
        pending = None if args.no_measures else pool.submit(_measure, recordings, spec=classifier.spec, sex=sex)
        result = analyze(recordings, classifier)
        measures = None if pending is None else pending.result()
    if result.verdict is None:
        errors = [t.error for t in result.tasks if t.error]
        if len(result.tasks) == 1 and errors:  # one file: its own sentence
            raise _Refused(errors[0])
        raise _Refused("no valid task to assess: " + " ".join(errors))
    if unavailable_reason(measures):
        print(f"sand-gui: measures skipped: {unavailable_reason(measures)}", file=sys.stderr, flush=True)
    fused = fuse_if_possible(classifier, result, measures)
    if args.report:
        from .report import write_reports

        write_reports(Path(args.report), result, measures=measures, fused=fused)
    if args.json:
        import json

        d = result.to_dict() | {
            "patient_class": patient_class(result, fused).to_dict(),
            "measures": measures_section(measures),
            "fusion": fusion_section(fused),
        }
        _emit(json.dumps(d, indent=2, allow_nan=False))
    else:
        extra = table_lines(measures, limit=MESSAGE_LIMIT)
        _emit("\n".join([format_table(result, fused), "", *extra]) if extra else format_table(result, fused))
    return 0


def run_card(args) -> int:
    import json

    from .bundle import read_card
    from .errors import BundleError

    path = _bundle_path(args.bundle)
    try:
        text = json.dumps(read_card(path).to_dict(), indent=2, allow_nan=False)
    except ValueError:
        raise BundleError(
            f"{one_line(path.name)}: the model card holds a number that is not finite "
            "(NaN or infinity); it cannot be shown as strict JSON."
        ) from None
    _emit(text)
    return 0


def run_gui(args=None) -> int:
    """Open the window (or the workbench); on a Linux machine without a display, say so in one line instead."""
    if getattr(args, "command", None) == "workbench" and args.path and not Path(args.path).is_dir():
        raise UsageError(f"{one_line(args.path)}: no such dataset folder.")
    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")
    )
    if headless:
        raise UsageError(
            "no display found (neither DISPLAY nor WAYLAND_DISPLAY is set); run it on a desktop, "
            "or use `sand-gui analyze` on the command line."
        )
    if getattr(args, "command", None) == "workbench":
        from .ui.workbench.window import main as workbench_main

        return workbench_main(args.path, bundle=args.model)
    from .ui.app import main as gui_main

    return gui_main()


# --- output and errors -----------------------------------------------------------------------
def _stdout_name() -> str:
    """The file standard output goes to (``/proc/self/fd/1``), else "standard output"."""
    try:
        target = os.readlink(f"/proc/self/fd/{sys.stdout.fileno()}")
    except (OSError, ValueError, AttributeError):
        return "standard output"
    return target if target.startswith("/") else "standard output"


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush of what could not be
    written neither fails again nor prints "Exception ignored" on the way out."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _emit(text: str) -> None:
    """Write the output and flush it now, so a write error is caught here and named."""
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:  # e.g. no space left where the output is redirected
        name = _stdout_name()
        _silence_stdout()
        raise storage_error(exc, name) from None


def _fail(message: str) -> int:
    try:
        print(f"sand-gui: {one_line(message, limit=MESSAGE_LIMIT)}", file=sys.stderr, flush=True)
    except OSError:
        pass
    return EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "analyze":
            return run_analyze(args)
        if args.command == "card":
            return run_card(args)
        return run_gui(args)
    except SandError as exc:
        return _fail(str(exc))
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        return _fail(str(storage_error(exc)))
    except MemoryError:
        return _fail("not enough memory for this input.")
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: still one line, the traceback on request
        if os.environ.get(DEBUG_ENV):
            raise
        first = (str(exc).splitlines() or [""])[0]
        return _fail(f"internal error ({exc.__class__.__name__}: {first}); run with {DEBUG_ENV}=1 for the traceback.")


if __name__ == "__main__":
    sys.exit(main())
