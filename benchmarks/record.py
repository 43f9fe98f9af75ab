"""The simulated metrics' history, kept in the repository: asv's ``track_`` benchmarks of a commit, recorded on
the fixed machine name ``benchframe-sim`` in ``benchmarks/history`` (asv's own result files, a few KB each).

    python benchmarks/record.py            # after committing a change that moves a number: record HEAD,
                                           # then commit benchmarks/history ("history: record <commit>")
    python benchmarks/record.py --check    # CI: HEAD's numbers are those of its newest recorded ancestor

The ``track_`` metrics are simulated: deterministic, the same on every machine, so one machine name stands for
all. Both run ``asv run --python=same --set-commit-hash HEAD --machine benchframe-sim`` on the ``track_``
benchmarks of ``bench_designs`` (``BENCH``)
against the installed package, which must be this checkout (``pip install -e .``, with ``examples/pcpspin``: the
history tracks every design). asv runs with a temporary configuration, results directory and ``HOME`` (for its
machine file), so nothing of the developer's asv set-up is read or changed. The result file is stored with the
environment named after the Python version instead of the virtualenv's path, and without the run's start times
and durations, which belong to the run, not the commit: recording a commit twice gives the same bytes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HISTORY = ROOT / "benchmarks" / "history"
MACHINE = "benchframe-sim"
# what asv asks of a machine; none of it changes a simulated number
MACHINE_INFO = {"arch": "any", "cpu": "simulated (benchframe's cost model, in cycles)", "num_cpu": "1",
                "os": "any", "ram": "any"}
BENCH = r"^bench_designs\..*\.track_"  # the simulated metrics (bench_simulator's track_ are machine timings)
PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"
ENV_NAME = f"existing-py{PYTHON}"
KEPT_COLUMNS = 3  # result, params, version: what a track_ benchmark records of a commit


class RecordError(Exception):
    """A one-line reason the history cannot be recorded or checked."""


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def check_install() -> None:
    """The installed benchframe is this checkout's, with every design the suite tracks."""
    for name in ("asv", "benchframe"):  # asv runs as `python -m asv` of this interpreter
        if importlib.util.find_spec(name) is None:
            raise RecordError(f"{name} is not installed here: pip install -e '{ROOT}[dev]'")
    import benchframe
    from benchframe.plugins import get_registry
    sys.path.insert(0, str(ROOT))
    from benchmarks.common import DESIGNS

    origin = Path(benchframe.__file__).resolve()
    if ROOT not in origin.parents:
        raise RecordError(f"benchframe is imported from {origin.parent}, not this checkout: pip install -e {ROOT}")
    missing = sorted(set(DESIGNS) - set(get_registry().designs))
    if missing:
        raise RecordError(f"designs {', '.join(missing)} are not installed (pip install -e examples/pcpspin): the "
                          "history tracks every design of benchmarks/common.py")


def run_asv(commit: str, work: Path) -> tuple[dict, Path]:
    """Run the track_ benchmarks with asv for ``commit``; its result document and its benchmarks.json."""
    conf = json.loads((ROOT / "asv.conf.json").read_text())
    conf.update(repo=str(ROOT), benchmark_dir=str(ROOT / "benchmarks"), results_dir=str(work / "results"),
                html_dir=str(work / "html"), env_dir=str(work / "env"))
    (work / "asv.conf.json").write_text(json.dumps(conf))
    env = {**os.environ, "HOME": str(work)}  # asv keeps its machine file in ~/.asv-machine.json
    info = [arg for key, value in MACHINE_INFO.items() for arg in (f"--{key}", value)]
    asv = [sys.executable, "-m", "asv"]
    config = ["--config", str(work / "asv.conf.json")]
    subprocess.run([*asv, "machine", *config, "--machine", MACHINE, *info, "--yes"], env=env, check=True,
                   capture_output=True)
    run = subprocess.run([*asv, "run", *config, "--python=same", "--set-commit-hash", commit, "--machine", MACHINE,
                          "--bench", BENCH, "--show-stderr"], env=env, capture_output=True, text=True)
    files = [p for p in (work / "results" / MACHINE).glob("*.json") if p.name != "machine.json"]
    if run.returncode != 0 or len(files) != 1 or "Traceback" in run.stdout + run.stderr:
        raise RecordError(f"asv run failed (exit status {run.returncode}):\n{run.stdout[-3000:]}{run.stderr[-2000:]}")
    return json.loads(files[0].read_text()), work / "results" / "benchmarks.json"


def normalize(doc: dict) -> dict:
    """The result document as the history keeps it (see the module's docstring)."""
    doc = {**doc, "env_name": ENV_NAME, "python": PYTHON, "params": {**doc["params"], "python": PYTHON},
           "durations": {}}
    doc["results"] = {name: row[:KEPT_COLUMNS] for name, row in sorted(doc["results"].items())}
    return doc


def values(doc: dict) -> dict[str, object]:
    """Every recorded value by benchmark and parameters: ``"Class.track_x('array', 64)" -> value``."""
    from itertools import product

    out = {}
    for name, (result, params, *_) in doc["results"].items():
        combos = list(product(*params)) if params else [()]
        for combo, value in zip(combos, result if params else [result]):
            out[f"{name}({', '.join(combo)})"] = value
    return out


def recorded(commit: str) -> Path:
    return HISTORY / MACHINE / f"{commit[:8]}-{ENV_NAME}.json"


def newest_recorded_ancestor() -> str | None:
    have = {p.name.split("-", 1)[0] for p in (HISTORY / MACHINE).glob("*.json")}
    return next((c for c in git("rev-list", "HEAD").split() if c[:8] in have), None)


def record(work: Path) -> None:
    if git("status", "--porcelain", "--untracked-files=no", "--", "benchframe", "plugins", "benchmarks",
           "examples", "pyproject.toml", ":(exclude)benchmarks/history"):
        raise RecordError("uncommitted changes: the numbers are recorded for HEAD, so commit the change first")
    head = git("rev-parse", "HEAD")
    before = newest_recorded_ancestor()
    doc, benchmarks = run_asv(head, work)
    target = recorded(head)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(normalize(doc), separators=(",", ":"), sort_keys=True) + "\n")
    (target.parent / "machine.json").write_text(json.dumps({"machine": MACHINE, **MACHINE_INFO, "version": 1},
                                                           indent=4, sort_keys=True) + "\n")
    shutil.copyfile(benchmarks, HISTORY / "benchmarks.json")
    moved = describe_changes(json.loads(recorded(before).read_text()), doc) if before else ["the first record"]
    print(f"recorded {head[:8]} in {target.relative_to(ROOT)} ({target.stat().st_size:,} bytes): "
          + "; ".join(moved[:10]) + (f"; ... {len(moved) - 10} more" if len(moved) > 10 else ""))
    print(f"commit it: git add benchmarks/history && git commit -m 'history: record {head[:8]}'")


def describe_changes(old: dict, new: dict) -> list[str]:
    a, b = values(old), values(new)
    changes = [f"{k}: {a.get(k)} -> {b.get(k)}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    return changes or ["no number moved"]


def check(work: Path) -> None:
    base = newest_recorded_ancestor()
    if base is None:
        raise RecordError("no commit of HEAD's history is recorded in benchmarks/history: run "
                          "python benchmarks/record.py and commit the result")
    doc, _ = run_asv(git("rev-parse", "HEAD"), work)
    moved = describe_changes(json.loads(recorded(base).read_text()), doc)
    if moved != ["no number moved"]:
        raise RecordError(f"{len(moved)} simulated numbers moved since {base[:8]}, the newest recorded commit: "
                          f"record them (python benchmarks/record.py, then commit benchmarks/history):\n  "
                          + "\n  ".join(moved[:20]))
    print(f"history check: HEAD's {len(values(doc))} simulated numbers are those recorded for {base[:8]}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="do not record: fail when HEAD's numbers differ from its newest recorded ancestor's")
    args = ap.parse_args(argv)
    try:
        check_install()
        with tempfile.TemporaryDirectory(prefix="benchframe-history-") as tmp:
            (check if args.check else record)(Path(tmp))
    except (RecordError, subprocess.CalledProcessError) as exc:
        print(f"record: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
