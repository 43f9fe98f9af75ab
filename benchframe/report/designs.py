"""The tables about the designs themselves: the decision table a reviewer reads first (costs at bulk 8 and 64,
the IRQs-off window, interrupt latency, explore verdicts, API constraints, metadata), the metadata bytes per
page, and the re-entrancy verdicts with the extent of each search."""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchframe.metrics import LOWER
from benchframe.output import Table
from benchframe.report.decision import DECISION_CELLS, DecisionCell, decision_runs
from benchframe.report.modelcheck import design_checked, model_spread
from benchframe.report.sections import distinct, table_anchor
from benchframe.report.stats import pct_better
from benchframe.report.tables import Cell, fmt_value, stderr
from benchframe.verdict import CONTEXT_LABELS, DISQUALIFYING_TEXT, UNSAFE_MARK, marked

if TYPE_CHECKING:
    from benchframe.metrics import Catalogue
    from benchframe.output.document import Cell as OutputCell
    from benchframe.records import Design
    from benchframe.results import RunResult
    from benchframe.snapshot import Snapshot
    from benchframe.verdict import Verdict, Verdicts


# -- the decision table ----------------------------------------------------------------------------------------
def _values(runs: list[RunResult], design: str, metric: str) -> list[float]:
    return [float(r.metrics[metric]) for r in runs if r.design == design and r.metrics.get(metric) is not None]


def _samples_text(runs: list[RunResult], design: str, metric: str, catalogue: Catalogue) -> str:
    """`` (n=106)`` for a percentile: the fewest events a run's percentile was taken over (``?``: results of an
    older benchframe, which did not count them)."""
    m = catalogue.metric(metric, runs[0].workload) if runs else None
    if m is None or not m.samples:
        return ""
    counts = [r.metrics.get(m.samples) for r in runs if r.design == design]
    known = [int(c) for c in counts if c is not None]
    return f" (n={min(known) if known and len(known) == len(counts) else '?'})"


def _decision_cell(snap: Snapshot, cell: DecisionCell, runs: list[RunResult], design: str, anchor: str) -> Cell:
    """A design's value (mean over its distinct results, the digits their spread supports) and its change
    against the baseline (percent, positive better), linked to its study table; with the model check, the
    range of the value over the price draws and ``~`` where the change's range straddles 0."""
    vals, base = _values(runs, design, cell.metric), _values(runs, snap.baseline, cell.metric)
    if not vals:
        return Cell(None, link=anchor)
    m = snap.catalogue.metric(cell.metric, cell.workload)
    better = m.better if m else LOWER
    value, bvalue = sum(vals) / len(vals), (sum(base) / len(base) if base else None)
    text = fmt_value(value, stderr(vals)) if len(set(vals)) > 1 else f"{value:.0f}"
    pct = pct_better(value, bvalue, better) if bvalue is not None else None
    if design != snap.baseline and bvalue is not None:
        text += f" ({'vs 0' if pct is None else f'{pct:+.0f}%'})"
    text += _samples_text(runs, design, cell.metric, snap.catalogue)
    low = high = None
    if (spread := model_spread(snap.model_check, design, snap.baseline, cell.key, better, value)) is not None:
        low, high, straddles = spread
        text += " ~" if straddles and design != snap.baseline else ""
    return Cell(value, pct, value / bvalue if bvalue else None, False, text=text, n=len(vals), low=low, high=high,
                link=anchor)


def decision_table(snap: Snapshot) -> Table | None:
    """One row per design with what a reviewer asks first (``DECISION_CELLS``), each cell its value and its
    change against the baseline, linked to the study table it comes from; the explore verdicts, the API
    constraints, the metadata and what checks the design's model (``model``)."""
    runs = distinct(snap.runs, snap.catalogue)
    taken = {c.key: decision_runs(runs, c) for c in DECISION_CELLS}
    if not any(taken.values()) and not snap.verdicts:
        return None
    studies = {s.key: s for s in snap.studies}
    cells = [c for c in DECISION_CELLS if taken[c.key] or c.study in studies]
    rows: list[tuple[str, list[OutputCell]]] = []
    for d in [snap.baseline] + [d for d in snap.designs if d != snap.baseline]:
        v = snap.verdicts.get(d, {})
        row: list[OutputCell] = [
            _decision_cell(snap, c, taken[c.key], d,
                           table_anchor(studies[c.study], c.metric) if c.study in studies else "") for c in cells]
        row += [Cell(None, text=_verdict_text(v.get("irq"))), Cell(None, text=_verdict_text(v.get("nmi"))),
                Cell(None, text=_constraints(snap.records.get(d), v)), Cell(None, text=_metadata(snap.records.get(d))),
                Cell(None, text=design_checked(snap.model_check, d))]
        rows.append((marked(d, snap.verdicts), row))
    headers = ["design", *(c.header for c in cells), "vs IRQ", "vs NMI", "API constraints", "meta B/page", "model"]
    return Table("Decision: one row per design", headers, note=_decision_note(snap, cells, taken), cells=rows,
                 anchor="decision")


def _decision_note(snap: Snapshot, cells: list[DecisionCell], taken: dict[str, list[RunResult]]) -> str:
    """What each column of the decision table is, from which runs (their parameters beyond the defaults)."""
    froms = []
    for c in cells:
        rs = taken[c.key]
        if rs:
            defaults = snap.catalogue.defaults(c.workload)
            fixed = {k for k, _ in c.params}
            changed = [f"{k}={v}" for k, v in sorted(rs[0].params.items())
                       if k not in fixed and defaults.get(k, v) != v]
            froms.append(f"{c.header}: {c.workload} {c.metric}" + (f" ({', '.join(changed)})" if changed else ""))
    check = snap.model_check
    model = ("~ after a change: within model uncertainty (its range over the draws of the fitted prices "
             "straddles the baseline; see the model check); model: the measurements that check the design "
             "(`benchframe validate`). " if check and check.draws else
             "model: the measurements that check the design (`benchframe validate`). ")
    return (f"Each cell: the mean over its distinct results (the digits their spread supports) and the change "
            f"against {snap.baseline} in percent, positive meaning better; p99 lat with n, the fewest interrupts a "
            "run's percentile was taken over ('-' under 100). Each cell links to its study's table. "
            f"{'; '.join(froms) or 'no runs'}. " + model +
            "vs IRQ / vs NMI: `benchframe explore`; "
            f"{UNSAFE_MARK} marks a design UNSAFE {DISQUALIFYING_TEXT}: its costs are those of an "
            "incorrect design. Against an NMI no page allocator is safe (the single-page path included): "
            "allocating in NMI context is the caller's bug, unless a design refuses it. meta: bytes per page "
            "of the caller's link (lru list_head 16, array slot 8) + the pcp link (lru 16, llist_node 8).")


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
