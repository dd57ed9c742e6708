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
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from .errors import SandError

log = logging.getLogger("sand_gui")


def measuring_processes(cpus: int | None = None) -> int:
    """How many processes measure a patient beside the window or ``sand-gui analyze``: one on a
    machine of two or three cores (the network and the interface keep a core), two from four up.
    Measured on the 2-core VM (benchmarks/bench_measures.py, idle, 2026-11-28): beside the network,
    two processes finish the eight tasks in 6.7 s against 7.9 s with one (each costs ~1 s to start)."""
    cpus = os.cpu_count() if cpus is None else cpus
    return 2 if (cpus or 1) >= 4 else 1


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

    return measure_patient(recordings, spec=spec, sex=sex, workers=max(0, workers), progress=progress)


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
