"""A recording session: one patient, one date, one folder, the takes of the eight tasks.

Layout: ``<data_dir>/<patient ID>/<date>_<n>/`` holding ``session.json`` and the takes
``<ID>_<task>_take<NN>.wav``. A take is never overwritten: a re-take is a new file and the
task uses the latest. Every change is saved at once, atomically (a temporary file in the
folder, then rename), so a killed application leaves a readable ``session.json`` whose
``finished`` is false, and ``unfinished_sessions`` offers it again.

A session is self-contained: a recording loaded from elsewhere is copied into the folder
(``<ID>_<task>_take<NN><suffix>``) and ``session.json`` records, for every file, its SHA-256,
whether it was recorded or loaded, and where a loaded one came from. Moving or deleting the
original never breaks the session or its report. A ``session.json`` that is corrupt or was
edited into something unsafe (a file name that leaves the folder, wrong types) is refused
with one sentence.

Patients are identified by a pseudonymous ID only; no name is ever asked for or stored.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .errors import DatasetError, UsageError, one_line, storage_error
from .files import copy_atomic, sha256_file, write_atomic
from .tasks import TASK_IDS, get_task

PATIENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$"
SESSION_FILE = "session.json"
SCHEMA_VERSION = 2  # 2: every file inside the folder, with its SHA-256 and origin ("files")
MAX_SESSION_BYTES = 4_000_000  # a session.json larger than this is not one we wrote
RECORDED, LOADED = "recorded", "loaded"
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


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _task_id(task_id: str) -> str:
    try:
        return get_task(task_id).id
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None


def _safe_name(entry: object) -> str:
    """A file name inside the session folder (no folder part, no ``..``); ValueError otherwise."""
    name = str(entry) if isinstance(entry, str) else ""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name or len(name) > 255:
        raise ValueError(f"file entry {one_line(entry, limit=60)!s} is not a file name inside the session folder")
    return name


def _suffix(path: Path) -> str:
    """The suffix a copy keeps (``.wav``, ``.flac``, ...), when it is a plain short one."""
    suffix = path.suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,6}", suffix) else ""


@dataclass
class Session:
    """One patient's session; every mutating method saves ``session.json`` at once.

    ``takes`` maps a task to the names of its files in the folder, newest last (sessions
    written by version 1 may also hold absolute paths of loaded files: they are read as they
    are, listed by ``external()`` and copied in by ``adopt_external()``). ``file_info`` maps each file name to ``{"sha256", "origin", "source", "added"}``:
    ``origin`` is ``"recorded"`` or ``"loaded"``, ``source`` the path a loaded file was copied
    from.
    """

    patient_id: str
    folder: Path
    date: str  # ISO date, e.g. "2026-11-26"
    age: int | None = None
    sex: str | None = None
    takes: dict[str, list[str]] = field(default_factory=dict)  # task id -> file names, newest last
    rejected: dict[str, str] = field(default_factory=dict)  # task id -> reason
    finished: bool = False
    created: str = ""  # UTC timestamp
    updated: str = ""
    file_info: dict[str, dict] = field(default_factory=dict)  # file name -> sha256, origin, source, added

    @classmethod
    def create(cls, data_dir: Path, patient_id: str, *, age=None, sex=None, date: str | None = None) -> Session:
        """A new session folder ``data_dir/<ID>/<date>_<n>`` (n = 1, 2, ...), saved at once."""
        pid = validate_patient_id(patient_id)
        day = date or _dt.date.today().isoformat()
        base = Path(data_dir) / pid
        try:
            base.mkdir(parents=True, exist_ok=True)
            n = 1
            while True:
                folder = base / f"{day}_{n}"
                try:
                    folder.mkdir()
                    break
                except FileExistsError:
                    n += 1
        except OSError as exc:
            raise storage_error(exc) from None
        session = cls(pid, folder, day, validate_age(age), validate_sex(sex), created=_now())
        session.save()
        return session

    # --- takes ----------------------------------------------------------------------------
    def next_take_path(self, task_id: str, *, suffix: str = ".wav") -> Path:
        """``<ID>_<task>_take<NN><suffix>`` in the folder: a take number that no file of any
        suffix (nor a half-written ``.part``) uses yet."""
        tid = _task_id(task_id)
        used = {Path(e).name for e in self.takes.get(tid, [])}
        try:
            present = {p.name for p in self.folder.iterdir()}
        except OSError as exc:
            raise storage_error(exc, self.folder) from None
        for n in range(1, MAX_TAKES + 1):
            stem = f"{self.patient_id}_{tid}_take{n:02d}"
            if not any(x == stem or x.startswith(stem + ".") for x in used | present):
                return self.folder / (stem + suffix)
        raise UsageError(f"{tid}: {MAX_TAKES} takes already; start a new session.")

    def _inside(self, path: Path) -> bool:
        try:
            return Path(path).resolve().parent == self.folder.resolve()
        except OSError:
            return False

    def add_take(self, task_id: str, path: Path, *, origin: str = RECORDED, source: str | None = None) -> Path:
        """Make ``path`` the newest take of a task (clears a rejection) and record its SHA-256.

        A file outside the session folder is copied in first (as ``set_loaded`` does). Returns
        the path of the file in the folder.
        """
        tid = _task_id(task_id)
        path = Path(path)
        if not self._inside(path):
            return self.set_loaded(tid, path)
        name = path.name
        info = self.file_info.get(name) or {"origin": origin, "source": source, "added": _now()}
        self.file_info[name] = dict(info, sha256=sha256_file(path))
        self.takes.setdefault(tid, []).append(name)
        self.rejected.pop(tid, None)
        self.save()
        return self.folder / name

    def set_loaded(self, task_id: str, path: Path) -> Path:
        """Use a file from elsewhere for a task: it is copied into the folder (atomically, its
        SHA-256 recorded) so that moving or deleting the original never breaks the session.

        Returns the copy's path, the one to analyse. StorageError (one sentence naming the
        file) when it cannot be read or the folder cannot be written.
        """
        tid = _task_id(task_id)
        source = Path(path)
        if self._inside(source):
            return self.add_take(tid, source, origin=LOADED)
        if not source.is_file():
            raise UsageError(f"{one_line(source)}: not a file; nothing was loaded for {tid}.")
        target = self.next_take_path(tid, suffix=_suffix(source))
        digest = copy_atomic(source, target)
        self.file_info[target.name] = {
            "sha256": digest,
            "origin": LOADED,
            "source": str(source.resolve()),
            "added": _now(),
        }
        self.takes.setdefault(tid, []).append(target.name)
        self.rejected.pop(tid, None)
        self.save()
        return target

    def external(self) -> list[Path]:
        """Files the session uses from outside its folder (only sessions written by version 1,
        which kept loaded files where they were)."""
        return [p for p in self.files() if not self._inside(p)]

    def adopt_external(self) -> list[Path]:
        """Copy every external file that still exists into the folder (as ``set_loaded`` does)
        and use the copies instead; the copies made. Missing ones stay as they are."""
        made = []
        for task_id, entries in self.takes.items():
            for i, entry in enumerate(entries):
                source = Path(entry)
                if not source.is_absolute() or not source.is_file():
                    continue
                target = self.next_take_path(task_id, suffix=_suffix(source))
                digest = copy_atomic(source, target)
                self.file_info[target.name] = {
                    "sha256": digest,
                    "origin": LOADED,
                    "source": str(source),
                    "added": _now(),
                }
                entries[i] = target.name
                made.append(target)
        if made:
            self.save()
        return made

    def reject(self, task_id: str, reason: str) -> None:
        """Mark the current take of a task as unusable, with the reason shown to the user."""
        self.rejected[_task_id(task_id)] = str(reason)
        self.save()

    def _path(self, entry: str) -> Path:
        p = Path(entry)
        return p if p.is_absolute() else self.folder / p

    def current(self, task_id: str) -> Path | None:
        """The task's latest take or loaded file, or None."""
        entries = self.takes.get(_task_id(task_id))
        return self._path(entries[-1]) if entries else None

    def recordings(self) -> dict[str, Path]:
        """Task id -> current file, for ``pipeline.analyze``; tasks without a file left out."""
        found = {t: self.current(t) for t in TASK_IDS}
        return {t: p for t, p in found.items() if p is not None}

    def files(self) -> list[Path]:
        """Every take and loaded file of the session, in task order, oldest first."""
        return [self._path(e) for t in TASK_IDS for e in self.takes.get(t, [])]

    def origin(self, path: Path) -> str | None:
        """``"recorded"`` or ``"loaded"`` for a file of the session; None for another file."""
        path = Path(path)
        if path.is_absolute() and not self._inside(path):
            return LOADED if str(path) in {e for v in self.takes.values() for e in v} else None
        info = self.file_info.get(path.name)
        if info is None:
            return None if not any(path.name in v for v in self.takes.values()) else RECORDED
        return info.get("origin") or RECORDED

    def recorded_sha256(self, path: Path) -> str | None:
        """The SHA-256 ``session.json`` holds for a file of the session (None when unknown)."""
        info = self.file_info.get(Path(path).name)
        return None if info is None else info.get("sha256")

    def verify(self) -> dict[Path, str]:
        """Each file of the session -> ``"ok"``, ``"missing"``, ``"changed"`` (its bytes differ
        from the SHA-256 recorded when it was added) or ``"unknown"`` (no checksum recorded)."""
        out = {}
        for p in self.files():
            digest = sha256_file(p)
            recorded = self.recorded_sha256(p) if self._inside(p) else None
            out[p] = (
                "missing"
                if digest is None
                else "unknown"
                if recorded is None
                else "ok"
                if digest == recorded
                else "changed"
            )
        return out

    def finish(self) -> None:
        """Mark the session complete (it is no longer offered for reopening)."""
        self.finished = True
        self.save()

    # --- persistence ------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "app_version": __version__,
            "patient_id": self.patient_id,
            "date": self.date,
            "age": self.age,
            "sex": self.sex,
            "folder": str(self.folder),
            "takes": {t: list(v) for t, v in self.takes.items()},
            "rejected": dict(self.rejected),
            "finished": self.finished,
            "created": self.created,
            "updated": self.updated,
            "files": {name: dict(info) for name, info in self.file_info.items()},
        }

    def save(self) -> None:
        """Write ``session.json`` atomically (temporary file + rename; strict JSON)."""
        self.updated = _now()
        write_atomic(self.folder / SESSION_FILE, json.dumps(self.to_dict(), indent=2, allow_nan=False))
        for stale in [self.folder / (SESSION_FILE + ".part"), *self.folder.glob(f".{SESSION_FILE}.*.part")]:
            if not _writer_alive(stale):  # left by a save that was killed half-way
                with contextlib.suppress(OSError):
                    stale.unlink()

    @classmethod
    def load(cls, folder: Path) -> Session:
        """The session saved in ``folder``; DatasetError (one sentence) when missing, corrupt or
        edited into something unsafe."""
        folder = Path(folder)
        path = folder / SESSION_FILE
        if not path.is_file():
            raise DatasetError(f"{one_line(folder)}: no {SESSION_FILE}; not a session folder.")
        try:
            if path.stat().st_size > MAX_SESSION_BYTES:
                raise ValueError(f"larger than {MAX_SESSION_BYTES // 1_000_000} MB")
            d = _strict_json(path.read_bytes().decode("utf-8"))
            return cls._from_dict(d, folder)
        except OSError as exc:
            raise storage_error(exc, path) from None
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError, UsageError) as exc:
            reason = str(exc) if isinstance(exc, (UsageError, ValueError)) else f"{exc.__class__.__name__}: {exc}"
            reason = one_line(reason, limit=300).rstrip(".")
            raise DatasetError(f"{one_line(path)}: not a readable session file ({reason}).") from None

    @classmethod
    def _from_dict(cls, d: object, folder: Path) -> Session:
        if not isinstance(d, dict):
            raise ValueError("the file does not hold a JSON object")
        version = d.get("schema_version", 1)
        if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= SCHEMA_VERSION:
            raise ValueError(
                f"schema version {one_line(version, limit=20)} is not one this version reads (1-{SCHEMA_VERSION})"
            )
        date = d["date"]
        if not isinstance(date, str):
            raise ValueError("date is not text")
        _dt.date.fromisoformat(date)
        takes = {}
        for task, entries in _mapping(d.get("takes"), "takes").items():
            if not isinstance(entries, list):
                raise ValueError(f"takes of {one_line(task, limit=40)} are not a list")
            takes[_task_id(task)] = [
                e if isinstance(e, str) and "\x00" not in e and Path(e).is_absolute() else _safe_name(e)
                for e in entries
            ]  # absolute: a file of a version-1 session, see adopt_external
        rejected = {
            _task_id(t): _text(r, "a rejection reason") for t, r in _mapping(d.get("rejected"), "rejected").items()
        }
        info = {}
        for name, item in _mapping(d.get("files"), "files").items():
            item = _mapping(item, "a file entry")
            digest, origin, source = item.get("sha256"), item.get("origin", RECORDED), item.get("source")
            if digest is not None and not (isinstance(digest, str) and re.fullmatch(r"[0-9a-f]{64}", digest)):
                raise ValueError(f"the SHA-256 of {one_line(name, limit=60)} is not 64 hex digits")
            if origin not in (RECORDED, LOADED) or (source is not None and not isinstance(source, str)):
                raise ValueError(f"the origin of {one_line(name, limit=60)} is malformed")
            info[_safe_name(name)] = {
                "sha256": digest,
                "origin": origin,
                "source": source,
                "added": _text(item.get("added", ""), "a date"),
            }
        finished = d.get("finished", False)
        if not isinstance(finished, bool):
            raise ValueError("finished is not true or false")
        return cls(
            patient_id=validate_patient_id(d["patient_id"] if isinstance(d["patient_id"], str) else ""),
            folder=folder,
            date=date,
            age=validate_age(d.get("age")),
            sex=validate_sex(d.get("sex")),
            takes=takes,
            rejected=rejected,
            finished=finished,
            created=_text(d.get("created", ""), "created"),
            updated=_text(d.get("updated", ""), "updated"),
            file_info=info,
        )


def _writer_alive(tmp: Path) -> bool:
    """Whether the process that named a temporary file ``.<name>.<pid>.<hex>.part`` still runs."""
    parts = tmp.name.split(".")
    if len(parts) < 4 or not parts[-3].isdigit():
        return False
    try:
        os.kill(int(parts[-3]), 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError, ValueError):
        return True  # exists but not ours to signal, or a name we cannot judge: leave it
    return True


def _strict_json(text: str):
    """``json.loads`` that refuses NaN and Infinity (strict JSON, as every file we write)."""

    def bad(name):
        raise ValueError(f"{name} is not valid JSON")

    return json.loads(text, parse_constant=bad)


def _mapping(value, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not a JSON object")
    return value


def _text(value, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} is not text")
    return value


def unfinished_sessions(data_dir: Path) -> list[Path]:
    """Folders under ``data_dir`` whose ``session.json`` says ``finished: false``, newest first.

    Unreadable session files are skipped (``Session.load`` on them says why).
    """
    found = []
    try:
        candidates = list(Path(data_dir).glob(f"*/*/{SESSION_FILE}"))
    except OSError:
        return []
    for path in candidates:
        try:
            if path.stat().st_size > MAX_SESSION_BYTES:
                continue
            d = _strict_json(path.read_bytes().decode("utf-8"))
        except (OSError, ValueError, RecursionError):
            continue
        if isinstance(d, dict) and d.get("finished") is False:
            found.append((str(d.get("updated", "")), path.parent))
    return [folder for _, folder in sorted(found, key=lambda x: (x[0], str(x[1])), reverse=True)]
