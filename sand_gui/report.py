"""Reports of one assessment: PDF for the clinician, JSON and CSV for records and research.

All of them describe the result from the result itself (``AnalysisResult``): the model
bundle that produced it (file, SHA-256, name, architecture, synthetic flag), its FeatureSpec
and the device, never whatever model is loaded when the report is written. The PDF's
spectrograms are computed with the result's FeatureSpec. The JSON holds the analysis
exactly as ``sand-gui analyze --json`` prints it (``AnalysisResult.to_dict()``), the session
(pseudonymous ID, date, age, sex, takes) and provenance (application version, bundle
checksum, SHA-256 of every recording as analysed and whether the file still matches), so a
report can always be traced to the audio and the model that produced it.

The CSV has one shape: one row per task (``write_csv``); the patient-level result is its own
one-row file, ``<name>_patient.csv`` (``write_patient_csv``). Warnings and rejections carry
their codes (``sand_gui.quality.Code`` values) beside their sentences.

The patient's class is ``decision.patient_class`` of the result and its fused verdict, as in
the window: with a bundle that carries a measures model, the fused class, who decided it and
the network's vote beside it (JSON ``patient_class``; patient CSV ``final_class``,
``decided_by``; the PDF's summary box). ``analysis.final_class`` stays the network's vote.

Quality before verdict: when ``result.quality_ok`` is False the PDF and the patient CSV show
``result.quality_message`` where the final class would be.

The PDF is drawn by ``report_pdf`` (matplotlib, no pyplot, no Qt); provenance, the patient
and the disclaimer come from ``provenance``. JSON is strict (``allow_nan=False``). Every file
is written atomically (temporary file + rename); a failure is a ``StorageError`` naming it.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from . import report_measures as rm
from .classes import CLASS_NUMBERS
from .decision import patient_class
from .errors import StorageError, one_line, storage_error
from .files import write_atomic
from .provenance import patient_and_date, provenance
from .report_pdf import write_pdf
from .session import Session
from .tasks import TASK_IDS

REPORT_FORMAT = "sand_gui.report"
REPORT_VERSION = 3  # 2: the model and spec come from the result; recordings as analysed; 3: patient_class
PATIENT_SUFFIX = "_patient"  # <name>.csv (per task) -> <name>_patient.csv (patient level)


def report_dict(
    result, *, session: Session | None = None, bundle_path: str | Path | None = None, measures=None, fused=None
) -> dict:
    """The JSON report: ``patient_class`` (``decision.PatientClass.to_dict``: the class shown,
    who decided it), ``analysis`` (= ``result.to_dict()``), ``session``, ``provenance``,
    ``measures`` and ``fusion`` (``report_measures``: null when not computed)."""
    return {
        "format": REPORT_FORMAT,
        "format_version": REPORT_VERSION,
        "patient_class": patient_class(result, fused).to_dict(),
        "analysis": result.to_dict(),
        "session": None if session is None else session.to_dict(),
        "provenance": provenance(result, session, bundle_path),
        "measures": rm.measures_section(measures),
        "fusion": rm.fusion_section(fused),
    }


def write_json(path, result, *, session: Session | None = None, bundle_path=None, measures=None, fused=None) -> Path:
    """Same content as ``sand-gui analyze --json`` (under ``analysis``) + session + provenance
    + measures + fusion; strict JSON. ``bundle_path`` is only used for a result that carries no
    bundle checksum."""
    report = report_dict(result, session=session, bundle_path=bundle_path, measures=measures, fused=fused)
    text = json.dumps(report, indent=2, allow_nan=False)
    return write_atomic(Path(path), text)


def _class_numbers(result) -> list[int]:
    for t in result.tasks:
        if t.probabilities:
            return sorted(int(c) for c in t.probabilities)
    if result.verdict is not None:
        return sorted(int(c) for c in result.verdict.votes)
    return list(CLASS_NUMBERS)


def _csv_text(header: list[str], rows: list[list]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def patient_csv_path(path) -> Path:
    """Where the patient-level CSV of a per-task CSV goes: ``<name>_patient.csv``."""
    path = Path(path)
    return path.with_name(path.stem + PATIENT_SUFFIX + (path.suffix or ".csv"))


TASK_CSV_COLUMNS = ("patient_id", "date", "task", "status", "file", "sha256", "class")
TASK_CSV_TAIL = ("trimmed_seconds", "warnings", "warning_codes", "error", "error_code")


def task_csv_header(class_numbers) -> list[str]:
    """Columns of the per-task CSV: one meaning each, whatever the row."""
    return list(TASK_CSV_COLUMNS) + [f"p{c}" for c in class_numbers] + list(TASK_CSV_TAIL) + rm.task_csv_columns()


def write_csv(
    path, result, *, session: Session | None = None, bundle_path=None, patient_path=None, measures=None, fused=None
) -> Path:
    """The per-task CSV (returned): one row per protocol task, all eight, in protocol order.

    Columns: patient_id, date, task, status (ok / rejected / missing), file, sha256 (as
    analysed), class (the task's vote), p1..p5, trimmed_seconds, warnings and warning_codes
    (``; ``-joined, aligned), error and error_code. The patient-level result is written beside
    it by ``write_patient_csv`` to ``patient_path`` (default ``<name>_patient.csv``; pass
    ``False`` to skip it). ``bundle_path`` is accepted for compatibility and not used. Then
    the task's Praat measures (``report_measures.task_csv_columns``; empty when not measured).
    """
    d = result.to_dict()
    pid, date = patient_and_date(result, session)
    classes = _class_numbers(result)
    rows_by_task = {t["task"]: t for t in d["tasks"]}
    rows = []
    for task_id in TASK_IDS:
        t = rows_by_task.get(task_id)
        if t is None:
            rows.append(
                [pid, date, task_id, "missing", "", "", ""]
                + [""] * len(classes)
                + ["", "", "", "", ""]
                + rm.task_csv_cells(measures, task_id)
            )
            continue
        probs = t["probabilities"] or {}
        status = "rejected" if t["error"] else "ok"
        rows.append(
            [pid, date, task_id, status, t["file"], t.get("sha256") or "", "" if t["class"] is None else t["class"]]
            + [probs.get(str(c), "") for c in classes]
            + [
                "" if t["trimmed_seconds"] is None else t["trimmed_seconds"],
                "; ".join(t["warnings"]),
                "; ".join(t.get("warning_codes") or []),
                t["error"] or "",
                t.get("error_code") or "",
            ]
            + rm.task_csv_cells(measures, task_id)
        )
    out = write_atomic(Path(path), _csv_text(task_csv_header(classes), rows))
    if patient_path is not False:
        target = patient_csv_path(path) if patient_path is None else patient_path
        write_patient_csv(target, result, session=session, measures=measures, fused=fused)
    return out


def patient_csv_header(class_numbers) -> list[str]:
    return (
        [
            "patient_id",
            "date",
            "final_class",
            "final_label",
            "decided_by",
            "quality_ok",
            "quality_message",
            "usable_tasks",
            "vote_of_usable_tasks",
            "vote_summary",
            "tie_broken",
        ]
        + [f"votes_{c}" for c in class_numbers]
        + [f"mean_p{c}" for c in class_numbers]
        + [
            "model_name",
            "model_file",
            "model_sha256",
            "model_architecture",
            "model_synthetic",
            "feature_spec",
            "device",
            "device_note",
            "analysed_at",
            "app_version",
        ]
        + rm.patient_csv_columns()
    )


def write_patient_csv(path, result, *, session: Session | None = None, measures=None, fused=None) -> Path:
    """The patient-level result, one row: ``final_class``/``final_label`` the class shown
    (``decision.patient_class``: the fused class when the bundle has a measures model), only
    when the quality gate is met and the class is decided (else empty, with
    ``quality_message``); ``decided_by`` network, measures or fusion; ``vote_of_usable_tasks``
    is the network's vote whatever the gate says; votes and mean probabilities per class; the model that
    produced it (name, file, SHA-256, architecture, synthetic), its FeatureSpec (JSON), device;
    then the key Praat measures and the fused verdict (``report_measures.patient_csv_columns``)."""
    d = result.to_dict()
    pid, date = patient_and_date(result, session)
    classes = _class_numbers(result)
    v, m = result.verdict, result.model or {}
    ok = result.quality_ok
    shown = patient_class(result, fused)
    decided = shown.number is not None
    row = (
        [
            pid,
            date,
            shown.number if decided else "",
            shown.label if decided else "",
            shown.decided_by if decided else "",
            str(ok).lower(),
            d["quality_message"],
            result.n_valid,
            "" if v is None else v.final_class,
            "" if v is None else v.summary,
            "" if v is None else str(v.tie_broken).lower(),
        ]
        + ["" if v is None else v.votes.get(c, 0) for c in classes]
        + ["" if v is None or c not in v.mean_probabilities else round(v.mean_probabilities[c], 6) for c in classes]
        + [
            m.get("name", ""),
            m.get("file", ""),
            m.get("sha256", ""),
            m.get("architecture", ""),
            str(bool(m.get("synthetic", True))).lower(),
            "" if d.get("feature_spec") is None else json.dumps(d["feature_spec"], sort_keys=True, allow_nan=False),
            result.device,
            result.device_note,
            d.get("analysed_at", ""),
            d.get("app_version", ""),
        ]
        + rm.patient_csv_cells(measures, fused)
    )
    return write_atomic(Path(path), _csv_text(patient_csv_header(classes), [row]))


def write_reports(base, result, *, session: Session | None = None, measures=None, fused=None) -> list[Path]:
    """``base``.pdf, .json, .csv and ``base``_patient.csv, all describing the result's own
    model and spec, with the Praat ``measures`` and the ``fused`` verdict when given
    (``report_measures``); the list of paths written. The folder is made when missing."""
    base = Path(base)
    if base.parent.exists() and not base.parent.is_dir():
        raise StorageError(f"{one_line(base.parent)}: is a file, not a folder.")
    try:
        base.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_error(exc, base.parent) from None
    csv_path = base.with_suffix(".csv")
    extra = {"measures": measures, "fused": fused}
    return [
        write_pdf(base.with_suffix(".pdf"), result, session=session, **extra),
        write_json(base.with_suffix(".json"), result, session=session, **extra),
        write_csv(csv_path, result, session=session, patient_path=False, **extra),
        write_patient_csv(patient_csv_path(csv_path), result, session=session, **extra),
    ]
