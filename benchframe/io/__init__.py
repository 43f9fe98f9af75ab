"""Files in and out: reading inputs bounded and with one-line errors naming the file (``read``), writing results
atomically and only over what is ours to replace (``write``), and the lock that keeps two commands from writing
one output at once (``lock``)."""

from benchframe.io.lock import OutputLock
from benchframe.io.read import (
    LIMITS,
    MAX_DEPTH,
    check_file,
    depth_problem,
    git_commit,
    kind_of,
    load_json,
    loads_json,
    parse_toml,
    read_bytes,
    read_text,
    schema_problem,
)
from benchframe.io.write import (
    atomic_dir,
    check_dir_target,
    check_target,
    dumps,
    replaced_by,
    report_dir,
    write_atomic,
)

__all__ = ["LIMITS", "MAX_DEPTH", "OutputLock", "atomic_dir", "check_dir_target", "check_file", "check_target",
           "depth_problem", "dumps", "git_commit", "kind_of", "load_json", "loads_json", "parse_toml", "read_bytes",
           "read_text", "replaced_by", "report_dir", "schema_problem", "write_atomic"]
