"""The benchframe plugin contract (pluggy project name ``"benchframe"``).

Every hook is called with keyword arguments; an implementation may accept only the arguments it needs.
Plugins are modules (or objects) with functions decorated by ``benchframe.hookimpl``; they are found through the
entry-point group ``"benchframe"``, through ``--plugin MODULE_OR_PATH``, and the built-ins register the same way.
Registration hooks return lists of typed records (``benchframe.api``); the plugin manager gathers them, sorts
by name and rejects duplicates with a message naming both plugins.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("benchframe")

# ---------------------------------------------------------------------------------------------------------
# Registration: called once when the plugin manager builds its registry.
# ---------------------------------------------------------------------------------------------------------


@hookspec
def benchframe_register_designs():
    """Return a list of ``benchframe.api.Design`` records contributed by this plugin.

    Called once per process when the registry is built. Each design needs a unique ``name``; a duplicate is
    reported with the names of both plugins and the second one is ignored.

    Example::

        @hookimpl
        def benchframe_register_designs():
            return [Design(name="pcpspin", factory=PcpSpin, description="6.2 pcp spinlock, IRQs enabled",
                           models="5749077415994 (6.2)")]
    """


@hookspec
def benchframe_register_workloads():
    """Return a list of ``benchframe.api.Workload`` records contributed by this plugin.

    Called once per process when the registry is built. A workload's ``run(ctx)`` drives the simulation
    through a ``benchframe.runner.RunContext``; its ``params`` document what can be set with ``--param``.

    Example::

        @hookimpl
        def benchframe_register_workloads():
            return [Workload(name="burst", run=run_burst, description="bursts of bulk allocations",
                             params=(Param("bulk", 64, "pages per call"),))]
    """


@hookspec
def benchframe_register_profiles():
    """Return a list of ``benchframe.api.ProfileSource`` records: cost profile files this plugin ships.

    Called once per process when the registry is built; profiles are parsed when a run selects them.

    Example::

        @hookimpl
        def benchframe_register_profiles():
            return [ProfileSource(name="epyc-7702", path=str(Path(__file__).with_name("epyc.toml")))]
    """


# ---------------------------------------------------------------------------------------------------------
# Runs: called for every simulated run.
# ---------------------------------------------------------------------------------------------------------


@hookspec
def benchframe_check_invariants(kernel, design):
    """Return a list of invariant violations (strings) found in ``kernel`` after a run; ``[]`` if none.

    Called after every run (and after every step of ``benchframe explore``) with the simulated
    ``benchframe.mm.page_alloc.Kernel`` and the ``benchframe.api.Design`` that ran. Use it to check the private
    structures of a design (an llist's link consistency, a per-CPU cache of your own). Violations are counted in
    ``invariant_violations`` and printed; they are never hidden.

    Example::

        @hookimpl
        def benchframe_check_invariants(kernel, design):
            if design.name != "mydesign":
                return []
            return [f"CPU{c}: stash not empty" for c, s in enumerate(kernel.stash) if s]
    """


@hookspec
def benchframe_run_finished(run):
    """Observe a finished run: ``run`` is the ``benchframe.runner.RunResult`` (design, workload, params, seed,
    metrics, units, violations). Return value ignored.

    Called once per run, in the process that ran it, after the invariant checks. Useful for logging or for
    exporting results elsewhere.

    Example::

        @hookimpl
        def benchframe_run_finished(run):
            print(run.design, run.metrics["alloc_free_cycles_per_page"])
    """


# ---------------------------------------------------------------------------------------------------------
# Reports: called by `benchframe compare` and `benchframe report`.
# ---------------------------------------------------------------------------------------------------------


@hookspec
def benchframe_report_sections(runs, baseline):
    """Return a list of ``(title, markdown)`` pairs to append to a comparison report, or ``[]``.

    Called once per report by ``benchframe compare`` and ``benchframe report`` with ``runs`` (a list of run
    records as dicts, ``RunResult.as_dict()``: design, workload, params, seed, metrics, units, ...) and the
    ``baseline`` design name.

    Example::

        @hookimpl
        def benchframe_report_sections(runs, baseline):
            n = sum(r["metrics"].get("invariant_violations", 0) for r in runs)
            return [("Invariant summary", f"{n} violations in {len(runs)} runs")]
    """
