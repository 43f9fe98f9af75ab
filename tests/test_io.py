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


# -- #25: the one writer replaces only what is ours; the one reader is bounded; the lock names its holder ------
def test_a_symlink_keeps_its_meaning_the_file_it_names_is_replaced(tmp_path):
    import os

    (tmp_path / "data").mkdir()
    target = tmp_path / "data" / "latest.json"
    target.write_text("old\n")
    os.chmod(target, 0o640)
    link = tmp_path / "latest.json"
    link.symlink_to(target)
    write_atomic(link, "new\n")
    assert link.is_symlink() and os.readlink(link) == str(target)  # still a link, to the same file
    assert target.read_text() == "new\n" and oct(target.stat().st_mode & 0o777) == "0o640"
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["latest.json"]  # no temporary left


@pytest.mark.parametrize("what", ["fifo", "link to fifo", "dangling link", "directory", "link to directory"])
def test_what_is_not_a_regular_file_is_never_replaced(tmp_path, what):
    import os
    import stat

    from benchframe.io import check_target

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "dir").mkdir()
    target = {"fifo": fifo, "directory": tmp_path / "dir"}.get(what, tmp_path / "t")
    if what.startswith("link") or what == "dangling link":
        target.symlink_to({"link to fifo": fifo, "dangling link": tmp_path / "nowhere",
                           "link to directory": tmp_path / "dir"}[what])
    before = {p.name: (os.lstat(p).st_mode, os.readlink(p) if p.is_symlink() else None) for p in tmp_path.iterdir()}
    for attempt in (lambda: check_target(target, "--json"), lambda: write_atomic(target, "x", "--json")):
        with pytest.raises(BenchframeError, match=r"--json .*: is (a FIFO|a symbolic link|a directory)") as info:
            attempt()
        assert "\n" not in str(info.value)
    after = {p.name: (os.lstat(p).st_mode, os.readlink(p) if p.is_symlink() else None) for p in tmp_path.iterdir()}
    assert after == before and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_device_is_refused_even_as_root(tmp_path):
    """Before: run --json /dev/full as root replaced the device with a regular file."""
    import os
    import stat

    with pytest.raises(BenchframeError, match="/dev/full: is a character device"):
        write_atomic("/dev/full", "x", "--json")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


@pytest.mark.parametrize("kind, limit", [("profile", 1 << 20), ("sweep spec", 4 << 20)])
def test_the_reader_refuses_a_file_over_the_bound_of_its_kind(tmp_path, kind, limit):
    from benchframe.io import read_text

    f = tmp_path / "big"
    f.write_bytes(b"#" * limit)
    assert len(read_text(f, kind=kind)) == limit  # at the bound: read
    f.write_bytes(b"#" * (limit + 1))
    with pytest.raises(BenchframeError, match=rf"larger than {limit >> 20} MiB, the bound for {kind} files"):
        read_text(f, kind=kind)


def test_the_reader_refuses_devices_and_reads_a_fifo_up_to_the_bound(tmp_path):
    import os
    import threading

    from benchframe.io import read_text

    with pytest.raises(BenchframeError, match="/dev/zero: is a character device, not a file"):
        read_text("/dev/zero", kind="profile")
    fifo = tmp_path / "spec"
    os.mkfifo(fifo)

    def endless():  # a writer that would never stop: the reader stops at the bound
        try:
            with open(fifo, "wb") as fh:
                while True:
                    fh.write(b"#" * 65536)
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=endless, daemon=True)
    writer.start()
    with pytest.raises(BenchframeError, match="larger than 1 MiB"):
        read_text(fifo, kind="profile")
    writer.join(5)


@pytest.mark.parametrize("text", ["a = " + "[" * 10_000 + "]" * 10_000, "a = " + "[" * 40 + "]" * 40,
                                  "a = " + "{b = " * 10_000 + "1" + "}" * 10_000, "a = " + "1" * 5000])
def test_toml_nested_too_deep_or_with_an_endless_integer_is_one_line(text):
    from benchframe.io import parse_toml

    with pytest.raises(BenchframeError, match=r"^x.toml: not valid TOML: (nested deeper than 32|Exceeds)") as info:
        parse_toml(text, "x.toml")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text", ["[" * 10_000 + "]" * 10_000, '{"a":' * 40 + "1" + "}" * 40, "1" * 5000, "NaN"])
def test_json_nested_too_deep_or_not_standard_is_a_value_error(text):
    from benchframe.io import loads_json

    with pytest.raises(ValueError, match="nested deeper than 32|Exceeds|not a JSON number"):
        loads_json(text)


def test_a_refused_command_always_names_the_lock_holder_however_slow_it_writes(tmp_path, monkeypatch):
    """The flaky sweep test, at its cause: the holder's line was written after the lock was taken, so a command
    arriving in between read no line ('(unknown)'). Here the holder takes a second to write its line; the
    other command waits for it (the folder's lock) and names it."""
    import os
    import threading
    import time

    from benchframe.io import OutputLock

    real_pwrite = os.pwrite

    def slow_pwrite(fd, data, offset):
        time.sleep(1.0)
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr("benchframe.io.lock.os.pwrite", slow_pwrite)
    holder = OutputLock.beside(tmp_path / "rep", "--output")
    taking = threading.Thread(target=holder.acquire)
    taking.start()
    while not (tmp_path / ".rep.benchframe.lock").exists():  # the holder is between its flock and its line
        time.sleep(0.001)
    with pytest.raises(BenchframeError, match=rf"another benchframe is writing there \(pid {os.getpid()} on "):
        OutputLock.beside(tmp_path / "rep", "--output").acquire()
    taking.join()
    holder.release()
    assert list(tmp_path.iterdir()) == []  # released: the lock file went
    with OutputLock.beside(tmp_path / "rep", "--output"):
        pass
