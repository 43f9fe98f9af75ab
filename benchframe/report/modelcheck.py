"""The model check of a report: how far to trust numbers that are model predictions, not measurements.

Two things from the snapshot's ``ModelCheck``: which measurements check the model (``benchframe validate``'s
rows, per file and profile, with their worst error) and which designs and workloads nothing checks; and how far
the calibration's uncertainty moves the decision cells -- the fitted prices refitted to measurements made again
(a parametric bootstrap of the calibration, ``benchframe.modelcheck``), the deterministic cells rerun at each
draw, each cell's range over the draws and the range of its change against the baseline (the same draw on both
sides). A change whose range straddles 0 is *within model uncertainty*.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchframe.metrics import LOWER
from benchframe.output import Heading, Note, Table
from benchframe.report.decision import DECISION_CELLS, decision_cell
from benchframe.report.stats import pct_better

if TYPE_CHECKING:
    from collections.abc import Sequence

    from benchframe.output.document import Block
    from benchframe.snapshot import CheckedFile, ModelCheck, Snapshot

TITLE = "Model check: how far to trust these numbers"


def model_spread(check: ModelCheck | None, design: str, baseline: str, cell: str, better: str,
                 value: float | None = None) -> tuple[float, float, bool] | None:
    """A decision cell's range over the draws of the fitted prices (with ``value``, its own, included) and
    whether the range of its change against the baseline (draw by draw) straddles 0; None where the cell was
    not rerun (a seeded cell, no fitted prices, no model check)."""
    if check is None:
        return None
    mine, base = check.values.get((design, cell)), check.values.get((baseline, cell))
    if not mine or not base:
        return None
    values = list(mine) + ([value] if value is not None else [])
    changes = [c for a, b in zip(mine, base) if (c := pct_better(a, b, better)) is not None]
    straddles = bool(changes) and min(changes) <= 0 <= max(changes)
    return min(values), max(values), straddles


def change_range(check: ModelCheck, design: str, baseline: str, cell: str, better: str) -> tuple[float, float] | None:
    """The range of a cell's change against the baseline over the draws (percent, positive better)."""
    mine, base = check.values.get((design, cell)), check.values.get((baseline, cell))
    changes = [c for a, b in zip(mine or (), base or ()) if (c := pct_better(a, b, better)) is not None]
    return (min(changes), max(changes)) if changes else None


def _worst(files: Sequence[CheckedFile]) -> str:
    known = [f for f in files if f.worst is not None]
    if not known:
        return "not computed"
    w = max(known, key=lambda f: abs(f.worst or 0.0))
    return f"worst {w.worst:+.1f}% ({w.worst_where})"


def design_checked(check: ModelCheck | None, design: str) -> str:
    """The decision table's ``model`` cell: how many measured rows check the design, and their worst error."""
    if check is None:
        return "-"
    mine = [f for f in check.files if design.partition(":")[0] in f.designs]
    if not mine:
        return "unchecked"
    rows = sum(f.rows for f in mine)
    known = [f.worst for f in mine if f.worst is not None]
    return f"{rows} rows" + (f", worst {max(known, key=abs):+.0f}%" if known else "")


def _files_table(check: ModelCheck) -> Table:
    rows = [[f.file, f.profile, ", ".join(f.designs) or "-", ", ".join(f.workloads) or "-", str(f.rows),
             "-" if f.worst is None else f"{f.worst:+.1f}% ({f.worst_where.rpartition(':')[2]})",
             "-" if f.worst is None else f"{f.beyond} of {f.rows}"] for f in check.files]
    return Table("Measurements that check the model", ["file", "profile", "designs", "workloads", "rows",
                                                        "worst error (line)", f"beyond {check.tolerance:g}%"], rows,
                 note="Errors against the range where a point was measured several times (0 inside it); "
                      "docs/fidelity.md says which rows the model cannot fit and why.")


def _spread_table(snap: Snapshot, check: ModelCheck) -> Table | None:
    cells = sorted({c for _, c in check.values}, key=_cell_order)
    if not cells:
        return None
    rows = []
    for design in [snap.baseline] + [d for d in snap.designs if d != snap.baseline]:
        row = [design]
        for cell in cells:
            better = _better(snap, cell)
            spread = model_spread(check, design, snap.baseline, cell, better)
            if spread is None:
                row.append("-")
                continue
            low, high, straddles = spread
            text = f"{low:.0f}-{high:.0f}"
            change = change_range(check, design, snap.baseline, cell, better)
            if design != snap.baseline and change is not None:
                text += f" ({change[0]:+.0f}%..{change[1]:+.0f}%)" + (" ~" if straddles else "")
            row.append(text)
        rows.append(row)
    names = ", ".join(f"{n} {v:g} +- {e:g}" for n, v, e in check.prices)
    return Table(f"Model uncertainty of the decision cells ({check.profile}, {len(check.draws)} draws)",
                 ["design", *(_header(c) for c in cells)], rows,
                 note=f"Each deterministic decision cell rerun at {len(check.draws)} draws of the profile's fitted "
                      f"prices ({names}). {_how_drawn(check)} Shown: the range of the value over the draws and of "
                      "its change against the baseline, the same draw on both sides (positive better). ~: the "
                      "change's range straddles 0 -- within model uncertainty. Cells of seeded workloads "
                      "(latency, contention) are not rerun: their tables show the spread over seeds.")


def _how_drawn(check: ModelCheck) -> str:
    """How the draws were made, for the spread table's note."""
    if not check.refitted:  # saved by an older benchframe
        return ("Drawn from a normal distribution with the fit's standard errors" +
                (" and correlation" if check.correlated else ", independently") + " and clipped at the fit's "
                "bounds, so a price fitted at a bound is drawn at or above it with the other prices unmoved.")
    return ("Each draw is `benchframe calibrate` redone on its measurements made again -- the fitted model's "
            "predictions plus noise as large as the fit's residuals -- within the same bounds: a price fitted at "
            "its bound (e.g. page_access at 0) lands on it or above, " +
            ("and where the bound holds it the prices correlated with it take up the difference, as a refit does."
             if check.correlated else "each price refitted on its own (the profile records no correlation)."))


def _header(cell: str) -> str:
    found = decision_cell(cell)
    return found.header if found else cell


def _cell_order(cell: str) -> int:
    keys = [c.key for c in DECISION_CELLS]
    return keys.index(cell) if cell in keys else len(keys)


def _better(snap: Snapshot, cell: str) -> str:
    found = decision_cell(cell)
    m = snap.catalogue.metric(found.metric, found.workload) if found else None
    return m.better if m else LOWER


def model_check_blocks(snap: Snapshot) -> list[Block]:
    """The report's model-check section: what checks the model, what nothing checks, the decision cells'
    ranges over the price draws."""
    check = snap.model_check
    blocks: list[Block] = [Heading(TITLE)]
    if check is None:
        return blocks + [Note("Every number below is a model prediction, not a measurement. These results carry no "
                              "model check (made by `benchframe run` or an older benchframe): `benchframe validate` "
                              "says which measurements check the model and how far it is off.")]
    shown = [d for d in snap.designs if d.partition(":")[0] in check.unchecked_designs]
    rows = sum(f.rows for f in check.files)
    blocks.append(Note(
        f"Every number below is a model prediction, not a measurement. `benchframe validate` checks the model "
        f"against {rows} published measurements ({_worst(check.files)}): the designs "
        f"{_names(sorted({d for f in check.files for d in f.designs}))} on the workloads "
        f"{_names(sorted({w for f in check.files for w in f.workloads}))}. Nothing checks the designs "
        f"{_names(shown)} or the workloads {_names(check.unchecked_workloads)}: their numbers rest on the "
        "model's structure and the prices alone."))
    blocks.append(_files_table(check))
    spread = _spread_table(snap, check)
    if spread is not None:
        blocks.append(spread)
    elif not check.prices:
        blocks.append(Note(f"Profile {check.profile} has no fitted prices with standard errors: no interval from "
                           "the calibration."))
    return blocks


def _names(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "(none)"
