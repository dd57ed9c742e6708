"""``sand-train``: fit, evaluate, fuse, predict, preprocess, synth.

Every bad input (missing folder, sheet or file, unknown class, bad config key) ends with
one line on stderr, ``sand-train: error: <sentence>``, and exit status 2. A recording that
cannot be used is skipped and listed on stderr (``skipped: ...``), never silently.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sand_gui.errors import SandError, UsageError

EPILOG = "Sheets: a sheet name, or train | val | training | test | labels.csv | labels.csv:<Split>."


def _add_overrides(parser: argparse.ArgumentParser, example: str) -> None:
    """``--set KEY=VALUE …``: config keys overridden on the command line (values are YAML)."""
    parser.add_argument(
        "--set",
        dest="overrides",
        nargs="+",
        action="extend",
        default=[],
        metavar="KEY=VALUE",
        help=f"override config keys, {example}",
    )


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="sand-train", description="Train and evaluate SAND Task 1 severity models.", epilog=EPILOG
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    f = sub.add_parser("fit", help="train a model: run folder with log, checkpoints and bundle")
    f.add_argument("--config", help="YAML config (see training/configs/); defaults are the seed recipe")
    _add_overrides(f, "e.g. epochs=2 features.n_mels=64 oversample.1=10")
    f.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its last checkpoint")
    f.add_argument("--dry-run", action="store_true", help="check config and data, print the plan, train nothing")
    f.add_argument("--quiet", action="store_true", help="no progress bars")

    e = sub.add_parser("evaluate", help="recording- and patient-level scores of a bundle", epilog=EPILOG)
    e.add_argument("--model", help="model bundle (.safetensors); default: the bundled model")
    e.add_argument(
        "--data",
        required=True,
        help="the SAND release as unpacked (the folder holding task1/, or task1/ itself), or any SAND-layout root",
    )
    e.add_argument("--sheet", "--split", dest="sheet", default="val", help="labelled sheet to score (default: val)")
    e.add_argument("--cache", help="feature cache folder to use and fill")
    e.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    e.add_argument("--json", action="store_true", help="print a JSON object instead of tables")
    e.add_argument("--write-card", metavar="KEY", help="also store the scores in the bundle's card as metrics.KEY")
    e.add_argument(
        "--workers", type=int, default=1, help="processes measuring recordings, for a fused bundle (default: 1)"
    )
    e.add_argument("--quiet", action="store_true", help="no progress bars")

    r = sub.add_parser("predict", help="write a SAND submission CSV (ID,CLASS)", epilog=EPILOG)
    r.add_argument("--model", help="model bundle (.safetensors); default: the bundled model")
    r.add_argument(
        "--data",
        help="the SAND release as unpacked; may hold the test set too (task1/test/, task1/sand_task1_test.xlsx)",
    )
    r.add_argument("--test-data", metavar="DIR", help="the test set unpacked on its own (its task1/, or task1/test/)")
    r.add_argument(
        "--sheet", "--split", dest="sheet", default="test", help="sheet of the patients to classify (default: test)"
    )
    r.add_argument("--out", default="submission.csv", help="CSV file to write (default: submission.csv)")
    r.add_argument(
        "--fill",
        type=int,
        metavar="CLASS",
        help="class to write for a patient without any usable recording (default: refuse an incomplete submission)",
    )
    r.add_argument("--cache", help="feature cache folder to use and fill")
    r.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    r.add_argument("--quiet", action="store_true", help="no progress bars")

    u = sub.add_parser(
        "fuse",
        help="add a measures classifier (XGBoost on Praat measures) and its late fusion to a bundle",
        epilog=EPILOG,
    )
    u.add_argument("--model", required=True, help="the trained bundle (.safetensors); its weights are kept")
    u.add_argument("--data", required=True, help="the SAND release as unpacked, or any SAND-layout root")
    u.add_argument(
        "--train-sheet", default="train", help="patients the measures classifier learns from (default: train)"
    )
    u.add_argument("--val-sheet", default="val", help="patients the fusion weights are chosen on (default: val)")
    u.add_argument("--cache", help="cache folder (features, and measures under measures/)")
    u.add_argument("--workers", type=int, default=1, help="processes measuring recordings (default: 1)")
    u.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    u.add_argument("--out", required=True, help="the fused bundle to write (.safetensors)")
    u.add_argument(
        "--rule",
        default="auto",
        help="auto (default: the validation patients choose), or fix it: network, measures, w=W (with --because)",
    )
    u.add_argument("--because", default="", help="why the rule is fixed (one sentence, kept in the card)")
    u.add_argument(
        "--more-measures-data",
        action="append",
        default=[],
        metavar="DIR",
        help="another SAND-layout corpus whose every labelled patient the measures classifier also learns from "
        "(repeatable; never used for validation; an ID seen twice is refused)",
    )
    u.add_argument("--json", action="store_true", help="print a JSON summary instead of a table")
    u.add_argument("--quiet", action="store_true", help="no progress bars")

    c = sub.add_parser("preprocess", help="fill the feature cache that fit, evaluate and predict reuse", epilog=EPILOG)
    c.add_argument("--data", required=True, help="the SAND release as unpacked, or any SAND-layout root")
    c.add_argument("--test-data", metavar="DIR", help="the test set unpacked on its own")
    c.add_argument("--cache", required=True, help="feature cache folder")
    c.add_argument("--config", help="take the FeatureSpec from this config")
    _add_overrides(c, "e.g. features.n_mels=64")
    c.add_argument("--model", help="take the FeatureSpec from this bundle instead")
    c.add_argument("--sheet", dest="sheets", action="append", help="sheet to include (repeatable; default: all)")
    c.add_argument("--workers", type=int, default=1, help="processes computing features (default: 1)")
    c.add_argument("--quiet", action="store_true", help="no progress bars")

    s = sub.add_parser(
        "synth",
        help="generate a synthetic corpus in the SAND layout",
        description="Write a SYNTHETIC corpus (source-filter simulation, never patient data) in the "
        "SAND layout: sand_task_1.xlsx, labels.csv, synthetic.json and "
        "training/<task>/<ID>_<task>.wav. One seed gives byte-identical files.",
    )
    s.add_argument("out", help="folder to write: empty, missing, or a previous synthetic corpus (replaced)")
    s.add_argument("--patients", type=int, required=True, help="number of patients (8 recordings each)")
    s.add_argument("--seed", type=int, required=True, help="seed of every random draw (same seed, same bytes)")
    s.add_argument(
        "--sample-rate", type=int, default=8000, help="sample rate of the WAV files in Hz, 4000-48000 (default: 8000)"
    )
    s.add_argument(
        "--class-priors",
        choices=("sand", "uniform"),
        default="sand",
        help="class shares: sand = the SAND training set's 6/26/57/76/107 for classes 1-5, "
        "uniform = equal (default: sand)",
    )
    s.add_argument(
        "--id-offset",
        type=int,
        default=0,
        help="number the patients from ID<offset>, so that a held-out corpus has distinct IDs (default: 0)",
    )
    s.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes rendering patients; any number gives the same bytes (default: 1)",
    )
    for flag, names in (
        ("--sources", "rosenberg,lf"),
        ("--tracts", "cascade,parallel"),
        ("--articulations", "a,b"),
        ("--channels", "smartphone,telephone,voip,room,noisy,badphone"),
    ):
        s.add_argument(
            flag, metavar="LIST", help=f"families drawn per patient, comma-separated from {names} (default: all)"
        )
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _warn_skipped(lines: list[str]) -> None:
    for line in lines:
        print(f"skipped: {line}", file=sys.stderr)


def cmd_fit(a) -> int:
    from .loop import fit_from_files

    if not a.config and not a.resume:
        raise UsageError("fit needs --config FILE (or --resume RUN_DIR).")
    result = fit_from_files(a.config, a.overrides, resume=a.resume, dry_run=a.dry_run, progress=not a.quiet)
    if result.bundle:
        print(result.bundle)
    return 0


def cmd_evaluate(a) -> int:
    """Scores of ``--model`` (default: the bundled one); warnings for classes of few patients."""
    from .evaluate import evaluate
    from .metrics import format_result

    res = evaluate(
        a.model,
        a.data,
        sheet=a.sheet,
        cache=a.cache,
        device=a.device,
        progress=not a.quiet,
        write_card=a.write_card,
        workers=a.workers,
    )
    _warn_skipped(res["skipped"])
    if a.json:
        for w in res["warnings"]:
            print(f"warning: {w}", file=sys.stderr)
        print(json.dumps(res, indent=1, allow_nan=False))
    else:
        print(
            f"{res['model']} ({Path(res['model_file']).name}) on {res['data']} [{res['sheet']}]\n\n"
            + format_result(res)
        )
        if res.get("fusion"):
            from .evaluate import format_side_by_side

            print("\n" + format_side_by_side(res["fusion"]))
    return 0


def cmd_fuse(a) -> int:
    """A fused bundle: the model's weights, a measures classifier and the fusion rule."""
    from .fusion_fit import format_summary, fuse_bundle

    if a.workers < 1:
        raise UsageError(f"--workers {a.workers}: at least one process is needed.")
    res = fuse_bundle(
        a.model,
        a.data,
        a.out,
        train_sheet=a.train_sheet,
        val_sheet=a.val_sheet,
        cache=a.cache,
        workers=a.workers,
        device=a.device,
        progress=not a.quiet,
        rule=a.rule,
        because=a.because,
        more_data=a.more_measures_data,
    )
    _warn_skipped(res["skipped"])
    print(json.dumps(res, indent=1, allow_nan=False) if a.json else format_summary(res))
    return 0


def _write_atomic(path: Path, text: str) -> None:
    """``text`` into ``path`` through a temporary file in the same folder and a rename."""
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cmd_predict(a) -> int:
    """The submission CSV; one ``no result:`` line per patient without a usable recording."""
    from sand_gui.errors import one_line

    from .evaluate import predict

    sub = predict(
        a.model,
        a.data,
        sheet=a.sheet,
        test_root=a.test_data,
        cache=a.cache,
        device=a.device,
        progress=not a.quiet,
        fill=a.fill,
    )
    _warn_skipped(sub.skipped)
    for line in sub.unusable.values():
        print(f"no result: {line}" + (f"; wrote class {sub.filled}" if sub.filled is not None else ""), file=sys.stderr)
    sub.check_complete(a.data or a.test_data)
    out = Path(a.out)
    try:
        _write_atomic(out, sub.csv)
    except OSError as exc:
        raise UsageError(f"{one_line(out)}: cannot be written ({exc.strerror or exc.__class__.__name__}).") from None
    print(
        f"{out}: {sub.patients} patients"
        + (f" ({len(sub.unusable)} filled with class {sub.filled})" if sub.unusable else "")
    )
    return 0


def cmd_preprocess(a) -> int:
    from .config import load_config
    from .evaluate import preprocess

    if a.model:
        from sand_gui.bundle import read_card

        spec = read_card(a.model).spec
    else:
        spec = load_config(a.config, a.overrides).spec
    if a.workers < 1:
        raise UsageError(f"--workers {a.workers}: at least one process is needed.")
    res = preprocess(
        a.data, a.cache, spec, sheets=a.sheets, test_root=a.test_data, progress=not a.quiet, workers=a.workers
    )
    _warn_skipped(res["skipped"])
    print(
        f"{res['cache']}: {res['recordings']} recordings ({res['computed']} computed, {res['reused']} reused, "
        f"{len(res['skipped'])} skipped)"
    )
    return 0


def cmd_synth(a) -> int:
    try:
        from .synth import generate_corpus
        from .synth.families import Families, parse_families
    except ImportError as exc:
        raise UsageError(f"the synthetic corpus generator is not available ({exc}).") from None
    if a.patients < 1:
        raise UsageError(f"--patients {a.patients}: at least one patient is needed.")
    kinds = ("sources", "tracts", "articulations", "channels")
    families = Families(**{k: parse_families(getattr(a, k), kind=k) for k in kinds})
    progress = None if a.quiet else _synth_progress(a.patients)
    try:
        summary = generate_corpus(
            Path(a.out),
            patients=a.patients,
            seed=a.seed,
            sample_rate=a.sample_rate,
            class_priors=a.class_priors,
            id_offset=a.id_offset,
            workers=a.workers,
            progress=progress,
            families=families,
        )
    finally:
        if progress is not None:
            progress.close()
    if not a.quiet:
        rate = summary.patients / summary.elapsed_seconds if summary.elapsed_seconds > 0 else float("inf")
        print(
            f"{summary.patients} patients, {summary.files} files, {summary.audio_seconds:.0f} s of audio "
            f"in {summary.elapsed_seconds:.1f} s ({rate:.2f} patients/s)",
            file=sys.stderr,
        )
    print(a.out)
    return 0


def _synth_progress(total: int):
    """A callback ``(done, total)`` drawing a tqdm bar started now, so its rate (patients/s)
    is the average since the start: patients finish in bursts with several workers."""
    from tqdm import tqdm

    bar = tqdm(
        total=total,
        desc="synth",
        unit=" patients",
        leave=False,
        smoothing=0,
        dynamic_ncols=True,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_noinv_fmt}]",
    )

    def update(done: int, total: int) -> None:
        bar.update(max(0, done - bar.n))
        if done >= total:
            bar.refresh()  # the last state, with the whole run's rate, even inside tqdm's mininterval

    update.close = bar.close
    return update


COMMANDS = {
    "fit": cmd_fit,
    "evaluate": cmd_evaluate,
    "fuse": cmd_fuse,
    "predict": cmd_predict,
    "preprocess": cmd_preprocess,
    "synth": cmd_synth,
}


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; every problem ends in one line on stderr and exit status 2 (130 on Ctrl-C).

    OS errors (no space, read-only, permission, not a folder, a closed pipe) are said as one
    sentence naming the path, never as a traceback; names are shown with ``one_line``.
    """
    import os

    from sand_gui.errors import one_line, storage_error

    args = _parser().parse_args(argv)
    try:
        code = COMMANDS[args.command](args)
        sys.stdout.flush()  # a reader that left (| head) is reported here, not at exit
        return code
    except BrokenPipeError:
        try:  # nothing more can reach the reader; keep the interpreter's final flush quiet
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        print("sand-train: error: standard output: the reader closed the pipe.", file=sys.stderr)
        return 2
    except (SandError, OSError) as exc:
        text = str(storage_error(exc) if isinstance(exc, OSError) else exc)
        print(f"sand-train: error: {one_line(text, limit=2000)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sand-train: interrupted; resume with --resume RUN_DIR.", file=sys.stderr)
        return 130
