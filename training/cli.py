"""``sand-train``: fit, evaluate, predict, preprocess, synth.

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


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sand-train", description="Train and evaluate SAND Task 1 severity models.", epilog=EPILOG)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    f = sub.add_parser("fit", help="train a model: run folder with log, checkpoints and bundle")
    f.add_argument("--config", help="YAML config (see training/configs/); defaults are the seed recipe")
    f.add_argument("--set", dest="overrides", nargs="+", action="extend", default=[], metavar="KEY=VALUE",
                   help="override config keys, e.g. epochs=2 features.n_mels=64 oversample.1=10")
    f.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its last checkpoint")
    f.add_argument("--dry-run", action="store_true", help="check config and data, print the plan, train nothing")
    f.add_argument("--quiet", action="store_true", help="no progress bars")

    e = sub.add_parser("evaluate", help="recording- and patient-level scores of a bundle", epilog=EPILOG)
    e.add_argument("--model", required=True, help="model bundle (.safetensors)")
    e.add_argument("--data", required=True, help="dataset root in the SAND layout")
    e.add_argument("--sheet", "--split", dest="sheet", default="val", help="labelled sheet to score (default: val)")
    e.add_argument("--cache", help="feature cache folder to use and fill")
    e.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    e.add_argument("--json", action="store_true", help="print a JSON object instead of tables")
    e.add_argument("--write-card", metavar="KEY", help="also store the scores in the bundle's card as metrics.KEY")
    e.add_argument("--quiet", action="store_true")

    r = sub.add_parser("predict", help="write a SAND submission CSV (ID,CLASS)", epilog=EPILOG)
    r.add_argument("--model", required=True)
    r.add_argument("--data", required=True)
    r.add_argument("--sheet", "--split", dest="sheet", default="test", help="sheet of the patients to classify (default: test)")
    r.add_argument("--out", default="submission.csv", help="CSV file to write (default: submission.csv)")
    r.add_argument("--cache")
    r.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    r.add_argument("--quiet", action="store_true")

    c = sub.add_parser("preprocess", help="fill the feature cache that fit, evaluate and predict reuse", epilog=EPILOG)
    c.add_argument("--data", required=True)
    c.add_argument("--cache", required=True)
    c.add_argument("--config", help="take the FeatureSpec from this config")
    c.add_argument("--set", dest="overrides", nargs="+", action="extend", default=[], metavar="KEY=VALUE")
    c.add_argument("--model", help="take the FeatureSpec from this bundle instead")
    c.add_argument("--sheet", dest="sheets", action="append", help="sheet to include (repeatable; default: all)")
    c.add_argument("--quiet", action="store_true")

    s = sub.add_parser("synth", help="generate a synthetic corpus in the SAND layout")
    s.add_argument("out")
    s.add_argument("--patients", type=int, required=True)
    s.add_argument("--seed", type=int, required=True)
    s.add_argument("--sample-rate", type=int, default=8000)
    s.add_argument("--class-priors", choices=("sand", "uniform"), default="sand")
    s.add_argument("--id-offset", type=int, default=0)
    s.add_argument("--workers", type=int, default=1, help="processes rendering patients (same bytes as 1)")
    s.add_argument("--quiet", action="store_true")
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
    from .evaluate import evaluate
    from .metrics import format_result

    res = evaluate(a.model, a.data, sheet=a.sheet, cache=a.cache, device=a.device, progress=not a.quiet, write_card=a.write_card)
    _warn_skipped(res["skipped"])
    print(json.dumps(res, indent=1) if a.json else f"{res['model']} on {res['data']} [{res['sheet']}]\n\n" + format_result(res))
    return 0


def cmd_predict(a) -> int:
    from .evaluate import predict

    text, skipped = predict(a.model, a.data, sheet=a.sheet, cache=a.cache, device=a.device, progress=not a.quiet)
    _warn_skipped(skipped)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"{out}: {text.count(chr(10)) - 1} patients")
    return 0


def cmd_preprocess(a) -> int:
    from .config import load_config
    from .evaluate import preprocess

    if a.model:
        from sand_gui.bundle import read_card

        spec = read_card(a.model).spec
    else:
        spec = load_config(a.config, a.overrides).spec
    res = preprocess(a.data, a.cache, spec, sheets=a.sheets, progress=not a.quiet)
    _warn_skipped(res["skipped"])
    print(f"{res['cache']}: {res['recordings']} recordings ({res['computed']} computed, {res['reused']} reused, "
          f"{len(res['skipped'])} skipped)")
    return 0


def cmd_synth(a) -> int:
    try:
        from .synth import generate_corpus
    except ImportError as exc:
        raise UsageError(f"the synthetic corpus generator is not available ({exc}).") from None
    if a.patients < 1:
        raise UsageError(f"--patients {a.patients}: at least one patient is needed.")
    generate_corpus(Path(a.out), patients=a.patients, seed=a.seed, sample_rate=a.sample_rate,
                    class_priors=a.class_priors, id_offset=a.id_offset, workers=a.workers,
                    progress=None if a.quiet else _synth_progress())
    print(a.out)
    return 0


def _synth_progress():
    """A callback ``(done, total)`` drawing a tqdm bar."""
    from tqdm import tqdm

    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc="synth", unit="patient", leave=False)
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update


COMMANDS = {"fit": cmd_fit, "evaluate": cmd_evaluate, "predict": cmd_predict, "preprocess": cmd_preprocess, "synth": cmd_synth}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except SandError as exc:
        print(f"sand-train: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sand-train: interrupted; resume with --resume RUN_DIR.", file=sys.stderr)
        return 130
