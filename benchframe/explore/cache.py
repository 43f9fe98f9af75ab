"""The verdict cache: one file per design, context, kernel and config, trusted only if it proves to be what it
says.

A verdict depends only on the model, the design (with its options), the kernel version and config, so it is
kept on disk under ``$BENCHFRAME_CACHE_DIR`` (default ``$XDG_CACHE_HOME/benchframe`` or ``~/.cache/benchframe``)
in ``explore/<key>.json``. The entry records its *inputs* -- the design spec, context, config, kernel and a
digest of the model's source (benchframe's own files, the design's modules and the version of every plugin
distribution) -- its *key* (a digest of those inputs) and a digest of the whole content. An entry is used only
if its schema is this one, the verdict is SAFE or UNSAFE, every field has its type, the inputs are the ones
asked for and hash to the file's name, and the content digest matches; anything else (a damaged file, an older
schema, an entry copied under another name, a verdict edited by hand) is explored again and overwritten.
``BENCHFRAME_CACHE_DIR=off`` explores every time; a cache that cannot be written is not an error.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError, __version__
from benchframe.explore.evidence import model_files
from benchframe.io import write_atomic
from benchframe.kconfig import DEFAULT_KERNEL
from benchframe.verdict import Verdict

if TYPE_CHECKING:
    from benchframe.registry import Registry

SCHEMA = 2
TRUSTED = ("SAFE", "UNSAFE")  # an ERROR is never cached


def cache_dir() -> Path | None:
    raw = os.environ.get("BENCHFRAME_CACHE_DIR", "")
    if raw.lower() in ("off", "0", "none"):
        return None
    if raw:
        return Path(raw)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "benchframe"


@functools.lru_cache(maxsize=1)
def model_digest() -> str:
    """A digest of benchframe's own source (and version): any edit of the model changes it."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256(__version__.encode())
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


class VerdictCache:
    """The cached verdicts of one registry, kernel and config."""

    def __init__(self, reg: Registry, config: tuple[str, ...] = (), kernel: str | None = None):
        self.reg = reg
        self.config = sorted(config)
        self.kernel = kernel or DEFAULT_KERNEL  # explore's default: one entry whether it is named or not
        self.folder = cache_dir()

    def inputs(self, design_spec: str, context: str) -> dict[str, Any]:
        """What a verdict depends on: the design, context, config, kernel and the model's source."""
        design, options = self.reg.design_spec(design_spec)
        h = hashlib.sha256(model_digest().encode())
        for f in sorted(model_files(design)):
            try:
                h.update(Path(f).read_bytes())
            except OSError:
                h.update(f.encode())
        dists = sorted({(p.dist, p.version) for p in self.reg.plugins})
        h.update(json.dumps([design.name, sorted(options.items()), dists], default=str).encode())
        return {"design": design_spec, "context": context, "config": self.config, "kernel": self.kernel,
                "model": h.hexdigest()}

    def path(self, design_spec: str, context: str) -> tuple[Path | None, str, dict[str, Any]]:
        inputs = self.inputs(design_spec, context)
        key = _digest(inputs)[:32]
        return (self.folder / "explore" / f"{key}.json" if self.folder else None), key, inputs

    def load(self, design_spec: str, context: str) -> Verdict | None:
        """The cached verdict, if its entry is valid (see the module docstring); else None: explore it."""
        path, key, inputs = self.path(design_spec, context)
        if path is None or not path.is_file():
            return None
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return valid(entry, key, inputs, path.stem)

    def store(self, verdict: Verdict) -> None:
        if verdict.verdict not in TRUSTED:
            return
        path, key, inputs = self.path(verdict.design, verdict.context)
        if path is None:
            return
        content = {"schema": SCHEMA, "key": key, "inputs": inputs, "verdict": verdict.as_dict()}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, json.dumps({**content, "digest": _digest(content)}, sort_keys=True) + "\n")
        except (OSError, BenchframeError):
            pass  # a read-only home: explore again next time


def valid(entry: Any, key: str, inputs: dict[str, Any], name: str) -> Verdict | None:
    """The verdict of a cache ``entry`` read from file ``name``.json if it is what it claims, else None."""
    if not isinstance(entry, dict) or set(entry) != {"schema", "key", "inputs", "verdict", "digest"}:
        return None
    content = {k: entry[k] for k in ("schema", "key", "inputs", "verdict")}
    if entry["schema"] != SCHEMA or entry["digest"] != _digest(content):
        return None
    if entry["key"] != key or name != key or entry["inputs"] != inputs or _digest(entry["inputs"])[:32] != key:
        return None
    verdict = Verdict.checked(entry["verdict"])
    if verdict is None or verdict.verdict not in TRUSTED:
        return None
    if (verdict.design, verdict.context) != (inputs["design"], inputs["context"]):
        return None
    return verdict


__all__ = ["SCHEMA", "VerdictCache", "cache_dir", "valid"]
