"""The Qt-free functions the window runs in workers (validation, analysis, export).

Nothing here imports Qt; each function is what one worker does, so it can be tested and
timed without a window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path



@dataclass
class Checked:
    """A recording that passed the checks made on load."""

    seconds: float
    voiced_seconds: float
    warnings: list[str] = field(default_factory=list)


def check_recording(path: Path, spec) -> Checked:
    """Load and trim as the analysis will (no torch); AudioError with the core's message."""
    from ..audio import load_recording
    from ..features import trim

    rec = load_recording(path, sample_rate=spec.sample_rate, bandlimit_hz=spec.bandlimit_hz)
    voiced = trim(rec.samples, spec=spec, name=Path(path).name)
    return Checked(rec.seconds, voiced.length / spec.sample_rate, rec.warnings)


def run_analysis(recordings: dict, classifier, *, progress=None):
    from ..pipeline import analyze

    return analyze(recordings, classifier, progress=progress)


def export_report(base: Path, result, *, session=None, spec=None, bundle_path=None) -> list[Path]:
    """Write ``base``.pdf, .json and .csv (the PDF's mel thumbnails computed with ``spec``)."""
    from .. import report

    base = Path(base)
    base.parent.mkdir(parents=True, exist_ok=True)
    return [
        report.write_pdf(base.with_suffix(".pdf"), result, session=session, spec=spec, bundle_path=bundle_path),
        report.write_json(base.with_suffix(".json"), result, session=session, bundle_path=bundle_path),
        report.write_csv(base.with_suffix(".csv"), result, session=session, bundle_path=bundle_path),
    ]


def read_take(path: Path):
    """(samples, sample_rate) of a file for playback, at its own rate."""
    import soundfile as sf

    data, rate = sf.read(str(path), dtype="float32", always_2d=False)
    return data, rate
