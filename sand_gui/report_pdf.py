"""The clinician's PDF of one assessment (A4; summary, measures page when given, mel
thumbnails, model and provenance), drawn with matplotlib ``Figure`` + ``PdfPages`` (no pyplot,
no Qt) and the drawing functions of ``plots``. It shows what ``report`` puts in the JSON: the
patient's class of ``decision.patient_class``, the result's own model and FeatureSpec (the
thumbnails are computed with it), the research-tool disclaimer on every page and a red banner
for a model trained on synthetic speech. Written atomically; a full or read-only disk is a
``StorageError`` naming the file.
"""

from __future__ import annotations

import datetime as _dt
import textwrap
from pathlib import Path

from . import __version__
from . import report_measures as rm
from .classes import get_class
from .decision import patient_class
from .errors import StorageError, storage_error
from .files import atomic_path, sha256_file
from .provenance import DISCLAIMER, SYNTHETIC_BANNER, bundle_entry, patient_and_date, provenance
from .session import Session
from .tasks import TASK_IDS, get_task

A4 = (8.27, 11.69)  # inches, portrait
MONO = "DejaVu Sans Mono"


def result_spec(result, spec=None):
    """The FeatureSpec the result was computed with; ``spec`` only for a result without one."""
    return getattr(result, "spec", None) or spec


def task_spectrograms(result, spec=None) -> dict:
    """Mel dB [shape=(n_mels, t)] of the voiced part of each usable recording, as the model saw
    it: computed with the result's own FeatureSpec (``spec`` is used only for a result that
    carries none). A recording whose bytes changed since the analysis is left out."""
    import torch

    from .audio import load_recording
    from .features import mel_db

    spec = result_spec(result, spec)
    if spec is None:
        return {}
    out = {}
    for t in result.tasks:
        if not t.ok or t.voiced is None:
            continue
        if getattr(t, "sha256", None) and sha256_file(t.file) != t.sha256:
            continue
        rec = load_recording(t.file, sample_rate=spec.sample_rate, bandlimit_hz=spec.bandlimit_hz)
        wave = torch.from_numpy(rec.samples[t.voiced.start : t.voiced.stop].copy())
        out[t.task] = mel_db(wave, spec=spec, family=get_task(t.task).family).numpy()
    return out


def spec_summary(spec) -> str:
    """One line naming the FeatureSpec's main fields (for the PDF and the window)."""
    if spec is None:
        return "not recorded"
    band = "none" if spec.bandlimit_hz is None else f"{spec.bandlimit_hz:g} Hz"
    return (
        f"{spec.sample_rate} Hz, n_fft {spec.n_fft}, hop {spec.hop_length}, {spec.n_mels} mels, "
        f"{spec.n_frames} frames, band limit {band}, phonation {spec.phonation_band[0]:g}-{spec.phonation_band[1]:g} Hz, "
        f"rhythm {spec.rhythm_band[0]:g}-{spec.rhythm_band[1]:g} Hz"
    )


class _Page:
    """An A4 figure with a text cursor measured in inches from the top."""

    def __init__(self, number: int, total: int):
        from matplotlib.figure import Figure

        self.fig = Figure(figsize=A4)
        self.y = 0.6
        self.left = 0.7
        self.width = A4[0] - 2 * self.left
        _footer(self.fig, number, total)

    def _fy(self, y: float) -> float:
        return 1 - y / A4[1]

    def text(self, s: str, *, size: float = 9.5, gap: float = 0.06, x: float | None = None, **kw) -> None:
        lines = s.count("\n") + 1
        self.fig.text((x if x is not None else self.left) / A4[0], self._fy(self.y), s, fontsize=size, va="top", **kw)
        self.y += lines * size * 1.35 / 72 + gap

    def wrapped(self, s: str, *, size: float = 9.5, **kw) -> None:
        self.text(_fill(s, width_in=self.width, size=size), size=size, **kw)

    def box(
        self, s: str, *, face: str, edge: str, color: str = "black", size: float = 10, weight: str = "bold"
    ) -> None:
        from matplotlib.patches import FancyBboxPatch

        text = _fill(s, width_in=self.width - 0.3, size=size, weight=weight)
        lines = text.count("\n") + 1
        height = lines * size * 1.35 / 72 + 0.16
        self.fig.patches.append(
            FancyBboxPatch(
                (self.left / A4[0], self._fy(self.y + height)),
                self.width / A4[0],
                height / A4[1],
                boxstyle="round,pad=0.004",
                transform=self.fig.transFigure,
                facecolor=face,
                edgecolor=edge,
                linewidth=1.2,
            )
        )
        self.fig.text(
            (self.left + 0.12) / A4[0],
            self._fy(self.y + 0.08),
            text,
            fontsize=size,
            va="top",
            weight=weight,
            color=color,
        )
        self.y += height + 0.15

    def axes(self, height: float, *, left: float = 0.0, width: float | None = None):
        w = self.width - left if width is None else width
        ax = self.fig.add_axes(((self.left + left) / A4[0], self._fy(self.y + height), w / A4[0], height / A4[1]))
        self.y += height
        return ax

    def rule(self) -> None:
        self.fig.add_artist(_hline(self.fig, self._fy(self.y), self.left / A4[0], (self.left + self.width) / A4[0]))
        self.y += 0.12


def _fill(s: str, *, width_in: float, size: float, weight: str = "normal") -> str:
    """Wrap ``s`` into lines that fit ``width_in`` inches, measuring the real glyph widths."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    font = FontProperties(family="DejaVu Sans", size=size, weight=weight)
    lines, line = [], ""
    for word in s.split():
        trial = f"{line} {word}".strip()
        if line and text_to_path.get_text_width_height_descent(trial, font, ismath=False)[0] > width_in * 72:
            lines.append(line)
            line = word
        else:
            line = trial
    return "\n".join(lines + [line])


def _hline(fig, y, x0, x1):
    from matplotlib.lines import Line2D

    return Line2D([x0, x1], [y, y], transform=fig.transFigure, color="#999999", linewidth=0.6)


def _footer(fig, number: int, total: int) -> None:
    fig.text(
        0.7 / A4[0],
        0.55 / A4[1],
        _fill(DISCLAIMER, width_in=A4[0] - 1.4, size=7),
        fontsize=7,
        color="#444444",
        va="bottom",
    )
    fig.text(1 - 0.7 / A4[0], 0.3 / A4[1], f"page {number} of {total}", fontsize=7, color="#444444", ha="right")


def _clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _page_summary(page: _Page, result, session: Session | None, pid: str, date: str, fused=None) -> None:
    page.text("Dysarthria severity assessment (SAND Task 1)", size=16, weight="bold")
    page.text("Research tool - not a diagnosis", size=10, color="#444444", gap=0.12)
    if result.model.get("synthetic", True):
        page.box(SYNTHETIC_BANNER, face="#c62828", edge="#8e0000", color="white", size=10.5)
    info = f"Patient ID: {pid}     Session date: {date}"
    if session is not None:
        info += f"     Age: {session.age if session.age is not None else '-'}     Sex: {session.sex or '-'}"
    page.text(info, size=11, weight="bold", gap=0.04)
    page.text(
        f"Report generated {_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M')} UTC  |  sand_gui {__version__}",
        size=8.5,
        color="#444444",
        gap=0.15,
    )
    v = result.verdict
    shown = patient_class(result, fused)
    if shown.number is not None:
        page.box(f"Final class {shown.number}: {shown.label}", face="#e3f2fd", edge="#1565c0", size=14)
        page.y -= 0.05
        page.text(f"Meaning: {get_class(shown.number).meaning}", size=10)
        if shown.overrides_vote or shown.reason:
            page.wrapped(shown.decided_text(), size=10)
        vote = v.summary.split(" (tie")[0]
        if shown.overrides_vote:
            agree = "agrees" if shown.network_class == shown.number else "differs"
            page.text(f"The network's vote {agree}: {vote}", size=10)
        else:
            page.text(f"Vote: {vote}", size=10)
        if v.tie_broken:
            page.wrapped(f"Tie between classes {', '.join(map(str, v.tied_classes))}: {v.rule}.", size=10)
    elif shown.waiting:
        page.box(
            f"No final class. {shown.heading} ({v.summary.split(' (tie')[0]}). {shown.decided_text()}",
            face="#fff3e0",
            edge="#ef6c00",
            size=11,
        )
    else:
        page.box("No verdict. " + result.quality_message, face="#fff3e0", edge="#ef6c00", size=11)
    page.y += 0.12
    page.text("Votes: each task's class probabilities; its vote is framed", size=10, weight="bold", gap=0.02)
    page.y += 0.45  # room for the column labels drawn above the matrix
    from .plots import plot_vote_matrix

    ax = page.axes(3.0, left=1.0, width=page.width - 1.0)
    plot_vote_matrix(ax, result)
    page.y += 0.3
    _task_table(page, result)


def _task_table(page: _Page, result) -> None:
    cols = [(0.0, "task"), (0.95, "file"), (2.95, "voiced s"), (3.55, "vote"), (3.95, "conf."), (4.4, "notes")]
    x0 = page.left
    y = page.y
    for x, h in cols:
        page.fig.text((x0 + x) / A4[0], page._fy(y), h, fontsize=8, weight="bold", va="top")
    page.y += 0.2
    page.rule()
    rows = {t.task: t for t in result.tasks}
    for task_id in TASK_IDS:
        t = rows.get(task_id)
        if t is None:
            cells = [task_id, "-", "", "", "", "missing"]
        elif t.ok:
            cells = [
                task_id,
                _clip(Path(t.file).name, 34),
                f"{t.trimmed_seconds:.2f}",
                str(t.predicted_class),
                f"{t.confidence:.2f}",
                "; ".join(t.warnings),
            ]
        else:
            cells = [task_id, _clip(Path(t.file).name, 34), "", "-", "", "REJECTED: " + (t.error or "")]
        notes = _fill(cells[-1], width_in=A4[0] - 2 * page.left - cols[-1][0] - 0.05, size=7.5).split("\n")[:3]
        for (x, _), c in zip(cols[:-1], cells[:-1]):
            page.fig.text((x0 + x) / A4[0], page._fy(page.y), c, fontsize=8, va="top")
        page.fig.text(
            (x0 + cols[-1][0]) / A4[0],
            page._fy(page.y),
            "\n".join(notes),
            fontsize=7.5,
            va="top",
            color="#b71c1c" if t is not None and not t.ok else "black",
        )
        page.y += max(1, len(notes)) * 8 * 1.3 / 72 + 0.06


def _page_spectrograms(page: _Page, result, spec, mels: dict) -> None:
    from .plots import plot_spectrogram

    page.text("Spectrograms of the voiced part of each recording", size=13, weight="bold", gap=0.02)
    page.text(
        "mel power in dB, as the model sees it (x: seconds, y: Hz on a mel scale)", size=9, color="#444444", gap=0.02
    )
    page.wrapped(
        f"Computed with the FeatureSpec of the model that made this result: {spec_summary(spec)}",
        size=8,
        color="#444444",
        gap=0.2,
    )
    rows = {t.task: t for t in result.tasks}
    h, gap = 1.75, 0.55
    top = page.y
    colw = (page.width - 0.5) / 2
    for i, task_id in enumerate(TASK_IDS):
        r, c = divmod(i, 2)
        page.y = top + r * (h + gap)
        ax = page.axes(h, left=0.45 + c * (colw + 0.35), width=colw - 0.3)
        t = rows.get(task_id)
        name = get_task(task_id).name
        if task_id in mels and spec is not None:
            title = f"{task_id} ({name}): vote {t.predicted_class}, conf. {t.confidence:.2f}"
            plot_spectrogram(ax, mels[task_id], spec=spec, family=get_task(task_id).family, title=title)
            ax.title.set_fontsize(8.5)
            ax.tick_params(labelsize=7)
            ax.xaxis.label.set_fontsize(7.5)
            ax.yaxis.label.set_fontsize(7.5)
        else:
            changed = t is not None and t.ok and getattr(t, "sha256", None) and sha256_file(t.file) != t.sha256
            why = (
                "missing"
                if t is None
                else ("rejected: " + (t.error or ""))
                if not t.ok
                else "the recording changed or was removed since the analysis"
                if changed
                else "spectrogram not available"
            )
            ax.set_axis_off()
            ax.set_title(f"{task_id} ({name})", fontsize=8.5)
            ax.text(
                0.5,
                0.5,
                textwrap.fill(why, 45),
                ha="center",
                va="center",
                fontsize=8,
                color="#b71c1c",
                transform=ax.transAxes,
            )


def _page_provenance(page: _Page, result, prov: dict, session: Session | None) -> None:
    m = result.model
    page.text("Model that produced this result", size=13, weight="bold", gap=0.08)
    page.text(f"Name: {m.get('name')}   Architecture: {m.get('architecture')}", size=9.5)
    page.wrapped(f"Training data: {m.get('training_data') or 'not stated'}", size=9.5)
    page.text(
        "Trained on synthetic speech: " + ("YES (demonstration only)" if m.get("synthetic", True) else "no"),
        size=9.5,
        color="#c62828" if m.get("synthetic", True) else "black",
    )
    page.text(f"Bundle file: {prov['bundle']['file']}", size=9.5, gap=0.02)
    page.text(f"Bundle SHA-256: {prov['bundle']['sha256']}", size=8, family=MONO)
    page.wrapped(f"Feature spec: {spec_summary(result_spec(result))}", size=8.5)
    device = result.device + (f" ({result.device_note})" if result.device_note else "")
    page.wrapped(f"Computed on: {device}; analysis took {result.elapsed_ms / 1000:.1f} s", size=9.5)
    page.y += 0.15
    page.text("Provenance", size=13, weight="bold", gap=0.08)
    page.text(f"Application: sand_gui {prov['app_version']}   Python {prov['python']}   {prov['platform']}", size=8.5)
    page.text(
        f"Analysed at (UTC): {prov.get('analysed_at') or '-'}   Report generated at (UTC): {prov['generated_at']}",
        size=8.5,
    )
    if session is not None:
        page.text(f"Session folder: {_clip(str(session.folder), 100)}", size=8.5)
    page.y += 0.1
    page.text("SHA-256 of the analysed recordings", size=10, weight="bold", gap=0.06)
    for r in prov["recordings"]:
        note = {"missing": "  (file no longer found)", "changed": "  (file changed since the analysis)"}.get(
            r["status"], ""
        )
        page.text(f"{r['task']:<11} {_clip(Path(r['file']).name, 60)}{note}", size=8, family=MONO, gap=0.0)
        page.text(f"{'':<11} {r['sha256'] or 'file not found'}", size=8, family=MONO, gap=0.05)
    others = [f for f in prov.get("session_files", []) if f["file"] not in {r["file"] for r in prov["recordings"]}]
    if others:
        page.y += 0.1
        page.text("Other takes in the session (not analysed)", size=10, weight="bold", gap=0.06)
        for f in others[:12]:
            page.text(
                f"{_clip(Path(f['file']).name, 40):<40} {f['sha256'] or 'file not found'}", size=7, family=MONO, gap=0.0
            )
        if len(others) > 12:
            page.text(f"... and {len(others) - 12} more (listed in the JSON report)", size=7)


def _os_error_in(exc: BaseException) -> OSError | None:
    """The OSError behind ``exc`` (itself, or its cause/context chain), if any."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, OSError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def write_pdf(
    path,
    result,
    *,
    session: Session | None = None,
    features_by_task: dict | None = None,
    spec=None,
    bundle_path=None,
    measures=None,
    fused=None,
) -> Path:
    """The clinician's PDF (A4, three pages, four with measures): summary with final class (or the quality message),
    vote matrix and task table; mel thumbnails; model and provenance. A red banner when the
    model was trained on synthetic speech; the research-tool disclaimer on every page.

    The model, its checksum and the FeatureSpec are the result's own; the thumbnails are
    computed with the result's spec (``task_spectrograms``). ``spec`` and ``bundle_path`` are
    kept for compatibility and used only for a hand-made result that carries no spec (a
    ``bundle_path`` only when its SHA-256 is the result's). ``features_by_task``: task id ->
    mel dB [shape=(n_mels, t)] already computed with the result's spec. With ``measures`` (or
    ``fused``) a measures page follows the summary (``report_measures.draw_measures_page``).
    """
    from matplotlib import rc_context
    from matplotlib.backends.backend_pdf import PdfPages

    path = Path(path)
    spec = result_spec(result, spec)
    if (
        spec is None
        and bundle_path is not None
        and sha256_file(bundle_path) == bundle_entry(result, bundle_path)["sha256"]
    ):
        from .bundle import read_card

        spec = read_card(bundle_path).spec
    mels = features_by_task
    if mels is None:
        mels = task_spectrograms(result, spec) if spec is not None else {}
    prov = provenance(result, session, bundle_path)
    pid, date = patient_and_date(result, session)
    try:
        with rc_context({"pdf.fonttype": 42, "font.family": "DejaVu Sans"}), atomic_path(path) as part:
            with PdfPages(
                part,
                metadata={
                    "Title": f"SAND assessment {pid} {date}",
                    "Creator": f"sand_gui {__version__}",
                    "Subject": "Research tool, not a diagnosis",
                },
            ) as pdf:
                pages = [
                    lambda p: _page_summary(p, result, session, pid, date, fused),
                    lambda p: rm.draw_measures_page(p, measures, fused=fused),
                    lambda p: _page_spectrograms(p, result, spec, mels),
                    lambda p: _page_provenance(p, result, prov, session),
                ]
                if measures is None and fused is None:
                    del pages[1]
                for number, draw in enumerate(pages, start=1):
                    page = _Page(number, len(pages))
                    draw(page)
                    pdf.savefig(page.fig)
    except StorageError:
        raise
    except Exception as exc:  # the PDF writer may hide a full disk behind its own error
        os_error = _os_error_in(exc)
        if os_error is None:
            raise
        raise storage_error(os_error, path) from None
    return path
