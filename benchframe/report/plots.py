"""The report's PNG plots (matplotlib, Agg): cost per page and the longest IRQs-off window vs bulk size, and
interrupt latency as a CCDF on log-log axes (the tail is the point). Cost axes start at 0. Each design keeps
one colour, line style and marker in every plot, so a curve drawn over an identical one stays visible; a
legend entry ``pcpspin (= llist)`` says two curves are identical -- only when their plotted data are -- and a
design marked UNSAFE keeps its mark in the legend. The plots are drawn into memory (PNG bytes): the command
writes them with the report, so a failed or interrupted write leaves no partial file."""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchframe.results import RunResult

#: the files ``plot_all`` may write
PLOT_FILES = ("cost_per_page_vs_bulk.png", "irqs_off_vs_bulk.png", "irq_latency_ccdf.png", "irq_latency_ccdf_rt.png")


def is_report_file(name: str) -> bool:
    """Whether ``name`` in a report directory is the report's own (replaced by the next report): the
    document, ``results.json`` and the plots -- those of earlier versions too (``*.png``)."""
    return name.startswith(("comparison.", "report.")) or name == "results.json" or name.endswith(".png")


DESIGN_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf")
# Designs often coincide (llist and pcpspin never disable IRQs; several designs share a latency curve), so each
# design also gets its own line style, marker and width — a later, thinner, dashed line drawn over an earlier,
# thicker one leaves both visible.
DESIGN_LINESTYLES = ("-", "--", "-.", ":", (0, (5, 2)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 1)), (0, (8, 2, 2, 2)))
DESIGN_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")


def design_styles(designs: list[str]) -> dict[str, dict[str, Any]]:
    """Matplotlib keyword arguments per design: one colour, line style and marker each, consistent across the
    report's plots (the order of ``designs``), earlier designs drawn wider and underneath."""
    styles = {}
    for i, d in enumerate(designs):
        styles[d] = {"color": DESIGN_COLORS[i % len(DESIGN_COLORS)],
                     "linestyle": DESIGN_LINESTYLES[i % len(DESIGN_LINESTYLES)],
                     "linewidth": max(1.2, 3.0 - 0.3 * i), "zorder": 2 + i}
    return styles


def legend_labels(series: dict[str, Any], designs: list[str], names: dict[str, str] | None = None) -> dict[str, str]:
    """Legend label per design, naming the earlier design whose plotted data it equals exactly
    (``"pcpspin (= llist)"``): coinciding lines are drawn over each other, the legend says so. ``names``: the
    label of each design (``llist [UNSAFE]``)."""
    names = names or {}
    labels = {}
    for i, d in enumerate(designs):
        if d not in series:
            continue
        same = next((e for e in designs[:i] if e in series and series[e] == series[d]), None)
        name = names.get(d, d)
        labels[d] = f"{name} (= {same})" if same else name
    return labels



def _mean_by(runs: list[RunResult], workload: str, metric: str, x: str,
             config_rt: bool = False) -> dict[str, list[tuple[Any, float]]]:
    acc: dict[str, dict[Any, list[float]]] = {}
    for r in runs:
        if r.workload != workload or ("PREEMPT_RT" in r.config) != config_rt:
            continue
        v = r.metrics.get(metric)
        if v is None or x not in r.params:
            continue
        acc.setdefault(r.design, {}).setdefault(r.params[x], []).append(float(v))
    return {d: sorted((k, sum(v) / len(v)) for k, v in pts.items()) for d, pts in acc.items()}


def plot_all(runs: list[RunResult], designs: list[str], names: dict[str, str] | None = None,
             jobs: int = 1) -> dict[str, bytes]:
    """Every plot the runs have data for: file name -> PNG bytes. ``names``: each design's label (``llist
    [UNSAFE]``). ``jobs`` > 1 draws the figures on that many processes at once (each takes about a quarter to
    half a second of matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # once here, before any worker is forked

    figures: list[tuple[str, tuple[Any, ...]]] = []
    for metric, name, ylabel, title, logy in (
        ("alloc_free_cycles_per_page", "cost_per_page_vs_bulk.png", "alloc+free cost per page (cycles)",
         "page_bench04: cost per page vs bulk size", False),
        ("irqs_off_max_cycles", "irqs_off_vs_bulk.png", "longest IRQs-off window (cycles, log scale)",
         "page_bench04: longest IRQs-disabled window vs bulk size", True),
    ):
        series = _mean_by(runs, "page_bench04", metric, "bulk")
        if series:
            figures.append(("vs_bulk", (series, name, ylabel, title, logy)))
    # interrupt latency CCDF per design at bulk=64 (irq_latency), both kernels if present
    for rt, name in ((False, "irq_latency_ccdf.png"), (True, "irq_latency_ccdf_rt.png")):
        per: dict[str, list[int]] = {}
        for r in runs:
            if r.workload != "irq_latency" or r.params.get("bulk") != 64 or ("PREEMPT_RT" in r.config) != rt:
                continue
            per.setdefault(r.design, []).extend(r.samples.get("irq_latency_cycles", []))
        if per:
            figures.append(("latency_ccdf", ({d: sorted(v) for d, v in per.items() if v}, name, rt)))
    if jobs > 1 and len(figures) > 1:
        from concurrent.futures import ProcessPoolExecutor

        from benchframe.signals import init_worker

        with ProcessPoolExecutor(max_workers=min(jobs, len(figures)), initializer=init_worker,
                                 initargs=(os.getpid(),)) as pool:
            futures = [pool.submit(_draw, designs, names or {}, kind, args) for kind, args in figures]
            return {name: png for f in futures for name, png in f.result().items()}
    plotter = _Plotter(designs, names or {})
    for kind, args in figures:
        getattr(plotter, kind)(*args)
    return plotter.written


def _draw(designs: list[str], names: dict[str, str], kind: str, args: tuple[Any, ...]) -> dict[str, bytes]:
    """One figure in a worker process: its file name and PNG bytes."""
    plotter = _Plotter(designs, names)
    getattr(plotter, kind)(*args)
    return plotter.written


class _Plotter:
    """The plots of one report: each design's style, and the PNGs drawn."""

    def __init__(self, designs: list[str], names: dict[str, str]):
        import matplotlib.pyplot as plt

        self.names = names
        self.plt = plt
        self.designs = designs
        self.styles = design_styles(designs)
        self.markers = {d: DESIGN_MARKERS[i % len(DESIGN_MARKERS)] for i, d in enumerate(designs)}
        self.written: dict[str, bytes] = {}

    def save(self, fig: Any, name: str) -> None:
        """Render the figure as PNG bytes (no timestamp or software version in them: the same runs, the same
        bytes)."""
        buf = io.BytesIO()
        try:
            fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
        finally:
            self.plt.close(fig)
        self.written[name] = buf.getvalue()

    def vs_bulk(self, series: dict[str, list[tuple[Any, float]]], name: str, ylabel: str, title: str,
                logy: bool) -> None:
        designs = self.designs
        fig, ax = self.plt.subplots(figsize=(7.5, 4.5))
        labels = legend_labels(series, designs, self.names)
        for d in designs:
            if d in series:
                xs, ys = zip(*series[d])
                ax.plot(xs, ys, marker=self.markers[d], markersize=max(4.0, 8.0 - 0.6 * designs.index(d)),
                        label=labels[d], **self.styles[d])
        ax.set_xscale("log", base=2)
        xs_all = sorted({x for pts in series.values() for x, _ in pts})
        ax.set_xticks(xs_all, [str(x) for x in xs_all])
        if logy:
            ax.set_yscale("symlog", linthresh=10)
        ax.set_ylim(bottom=0)  # a cost axis from 0: no broken axis to exaggerate a difference
        ax.set_xlabel("bulk (pages per call, log scale)")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(title="design", fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        self.save(fig, name)

    def latency_ccdf(self, per: dict[str, list[int]], name: str, rt: bool) -> None:
        """The fraction of interrupts that waited longer than x, log-log: the tail is read off the right."""
        fig, ax = self.plt.subplots(figsize=(7.5, 4.5))
        labels = legend_labels(per, self.designs, self.names)
        floor = 1.0
        for d in self.designs:
            vals = per.get(d)
            if not vals:
                continue
            n = len(vals)
            # P(latency > x) just after each sample; the last sample's step ends at 1/n (a log axis has no 0)
            ys = [max((n - i - 1) / n, 1.0 / n) for i in range(n)]
            floor = min(floor, 1.0 / n)
            xs = [max(v, 1) for v in vals]  # a 0-cycle latency on a log axis: at 1
            ax.step([xs[0]] + xs, [1.0] + ys, where="post", label=labels[d], **self.styles[d])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(floor / 2, 1.5)
        ax.set_xlabel("interrupt latency, arrival to handler (cycles, log scale; 0 drawn at 1)")
        ax.set_ylabel("fraction of interrupts waiting longer (CCDF, log)")
        ax.set_title("irq_latency, bulk=64" + (", PREEMPT_RT" if rt else "") + ": interrupt latency CCDF")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(title="design", fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        self.save(fig, name)


#: the timeline plot's panels: (y label, column labels of ``benchframe.run.timeline.COLUMNS``, log scale)
TIMELINE_PANELS = (
    ("cycles per page", ("single page (cycles/page)", "bulk 64 (cycles/page)", "bulk 64 alloc (cycles/page)"),
     False),
    ("longest window, cold bulk 64 (cycles)", ("IRQs-off max, cold bulk 64 (cycles)",
                                               "zone->lock hold max, cold bulk 64 (cycles)"), False),
)


def timeline_png(design: str, kernels: list[str], values: dict[str, list[float | None]]) -> bytes:
    """``compare --kernel``'s plot: the timeline table's costs per kernel version, in the order given, one
    panel for the per-page costs (from 0) and one for the longest windows; a version a column has no value
    for is left out of its line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(TIMELINE_PANELS), figsize=(11, 4.2))
    styles = design_styles([label for _, labels, _ in TIMELINE_PANELS for label in labels])
    xs = list(range(len(kernels)))
    for ax, (ylabel, labels, logy) in zip(axes, TIMELINE_PANELS):
        for i, label in enumerate(labels):
            pts = [(x, v) for x, v in zip(xs, values.get(label, [])) if v is not None]
            if pts:
                ax.plot(*zip(*pts), marker=DESIGN_MARKERS[i], label=label.split(" (")[0], **styles[label])
        ax.set_xticks(xs, kernels)
        if logy:
            ax.set_yscale("symlog", linthresh=10)
        ax.set_ylim(bottom=0)
        ax.set_xlabel("kernel version")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"{design} across kernel versions (page_bench04)")
    plotter = _Plotter([], {})
    plotter.save(fig, "timeline.png")
    return plotter.written["timeline.png"]
