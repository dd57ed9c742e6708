"""The Praat measures in the reports, on the command line and in the window: one place for the
text, the flags and the columns, so the PDF, the CSV, the JSON, ``sand-gui analyze`` and the
window all say the same thing about the same measure.

A report's measures are a ``PatientMeasures`` (``sand_gui.measures``), or an exception that
says why there are none (``MeasuresUnavailable`` when Praat is not installed), or None when
they were not asked for. A measure is shown as its value and unit with a flag against its
healthy range (``norms``), or as "not measurable" with its reason; never NaN.

JSON (``measures_section``, strict): ``null`` when not asked for; ``{"status": "unavailable",
"reason", "code"}``; or ``{"status": "measured", "flagged": [...], **PatientMeasures.to_dict()}``
(schema_version, sex, software, settings with the Praat commands, tasks[].measures[] each with
value/measurable/why/reason/flag/norm/method, across_tasks, missing_tasks, elapsed_ms).

Qt-free; the PDF page is drawn on ``report_pdf._Page`` (passed in: this module sits below report).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .errors import one_line
from .tasks import PHONATION, TASK_IDS, get_task

if TYPE_CHECKING:  # the measures package imports numpy: only where a measure is handled
    from .measures.norms import Norm
    from .measures.results import Measure

# What a clinician checks first: the summary table, the CLI table and the patient CSV.
KEY_VOWEL = ("f0_mean_hz", "jitter_local", "shimmer_local", "hnr_db", "cpps_db")
KEY_DDK = ("ddk_rate", "period_cv_pct")
KEY_ACROSS = ("vowel_space_area", "formant_centralization_ratio")
DECIMALS = {"Hz": 1, "Hz²": 0, "%": 2, "dB": 2, "st": 2, "s": 2, "ms": 1, "syll/s": 2, "count": 0, "ratio": 3}
# keyed by ``measures.Flag`` values (read through ``flag_of``)
MARK = {"above": "▲", "below": "▼", "within": ""}
WORD = {"above": "above range", "below": "below range", "within": "within range"}
ASCII = {"above": "HIGH", "below": "LOW", "within": "ok"}


def flag_of(m) -> str | None:
    """The measure's flag as its code ("above", "below", "within"), or None."""
    flag = m.flag
    return None if flag is None else flag.value


def measure_specs() -> dict[str, tuple[str, str]]:
    """Key -> (label, unit) of every measure, vowels first (imported when first needed: the
    measures package imports numpy, which a window imports off its GUI thread)."""
    from .measures.results import DDK_MEASURES, PATIENT_MEASURES, VOWEL_MEASURES

    return VOWEL_MEASURES | DDK_MEASURES | PATIENT_MEASURES


def all_task_keys() -> tuple[str, ...]:
    from .measures.results import DDK_MEASURES, VOWEL_MEASURES

    return tuple(VOWEL_MEASURES) + tuple(DDK_MEASURES)


NOT_MEASURABLE = "not measurable"


def is_measured(measures) -> bool:
    """True for a ``PatientMeasures`` (anything with ``tasks`` and ``across``)."""
    return measures is not None and hasattr(measures, "tasks") and hasattr(measures, "across")


def unavailable_reason(measures) -> str | None:
    """The one-line reason there are no measures (an exception was passed), else None."""
    if isinstance(measures, BaseException):
        return one_line(str(measures) or measures.__class__.__name__, limit=600)
    return None


def key_measures(task_id: str) -> tuple[str, ...]:
    return KEY_VOWEL if get_task(task_id).family == PHONATION else KEY_DDK


def number(value: float, unit: str) -> str:
    d = DECIMALS.get(unit, 3)
    value = round(value, d) + 0.0  # never "-0.00"
    return f"{value:,.{d}f}" if unit == "Hz²" else f"{value:.{d}f}"


def unit_suffix(unit: str) -> str:
    return "" if unit in ("count", "ratio") else f" {unit}"  # a count or a ratio needs no unit word


def value_text(m: Measure) -> str:
    """``"1.23 %"``, or ``"not measurable"`` (the reason is ``m.reason``)."""
    return NOT_MEASURABLE if m.value is None else number(m.value, m.unit) + unit_suffix(m.unit)


def range_text(norm: Norm, unit: str) -> str:
    """``"≤ 1.04 %"``, ``"≥ 14.45 dB"``, ``"a–b unit"`` or ``"no range"``."""
    u = unit_suffix(unit)
    if norm.low is not None and norm.high is not None:
        return f"{number(norm.low, unit)}–{number(norm.high, unit)}{u}"
    if norm.high is not None:
        return f"≤ {number(norm.high, unit)}{u}"
    if norm.low is not None:
        return f"≥ {number(norm.low, unit)}{u}"
    return "no range"


def flag_word(m: Measure) -> str:
    """The flag in words (above, below or within range), or "" (no value or no range)."""
    return WORD.get(flag_of(m), "")


def cell(m: Measure) -> str:
    """A compact cell: ``"1.23 ▲"`` (flagged), ``"1.23"``, or ``"n/m"``."""
    if m.value is None:
        return "n/m"
    mark = MARK.get(flag_of(m), "")
    return number(m.value, m.unit) + (f" {mark}" if mark else "")


def measure_or_none(task_measures, key: str) -> Measure | None:
    try:
        return task_measures.get(key)
    except KeyError:
        return None


def task_or_none(measures, task_id: str):
    if not is_measured(measures):
        return None
    try:
        return measures.task(task_id)
    except KeyError:
        return None


def flagged(measures) -> list[dict]:
    """Every flagged measure: task, key, label, value, unit, flag (for the JSON and a reader)."""
    out = []
    for t in measures.tasks:
        for m in t.flagged:
            out.append(
                {"task": t.task, "key": m.key, "label": m.label, "value": m.to_dict()["value"], "unit": m.unit}
                | {"flag": m.flag.value, "range": range_text(m.norm, m.unit)}
            )
    return out


def measures_section(measures) -> dict | None:
    """The JSON part (see the module docstring); strict-JSON-safe."""
    if measures is None:
        return None
    reason = unavailable_reason(measures)
    if reason is not None:
        return {"status": "unavailable", "reason": reason, "code": measures.__class__.__name__}
    return {"status": "measured", "flagged": flagged(measures)} | measures.to_dict()


def fusion_section(fused) -> dict | None:
    """A fused verdict (``fusion.FusedVerdict``) as JSON, or None."""
    return None if fused is None else fused.to_dict()


def fusion_line(fused) -> str:
    """One line: which decision was used and why."""
    return one_line(f"Fused class {fused.final_class} (used: {fused.used}) - {fused.reason}", limit=600)


# --- CSV ----------------------------------------------------------------------------------------
def task_csv_columns() -> list[str]:
    """Per-task CSV: each measure's value and flag (empty where it does not apply), then the
    reasons of the not-measurable ones, the sex the settings assumed and the software."""
    cols = []
    for key in all_task_keys():
        cols += [key, f"{key}_flag"]
    return cols + ["measures_not_measurable", "measures_status"]


def task_csv_cells(measures, task_id: str) -> list:
    """The cells of ``task_csv_columns`` for one task's row."""
    width = 2 * len(all_task_keys())
    reason = unavailable_reason(measures)
    if reason is not None:
        return [""] * width + ["", f"unavailable: {reason}"]
    t = task_or_none(measures, task_id)
    if t is None:
        return [""] * width + ["", "" if measures is None else "missing"]
    cells, why = [], []
    for key in all_task_keys():
        m = measure_or_none(t, key)
        if m is None:
            cells += ["", ""]
            continue
        d = m.to_dict()
        cells += ["" if d["value"] is None else d["value"], d["flag"] or ""]
        if m.value is None:
            why.append(f"{key}: {m.reason}")
    return cells + [one_line("; ".join(why), limit=4000), "error" if t.error else "measured"]


def patient_csv_columns() -> list[str]:
    """Patient CSV: the key measures of every task (``<task>_<key>`` and ``_flag``), the key
    measures across tasks (``KEY_ACROSS``: vowel space area, formant centralisation ratio), the sex the pitch range assumed, Praat's version, the settings (JSON), and the
    fused verdict (class, which decision was used, why) when the bundle has a fusion."""
    cols = []
    for task_id in TASK_IDS:
        for key in key_measures(task_id):
            cols += [f"{task_id}_{key}", f"{task_id}_{key}_flag"]
    cols += [*KEY_ACROSS, "measures_sex", "measures_praat", "measures_settings", "measures_status"]
    return cols + list(FUSED_COLUMNS)


FUSED_COLUMNS = ("fused_class", "fused_used", "fused_reason")


def fused_cells(fused) -> list:
    if fused is None:
        return ["", "", ""]
    return [fused.final_class, fused.used, one_line(fused.reason, limit=600)]


def patient_csv_cells(measures, fused=None) -> list:
    width = len(patient_csv_columns()) - 4 - len(KEY_ACROSS) - len(FUSED_COLUMNS)
    reason = unavailable_reason(measures)
    if not is_measured(measures):
        status = "" if measures is None else f"unavailable: {reason}"
        return [""] * (width + len(KEY_ACROSS) + 3) + [status] + fused_cells(fused)
    cells = []
    for task_id in TASK_IDS:
        t = task_or_none(measures, task_id)
        for key in key_measures(task_id):
            m = None if t is None else measure_or_none(t, key)
            d = None if m is None else m.to_dict()
            cells += ["" if d is None or d["value"] is None else d["value"], "" if d is None else d["flag"] or ""]
    across = {m.key: m for m in measures.across}  # results saved before a measure existed lack it
    for key in KEY_ACROSS:
        value = across[key].to_dict()["value"] if key in across else None
        cells.append("" if value is None else value)
    settings = json.dumps(measures.settings, sort_keys=True, allow_nan=False)
    cells += [measures.sex, measures.software.get("praat", ""), settings, "measured"]
    return cells + fused_cells(fused)


# --- text (CLI) ---------------------------------------------------------------------------------
def table_lines(measures, *, limit: int = 2000) -> list[str]:
    """The key measures per task for ``sand-gui analyze``: value, flag (HIGH/LOW/ok) or
    "not measurable: reason", then the vowel space area and the settings in one line."""
    reason = unavailable_reason(measures)
    if reason is not None:
        return [f"Measures: unavailable - {reason}"]
    if not is_measured(measures):
        return []
    lines = [f"Measures (Praat {measures.software.get('praat', '?')}, sex {measures.sex}; flags vs healthy ranges):"]
    for t in measures.tasks:
        parts, why = [], {}
        for key in key_measures(t.task):
            m = measure_or_none(t, key)
            if m is None:
                continue
            if m.value is None:
                why.setdefault(m.reason or "", []).append(m.label)
            else:
                flag = ASCII.get(flag_of(m))
                parts.append(f"{m.label} {value_text(m)}" + (f" [{flag}]" if flag else ""))
        parts += [f"{', '.join(labels)} {NOT_MEASURABLE}: {reason}" for reason, labels in why.items()]
        lines.append(one_line(f"  {t.task:<11} " + "; ".join(parts), limit=limit))
    for m in measures.across:
        text = value_text(m) if m.value is not None else f"{NOT_MEASURABLE}: {m.reason}"
        lines.append(one_line(f"  {m.label}: {text}", limit=limit))
    s = measures.settings
    lines.append(
        f"  Settings: pitch {s['pitch_floor']:g}-{s['pitch_ceiling']:g} Hz, formants {s['n_formants']:g} "
        f"below {s['formant_ceiling']:g} Hz, CPPS peaks {s['cpps_peak_range'][0]:g}-{s['cpps_peak_range'][1]:g} Hz "
        "(all Praat commands in the JSON)"
    )
    return lines


def settings_lines(settings: dict) -> list[str]:
    """The settings as lines a reader can check: the sex and ranges, then each Praat command."""
    head = (
        f"Sex assumed: {settings['sex']} (pitch {settings['pitch_floor']:g}-{settings['pitch_ceiling']:g} Hz); "
        f"sample rate {settings['sample_rate']} Hz; formant ceiling {settings['formant_ceiling']:g} Hz with "
        f"{settings['n_formants']:g} formants; period floor/ceiling {settings['period_floor']:.4g}/"
        f"{settings['period_ceiling']:.4g} s."
    )
    return [head] + [f"{name}: {cmd}" for name, cmd in settings.get("praat_commands", {}).items()]


# --- PDF ----------------------------------------------------------------------------------------
def _table(page, title: str, task_ids: Sequence[str], keys: Sequence[str], measures, *, size: float = 7.5) -> None:
    """Rows: measures; columns: tasks, then the healthy range. ▲/▼ and red: outside it."""
    fw = page.fig.get_figwidth()  # inches (A4 portrait)
    label_w, range_w = 1.85, 1.25
    col_w = (page.width - label_w - range_w) / max(1, len(task_ids))
    page.text(title, size=10, weight="bold", gap=0.04)
    y = page.y
    heads = ["measure"] + [get_task(t).name.split()[-1] for t in task_ids] + ["healthy range"]
    xs = [0.0] + [label_w + i * col_w for i in range(len(task_ids))] + [label_w + len(task_ids) * col_w]
    for x, h in zip(xs, heads):
        page.fig.text((page.left + x) / fw, page._fy(y), h, fontsize=size, weight="bold", va="top")
    page.y += size * 1.5 / 72
    page.rule()
    tasks = {t: task_or_none(measures, t) for t in task_ids}
    for key in keys:
        row = [measure_or_none(tasks[t], key) if tasks[t] is not None else None for t in task_ids]
        first = next((m for m in row if m is not None), None)
        if first is None:
            continue
        label = f"{first.label} ({first.unit})" if first.unit != "count" else first.label
        page.fig.text(page.left / fw, page._fy(page.y), label, fontsize=size, va="top")
        for i, m in enumerate(row):
            text = "-" if m is None else cell(m)
            red = m is not None and flag_of(m) in ("above", "below")
            page.fig.text(
                (page.left + xs[1 + i]) / fw,
                page._fy(page.y),
                text,
                fontsize=size,
                va="top",
                color="#b71c1c" if red else "#777777" if text == "n/m" else "black",
                weight="bold" if red else "normal",
            )
        page.fig.text(
            (page.left + xs[-1]) / fw,
            page._fy(page.y),
            _row_range(row, task_ids),
            fontsize=size,
            va="top",
            color="#444444",
        )
        page.y += size * 1.45 / 72
    page.y += 0.12


def _row_range(row: list, task_ids: Sequence[str]) -> str:
    """The range of a table row; when it differs between tasks, the defined ones with their task."""
    texts = [None if m is None else range_text(m.norm, m.unit) for m in row]
    if len(set(texts) - {None}) == 1:
        return next(t for t in texts if t is not None)
    named = [
        f"{t} on {get_task(tid).name.split()[-1]}" for t, tid in zip(texts, task_ids) if t not in (None, "no range")
    ]
    return ", ".join(named) or "no range"


def draw_measures_page(page, measures, *, fused=None) -> None:
    """The PDF's measures page: per-task tables (vowels, syllable tasks) with their flags, the
    vowel space area, the reasons of every "n/m", the fused verdict (when there is one) and
    the Praat settings."""
    page.text("Praat measures beside the network's votes", size=13, weight="bold", gap=0.02)
    page.wrapped(
        "Values from Praat (praat-parselmouth) on the same trimmed recordings the network judged. "
        "▲/▼ in red: above/below the healthy-adult range shown (see docs/measures.md for each source); "
        "n/m: not measurable (reason below); 'no range': no published range fits, never flagged.",
        size=8,
        color="#444444",
        gap=0.12,
    )
    if fused is not None:
        page.box(fusion_line(fused), face="#e8f5e9", edge="#2e7d32", size=10)
    reason = unavailable_reason(measures)
    if reason is not None or not is_measured(measures):
        page.box(f"Measures unavailable: {reason or 'not computed.'}", face="#fff3e0", edge="#ef6c00", size=10)
        return
    vowels = [t for t in TASK_IDS if get_task(t).family == PHONATION]
    ddk = [t for t in TASK_IDS if get_task(t).family != PHONATION]
    from .measures.results import DDK_MEASURES, PATIENT_MEASURES, VOWEL_MEASURES

    _table(page, "Sustained vowels", vowels, list(VOWEL_MEASURES), measures)
    _table(page, "Syllable repetition (DDK)", ddk, list(DDK_MEASURES), measures)
    for m in measures.across:
        text = value_text(m) if m.value is not None else f"{NOT_MEASURABLE}: {m.reason}"
        page.wrapped(f"{PATIENT_MEASURES[m.key][0]}: {text}", size=9, gap=0.08)
    reasons = _reasons(measures)
    if reasons:
        page.text("Not measurable (n/m), and why", size=9.5, weight="bold", gap=0.03)
        for line in reasons[:10]:
            page.wrapped(line, size=7.5, gap=0.01)
        if len(reasons) > 10:
            page.text(f"... {len(reasons) - 10} more (listed in the JSON report)", size=7.5)
        page.y += 0.08
    page.text("Settings", size=9.5, weight="bold", gap=0.03)
    for line in settings_lines(measures.settings):
        page.wrapped(line, size=6.5, gap=0.0, color="#333333")


def _reasons(measures) -> list[str]:
    """One line per task and distinct reason: "phonationA (F0 mean, Jitter…): reason"."""
    out = []
    for t in measures.tasks:
        by_reason: dict[str, list[str]] = {}
        for m in t.measures:
            if m.value is None:
                by_reason.setdefault(m.reason or "", []).append(m.label)
        for reason, labels in by_reason.items():
            names = ", ".join(dict.fromkeys(labels))
            out.append(one_line(f"{t.task} ({names}): {reason}", limit=400))
    return out
