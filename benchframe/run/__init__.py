"""Planning and running simulations: the Setup a command parses once, the studies compare runs, a cell's spec,
one run, executors (in-process, process pool, Dask), execute (cells and verdicts), the Snapshot a report is
rendered from, and sweeps."""

from __future__ import annotations

from benchframe.run.runner import PluginRunError, run_one
from benchframe.run.spec import RunSpec

__all__ = ["PluginRunError", "RunSpec", "run_one"]
