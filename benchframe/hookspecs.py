"""The benchframe plugin contract (pluggy project name ``"benchframe"``).

Every hook is called with keyword arguments; an implementation may accept only the arguments it needs.
Plugins are modules (or objects) with functions decorated by ``benchframe.hookimpl``; they are found through the
entry-point group ``"benchframe"``, through ``--plugin MODULE_OR_PATH``, and the built-ins register the same way.
Registration hooks return lists of typed records (``benchframe.records``, re-exported by ``benchframe.api``);
the plugin manager gathers them, sorts by name and rejects duplicates with a message naming both plugins. A
hook implementation that raises is reported by the plugin's name; the other plugins still run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from benchframe.mm.page_alloc import Kernel
    from benchframe.records import Design, ProfileSource, Workload
    from benchframe.results import RunResult

hookspec = pluggy.HookspecMarker("benchframe")

# ---------------------------------------------------------------------------------------------------------
# Registration: called once when the plugin manager builds its registry.
# ---------------------------------------------------------------------------------------------------------


@hookspec
def benchframe_register_designs() -> list[Design]:
    """Return a list of ``benchframe.api.Design`` records contributed by this plugin.

    Called once per process when the registry is built. Each design needs a unique ``name``; a duplicate is
    reported with the names of both plugins and the second one is ignored.

    :return: the designs, each a ``Design(name, factory, description, models, options, pcp_link_bytes,
        constraints)`` whose ``factory`` is a ``benchframe.api.DesignImpl`` subclass and whose ``options``
        declare what ``--design NAME:opt=value`` may set: ``Option(name, default, help, type, choices)`` records.

    Example::

        @hookimpl
        def benchframe_register_designs():
            return [Design(name="pcpspin", factory=PcpSpin, description="6.2 pcp spinlock, IRQs enabled",
                           models="5749077415994 (6.2)")]
    """


@hookspec
def benchframe_register_workloads() -> list[Workload]:
    """Return a list of ``benchframe.api.Workload`` records contributed by this plugin.

    Called once per process when the registry is built. A workload's ``run(ctx)`` drives the simulation
    through a ``benchframe.workloads.context.RunContext``; its ``params`` document what can be set with
    ``--param``.

    :return: the workloads, each a ``Workload(name, run, description, params, topology, metrics)``.

    Example::

        @hookimpl
        def benchframe_register_workloads():
            return [Workload(name="burst", run=run_burst, description="bursts of bulk allocations",
                             params=(Param("bulk", 64, "pages per call"),))]
    """


@hookspec
def benchframe_register_profiles() -> list[ProfileSource]:
    """Return a list of ``benchframe.api.ProfileSource`` records: cost profile files this plugin ships.

    Called once per process when the registry is built; profiles are parsed when a run selects them.

    :return: the profiles, each a ``ProfileSource(name, path, description)`` naming a TOML file in the format
        of ``benchframe/hw/profiles/e5-1650v4.toml``.

    Example::

        @hookimpl
        def benchframe_register_profiles():
            return [ProfileSource(name="epyc-7702", path=str(Path(__file__).with_name("epyc.toml")))]
    """


# ---------------------------------------------------------------------------------------------------------
# Runs: called for every simulated run.
# ---------------------------------------------------------------------------------------------------------


@hookspec
def benchframe_check_invariants(kernel: Kernel, design: Design) -> list[str]:
    """Return a list of invariant violations (strings) found in ``kernel``; ``[]`` if none.

    Called after every run, after every step of ``benchframe explore`` and by the conformance kit's checks.
    Use it to check the private structures of a design (an llist's link consistency, a per-CPU cache of your
    own). Violations are counted in ``invariant_violations`` and printed; they are never hidden.

    :param kernel: the simulated ``benchframe.mm.page_alloc.Kernel`` the design ran on: its ``zones`` (buddy
        lists and ``pcp`` per CPU), ``mem`` (per-pfn struct page state), ``stat`` counters and ``pcp_ops``.
    :param design: the ``benchframe.api.Design`` record that ran; check ``design.name`` to look only at your
        own design's structures.
    :return: one line per violation found.

    Example::

        @hookimpl
        def benchframe_check_invariants(kernel, design):
            if design.name != "mydesign":
                return []
            return [f"CPU{c}: stash not empty" for c, s in enumerate(kernel.pcp_ops.stash) if s]
    """


@hookspec
def benchframe_run_finished(run: RunResult) -> None:
    """Observe a finished run. Return value ignored.

    Called once per run, in the process that ran it, after the invariant checks. Useful for logging or for
    exporting results elsewhere.

    :param run: the ``benchframe.api.RunResult``: design, workload, params, seed, metrics, units,
        violations, profile, config, kernel and raw samples.

    Example::

        @hookimpl
        def benchframe_run_finished(run):
            print(run.design, run.metrics["alloc_free_cycles_per_page"])
    """


# ---------------------------------------------------------------------------------------------------------
# Reports: called by `benchframe compare` and `benchframe report`.
# ---------------------------------------------------------------------------------------------------------


@hookspec
def benchframe_report_sections(runs: list[dict[str, Any]], baseline: str) -> list[tuple[str, str]]:
    """Return a list of ``(title, markdown)`` pairs to append to a comparison report, or ``[]``.

    Called once per report by ``benchframe compare`` and ``benchframe report``.

    :param runs: every run in the report, as dicts (``RunResult.model_dump()``: design, workload, params, seed,
        metrics, units, violations, profile, config, samples, kernel).
    :param baseline: the name of the baseline design the report compares against.
    :return: sections appended after the built-in tables, each a title and a Markdown body.

    Example::

        @hookimpl
        def benchframe_report_sections(runs, baseline):
            n = sum(r["metrics"].get("invariant_violations", 0) for r in runs)
            return [("Invariant summary", f"{n} violations in {len(runs)} runs")]
    """
