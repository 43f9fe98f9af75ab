"""Running simulations: a cell's spec, one run, executors (in-process, process pool, Dask) and sweeps."""

from __future__ import annotations

from benchframe.run.runner import PluginRunError, run_one
from benchframe.run.spec import RunSpec

__all__ = ["PluginRunError", "RunSpec", "run_one"]
