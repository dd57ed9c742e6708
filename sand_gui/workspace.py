"""The workspace: everything the window shows, as a Qt-free model.

One ``Workspace`` holds the open session, the patient, per task the current take (where it
came from, its check result, its status), the loaded model's identity, and the last analysis
with the model and FeatureSpec that produced it (the values: ``workspace_state``). Every change goes through its methods; each
change saves ``session.json`` once (atomically, through ``Session``) and then calls the
subscribed callbacks with a ``Change``. Views read the workspace and call it; they keep no task
state of their own (the napari pattern: a model that knows, widgets that show).

Slow work (checking a file, analysing, exporting) is handed to a *runner*:
``runner(fn, *args, done=callback, progress=None, **kwargs)`` runs ``fn`` somewhere and calls
``done(value, exc)`` on the thread that owns the workspace (the jobs and the default runner:
``workspace_jobs``). The runner decides *where*; the workspace decides *what*.

The Praat measures (``measuring.run_measures``) start with each analysis, on the same
recordings, in a separate process so that they run beside the network; they are dropped when
the session or a measured recording changes (an answer that comes later does not count), and
the fused verdict (``fusion``) is made once both are in. ``measures_error`` says why there are
none (e.g. ``MeasuresUnavailable`` without parselmouth): a state to show, not a failure.

Nothing here imports Qt, numpy or torch at import time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from .decision import patient_class
from .errors import SandError, UsageError, one_line
from .measuring import fuse_if_possible, measuring_processes, run_measures
from .session import Session, unfinished_sessions
from .tasks import TASK_IDS, get_task
from .workspace_jobs import Checked, check_recording, default_spec, export_report, run_analysis, run_now
from .workspace_state import Analysis, Change, ModelIdentity, Source, TaskState, TaskStatus, source_of

log = logging.getLogger("sand_gui")

RESULT_FILE = "last_result.json"


class Workspace:
    """The state of the window, without the window. Call it from one thread only."""

    def __init__(
        self, *, data_dir: Path, runner: Callable = run_now, before_import: Callable[[], object] = lambda: None
    ):
        """``runner``: where slow work runs (see the module's docstring). ``before_import`` is
        called before the workspace itself imports a numpy-based module (the default
        FeatureSpec), so that a window can first let its one background importer finish."""
        self.data_dir = Path(data_dir)
        self.runner = runner
        self.before_import = before_import
        self.session: Session | None = None
        self.tasks: dict[str, TaskState] = {t: TaskState(t) for t in TASK_IDS}
        self.classifier = None  # sand_gui.model.Classifier, once loaded
        self.model: ModelIdentity | None = None
        self.card_spec = None  # the FeatureSpec of a card read before its model loaded
        self.analysis: Analysis | None = None
        self.analysing = False
        self.error: BaseException | None = None  # the failure of the last analysis or export, if it failed
        self.measures = None  # measures.PatientMeasures of ``measured_recordings``
        self.measures_error: BaseException | None = None  # why there are none (e.g. MeasuresUnavailable)
        self.measuring = False
        self.measures_progress: tuple | None = None  # (done, total, task id) of the running measures
        self.measured_recordings: dict = {}  # task id -> file, of the measures shown or being computed
        self.fused = None  # fusion.FusedVerdict of the analysis and the measures, when the bundle has one
        # processes for the measures; 0 (in the runner's thread) with the default runner, where
        # nothing runs in parallel anyway
        self.measure_workers = 0 if runner is run_now else measuring_processes()
        self._measure_token: object | None = None
        self._measure_job = None  # what the runner returned for the running measures (``cancel()``)
        self._callbacks: list[Callable] = []
        self._tokens: dict[str, object] = {}  # task id -> the check whose answer counts
        self._pending: list[tuple] = []  # checks queued while a session opens

    # -- observers ---------------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[Change, str | None], None]) -> Callable[[], None]:
        """Call ``callback(change, task_id)`` after every change; returns the unsubscribe function."""
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback) if callback in self._callbacks else None

    def _emit(self, change: Change, task_id: str | None = None) -> None:
        for cb in list(self._callbacks):
            cb(change, task_id)

    def task(self, task_id: str) -> TaskState:
        return self.tasks[get_task(task_id).id]

    @property
    def spec(self):
        """The FeatureSpec files are checked and shown with: the model's, its card's, else the default."""
        if self.model is not None:
            return self.model.spec
        if self.card_spec is not None:
            return self.card_spec
        self.before_import()
        return default_spec()

    def recordings(self) -> dict[str, Path]:
        """Task id -> the file each task uses now (rejected ones too: the result says why)."""
        return {t: s.file for t, s in self.tasks.items() if s.file is not None and s.status is not TaskStatus.RECORDING}

    # -- session -------------------------------------------------------------------------------------
    def new_session(self, patient_id: str, *, age=None, sex=None, date: str | None = None) -> Session:
        """Start a session for one patient (UsageError on a bad ID); the previous one is closed."""
        session = Session.create(self.data_dir, patient_id, age=age, sex=sex, date=date or None)
        self._replace_session(session)
        self._emit(Change.SESSION)
        return session

    def reopen(self, folder: Path) -> Session:
        """Reopen a session folder (one sentence when it cannot be read); its takes are checked again."""
        session = Session.load(Path(folder))
        self._replace_session(session)
        for t in TASK_IDS:
            path = session.current(t)
            if path is not None:
                self._check(
                    t, Path(path), source_of(session, t, Path(path)), take=len(session.takes.get(t, [])), announce=False
                )
        self._emit(Change.SESSION)
        self._run_pending()
        return session

    def unfinished(self) -> list[Path]:
        """Session folders a killed application left unfinished, newest first."""
        return unfinished_sessions(self.data_dir)

    def close(self) -> None:
        """Leave the session: it counts as finished once it has a result (one save then)."""
        if self.session is not None and self.analysis is not None and not self.session.finished:
            self.session.finish()

    def _replace_session(self, session: Session) -> None:
        self.close()
        self.session = session
        self.tasks = {t: TaskState(t) for t in TASK_IDS}
        self._tokens.clear()
        self._pending = []
        self.analysis = None
        self.stop_measuring()
        self.measures, self.measures_error, self.measured_recordings, self.fused = None, None, {}, None

    def _need_session(self) -> Session:
        if self.session is None:
            raise UsageError("No session is open: start one (Session > New session) first.")
        return self.session

    # -- takes ---------------------------------------------------------------------------------------
    def load(self, task_id: str, path: Path) -> TaskState:
        """Use a file for a task (the session records it, once); checked by the runner."""
        session = self._need_session()
        tid = get_task(task_id).id
        session.set_loaded(tid, Path(path))
        current = session.current(tid) or Path(path)  # the session may keep its own copy
        return self._check(tid, Path(current), Source.LOADED, take=len(session.takes.get(tid, [])))

    def begin_recording(self, task_id: str) -> Path:
        """The file a new take of ``task_id`` is written to; the task shows as recording."""
        session = self._need_session()
        tid = get_task(task_id).id
        path = session.next_take_path(tid)
        self._tokens.pop(tid, None)
        self._recording_changed(tid, None)
        self.tasks[tid] = TaskState(tid, TaskStatus.RECORDING, Source.RECORDED, None)
        self._emit(Change.TASK, tid)
        return path

    def recorded(self, task_id: str, path: Path) -> TaskState:
        """A take was written to ``path``: the session records it (once) and it is checked."""
        session = self._need_session()
        tid = get_task(task_id).id
        session.add_take(tid, Path(path))
        return self._check(tid, Path(path), Source.RECORDED, take=len(session.takes.get(tid, [])))

    def recording_discarded(self, task_id: str) -> TaskState:
        """Nothing was recorded: the task goes back to its previous take, if any (nothing saved)."""
        tid = get_task(task_id).id
        prev = self.session.current(tid) if self.session is not None else None
        if prev is None:
            self.tasks[tid] = TaskState(tid)
            self._emit(Change.TASK, tid)
            return self.tasks[tid]
        return self._check(
            tid, Path(prev), source_of(self.session, tid, Path(prev)), take=len(self.session.takes.get(tid, []))
        )

    def _check(self, tid: str, path: Path, source: Source, *, take: int | None, announce: bool = True) -> TaskState:
        self._recording_changed(tid, path)
        spec = self.spec
        token = object()
        self._tokens[tid] = token
        self.tasks[tid] = TaskState(tid, TaskStatus.CHECKING, source, path, take, spec=spec)
        if announce:
            self._emit(Change.TASK, tid)
        job = (check_recording, path, spec, lambda value, exc: self._checked(tid, token, value, exc))
        if announce:
            self._start_check(job)
        else:
            self._pending.append(job)
        return self.tasks[tid]

    def _start_check(self, job) -> None:
        fn, path, spec, done = job
        self.runner(fn, path, spec, done=done)

    def _run_pending(self) -> None:
        pending, self._pending = self._pending, []
        for job in pending:
            self._start_check(job)

    def _checked(self, tid: str, token, value: Checked | None, exc: BaseException | None) -> None:
        if self._tokens.get(tid) is not token:  # a newer file (or a new session) replaced it
            return
        del self._tokens[tid]
        state = self.tasks[tid]
        if exc is not None:
            reason = (
                str(exc)
                if isinstance(exc, SandError)
                else (
                    f"{one_line(state.file.name)}: unexpected error while checking ({exc.__class__.__name__}: {one_line(exc)})."
                )
            )
            if not isinstance(exc, SandError):
                log.error("check of %s failed", state.file, exc_info=(type(exc), exc, exc.__traceback__))
            self.tasks[tid] = replace(
                state, status=TaskStatus.REJECTED, error=reason, error_code=getattr(exc, "code", None)
            )
            if self.session is not None and self.session.current(tid) == state.file:
                self.session.reject(tid, reason)  # the one save of this change
        else:
            self.tasks[tid] = replace(
                state,
                status=TaskStatus.READY,
                seconds=value.seconds,
                voiced_seconds=value.voiced_seconds,
                notes=tuple(value.notes),
            )
            if self.session is not None and tid in self.session.rejected and self.session.current(tid) == state.file:
                del self.session.rejected[tid]  # usable with this model after all
                self.session.save()
        self._emit(Change.TASK, tid)

    # -- model ---------------------------------------------------------------------------------------
    def set_card(self, card) -> None:
        """A model's card is known (its weights are still loading): files are checked with its spec."""
        self.card_spec = card.spec
        self._emit(Change.MODEL)

    def set_model(self, classifier) -> ModelIdentity:
        """Use ``classifier`` from now on. Takes checked with another FeatureSpec are checked again,
        so what the task list says holds for this model. The last analysis keeps its own model."""
        self.classifier = classifier
        self.model = ModelIdentity.of(classifier)
        self.card_spec = classifier.spec
        self._emit(Change.MODEL)
        for tid, state in list(self.tasks.items()):
            if state.file is None or state.spec in (None, self.model.spec):
                continue
            if state.status in (TaskStatus.READY, TaskStatus.REJECTED):
                self._check(tid, state.file, state.source or Source.LOADED, take=state.take)
        return self.model

    @property
    def analysis_is_current(self) -> bool:
        """True when the last analysis was made by the model now loaded."""
        return self.analysis is not None and self.model is not None and self.analysis.model.sha256 == self.model.sha256

    # -- analysis ------------------------------------------------------------------------------------
    def analyse(self, *, progress=None, done: Callable | None = None) -> bool:
        """Analyse the current takes with the loaded model (in the runner); False when there is
        nothing to analyse yet. ``done(analysis, exc)`` is called after the workspace has taken
        the result (or the failure)."""
        if self.classifier is None:
            raise UsageError("No model is loaded; choose a model bundle in Settings.")
        if self.analysing:
            return False
        recordings = self.recordings()
        if not recordings:
            return False
        model = self.model
        self.analysing = True
        self.measure(recordings)  # in parallel with the network, in another process
        self._emit(Change.ANALYSIS)
        self.runner(
            run_analysis,
            recordings,
            self.classifier,
            progress=progress,
            done=lambda value, exc: self._analysed(model, recordings, value, exc, done),
        )
        return True

    def _analysed(self, model: ModelIdentity, recordings: dict, result, exc, done) -> None:
        self.analysing = False
        self.error = exc
        if exc is not None and done is None:
            log.error("analysis failed: %s", exc)
        if exc is None:
            self.analysis = Analysis(result, model, dict(recordings))
            self._reject_from(result)
            self._update_fused()
            self._keep_result(result)
        self._emit(Change.ANALYSIS)
        if done is not None:
            done(self.analysis if exc is None else None, exc)

    def _reject_from(self, result) -> None:
        """The analysis may meet a problem the check on load did not: those tasks become rejected
        (the session saved once for all of them)."""
        changed = []
        for t in result.tasks:
            state = self.tasks.get(t.task)
            if t.error and state is not None and state.status is not TaskStatus.REJECTED and str(state.file) == t.file:
                self.tasks[t.task] = replace(state, status=TaskStatus.REJECTED, error=t.error)
                if self.session is not None:
                    self.session.rejected[t.task] = t.error
                changed.append(t.task)
        if changed and self.session is not None:
            self.session.save()
        for tid in changed:
            self._emit(Change.TASK, tid)

    def _keep_result(self, result) -> None:
        """The last result beside the recordings (nothing lost when the window closes)."""
        if self.session is None:
            return
        try:
            from .report import write_json

            measures, fused = self.report_measures()
            write_json(
                Path(self.session.folder) / RESULT_FILE, result, session=self.session, measures=measures, fused=fused
            )
        except Exception as exc:  # noqa: BLE001 - never lose the result on screen over this
            log.warning("could not save the result in the session folder: %s", exc)

    # -- Praat measures ------------------------------------------------------------------------------
    def measure(self, recordings: dict | None = None) -> bool:
        """Start the Praat measures of ``recordings`` (default: the current takes) in the runner,
        in ``measure_workers`` separate processes; a running one is stopped first (its answer
        will not count). False when there is nothing to measure."""
        recordings = dict(self.recordings() if recordings is None else recordings)
        self.stop_measuring()
        if not recordings:
            return False
        token = self._measure_token = object()
        self.measuring, self.measures, self.measures_error, self.fused = True, None, None, None
        self.measured_recordings, self.measures_progress = recordings, (0, len(recordings), "")
        self._emit(Change.MEASURES)
        sex = self.session.sex if self.session is not None else None
        self._measure_job = self.runner(
            run_measures,
            recordings,
            self.spec,
            sex=sex,
            workers=self.measure_workers,
            progress=lambda *args: self._measure_progress(token, *args),
            done=lambda value, exc: self._measured(token, value, exc),
        )
        return True

    def stop_measuring(self) -> None:
        """Stop the running measures: its answer is dropped when it comes (the runner's job is
        also cancelled, when it can be: the current task still finishes in its process)."""
        if not self.measuring:
            return
        job, self._measure_job, self._measure_token = self._measure_job, None, None
        self.measuring, self.measures_progress = False, None
        if hasattr(job, "cancel"):
            job.cancel()
        self._emit(Change.MEASURES)

    def _recording_changed(self, tid: str, path: Path | None) -> None:
        """A task's file changes: running measures of another file for it are stale."""
        if self.measuring and tid in self.measured_recordings and self.measured_recordings[tid] != path:
            self.stop_measuring()

    def _measure_progress(self, token, *args) -> None:
        if token is not self._measure_token:
            return
        self.measures_progress = tuple(args[0] if len(args) == 1 else args)
        self._emit(Change.MEASURES)

    def _measured(self, token, value, exc) -> None:
        if token is not self._measure_token:  # stopped, or a newer measuring replaced it
            return
        self._measure_token, self._measure_job, self.measuring, self.measures_progress = None, None, False, None
        self.measures, self.measures_error = value, exc
        if exc is not None and not isinstance(exc, SandError):
            log.error("measures failed", exc_info=(type(exc), exc, exc.__traceback__))
        self._update_fused()
        if self.analysis is not None and self.measured_recordings == self.analysis.recordings:
            self._keep_result(self.analysis.result)
        self._emit(Change.MEASURES)

    def _update_fused(self) -> None:
        """The fused verdict, once the analysis and the measures of the same recordings are in."""
        a, done = self.analysis, self.measures is not None or self.measures_error is not None
        same = a is not None and done and self.measured_recordings == a.recordings
        clf = self.classifier if self.analysis_is_current else None  # the fusion of the model that made the result
        self.fused = fuse_if_possible(clf, a.result, self.measures_error or self.measures) if same else None

    def decision(self):
        """The patient's class to show for the last analysis (``decision.PatientClass``: the fused
        verdict's class when the bundle has a measures model, else the vote), or None."""
        a = self.analysis
        if a is None:
            return None
        card = self.classifier.card if self.analysis_is_current and self.classifier is not None else None
        labels = dict(zip(card.class_numbers, card.class_labels)) if card is not None else None
        return patient_class(a.result, self.fused, labels=labels)

    def report_measures(self) -> tuple:
        """``(measures, fused)`` for the report of the last analysis: its measures (or why there
        are none) when they are of the recordings it analysed, else None."""
        a = self.analysis
        if a is None or self.measuring or self.measured_recordings != a.recordings:
            return None, None
        return (self.measures_error if self.measures is None else self.measures), self.fused

    # -- export --------------------------------------------------------------------------------------
    def export(self, base: Path, *, done: Callable | None = None) -> None:
        """Write the report of the last analysis: it describes the model that made the result and
        draws its spectrograms with that result's FeatureSpec, whatever model is loaded now."""
        if self.analysis is None:
            raise UsageError("Analyse first; then the report can be exported.")
        analysis = self.analysis
        measures, fused = self.report_measures()
        self.runner(
            export_report,
            Path(base),
            analysis.result,
            session=self.session,
            spec=analysis.spec,
            measures=measures,
            fused=fused,
            done=lambda value, exc: self._exported(value, exc, done),
        )

    def _exported(self, paths, exc, done) -> None:
        self.error = exc
        if exc is not None and done is None:
            log.error("export failed: %s", exc)
        if exc is None:
            if self.session is not None and not self.session.finished:
                self.session.finish()
            self._emit(Change.EXPORTED)
        if done is not None:
            done(paths, exc)
