"""The batch run with Praat measures and fusion: what the batch panel adds for a fused bundle.

A bundle that carries a measures classifier (``sand_gui.fusion.Fusion.from_bundle`` is not
None) can be run three ways at once: ConvNeXt alone, the measures classifier alone and the
fusion of both. ``measured_run`` measures each patient (Praat in its own process, so the
worker thread only waits), then hands ``fusion=``/``measures=`` to ``sand_gui.batch.run_batch``;
the helpers here turn a patient's ``FusedVerdict`` into the two table cells and
``metrics["fusion"]`` into the three-way summary line. Qt-free on purpose: the panel only
shows what these return.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.util import find_spec

from ...errors import SandError, one_line

FUSED_HEAD = ("Measures", "Fusion")
CHECKBOX_TEXT = "with Praat measures and fusion (slower)"
PARTS = (("network", "ConvNeXt"), ("measures", "measures"), ("fusion", "fusion"))
# what the scores and the confusion matrix of a fused run can show; the class the app shows first
SCORED = (
    ("fusion", "the class the app shows"),
    ("network", "ConvNeXt's vote"),
    ("measures", "the measures classifier"),
)


def praat_installed() -> bool:
    """Whether praat-parselmouth can be imported (a module set to None in sys.modules counts as missing)."""
    try:
        return find_spec("parselmouth") is not None
    except (ImportError, ValueError):
        return False


def fusion_of(classifier):
    """The bundle's ``Fusion`` when it carries a measures model and Praat can run here, else None.

    A bundle without a measures model, a missing parselmouth, or a measures model that cannot be
    read all give None: the panel then offers the plain run only (the main window reports an
    unreadable measures model when the bundle is analysed)."""
    bundle = getattr(classifier, "bundle", None)
    if bundle is None or not praat_installed():
        return None
    from ...fusion import Fusion

    try:
        return Fusion.from_bundle(bundle)
    except SandError:
        return None


def measured_run(
    index,
    rows,
    classifier,
    *,
    fusion,
    cache_dir=None,
    cancel: Callable[[], bool] | None = None,
    progress: Callable[..., None] | None = None,
):
    """Measure every patient of ``rows`` (one after the other, each in Praat's own process), then
    ``run_batch`` with the fusion; ``cancel()`` is honoured between patients (``batch.Cancelled``)."""
    from ...batch import Cancelled, run_batch
    from ...measures.patient import measure_patient

    measures = {}
    for i, row in enumerate(rows):
        if cancel is not None and cancel():
            raise Cancelled("the batch run was cancelled; nothing was written.")
        if progress is not None:
            progress(i, len(rows), f"Praat measures: {one_line(row.patient_id)} ({i + 1}/{len(rows)} patients)")
        recordings = row.recordings()
        if recordings:
            measures[row.patient_id] = measure_patient(recordings, spec=classifier.spec, sex=row.sex, workers=1)
    if cancel is not None and cancel():
        raise Cancelled("the batch run was cancelled; nothing was written.")
    return run_batch(
        index, rows, classifier, cache_dir=cache_dir, progress=progress, cancel=cancel, fusion=fusion, measures=measures
    )


def fused_cells(patient) -> tuple[list[str], list[str]]:
    """The "Measures" and "Fusion" cells of one patient row, and their tooltips."""
    from ...batch import part_class

    fused = getattr(patient, "fused", None)
    if fused is None:
        return ["", ""], ["", ""]
    alone = part_class(patient, "measures")
    final = "—" if fused.final_class is None else str(fused.final_class)
    cells = ["—" if alone is None else str(alone), f"{final} ({fused.used})"]
    why = one_line(fused.reason, limit=600)
    return cells, ["" if alone is not None else why, why]


def side_by_side_text(side: dict | None, score: Callable) -> str:
    """``metrics["fusion"]`` as one HTML line: patient macro-F1 / accuracy of ConvNeXt, measures, fusion."""
    if not side:
        return ""
    parts = []
    for key, name in PARTS:
        r = side.get(key) or {}
        parts.append(
            f"{name} macro-F1 {score(r.get('macro_f1'))}, accuracy {score(r.get('accuracy'))} (n = {r.get('n', 0)})"
        )
    missing = side.get("without_measures", 0)
    tail = f" {missing} patient(s) had no usable measures (network alone)." if missing else ""
    return f"<b>Side by side</b> (patient level): {'; '.join(parts)}.{tail}"


def scored_report(metrics: dict, part: str) -> dict:
    """The patient-level report of ``part`` (a key of ``SCORED``): the network's vote is the run's
    ``patient_level``; the measures' and the shown class's come from a fused run's ``fusion``."""
    side = metrics.get("fusion") or {}
    return metrics["patient_level"] if part == "network" or part not in side else side[part]


def scored_title(metrics: dict, part: str, *, short: bool = False) -> str:
    """What the patient-level scores below are the scores of, in a few words (``short``: fewer)."""
    side = metrics.get("fusion") or {}
    if part == "network" or part not in side:
        return "ConvNeXt's majority vote"
    if part == "measures":
        return f"the measures classifier alone, the {side['measures'].get('n', 0)} patients with measures"
    decision = side.get("decision")
    if decision == "measures":
        rule = "the measures classifier's class"
    elif decision == "network":
        rule = "ConvNeXt's vote"
    else:  # "fusion of the network (w=0.60) and the measures (w=0.40) (why)": the rule without the why
        head, cut, _ = str(side.get("rule", "")).partition(") (")
        rule = one_line(head + ")" if cut else head, limit=90)
    return "the class the app shows" if short else f"the class the app shows: {rule}"


def unscored_note(fusion, metrics: dict) -> str:
    """A warning when the bundle decides a patient's class with its measures but this run scored
    the network's vote only (the box was not ticked); empty otherwise."""
    if fusion is None or fusion.decision == "network" or metrics.get("fusion"):
        return ""
    return (
        f"This model decides a patient's class with its Praat measures ({one_line(fusion.describe(), limit=90)}); "
        f"these scores are ConvNeXt's vote, not the class the app shows. Tick “{CHECKBOX_TEXT}” and run "
        "again to score that class."
    )
