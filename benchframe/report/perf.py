"""Where the cycles go: ``perf report``-style tables, ``perf diff``-style differences and flame graphs of the
folded stacks an attributed run records (``RunResult.perf_stacks``, ``benchframe.hw.perf``).

A *symbol* is a function perf would show (a frame that is not inlined); its **self** cycles are the cycles of
the stacks it is the innermost symbol of -- inlined callees and cache misses below it included, as perf counts
them -- and its **children** cycles those of every stack it is on. Inlined frames are listed under the symbol
whose self time holds them (``perf report --inline``), each line the cycles charged in that chain of inlined
frames. Figures are per page (or per call) of the run: the stacks' cycles divided by ``per``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from benchframe.hw.perf import children_cycles, inlined_cycles, self_cycles
from benchframe.metrics import LOWER
from benchframe.output import Table
from benchframe.report.stats import pct_better
from benchframe.report.tables import fmt_pct

if TYPE_CHECKING:
    from collections.abc import Mapping

    from benchframe.records import Study
    from benchframe.results import RunResult


@dataclass(frozen=True)
class PerfRow:
    """One line of a perf table: a symbol (``inlined`` empty), or a chain of inlined frames inside one."""

    symbol: str
    inlined: tuple[str, ...]
    self: float  # cycles per page (or call)
    children: float
    overhead: float  # self as a share of all cycles, percent

    @property
    def label(self) -> str:
        return self.symbol if not self.inlined else "- " + " > ".join(self.inlined) + " (inlined)"


def perf_rows(folded: Mapping[str, int], per: float, sort: str = "self", inline: bool = True,
              min_share: float = 0.0) -> list[PerfRow]:
    """The perf table of one run: its symbols by ``sort`` (``self`` or ``children``), each followed by its
    inlined chains (``inline``) by their cycles; symbols whose self and children shares are both below
    ``min_share`` percent are left out (their cycles still count in the total)."""
    total = sum(folded.values()) or 1
    own = self_cycles(dict(folded))
    kids = children_cycles(dict(folded))
    chains = inlined_cycles(dict(folded))
    keyed = kids if sort == "children" else own
    symbols = sorted(set(own) | set(kids), key=lambda s: (-keyed.get(s, 0), s))
    rows = []
    for sym in symbols:
        mine, theirs = own.get(sym, 0), kids.get(sym, 0)
        if 100.0 * max(mine, theirs) / total < min_share:
            continue
        rows.append(PerfRow(sym, (), mine / per, theirs / per, 100.0 * mine / total))
        if inline:
            parts = sorted(((chain, c) for (s, chain), c in chains.items() if s == sym and chain),
                           key=lambda kv: (-kv[1], kv[0]))
            rows += [PerfRow(sym, chain, c / per, c / per, 100.0 * c / total) for chain, c in parts]
    return rows


@dataclass(frozen=True)
class DiffRow:
    """A symbol's self cycles per page in two runs and the change (``perf diff``): ``delta`` = new - base."""

    symbol: str
    base: float
    new: float

    @property
    def delta(self) -> float:
        return self.new - self.base


def diff_rows(base: Mapping[str, int], base_per: float, new: Mapping[str, int], new_per: float) -> list[DiffRow]:
    """Each symbol's self cycles per page in ``base`` and ``new`` (0 where it does not run), largest change
    first: what ``new`` saves (negative) or adds, function by function."""
    a, b = self_cycles(dict(base)), self_cycles(dict(new))
    rows = [DiffRow(s, a.get(s, 0) / base_per, b.get(s, 0) / new_per) for s in set(a) | set(b)]
    return sorted(rows, key=lambda r: (-abs(r.delta), r.symbol))


def folded_text(folded: Mapping[str, int]) -> str:
    """Folded stacks, one ``frame;frame;frame cycles`` line each: flamegraph.pl's, inferno's and speedscope's
    input."""
    return "".join(f"{stack} {cycles}\n" for stack, cycles in sorted(folded.items()) if cycles)


def flame_svg(folded: Mapping[str, int], title: str) -> str:
    """A flame graph of the folded stacks as SVG text, drawn with matplotlib (already a dependency; the flame-graph
    packages on PyPI read perf's own files or Python profiles, not folded stacks): one bar per frame, as wide as
    its cycles, children stacked above their caller, inlined frames hatched."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "benchframe"  # the same stacks give the same file

    total = sum(folded.values()) or 1
    bars: list[tuple[int, float, float, str]] = []  # (depth, start, width, frame)

    def lay(prefix: tuple[str, ...], start: float, depth: int) -> None:
        below: dict[str, int] = {}
        for stack, cycles in folded.items():
            frames = tuple(stack.split(";"))
            if len(frames) > depth and frames[:depth] == prefix:
                below[frames[depth]] = below.get(frames[depth], 0) + cycles
        x = start
        for frame in sorted(below):
            width = below[frame] / total
            bars.append((depth, x, width, frame))
            lay(prefix + (frame,), x, depth + 1)
            x += width

    lay((), 0.0, 0)
    depth = max((d for d, *_ in bars), default=0) + 1
    fig, ax = plt.subplots(figsize=(14, 0.35 * depth + 1.2))
    for d, x, width, frame in bars:
        inline = frame.endswith("_[i]")
        name = frame[:-4] if inline else frame
        ax.add_patch(plt.Rectangle((x, d), width, 0.95, facecolor="#f2a65a" if not inline else "#f6d2a8",
                                   edgecolor="white", linewidth=0.4, hatch="//" if inline else None))
        if width > 0.04:
            ax.text(x + 0.003, d + 0.45, name, fontsize=7, va="center", clip_on=True)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, depth)
    ax.set_yticks([])
    ax.set_xlabel("share of the run's cycles")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None})
    plt.close(fig)
    return out.getvalue()




def cycles_tables(runs: list[RunResult], studies: list[Study], designs: list[str], baseline: str,
                  labels: Mapping[str, str], top: int = 8) -> list[Table]:
    """"Where the cycles go" for each study point run with attribution (``Study.perf_at``): the symbols
    where any design spends the most (each design's ``top``), their self cycles per page in each design, the
    baseline first and every other with its change against it, and the total."""
    tables = []
    for study in studies:
        for value in study.perf_at:
            have = {d: _first(runs, study, value, d) for d in designs}
            per_design = {d: (self_cycles(r.perf_stacks), float(r.metrics.get("pages_allocated") or 1))
                          for d, r in have.items() if r is not None}
            if baseline not in per_design:
                continue
            shown = [d for d in designs if d in per_design]
            symbols: list[str] = []
            for d in shown:
                own, _ = per_design[d]
                symbols += [s for s, _ in sorted(own.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]
            base_own, base_pages = per_design[baseline]
            order = sorted(dict.fromkeys(symbols), key=lambda s: (-base_own.get(s, 0) / base_pages, s))
            rows = [[s] + [_cell(per_design, d, s, baseline) for d in shown] for s in order]
            rows.append(["total"] + [_cell(per_design, d, None, baseline) for d in shown])
            title = (f"Where the cycles go: {study.workload} {study.vary}={value}, self cycles per page by symbol "
                     f"(change against {baseline}, positive: fewer cycles)")
            tables.append(Table(title, ["symbol"] + [labels.get(d, d) for d in shown], rows, keep_first=True))
    return tables


def _first(runs: list[RunResult], study: Study, value: object, design: str) -> RunResult | None:
    """The attributed run of a design at one point of the study, its lowest seed (unseeded cells repeat)."""
    found = [r for r in runs if r.design == design and r.workload == study.workload and r.perf_stacks
             and r.params.get(study.vary or "") == value and all(c in r.config for c in study.config)]
    return min(found, key=lambda r: r.seed) if found else None


def _cell(per_design: Mapping[str, tuple[dict[str, int], float]], design: str, symbol: str | None,
          baseline: str) -> str:
    def value(d: str) -> float:
        own, pages = per_design[d]
        return (sum(own.values()) if symbol is None else own.get(symbol, 0)) / pages
    mine = value(design)
    if design == baseline:
        return f"{mine:.1f}"
    return f"{mine:.1f} ({fmt_pct(pct_better(mine, value(baseline), LOWER))})"


__all__ = ["DiffRow", "PerfRow", "cycles_tables", "diff_rows", "flame_svg", "folded_text", "perf_rows"]
