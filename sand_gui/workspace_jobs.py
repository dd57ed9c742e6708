"""The work a workspace hands to its runner: plain functions, any thread, no Qt.

``check_recording`` (the checks made on load, no torch), ``run_analysis`` (the network),
``export_report`` (PDF, JSON and CSV), and ``run_now``, the default runner that runs a job at
once in the caller's thread (tests, scripts); the window passes one that runs in a Qt worker.
Heavy modules are imported inside the functions, so importing this costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Checked:
    """A recording that passed the checks made on load."""

    seconds: float
    voiced_seconds: float
    notes: list = field(default_factory=list)


def check_recording(path: Path, spec) -> Checked:
    """Load and trim as the analysis will (no torch); AudioError with the core's sentence."""
    from .audio import load_recording
    from .features import trim

    rec = load_recording(path, sample_rate=spec.sample_rate, bandlimit_hz=spec.bandlimit_hz)
    voiced = trim(rec.samples, spec=spec, name=Path(path).name)
    return Checked(rec.seconds, voiced.length / spec.sample_rate, list(rec.warnings))


def run_analysis(recordings: dict, classifier, *, progress=None):
    from .pipeline import analyze

    return analyze(recordings, classifier, progress=progress)


def export_report(base: Path, result, *, session=None, spec=None, measures=None, fused=None) -> list[Path]:
    """Write ``base``.pdf, .json and .csv of ``result``; the model described is the result's
    own (``result.model``), and the PDF's spectrograms are computed with ``spec``. ``measures``
    (or why there are none) and the ``fused`` verdict go in too (``report_measures``)."""
    from . import report, report_pdf

    base = Path(base)
    base.parent.mkdir(parents=True, exist_ok=True)
    extra = {"measures": measures, "fused": fused}
    return [
        report_pdf.write_pdf(base.with_suffix(".pdf"), result, session=session, spec=spec, **extra),
        report.write_json(base.with_suffix(".json"), result, session=session, **extra),
        report.write_csv(base.with_suffix(".csv"), result, session=session, **extra),
    ]


def run_now(fn: Callable, *args, done: Callable, progress=None, **kwargs) -> None:
    """The default runner: ``fn`` at once in this thread, then ``done(value, exc)``."""
    if progress is not None:
        kwargs["progress"] = progress
    try:
        value = fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - every failure reaches ``done``
        done(None, exc)
        return
    done(value, None)


def default_spec():
    """The FeatureSpec used while no model (not even a card) is known."""
    from .features import SEED_SPEC

    return SEED_SPEC
