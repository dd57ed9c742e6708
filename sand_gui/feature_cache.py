"""Per-recording feature files, so a recording is featurised once per ``FeatureSpec``.

Files live under ``<root>/<spec key>/<task>/<folder>-<stem>.safetensors`` (``spec_key``: a
short hash of the spec's JSON form, so features made with other settings are never mixed
in) and carry the source file's name, size and modification time: an entry whose source
changed is stale and recomputed. safetensors only, never pickles; every file is written to
a temporary name in its folder and renamed. Used by training (``training.data``) and by the
workbench's batch run (``sand_gui.batch``) alike.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Protocol

from .features import FeatureSpec


class Ref(Protocol):
    """What the cache needs of a recording: its task id and its file."""

    task: str
    path: Path


def spec_key(spec: FeatureSpec) -> str:
    """Short hash of a FeatureSpec's dict: the name of its feature cache."""
    return hashlib.sha256(json.dumps(spec.to_dict(), sort_keys=True).encode()).hexdigest()[:16]


class FeatureCache:
    """Per-recording feature files under ``<root>/<spec hash>/``; no pickles.

    ``hits`` and ``misses`` count what callers found and what they had to compute.
    """

    def __init__(self, root: str | Path, spec: FeatureSpec):
        self.spec = spec
        self.dir = Path(root) / spec_key(spec)
        self.dir.mkdir(parents=True, exist_ok=True)
        spec_file = self.dir / "spec.json"
        if not spec_file.exists():
            tmp = spec_file.with_name(f".spec.json.{os.getpid()}.part")
            tmp.write_text(json.dumps(spec.to_dict(), indent=2, sort_keys=True, allow_nan=False), encoding="utf-8")
            tmp.replace(spec_file)
        self.hits = self.misses = 0

    def _file(self, ref: Ref) -> Path:
        return self.dir / ref.task / f"{ref.path.parent.parent.name}-{ref.path.stem}.safetensors"

    @staticmethod
    def _stamp(path: Path) -> str:
        st = path.stat()
        return f"{path.name}:{st.st_size}:{st.st_mtime_ns}"

    def get(self, ref: Ref):
        """The cached features [shape=(3, n_mels, t)] of ``ref``, or None when absent or stale."""
        from safetensors import SafetensorError, safe_open
        from safetensors.torch import load_file

        file = self._file(ref)
        if not file.is_file():
            return None
        try:
            with safe_open(str(file), framework="pt") as fh:
                if (fh.metadata() or {}).get("source") != self._stamp(ref.path):
                    return None
            return load_file(str(file))["features"]
        except (SafetensorError, OSError, KeyError):
            return None

    def put(self, ref: Ref, features) -> None:
        """Store ``features`` [shape=(3, n_mels, t)] for ``ref`` (temporary name, then rename)."""
        from safetensors.torch import save_file

        file = self._file(ref)
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(f".{file.name}.{os.getpid()}.part")  # two preprocessors never share a temp
        save_file({"features": features.contiguous()}, str(tmp), metadata={"source": self._stamp(ref.path)})
        tmp.replace(file)
