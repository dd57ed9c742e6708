"""Running the Praat measures beside the network: in other processes, stoppable, and fused.

Praat (parselmouth) holds Python's GIL while it computes (seconds for a vowel's CPPS), so a
thread of the window or of ``sand-gui analyze`` that called it would stall the interface and
the network. ``run_measures`` therefore measures each task in a spawned process and only
*waits* in the calling thread; the network runs meanwhile. A ``progress`` callback that raises
(a cancelled worker) stops it after the task under way: tasks not yet started are dropped.

``fuse_if_possible`` is the one place that asks ``fusion`` for a fused verdict, for the window
and the command line alike. Qt-free.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from .errors import SandError

log = logging.getLogger("sand_gui")


def run_measures(
    recordings: Mapping[str, str | Path],
    spec,
    *,
    sex=None,
    workers: int = 1,
    progress: Callable[..., None] | None = None,
):
    """``PatientMeasures`` of ``recordings`` (task id -> file) measured as the model loads them
    (``spec``). ``workers`` >= 1: in that many spawned processes, ``progress(done, total,
    task)`` after each task; 0: in this thread (``measures.measure_patient``). A missing Praat
    raises ``MeasuresUnavailable`` before any process starts."""
    from .measures import measure_patient

    if workers < 1:
        return measure_patient(recordings, spec=spec, sex=sex, progress=progress)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    from .measures import PatientMeasures, measure_recording, normalise_sex, settings_for, vowel_space_area
    from .measures.patient import unusable
    from .measures.settings import software_versions
    from .tasks import PHONATION, TASK_IDS, get_task

    t0 = time.perf_counter()
    versions, sex = software_versions(), normalise_sex(sex)  # MeasuresUnavailable here, before any process
    settings = settings_for(sex=sex, sample_rate=spec.sample_rate)
    todo = sorted((t for t in TASK_IDS if t in recordings), key=lambda t: get_task(t).family != PHONATION)
    pool = ProcessPoolExecutor(
        max_workers=max(1, min(workers, len(todo))), mp_context=multiprocessing.get_context("spawn")
    )
    by_task = {}
    try:
        futures = {pool.submit(measure_recording, recordings[t], task_id=t, spec=spec, sex=sex): t for t in todo}
        for done, future in enumerate(as_completed(futures), start=1):
            task_id = futures[future]
            try:
                by_task[task_id] = future.result()
            except BrokenProcessPool:
                name = Path(recordings[task_id]).name
                reason = f"{name}: the measuring process stopped unexpectedly."
                by_task[task_id] = unusable(task_id, file=str(recordings[task_id]), settings=settings, reason=reason)
            if progress is not None:
                progress(done, len(todo), task_id)  # may raise: a cancelled worker stops here
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)  # only the task under way still finishes
        raise
    pool.shutdown(wait=True)
    return PatientMeasures(
        tasks=[by_task[t] for t in TASK_IDS if t in by_task],
        across=[vowel_space_area(by_task)],
        sex=sex,
        settings=settings.to_dict(),
        software=versions,
        elapsed_ms=1000 * (time.perf_counter() - t0),
        missing_tasks=[t for t in TASK_IDS if t not in recordings],
    )


def fuse_if_possible(classifier, result, measures):
    """The fused verdict (``fusion.fuse``) when the classifier's bundle has a measures model and
    the result has a verdict; else None. ``measures`` may be a PatientMeasures, an exception
    (why there are none) or None. A fusion that cannot be read is logged, never fatal here."""
    if classifier is None or result is None or getattr(result, "verdict", None) is None:
        return None
    try:
        from .fusion import Fusion, fuse

        fusion = Fusion.from_bundle(classifier.bundle)
        if fusion is None:
            return None
        return fuse(result, measures if hasattr(measures, "across") else None, fusion)
    except (ImportError, AttributeError, SandError) as exc:
        log.warning("no fused verdict: %s", exc)
        return None
