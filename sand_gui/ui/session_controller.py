"""Sessions and what fills them: new, reopen, files, folders, SAND datasets, demo patients.

Asks the user through dialogs (each with a ``@classmethod ask`` tests replace), then calls
the workspace; it keeps no task state. One patient per analysis: a folder holding several
patients' recordings asks which patient (``PatientChoiceDialog``). A dataset's or demo
patient's true class is offered in that dialog only when the user switched "Show labels"
on (View menu): seeing the class first biases the reader.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel, QWidget

from ..errors import DatasetError, SandError, one_line
from ..tasks import patient_id_from_filename, task_from_filename
from ..workspace import Workspace
from .dialogs import (
    OpenFilesDialog,
    OpenFolderDialog,
    PatientChoiceDialog,
    TaskChoiceDialog,
)
from .messages import MessageBox, user_text
from .session_dialog import NewSessionDialog, ReopenDialog
from .settings import Settings


def demo_dir() -> Path:
    """The shipped synthetic demo patients (a SAND-layout folder)."""
    from .. import resources

    return resources.demo_dir()


def describe(patient, *, show_labels: bool) -> str:
    """What the patient chooser says of a patient: sex and age, the class only when asked for."""
    if patient is None:
        return ""
    parts = [
        f"class {patient.label}" if show_labels and patient.label else "",
        patient.sex or "",
        f"{patient.age} y" if patient.age else "",
    ]
    return " · ".join(p for p in parts if p)


class SessionController(QObject):
    opened = Signal()  # a session was created or reopened

    def __init__(self, workspace: Workspace, settings: Settings, label: QLabel, window: QWidget):
        super().__init__(window)
        self.workspace, self.settings, self.label, self.window = workspace, settings, label, window
        self.before_change = lambda: True  # the window vetoes while recording
        self.show_session()

    # -- sessions ----------------------------------------------------------------------------------
    def new_session(self, *, patient_id: str = "", age=None, sex=None) -> bool:
        info = NewSessionDialog.ask(self.window, patient_id=patient_id, age=age, sex=sex)
        if info is None:
            return False
        try:
            self.workspace.data_dir = self.settings.data_dir
            self.workspace.new_session(info.patient_id, age=info.age, sex=info.sex, date=info.date or None)
        except (SandError, OSError) as exc:
            MessageBox.error(self.window, exc)
            return False
        self.show_session()
        self.opened.emit()
        return True

    def ensure_session(self, patient_id: str = "") -> bool:
        return self.workspace.session is not None or self.new_session(patient_id=patient_id)

    def reopen(self, folder: Path) -> bool:
        try:
            self.workspace.reopen(folder)
        except (SandError, OSError, ValueError) as exc:
            MessageBox.show(self.window, f"The session in {one_line(folder)} cannot be reopened: {user_text(exc)}")
            return False
        self.show_session()
        self.opened.emit()
        return True

    def offer_unfinished(self) -> None:
        """At start-up: offer to reopen a session the application did not finish."""
        self.workspace.data_dir = self.settings.data_dir
        try:
            folders = self.workspace.unfinished()
        except (SandError, OSError):
            return
        if folders:
            folder = ReopenDialog.ask(self.window, folders)
            if folder is not None:
                self.reopen(folder)

    def show_session(self) -> None:
        s = self.workspace.session
        if s is None:
            self.label.setText("<b>No session</b> — Ctrl+N to start one, or drop recordings on the list.")
            self.label.setToolTip(f"Sessions are kept in {self.settings.data_dir}")
            return
        extra = " · ".join(x for x in (f"age {s.age}" if s.age else "", s.sex or "") if x)
        self.label.setText(f"<b>Patient {s.patient_id}</b> · {s.date}{' · ' + extra if extra else ''}")
        self.label.setToolTip(f"Session folder: {s.folder}")

    # -- files ---------------------------------------------------------------------------------------
    def load_files_dialog(self) -> None:
        start = self.workspace.session.folder if self.workspace.session else Path.home()
        files = OpenFilesDialog.ask(self.window, start)
        if files:
            self.load_files(files)

    def load_files(self, paths: list[Path], *, drop_task: str | None = None) -> list[str]:
        """Assign files to tasks (from their names, else asked) and load them; the tasks loaded."""
        files = sorted(p for p in paths if not p.is_dir())
        for folder in (p for p in paths if p.is_dir()):
            self.open_folder(folder)
        assigned: dict[str, Path] = {}
        for f in files:
            task = task_from_filename(f)
            task_id = (
                task.id
                if task
                else TaskChoiceDialog.ask(self.window, f, default=drop_task if len(files) == 1 else None)
            )
            if task_id is not None:
                assigned[task_id] = f
        if not assigned:
            return []
        pid = next((p for p in map(patient_id_from_filename, assigned.values()) if p), "")
        if not self.ensure_session(pid):
            return []
        self._load_all(assigned)
        return list(assigned)

    def _load_all(self, found: dict[str, Path]) -> None:
        for task_id, f in found.items():
            try:
                self.workspace.load(task_id, Path(f))
            except (SandError, OSError) as exc:
                MessageBox.error(self.window, exc)
                return

    # -- folders and datasets --------------------------------------------------------------------------
    def open_folder_dialog(self) -> None:
        folder = OpenFolderDialog.ask(self.window, self.settings.data_dir.parent)
        if folder is not None:
            self.open_folder(folder)

    def open_sand_dialog(self) -> None:
        folder = OpenFolderDialog.ask(self.window, Path.home(), title="Open a SAND-layout dataset")
        if folder is not None:
            self.open_sand(folder)

    def open_demo(self) -> None:
        self.open_sand(demo_dir())

    def open_folder(self, folder: Path) -> None:
        """A session folder is reopened; a SAND dataset asks for a patient; a folder of one
        patient is loaded; a folder of several patients asks which one."""
        from ..dataset import SandLayout, collect_recordings
        from ..session import SESSION_FILE

        if (folder / SESSION_FILE).is_file():
            self.reopen(folder)
            return
        if SandLayout.looks_like(folder):
            self.open_sand(folder)
            return
        try:
            try:
                found = collect_recordings(folder)
            except DatasetError as exc:
                ids = several_patients(exc, folder)
                if not ids:
                    raise
                pid = PatientChoiceDialog.ask(self.window, ids, descriptions={})
                if pid is None:
                    return
                found = collect_recordings(folder, patient_id=pid)
        except SandError as exc:
            MessageBox.error(self.window, exc)
            return
        pid = next((p for p in map(patient_id_from_filename, found.values()) if p), folder.name)
        if self.new_session(patient_id=pid):
            self._load_all(found)

    def open_sand(self, root: Path) -> None:
        from ..dataset import SandLayout

        try:
            layout = SandLayout(root)
            try:
                patients = {p.id: p for p in layout.patients()}
            except DatasetError:  # no workbook: the IDs found in the audio folders
                patients = {i: None for i in patient_ids_of(layout, root)}
            if not patients:
                raise DatasetError(f"{one_line(root)}: no patient found in this dataset.")
            show = self.settings.show_labels
            described = {i: describe(p, show_labels=show) for i, p in patients.items()}
            pid = PatientChoiceDialog.ask(self.window, sorted(patients), descriptions=described)
            if pid is None:
                return
            found = layout.recordings(pid)
            if not found:
                raise DatasetError(f"{one_line(root)}: no recordings of patient {one_line(pid, limit=40)}.")
        except SandError as exc:
            MessageBox.error(self.window, exc)
            return
        p = patients.get(pid)
        if self.new_session(patient_id=pid, age=getattr(p, "age", None), sex=getattr(p, "sex", None)):
            self._load_all(found)


def several_patients(exc: DatasetError, folder: Path) -> list[str]:
    """The patient IDs of a folder that holds several (``SeveralPatientsError.ids``; else read
    from the file names), or [] when the error is about something else."""
    ids = getattr(exc, "ids", None)
    if ids:
        return list(ids)
    try:
        found = sorted({p for f in folder.iterdir() if task_from_filename(f) and (p := patient_id_from_filename(f))})
    except OSError:  # an unreadable folder: the DatasetError already says what is wrong
        return []
    return found if len(found) > 1 else []


def patient_ids_of(layout, root: Path) -> list[str]:
    if hasattr(layout, "patient_ids"):
        return list(layout.patient_ids())
    return sorted({p for f in Path(root).glob("*/*/*") if (p := patient_id_from_filename(f))})
