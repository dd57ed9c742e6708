"""The one exception family of sand_gui.

Every problem a user can cause (a bad file, workbook, bundle or device) is raised as a
``SandError`` whose message is one sentence naming the thing and the reason, so that the
CLI and the application can show ``str(err)`` and never a traceback.
"""

from __future__ import annotations


class SandError(Exception):
    """Base class: ``str(err)`` is a complete, user-facing sentence."""


class AudioError(SandError):
    """A recording cannot be used (unreadable, empty, silent, too short, ...).

    ``code`` is a ``sand_gui.quality.Code`` naming the reason, for code that reacts to it.
    """

    def __init__(self, message: str, *, code=None):
        super().__init__(message)
        self.code = code


class BundleError(SandError):
    """A model bundle is missing, truncated, tampered with or incompatible."""


class DatasetError(SandError):
    """A dataset folder, workbook or manifest is missing or malformed."""


class DeviceError(SandError):
    """A compute or audio device cannot be used."""


class UsageError(SandError):
    """The command line or a call asks for something that does not make sense."""


def one_line(text: object, *, limit: int = 200) -> str:
    """``text`` made safe for a one-line message: control characters (newlines, tabs,
    escapes) shown as ``\\n``-style escapes, and cut to ``limit`` characters with ``…``.

    Use it for every file name or value quoted in a user-facing sentence.
    """
    s = str(text)
    out = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in s)
    return out if len(out) <= limit else out[: limit - 1] + "…"


class StorageError(SandError):
    """A file or folder cannot be read or written: no space, read-only, permission, not a folder.

    Made from an ``OSError`` by ``storage_error`` so every CLI and the window say one sentence
    naming the path instead of showing a traceback.
    """


def storage_error(exc: OSError, path: object = None) -> StorageError:
    """One sentence naming ``path`` (default: the path the OS error names) and the reason."""
    import errno

    reasons = {
        errno.ENOSPC: "no space left on the device",
        errno.EDQUOT: "the disk quota is exhausted",
        errno.EROFS: "the file system is read-only",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.ENOTDIR: "a part of the path is not a folder",
        errno.EISDIR: "is a folder, not a file",
        errno.ENOENT: "no such file or folder",
        errno.EEXIST: "already exists",
        errno.ENAMETOOLONG: "the name is too long",
        errno.EIO: "input/output error",
        errno.EPIPE: "the reader closed the pipe",
    }
    target = path if path is not None else (exc.filename if exc.filename is not None else "file")
    reason = reasons.get(exc.errno) or one_line(exc.strerror or exc.__class__.__name__).lower()
    return StorageError(f"{one_line(target)}: {reason}.")
