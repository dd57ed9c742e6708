"""Files that are never half written: a temporary file in the same folder, fsynced, then renamed
over the target (``atomic_path``, ``write_atomic``, ``copy_atomic``), and the SHA-256 that names a
file's bytes (``sha256_file``). Every ``OSError`` becomes a ``StorageError`` naming the file, so a
full or read-only disk is one sentence and leaves the old file as it was. Used by sessions,
reports, bundles' neighbours and exports alike.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from .errors import storage_error


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path in ``path``'s folder to write; renamed over ``path`` when the block ends.

    Readers never see half a file: if the block raises (a full disk, a kill), ``path`` keeps its
    old content and the temporary file is removed. The data and the folder entry are fsynced.
    An ``OSError`` becomes a ``StorageError`` naming ``path``.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name[:80]}.{os.getpid()}.{secrets.token_hex(4)}.part")
    try:  # O_EXCL: never someone else's file; mode 0o666 & umask, as a plain open() would give
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as exc:
        raise storage_error(exc, path) from None
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as exc:
        raise storage_error(exc, path) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomic(path: Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` through a temporary file + rename: readers never see half a
    file, and a failure (``StorageError``, one sentence naming ``path``) leaves nothing behind."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def copy_atomic(source: Path, target: Path) -> str:
    """Copy ``source`` to ``target`` atomically; the hex SHA-256 of the bytes copied."""
    h = hashlib.sha256()
    try:
        src = open(source, "rb")
    except OSError as exc:
        raise storage_error(exc, source) from None
    with src, atomic_path(target) as tmp, open(tmp, "wb") as out:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            h.update(chunk)
            out.write(chunk)
    return h.hexdigest()


def sha256_file(path: str | Path) -> str | None:
    """Hex SHA-256 of a file's bytes, or None when it cannot be read."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()
