"""The representative grid behind ``tests/data/golden_runs.json``: every built-in design (and the example
plugin ``pcpspin``, loaded by path) on every workload, under each kernel config, through ``benchframe run``.

The fixture was written by this script before the structure move of issue #11 (at 1350e93) so that the move
can be shown not to change one simulated number; a change to the model regenerates it on purpose (issue #12's
fidelity model did, and added the ``preempt`` design and the ``4.10-prototype`` kernel row):

    python tests/data/golden_grid.py > tests/data/golden_runs.json
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PCPSPIN = str(ROOT / "examples" / "pcpspin" / "benchframe_pcpspin" / "__init__.py")
DESIGNS = "single,list,array,twopass,llist,llist:free=batch,llist:free=splice,llist_del_first,locallock,preempt,pcpspin"

# (workload, [--param ...], [other options: --config, --kernel])
GRID: list[tuple[str, list[str], list[str]]] = [
    ("page_bench04", ["bulk=1,2,8,64,256", "pages=1024"], []),
    ("page_bench04", ["bulk=1,64", "pages=1024"], ["--config", "PREEMPT_RT"]),
    ("page_bench04", ["bulk=8", "pages=512"], ["--config", "PAGE_OWNER"]),
    ("page_bench04", ["bulk=1,64", "pages=512"], ["--kernel", "4.10-prototype"]),
    ("page_bench04", ["bulk=8,64", "pages=512", "gfp=GFP_KERNEL|__GFP_ZERO"], ["--config", "NUMA"]),
    ("page_pool", ["packets=1024", "warmup=64", "remote_free=0,0.5"], []),
    ("sunrpc", ["calls=20", "pattern=contiguous,scattered", "loop=5.13,progress"], []),
    ("irq_latency", ["bulk=8,64", "bursts=30"], []),
    ("irq_latency", ["bulk=64", "bursts=30"], ["--config", "PREEMPT_RT"]),
    ("contention", ["cpus=1,4", "bursts=20"], []),
    ("numa", ["spill=false,true", "calls=10"], []),
    ("nmi", ["bursts=30", "hold=false,true"], []),
]


def argv(workload: str, params: list[str], options: list[str], out: str) -> list[str]:
    args = ["run", "--design", DESIGNS, "--workload", workload, "--seed", "1,2", "--executor", "serial",
            "--plugin", PCPSPIN, "--json", out]
    for p in params:
        args += ["--param", p]
    return args + options


def _digest(samples: dict[str, list[int]]) -> dict[str, list]:
    """Raw samples as (count, sha256 of their JSON): the fixture stays small, any changed sample shows."""
    return {k: [len(v), hashlib.sha256(json.dumps(v).encode()).hexdigest()] for k, v in sorted(samples.items())}


def _quiet(args: list[str]) -> None:
    from benchframe.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        main(args)


def row_key(workload: str, options: list[str]) -> tuple:
    """What tells a row's runs apart in the fixture: the workload, the --config options and the kernel."""
    config = tuple(options[i + 1] for i, o in enumerate(options) if o == "--config")
    kernel = next((options[i + 1] for i, o in enumerate(options) if o == "--kernel"), "5.13")
    return workload, config, kernel


def run_key(run: dict) -> tuple:
    return run["workload"], tuple(run["config"]), run["kernel"]


def produce_row(i: int) -> list[dict]:
    """Row ``i`` of the grid as ``benchframe run --json`` writes it (samples digested)."""
    workload, params, options = GRID[i]
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / f"{i}.json")
        _quiet(argv(workload, params, options, out))
        runs = json.loads(Path(out).read_text())["runs"]
    for run in runs:
        run["samples"] = _digest(run.get("samples", {}))
        del run["units"]  # the same for every run of a workload; not a simulated number
    return runs


def produce_explore(design: str) -> list[dict]:
    """``benchframe explore --first`` verdicts of one design: what the compare report shows of them (verdict,
    reason, interleavings, and the first failing operation/adversary/point)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "explore.json")
        _quiet(["explore", "--design", design, "--first", "--plugin", PCPSPIN, "--json", out])
        results = json.loads(Path(out).read_text())
    return [{"design": res["design"], "context": res["context"], "verdict": res["verdict"],
             "reason": res["reason"], "explored_points": res["explored_points"], "refused": res["refused"],
             "findings": [[f["operation"], f["handler"], f["charge_point"], f["reason"]] for f in res["findings"]]}
            for res in results]


def produce() -> dict:
    """Every run of the grid, row by row, and every design's explore verdicts."""
    runs = [run for i in range(len(GRID)) for run in produce_row(i)]
    verdicts = [v for design in DESIGNS.split(",") for v in produce_explore(design)]
    return {"runs": runs, "explore": verdicts}


def dumps(doc: dict) -> str:
    """One record per line: small, and a diff names the run that changed."""
    parts = []
    for key in sorted(doc):
        items = ",\n".join(json.dumps(x, sort_keys=True) for x in doc[key])
        parts.append(f"{json.dumps(key)}: [\n{items}\n]")
    return "{\n" + ",\n".join(parts) + "\n}\n"


if __name__ == "__main__":
    sys.stdout.write(dumps(produce()))
