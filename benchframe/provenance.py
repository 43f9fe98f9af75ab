"""What a result document records of where its numbers come from, beyond the commit: whether the checkout was
edited (and a digest of the edit), the profile's full content and digest, and the digests of the shipped
measurement files and of ``docs/references.md`` (the sources the profiles cite)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

#: the package's own folder; its parent is the checkout where benchframe runs from one (editable install)
PACKAGE = Path(__file__).resolve().parent
MEASUREMENTS = PACKAGE / "data" / "measurements"
REFERENCES = PACKAGE.parent / "docs" / "references.md"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _git(*args: str) -> bytes | None:
    root = PACKAGE.parent
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def checkout_state() -> dict[str, Any]:
    """``dirty``: the checkout has edits (tracked or new files; None: not a git checkout) and ``diff_sha256``:
    a digest of them (``git diff HEAD`` and each untracked file's name and content), so two results of one
    commit with different edits differ."""
    status = _git("status", "--porcelain")
    if status is None:
        return {"dirty": None, "diff_sha256": None}
    if not status.strip():
        return {"dirty": False, "diff_sha256": None}
    h = hashlib.sha256(_git("diff", "HEAD", "--binary") or b"")
    for name in sorted((_git("ls-files", "--others", "--exclude-standard") or b"").decode().splitlines()):
        h.update(name.encode())
        try:
            h.update((PACKAGE.parent / name).read_bytes())
        except OSError:
            pass  # gone since: its name still counts
    return {"dirty": True, "diff_sha256": h.hexdigest()}


def provenance(profile_source: str) -> dict[str, Any]:
    """The result document's ``provenance``: the checkout's state, the profile (file name, digest, content),
    the measurement files' and the references' digests."""
    out = checkout_state()
    try:
        text = Path(profile_source).read_bytes()
        out["profile"] = {"file": Path(profile_source).name, "sha256": digest(text), "content": text.decode()}
    except (OSError, UnicodeDecodeError):
        out["profile"] = None
    out["measurements"] = {p.name: digest(p.read_bytes()) for p in sorted(MEASUREMENTS.glob("*.csv"))}
    out["references"] = digest(REFERENCES.read_bytes()) if REFERENCES.is_file() else None
    return out
