"""From recordings to measures: the same load and trim as the model, then Praat.

``measure_recording`` loads a file with ``audio.load_recording`` at the model's sample rate and
band limit and keeps the range ``features.trim`` keeps (the waveform the network sees);
``measure_patient`` does that for each task and adds the measures across tasks. A recording
that cannot be used is reported in its own row (every measure "not measurable", with the
loader's sentence as the reason), never fatal; a missing Praat raises ``MeasuresUnavailable``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from ..audio import load_recording
from ..errors import SandError, one_line
from ..features import FeatureSpec, trim
from ..quality import Code
from ..tasks import PHONATION, TASK_IDS, get_task
from .ddk import measure_ddk
from .results import (
    DDK_MEASURES,
    VOWEL_MEASURES,
    Measure,
    PatientMeasures,
    TaskMeasures,
    Why,
    measured,
    not_measurable,
)
from .settings import (
    MeasuresUnavailable,
    Settings,
    normalise_sex,
    praat,
    settings_for,
    software_versions,
)
from .voice import measure_vowel

TRIANGLE = ("phonationA", "phonationI", "phonationU")  # corners of the vowel space


def measure_task(
    samples: np.ndarray,
    *,
    sample_rate: int,
    task_id: str,
    sex: object = None,
    settings: Settings | None = None,
    file: str = "",
) -> TaskMeasures:
    """Measures of one trimmed waveform [shape=(n,)] of task ``task_id``."""
    t0 = time.perf_counter()
    task = get_task(task_id)
    settings = settings or settings_for(sex=sex, sample_rate=sample_rate)
    samples = np.asarray(samples, dtype=np.float64).reshape(-1)
    if not np.isfinite(samples).all():
        return unusable(
            task.id,
            file=file,
            settings=settings,
            code=Code.NON_FINITE.value,
            reason=f"{one_line(file or task.id)}: the samples contain NaN or infinite values.",
        )
    times: list[float] = []
    if task.family == PHONATION:
        measures = measure_vowel(samples, sample_rate=sample_rate, task_id=task.id, settings=settings)
    else:
        measures, times = measure_ddk(samples, sample_rate=sample_rate, task_id=task.id, settings=settings)
    return TaskMeasures(
        task=task.id,
        file=file,
        measures=measures,
        settings=settings.to_dict(),
        sample_rate=sample_rate,
        syllable_times=times,
        elapsed_ms=1000 * (time.perf_counter() - t0),
    )


def unusable(task_id: str, *, file: str, reason: str, settings: Settings, code: str | None = None) -> TaskMeasures:
    """A row for a recording that cannot be used: every measure not measurable, with ``reason``
    (and the loader's ``quality.Code`` value as ``error_code`` when it gave one)."""
    task = get_task(task_id)
    keys = VOWEL_MEASURES if task.family == PHONATION else DDK_MEASURES
    measures = [not_measurable(k, task_id=task.id, why=Why.RECORDING, reason=reason) for k in keys]
    return TaskMeasures(
        task=task.id,
        file=file,
        measures=measures,
        settings=settings.to_dict(),
        sample_rate=settings.sample_rate,
        error=reason,
        error_code=code,
    )


def measure_recording(path: str | Path, *, task_id: str, spec: FeatureSpec, sex: object = None) -> TaskMeasures:
    """Load ``path`` as the model does (``spec``'s rate, band limit and trim) and measure it."""
    praat()  # MeasuresUnavailable before any work, and never mistaken for a bad recording
    path = Path(path)
    settings = settings_for(sex=sex, sample_rate=spec.sample_rate)
    try:
        rec = load_recording(path, sample_rate=spec.sample_rate, bandlimit_hz=spec.bandlimit_hz)
        voiced = trim(rec.samples, spec=spec, name=path.name, family=get_task(task_id).family)
    except MeasuresUnavailable:
        raise
    except SandError as exc:
        code = getattr(exc, "code", None)
        return unusable(
            task_id,
            file=str(path),
            reason=str(exc),
            settings=settings,
            code=None if code is None else str(getattr(code, "value", code)),
        )
    result = measure_task(
        rec.samples[voiced.start : voiced.stop],
        sample_rate=spec.sample_rate,
        task_id=task_id,
        settings=settings,
        file=str(path),
    )
    result.voiced, result.warnings = (voiced.start, voiced.stop), list(rec.warnings)
    return result


def triangle_area(points: list[tuple[float, float]]) -> float:
    """Area of the triangle through three (F1, F2) points [Hz], in Hz² (shoelace formula)."""
    (x1, y1), (x2, y2), (x3, y3) = points
    return abs(x1 * (y2 - y3) + x2 * (y3 - y1) + x3 * (y1 - y2)) / 2.0


def _from_formants(key: str, tasks: Mapping[str, TaskMeasures], wanted, formula, *, method: str, what: str) -> Measure:
    """``formula`` of the ``wanted`` median formants ((task, "f1_hz"|"f2_hz") pairs, read as a
    mapping of the same pairs to Hz); not measurable (``Why.MISSING``) naming, in task order, the
    vowels whose ``what`` is missing."""
    values, missing = {}, set()
    for task_id, name in wanted:
        t = tasks.get(task_id)
        m = t.get(name) if t is not None else None
        if m is None or not m.measurable or m.value is None or m.value <= 0:
            missing.add(task_id)
        else:
            values[(task_id, name)] = float(m.value)
    if missing:
        names = ", ".join(t for t in TASK_IDS if t in missing)
        return not_measurable(
            key, task_id="", why=Why.MISSING, method=method, reason=f"{what} not measurable for {names}."
        )
    return measured(key, formula(values), task_id="", method=method)


A, I, U = TRIANGLE
VSA_METHOD = "triangle (shoelace) through the median (F1, F2) of phonationA, phonationI and phonationU"
FCR_METHOD = "Sapir et al. 2010 (JSLHR 53:114-125): (F2u + F2a + F1i + F1u) / (F2i + F1a), median formants"
F2_RATIO_METHOD = "Sapir et al. 2010 (JSLHR 53:114-125): F2 of /i/ over F2 of /u/, median formants"


def vowel_space_area(tasks: Mapping[str, TaskMeasures]) -> Measure:
    """The /a/-/i/-/u/ triangle area from each vowel's median F1 and F2; not measurable
    (``Why.MISSING``) naming the vowels whose formants are missing."""
    wanted = tuple((t, f) for t in TRIANGLE for f in ("f1_hz", "f2_hz"))
    area = lambda f: triangle_area([(f[(t, "f1_hz")], f[(t, "f2_hz")]) for t in TRIANGLE])  # noqa: E731
    return _from_formants("vowel_space_area", tasks, wanted, area, method=VSA_METHOD, what="F1/F2")


def formant_centralization_ratio(tasks: Mapping[str, TaskMeasures]) -> Measure:
    """FCR = (F2u + F2a + F1i + F1u) / (F2i + F1a) (Sapir, Ramig, Spielman & Fox 2010): rises as
    the corner vowels centralise. A ratio, so a longer or shorter vocal tract scales numerator and
    denominator alike; unlike the vowel space area it was not sex sensitive in their data."""
    wanted = ((U, "f2_hz"), (A, "f2_hz"), (I, "f1_hz"), (U, "f1_hz"), (I, "f2_hz"), (A, "f1_hz"))

    def fcr(f):
        return (f[U, "f2_hz"] + f[A, "f2_hz"] + f[I, "f1_hz"] + f[U, "f1_hz"]) / (f[I, "f2_hz"] + f[A, "f1_hz"])

    return _from_formants("formant_centralization_ratio", tasks, wanted, fcr, method=FCR_METHOD, what="F1/F2")


def f2_ratio(tasks: Mapping[str, TaskMeasures]) -> Measure:
    """F2i / F2u (Sapir et al. 2010): falls as /i/ and /u/ move towards each other."""
    wanted = ((I, "f2_hz"), (U, "f2_hz"))
    ratio = lambda f: f[I, "f2_hz"] / f[U, "f2_hz"]  # noqa: E731
    return _from_formants("f2i_f2u_ratio", tasks, wanted, ratio, method=F2_RATIO_METHOD, what="F2")


def across_measures(tasks: Mapping[str, TaskMeasures]) -> list[Measure]:
    """The measures across tasks, in ``PATIENT_MEASURES`` order: the vowel space area, the
    formant centralisation ratio and the F2i/F2u ratio (the app, training and reports use this)."""
    return [vowel_space_area(tasks), formant_centralization_ratio(tasks), f2_ratio(tasks)]


def measure_patient(
    recordings: Mapping[str, str | Path],
    *,
    spec: FeatureSpec,
    sex: object = None,
    workers: int = 0,
    progress: Callable[[int, int, str], None] | None = None,
) -> PatientMeasures:
    """Measures of up to eight recordings (task id -> file) of one patient of ``sex`` (M/F/None).

    ``workers`` = 0 measures in this process; N >= 1 measures the tasks in N separate processes.
    Praat (parselmouth) holds Python's GIL while it computes (up to seconds for CPPS), so a
    window that measures in a worker thread of its own process freezes; with ``workers`` >= 1
    that thread only waits, and the tasks also run in parallel with each other and with the
    network. ``progress(i, n, task)`` is called as each task starts (``workers`` = 0) or ends.
    Each task is independent: a bad file gives a row with its reason; only a missing Praat
    raises (``MeasuresUnavailable``).
    """
    t0 = time.perf_counter()
    versions = software_versions()
    sex_key = normalise_sex(sex)
    settings = settings_for(sex=sex_key, sample_rate=spec.sample_rate)
    todo = [t for t in TASK_IDS if t in recordings]
    if workers and workers > 0 and todo:
        by_task = _measure_in_processes(
            recordings, todo, spec=spec, sex=sex_key, workers=workers, settings=settings, progress=progress
        )
    else:
        by_task = {}
        for i, task_id in enumerate(todo):
            if progress:
                progress(i, len(todo), task_id)
            by_task[task_id] = measure_recording(recordings[task_id], task_id=task_id, spec=spec, sex=sex_key)
    rows = [by_task[t] for t in todo]
    return PatientMeasures(
        tasks=rows,
        across=across_measures(by_task),
        sex=sex_key,
        settings=settings.to_dict(),
        software=versions,
        elapsed_ms=1000 * (time.perf_counter() - t0),
        missing_tasks=[t for t in TASK_IDS if t not in recordings],
    )


def _measure_in_processes(recordings, todo, *, spec, sex, workers, settings, progress) -> dict[str, TaskMeasures]:
    """``measure_recording`` of each task in a pool of ``workers`` spawned processes (spawn,
    not fork: safe beside Qt's and torch's threads). Vowels (the slow ones) are submitted first.
    A process that dies gives its task a row with the reason. ``progress`` may raise to stop
    (a cancelled worker): the tasks not started are dropped, the one under way still finishes."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    order = sorted(todo, key=lambda t: get_task(t).family != PHONATION)
    out: dict[str, TaskMeasures] = {}
    pool = ProcessPoolExecutor(
        max_workers=max(1, min(workers, len(todo))), mp_context=multiprocessing.get_context("spawn")
    )
    try:
        futures = {pool.submit(measure_recording, recordings[t], task_id=t, spec=spec, sex=sex): t for t in order}
        for done, future in enumerate(as_completed(futures), start=1):
            task_id = futures[future]
            try:
                out[task_id] = future.result()
            except BrokenProcessPool:
                out[task_id] = unusable(
                    task_id,
                    file=str(recordings[task_id]),
                    settings=settings,
                    reason=f"{Path(recordings[task_id]).name}: the measuring process stopped unexpectedly.",
                )
            if progress:
                progress(done, len(todo), task_id)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return out
