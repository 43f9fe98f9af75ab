"""The plot of ``trace summary --plot``: order-0 pages by the length of the run they are in, per call site.

Pages rather than runs on the y axis: a thousand runs of one page weigh less than one run of a thousand, and
the question is how many pages a bulk call of a given size would have served.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np

from benchframe.io import write_atomic
from benchframe.trace.runs import histogram
from benchframe.trace.summary import RUN_COLUMNS, TraceSummary, gap_label

if TYPE_CHECKING:
    from pathlib import Path


def plot_runs(summary: TraceSummary, path: str | Path) -> None:
    """Write the run-length plot as PNG to ``path``, atomically (rendered in memory, then written)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sites = [s for s in summary.sites if s.orders.get(0)]
    sites.sort(key=lambda s: (-s.orders[0], s.name))
    shown = sites[:RUN_COLUMNS - 1]
    series = [(s.name, s.runs) for s in shown]
    rest = [s.runs for s in sites[len(shown):]]
    if rest:
        series.append((f"{len(rest)} other call sites", np.concatenate(rest)))
    labels = [label for label, _, _ in histogram(summary.runs.length)]
    x = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(9, 4.5))
    try:
        bottom = np.zeros(len(labels))
        bars = []
        for _, lengths in series:
            pages = np.array([p for _, _, p in histogram(lengths)], dtype=float)
            bars.append(ax.bar(x, pages, bottom=bottom))
            bottom += pages
        ax.set_xticks(x, labels)
        ax.set_xlabel("run length (consecutive order-0 allocations)")
        ax.set_ylabel("order-0 pages")
        ax.set_title(f"{summary.events.meta.source}: order-0 pages by run length (gap <= "
                     f"{gap_label(summary.runs.gap_ns)} us)")
        if series:  # handles given explicitly: matplotlib drops labels that start with "_" (__pmd_alloc)
            ax.legend(bars, [name for name, _ in series], fontsize="small")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    finally:
        plt.close(fig)
    write_atomic(path, buf.getvalue())
