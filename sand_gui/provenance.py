"""Where a report's result came from: the application, the result's own bundle and FeatureSpec,
the SHA-256 of every recording as analysed (and whether the file still matches), the session's
files; the patient and date a report names; the disclaimer every report carries. Shared by the
JSON/CSV reports (``report``) and the PDF (``report_pdf``). Qt-free.
"""

from __future__ import annotations

import datetime as _dt
import platform
from pathlib import Path

from . import __version__
from .files import sha256_file
from .session import Session
from .tasks import patient_id_from_filename

DISCLAIMER = (
    "Research tool, not a diagnosis. This result comes from a research prototype for the SAND "
    "challenge (Task 1); it is not a medical device and must not be used on its own for diagnosis "
    "or treatment decisions. Interpret it only with a clinical assessment."
)
SYNTHETIC_BANNER = (
    "DEMONSTRATION MODEL: trained on SYNTHETIC speech, not on patients. This result says nothing about this patient."
)


def _file_entry(path: Path, *, analysed_sha256: str | None = None, **extra) -> dict:
    """A file's identity: ``sha256`` as analysed (or as found now), size, and ``status``:
    ``"ok"``, ``"missing"`` or ``"changed"`` (its bytes now differ from those analysed)."""
    path = Path(path)
    now = sha256_file(path)
    entry = dict(extra, file=str(path), sha256=analysed_sha256 or now, bytes=None)
    if now is not None:
        try:
            entry["bytes"] = path.stat().st_size
        except OSError:
            pass
    entry["status"] = "missing" if now is None else "changed" if analysed_sha256 and now != analysed_sha256 else "ok"
    return entry


def bundle_entry(result, bundle_path) -> dict:
    """The bundle that produced the result: its own record, never the one loaded now.
    ``bundle_path`` only fills in a hand-made result that carries no checksum."""
    m = result.model or {}
    if not m.get("sha256") and bundle_path is not None and Path(bundle_path).is_file():
        return {"file": Path(bundle_path).name, "sha256": sha256_file(bundle_path)}
    return {"file": m.get("file"), "sha256": m.get("sha256")}


def provenance(result, session: Session | None = None, bundle_path: str | Path | None = None) -> dict:
    """Where the result came from: app version, the result's bundle and FeatureSpec, and the
    SHA-256 of every recording as analysed (``status`` says whether the file still matches).

    With a session, ``session_files`` lists every take and loaded file of it (older takes
    included) with the checksum ``session.json`` recorded.
    """
    out = {
        "application": "sand_gui",
        "app_version": __version__,
        "analysed_with": getattr(result, "app_version", None),
        "analysed_at": getattr(result, "analysed_at", None),
        "generated_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "bundle": bundle_entry(result, bundle_path),
        "feature_spec": getattr(result, "feature_spec", None),
        "device": result.device,
        "recordings": [
            _file_entry(Path(t.file), analysed_sha256=getattr(t, "sha256", None), task=t.task) for t in result.tasks
        ],
    }
    if session is not None:
        out["session_files"] = [
            _file_entry(p, analysed_sha256=session.recorded_sha256(p), origin=session.origin(p))
            for p in session.files()
        ]
    return out


def patient_and_date(result, session: Session | None) -> tuple[str, str]:
    """(patient ID, date) from the session, else from the file names and today."""
    if session is not None:
        return session.patient_id, session.date
    ids = {patient_id_from_filename(t.file) for t in result.tasks} - {None}
    return (ids.pop() if len(ids) == 1 else "-"), _dt.date.today().isoformat()
