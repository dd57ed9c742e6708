"""A recording session: one patient, one date, one folder, the takes of the eight tasks.

Layout: ``<data_dir>/<patient ID>/<date>_<n>/`` holding ``session.json`` and the takes
``<ID>_<task>_take<NN>.wav``. A take is never overwritten: a re-take is a new file and the
task uses the latest. Every change is saved at once, atomically (``session.json.part`` then
rename), so a killed application leaves a readable ``session.json`` whose ``finished`` is
false, and ``unfinished_sessions`` offers it again.

Patients are identified by a pseudonymous ID only; no name is ever asked for or stored.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .errors import DatasetError, UsageError
from .tasks import TASK_IDS, get_task

PATIENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$"
SESSION_FILE = "session.json"
SCHEMA_VERSION = 1
SEXES = ("F", "M")
MAX_AGE = 120
MAX_TAKES = 99


def validate_patient_id(text: str) -> str:
    """The ID, stripped; UsageError unless it is a 2-32 character pseudonym."""
    pid = str(text or "").strip()
    if not re.match(PATIENT_ID_PATTERN, pid):
        raise UsageError(
            f"Patient ID {pid!r} is not valid: use 2-32 letters, digits, '_' or '-', starting with a "
            "letter or digit (a pseudonym such as ID042, never the patient's name)."
        )
    return pid


def validate_age(age) -> int | None:
    """Age in whole years 0..120, or None; UsageError otherwise."""
    if age is None or (isinstance(age, str) and not age.strip()):
        return None
    try:
        value = int(str(age).strip())
    except ValueError:
        raise UsageError(f"Age {age!r} is not a whole number of years.") from None
    if not 0 <= value <= MAX_AGE:
        raise UsageError(f"Age {value} is outside 0-{MAX_AGE} years.")
    return value


def validate_sex(sex) -> str | None:
    """``"F"``, ``"M"`` (as in the SAND data) or None; UsageError otherwise."""
    if sex is None or not str(sex).strip():
        return None
    value = str(sex).strip().upper()[:1]
    if value not in SEXES:
        raise UsageError(f"Sex {sex!r} is not one of {', '.join(SEXES)} (or left empty).")
    return value


def write_atomic(path: Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` through ``path.part`` + rename: readers never see half a file."""
    path = Path(path)
    part = path.with_name(path.name + ".part")
    with open(part, "wb") as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(part, path)
    return path


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _task_id(task_id: str) -> str:
    try:
        return get_task(task_id).id
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None


@dataclass
class Session:
    """One patient's session; every mutating method saves ``session.json`` at once."""

    patient_id: str
    folder: Path
    date: str  # ISO date, e.g. "2026-11-26"
    age: int | None = None
    sex: str | None = None
    takes: dict[str, list[str]] = field(default_factory=dict)  # task id -> file names (recorded or loaded), newest last
    rejected: dict[str, str] = field(default_factory=dict)  # task id -> reason
    finished: bool = False
    created: str = ""  # UTC timestamp
    updated: str = ""

    @classmethod
    def create(cls, data_dir: Path, patient_id: str, *, age=None, sex=None, date: str | None = None) -> "Session":
        """A new session folder ``data_dir/<ID>/<date>_<n>`` (n = 1, 2, ...), saved at once."""
        pid = validate_patient_id(patient_id)
        day = date or _dt.date.today().isoformat()
        base = Path(data_dir) / pid
        base.mkdir(parents=True, exist_ok=True)
        n = 1
        while True:
            folder = base / f"{day}_{n}"
            try:
                folder.mkdir()
                break
            except FileExistsError:
                n += 1
        session = cls(pid, folder, day, validate_age(age), validate_sex(sex), created=_now())
        session.save()
        return session

    # --- takes ----------------------------------------------------------------------------
    def next_take_path(self, task_id: str) -> Path:
        """``<ID>_<task>_take<NN>.wav`` in the folder: a name no file (or ``.part``) has yet."""
        tid = _task_id(task_id)
        used = set(self.takes.get(tid, []))
        for n in range(1, MAX_TAKES + 1):
            name = f"{self.patient_id}_{tid}_take{n:02d}.wav"
            path = self.folder / name
            if name not in used and not path.exists() and not path.with_name(name + ".part").exists():
                return path
        raise UsageError(f"{tid}: {MAX_TAKES} takes already; start a new session.")

    def _entry(self, path: Path) -> str:
        path = Path(path)
        try:
            return str(path.resolve().relative_to(self.folder.resolve()))
        except ValueError:
            return str(path.resolve())

    def add_take(self, task_id: str, path: Path) -> None:
        """Record that ``path`` (in the folder) is the newest take of a task; clears a rejection."""
        tid = _task_id(task_id)
        self.takes.setdefault(tid, []).append(self._entry(path))
        self.rejected.pop(tid, None)
        self.save()

    def set_loaded(self, task_id: str, path: Path) -> None:
        """Use a file from elsewhere (kept where it is, stored by absolute path) for a task."""
        self.add_take(task_id, path)

    def reject(self, task_id: str, reason: str) -> None:
        """Mark the current take of a task as unusable, with the reason shown to the user."""
        self.rejected[_task_id(task_id)] = str(reason)
        self.save()

    def current(self, task_id: str) -> Path | None:
        """The task's latest take or loaded file, or None."""
        entries = self.takes.get(_task_id(task_id))
        if not entries:
            return None
        p = Path(entries[-1])
        return p if p.is_absolute() else self.folder / p

    def recordings(self) -> dict[str, Path]:
        """Task id -> current file, for ``pipeline.analyze``; tasks without a file left out."""
        found = {t: self.current(t) for t in TASK_IDS}
        return {t: p for t, p in found.items() if p is not None}

    def files(self) -> list[Path]:
        """Every take and loaded file of the session, in task order, oldest first."""
        out = []
        for t in TASK_IDS:
            for e in self.takes.get(t, []):
                p = Path(e)
                out.append(p if p.is_absolute() else self.folder / p)
        return out

    def finish(self) -> None:
        """Mark the session complete (it is no longer offered for reopening)."""
        self.finished = True
        self.save()

    # --- persistence ------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION, "app_version": __version__,
            "patient_id": self.patient_id, "date": self.date, "age": self.age, "sex": self.sex,
            "folder": str(self.folder), "takes": {t: list(v) for t, v in self.takes.items()},
            "rejected": dict(self.rejected), "finished": self.finished,
            "created": self.created, "updated": self.updated,
        }

    def save(self) -> None:
        """Write ``session.json`` atomically (``.part`` + rename)."""
        self.updated = _now()
        write_atomic(self.folder / SESSION_FILE, json.dumps(self.to_dict(), indent=2))

    @classmethod
    def load(cls, folder: Path) -> "Session":
        """The session saved in ``folder``; DatasetError when missing or malformed."""
        folder = Path(folder)
        path = folder / SESSION_FILE
        if not path.is_file():
            raise DatasetError(f"{folder}: no {SESSION_FILE}; not a session folder.")
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
            session = cls(
                patient_id=validate_patient_id(d["patient_id"]), folder=folder, date=str(d["date"]),
                age=validate_age(d.get("age")), sex=validate_sex(d.get("sex")),
                takes={_task_id(t): [str(x) for x in v] for t, v in (d.get("takes") or {}).items()},
                rejected={_task_id(t): str(r) for t, r in (d.get("rejected") or {}).items()},
                finished=bool(d.get("finished", False)), created=str(d.get("created", "")),
                updated=str(d.get("updated", "")),
            )
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, AttributeError, UsageError) as exc:
            reason = str(exc) if isinstance(exc, UsageError) else f"{exc.__class__.__name__}: {exc}"
            raise DatasetError(f"{path}: not a readable session file ({reason}).") from None
        return session


def unfinished_sessions(data_dir: Path) -> list[Path]:
    """Folders under ``data_dir`` whose ``session.json`` says ``finished: false``, newest first.

    Unreadable session files are skipped (``Session.load`` on them says why).
    """
    found = []
    for path in Path(data_dir).glob(f"*/*/{SESSION_FILE}"):
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError):
            continue
        if isinstance(d, dict) and d.get("finished") is False:
            found.append((str(d.get("updated", "")), path.parent))
    return [folder for _, folder in sorted(found, key=lambda x: (x[0], str(x[1])), reverse=True)]
