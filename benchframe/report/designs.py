"""The tables about the designs themselves: the decision table a reviewer reads first (costs at bulk 8 and 64,
the IRQs-off window, interrupt latency, explore verdicts, API constraints, metadata), the metadata bytes per
page, and the re-entrancy verdicts with the extent of each search."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING

from benchframe.output import Table
from benchframe.report.tables import Cell, fmt_ratio
from benchframe.verdict import CONTEXT_LABELS, DISQUALIFYING_TEXT, UNSAFE_MARK, marked

if TYPE_CHECKING:
    from benchframe.output.document import Cell as OutputCell
    from benchframe.records import Design
    from benchframe.results import RunResult
    from benchframe.snapshot import Snapshot
    from benchframe.verdict import Verdict, Verdicts


# -- the decision table ----------------------------------------------------------------------------------------
def _point(runs: list[RunResult], workload: str, rt: bool, bulk: int) -> list[RunResult]:
    """The runs of ``workload`` at ``bulk`` on the default (or RT) config; where other parameters were varied
    too, those of the most frequent setting (its parameters go into the table's note)."""
    have = [r for r in runs if r.workload == workload and r.params.get("bulk") == bulk
            and ("PREEMPT_RT" in r.config) == rt]
    if not have:
        return []
    others = Counter(json.dumps({k: v for k, v in r.params.items() if k != "bulk"}, sort_keys=True)
                     for r in have)
    best = sorted(others.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    return [r for r in have if json.dumps({k: v for k, v in r.params.items() if k != "bulk"},
                                          sort_keys=True) == best]


def _mean(runs: list[RunResult], design: str, metric: str) -> float | None:
    vals = [float(r.metrics[metric]) for r in runs if r.design == design and r.metrics.get(metric) is not None]
    return sum(vals) / len(vals) if vals else None


def _cost_cell(runs: list[RunResult], design: str, baseline: str) -> Cell:
    value = _mean(runs, design, "alloc_free_cycles_per_page")
    base = _mean(runs, baseline, "alloc_free_cycles_per_page")
    if value is None:
        return Cell(None)
    ratio = value / base if base else None
    return Cell(value, ratio=ratio, text=f"{value:.0f} ({fmt_ratio(ratio) if ratio is not None else 'vs 0'})")


def _window_cell(runs: list[RunResult], design: str) -> Cell:
    values = [float(r.metrics["irqs_off_max_cycles"]) for r in runs
              if r.design == design and r.metrics.get("irqs_off_max_cycles") is not None]
    window = max(values, default=None)
    return Cell(window, text=f"{window:.0f}" if window is not None else "-")


def _p99_cell(runs: list[RunResult], design: str) -> Cell:
    mine = [r for r in runs if r.design == design]
    if not mine:
        return Cell(None)
    value = _mean(mine, design, "irq_latency_p99_cycles")
    counts = [r.metrics.get("irq_latency_samples") for r in mine]
    # "?": results of an older benchframe, which did not count the samples
    n = str(min(int(c) for c in counts if c is not None)) if None not in counts else "?"
    return Cell(value, text=f"{value:.0f} (n={n})" if value is not None else f"- (n={n})")


def _verdict_text(v: Verdict | None) -> str:
    if v is None:
        return "-"
    if v.verdict == "SAFE" and v.refused:
        return "SAFE (refuses)"
    return v.verdict


def _constraints(rec: Design | None, v: dict[str, Verdict]) -> str:
    parts = [rec.constraints] if rec is not None and rec.constraints else []  # None: no longer registered
    for context, verdict in v.items():
        if verdict.verdict == "SAFE" and verdict.refused:
            parts.append(f"refuses {context.upper()} allocations")
    return "; ".join(parts) or "-"


def _metadata(rec: Design | None) -> str:
    return f"{rec.metadata_bytes_per_page} + {rec.pcp_link_bytes}" if rec is not None else "-"


def decision_table(snap: Snapshot) -> Table | None:
    """One row per design with what a reviewer asks first: cost per page at bulk 8 and 64 (its ratio to the
    baseline), the longest IRQs-off window and the p99 interrupt latency at 64 (default and PREEMPT_RT, with
    the number of interrupts it is taken over), the explore verdicts, the API constraints and the metadata."""
    runs, designs, baseline, verdicts = snap.runs, snap.designs, snap.baseline, snap.verdicts
    cost8 = _point(runs, "page_bench04", False, 8)
    cost64 = _point(runs, "page_bench04", False, 64)
    lat = _point(runs, "irq_latency", False, 64)
    lat_rt = _point(runs, "irq_latency", True, 64)
    if not (cost8 or cost64 or lat or lat_rt or verdicts):
        return None
    rows: list[tuple[str, list[OutputCell]]] = []
    order = [baseline] + [d for d in designs if d != baseline]
    for d in order:
        v = verdicts.get(d, {})
        rows.append((marked(d, verdicts), [
            _cost_cell(cost8, d, baseline), _cost_cell(cost64, d, baseline), _window_cell(cost64, d),
            _p99_cell(lat, d), _p99_cell(lat_rt, d),
            Cell(None, text=_verdict_text(v.get("irq"))), Cell(None, text=_verdict_text(v.get("nmi"))),
            Cell(None, text=_constraints(snap.records.get(d), v)), Cell(None, text=_metadata(snap.records.get(d)))]))
    headers = ["design", "cost @8", "cost @64", "IRQs-off @64", "p99 lat @64", "p99 lat @64 RT", "vs IRQ",
               "vs NMI", "API constraints", "meta B/page"]
    return Table("Decision: one row per design", headers, note=_decision_note(snap, cost64, lat), cells=rows)


def _decision_note(snap: Snapshot, cost64: list[RunResult], lat: list[RunResult]) -> str:
    """What each column of the decision table is, from which runs (their parameters beyond the defaults)."""
    params = []
    for name, rs in (("page_bench04", cost64), ("irq_latency", lat)):
        if rs:
            defaults = snap.catalogue.defaults(name)
            changed = [f"{k}={v}" for k, v in sorted(rs[0].params.items()) if k != "bulk" and defaults.get(k, v) != v]
            params.append(f"{name}" + (f" ({', '.join(changed)})" if changed else ""))
    return (f"cost @8/@64: page_bench04 alloc+free cycles per page at bulk 8/64, mean over seeds (ratio to "
            f"{snap.baseline}); IRQs-off @64: its longest IRQs-disabled window (cycles); p99 lat: irq_latency's 99th "
            "percentile interrupt latency at bulk 64 (cycles, mean over seeds; n = the fewest interrupts a run's "
            f"percentile was taken over, '-' under 100); from {', '.join(params) or 'no runs'}. "
            "vs IRQ / vs NMI: `benchframe explore`; "
            f"{UNSAFE_MARK} marks a design UNSAFE {DISQUALIFYING_TEXT}: its costs are those of an "
            "incorrect design. Against an NMI no page allocator is safe (the single-page path included): "
            "allocating in NMI context is the caller's bug, unless a design refuses it. meta: bytes per page "
            "of the caller's link (lru list_head 16, array slot 8) + the pcp link (lru 16, llist_node 8).")


def metadata_table(snap: Snapshot) -> Table:
    """Each design's shape, the bytes per page its links take, and what it models ("-" for a design no longer
    registered)."""
    rows = []
    for name in snap.designs:
        d = snap.records.get(name)
        rows.append([name, d.shape, str(d.metadata_bytes_per_page), str(d.pcp_link_bytes), d.models] if d else
                    [name, "-", "-", "-", "-"])
    return Table("Metadata bytes per page", ["design", "shape", "caller link (bytes/page)",
                                             "pcp link (bytes/page)", "models"], rows,
                 "Caller link: page->lru list_head (16) for list designs, a struct page * slot (8) for arrays; "
                 "pcp link: list_head lru (16) or llist_node (8) on the per-CPU lists.")


def reentrancy_table(verdicts: Verdicts) -> Table:
    """One row per design: its ``benchframe explore`` verdicts against an IRQ, an NMI and another CPU."""
    rows = []
    for design, per in verdicts.items():
        row = [marked(design, verdicts)]
        for context in CONTEXT_LABELS:
            res = per.get(context)
            if res is None:
                row.append("-")
                continue
            if res.verdict == "ERROR":
                row.append(f"error: {res.reason}")
                continue
            cell = f"{res.verdict}: {res.reason}" if res.reason else res.verdict
            extent = [f"{res.failing_pairs} failing operation/handler pairs"] if res.failing_pairs > 1 else []
            if res.explored_points:
                extent.append(f"{res.explored_points} interleavings")
            if extent and cell.endswith(")"):  # "(456 refusals)" + extent: one parenthesis
                cell = f"{cell[:-1]}; {'; '.join(extent)})"
            elif extent:
                cell = f"{cell} ({'; '.join(extent)})"
            row.append(cell)
        rows.append(row)
    return Table("Re-entrancy verdicts (benchframe explore)", ["design", *CONTEXT_LABELS.values()], rows,
                 "Found by systematic exploration: an interrupt or NMI whose handler allocates/frees on the same "
                 "CPU is delivered at each charge point of each operation in turn, and a second CPU's operation "
                 "starts at each shared access of the first (the interleavings counted in each cell); the "
                 "invariants are checked; the reason is the simplest failing case. "
                 "`benchframe explore --design NAME` prints the failing interleaving step by step.")
