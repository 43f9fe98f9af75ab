"""Result files (``io.py``): a failed write leaves the old file and no temporary file."""

from __future__ import annotations

import pytest

from benchframe import BenchframeError
from benchframe.io import write_atomic


def test_failed_write_leaves_the_old_report_and_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "comparison.md"
    target.write_text("old report\n")

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("benchframe.io.write.os.fsync", broken_fsync)
    with pytest.raises(BenchframeError, match="comparison.md"):
        write_atomic(target, "new report that must not appear half-written\n" * 1000)
    assert target.read_text() == "old report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["comparison.md"]
