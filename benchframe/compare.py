"""``benchframe compare``, ``report`` and ``history``: the comparison a kernel developer pastes into a mail.

``compare`` runs every selected design on a set of *studies* — each answering one question from the 2021
thread by varying one workload parameter — over several seeds, then renders compare-kernels tables
(``benchframe.report``), PNG plots and a header that says how to reproduce the report. ``report`` renders the
same tables from saved results without re-running; ``history`` tabulates asv results across commits.
"""

from __future__ import annotations

import html
import json
import os
import shlex
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchframe import BenchframeError, __version__
from benchframe.executors import run_specs
from benchframe.kconfig import KernelConfig
from benchframe.metrics import METRICS
from benchframe.output import dumps, git_commit, read_text, result_document, write_atomic
from benchframe.plugins import Registry, get_registry
from benchframe.report import Table, compare_table, render, render_csv
from benchframe.runner import RunSpec, metric_better, parse_design_spec

BULKS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


@dataclass(frozen=True)
class Study:
    """One question: a workload, the parameter varied (or None), the metrics that answer it."""

    key: str
    question: str
    workload: str
    metrics: tuple[str, ...]
    vary: str | None = None
    values: tuple = ()
    params: dict[str, Any] = field(default_factory=dict)
    config: tuple[str, ...] = ()

    def points(self) -> list[dict[str, Any]]:
        if self.vary is None:
            return [dict(self.params)]
        return [{**self.params, self.vary: v} for v in self.values]


#: pages per run of the bulk study: its per-page costs and longest IRQs-off window are identical to those at
#: page_bench04's default 16384 pages for every design and bulk size (tests/test_report.py checks it), for a
#: quarter of the time — what keeps the default compare under a minute on two cores.
BULK_STUDY_PAGES = 4096

STUDIES: tuple[Study, ...] = (
    Study("bulk", "Cost per page vs bulk size (page_bench04: allocate `bulk`, free one by one; "
          f"pages={BULK_STUDY_PAGES})", "page_bench04",
          ("alloc_free_cycles_per_page", "alloc_cycles_per_page", "irqs_off_max_cycles"), "bulk", BULKS,
          params={"pages": BULK_STUDY_PAGES}),
    Study("irq", "IRQs-off window and interrupt latency vs bulk (\"will the realtime people get upset?\")",
          "irq_latency", ("irqs_off_max_cycles", "irq_latency_p99_cycles", "irq_latency_max_cycles"),
          "bulk", (8, 64, 256)),
    Study("irq_rt", "The same under PREEMPT_RT (local_lock becomes a sleeping lock, handlers are threads)",
          "irq_latency", ("irqs_off_max_cycles", "irq_latency_p99_cycles", "irq_latency_max_cycles"),
          "bulk", (8, 64, 256), config=("PREEMPT_RT",)),
    Study("rt_atomic", "PREEMPT_RT: refills and drains that take zone->lock (a sleeping lock on RT) with IRQs "
          "hard-disabled — the 'local_irq_save(); spin_lock()' sequence RT considers unsafe", "page_bench04",
          ("rt_sleeping_lock_irqs_off", "irqs_off_max_cycles"), "bulk", (64, 512), config=("PREEMPT_RT",)),
    Study("page_pool", "page_pool refill of 64 pages in NAPI softirq context: cost per packet", "page_pool",
          ("alloc_cycles_per_packet", "packets_per_sec", "irqs_off_max_cycles")),
    Study("sunrpc", "svc_alloc_arg() refilling 32 holes of a 259-slot rq_pages array: cost per call", "sunrpc",
          ("alloc_cycles_per_call", "us_per_call"), "pattern", ("contiguous", "scattered")),
    Study("contention", "Scaling with CPUs (half of each burst freed on another CPU)", "contention",
          ("pages_per_sec", "zone_lock_wait_cycles", "alloc_cycles_per_page"), "cpus", (1, 2, 4)),
    Study("numa", "Local node at its low watermark: fall back to single pages (kernel) or spill to the remote node",
          "numa", ("alloc_cycles_per_page", "use_cycles_per_page", "fallbacks", "remote_page_share"),
          "spill", (False, True)),
    Study("nmi", "Allocation attempted from NMI context (violations are the finding here)", "nmi",
          ("nmi_refused", "nmi_allocs", "invariant_violations")),
)

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


def legend_labels(series: dict[str, Any], designs: list[str]) -> dict[str, str]:
    """Legend label per design, naming the earlier design whose plotted data it equals exactly
    (``"pcpspin (= llist)"``): coinciding lines are drawn over each other, the legend says so."""
    labels = {}
    for i, d in enumerate(designs):
        if d not in series:
            continue
        same = next((e for e in designs[:i] if e in series and series[e] == series[d]), None)
        labels[d] = f"{d} (= {same})" if same else d
    return labels


# -- running -------------------------------------------------------------------------------------------
def _progress_bar(total: int, desc: str = "benchframe compare"):
    """A tqdm bar on a terminal, nothing in CI (stderr not a TTY)."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="run", desc=desc, leave=False)


# -- the compare command --------------------------------------------------------------------------------
def select_studies(reg: Registry, workloads: list[str] | None) -> tuple[list[Study], list[str]]:
    notes = []
    if workloads:
        for w in workloads:
            reg.workload(w)
    chosen = []
    for study in STUDIES:
        if workloads and study.workload not in workloads:
            continue
        if study.workload not in reg.workloads:
            notes.append(f"study {study.key} skipped: workload {study.workload} is not registered")
            continue
        w = reg.workloads[study.workload]
        if not w.standard and not workloads:
            continue
        chosen.append(study)
    if workloads:  # a workload without a built-in study is run at its defaults
        for w in workloads:
            if not any(s.workload == w for s in chosen):
                metrics = tuple(w_m for w_m in reg.workloads[w].metrics) or ("alloc_cycles_per_page",)
                chosen.append(Study(w, f"{w} at its default parameters", w, metrics))
    return chosen, notes


def build_specs(studies: list[Study], designs: list[str], seeds: list[int], profile: str | None,
                config: list[str], plugins: tuple[str, ...]) -> list[tuple[Study, RunSpec]]:
    out = []
    for study in studies:
        cfg = tuple(sorted(set(config) | set(study.config)))
        for params in study.points():
            for design in designs:
                for seed in seeds:
                    out.append((study, RunSpec(design=design, workload=study.workload, params=params, seed=seed,
                                               profile=profile, config=cfg, plugins=plugins)))
    return out


def cmd_compare(args) -> int:
    plugins = tuple(args.plugin)
    reg = get_registry(plugins)
    designs = _split(args.designs) or list(reg.designs)
    for d in designs:
        parse_design_spec(d, reg)
    baseline = args.baseline
    if baseline not in designs:
        if args.designs and baseline == "single":
            baseline = designs[0]
        else:
            raise BenchframeError(f"--baseline {baseline!r} is not among the designs ({', '.join(designs)})")
    if args.seeds < 1:
        raise BenchframeError(f"--seeds must be at least 1, not {args.seeds}")
    config = KernelConfig.parse(args.config).as_list()
    costs = reg.cost_model(args.profile)
    out_dir = Path(args.output)
    _check_output_dir(out_dir)
    studies, notes = select_studies(reg, _split(args.workloads))
    seeds = list(range(1, args.seeds + 1))
    cells = build_specs(studies, designs, seeds, args.profile, config, plugins)
    for study in studies:  # bad parameter values fail before anything runs
        for params in study.points():
            reg.workload(study.workload).resolve_params(params)
    bar = _progress_bar(len(cells))
    try:
        results = run_specs([spec for _, spec in cells], args.jobs or None, args.executor, args.scheduler,
                            bar.update if bar else None)
    finally:
        if bar:
            bar.close()
    errors = [r for r in results if isinstance(r, str)]
    runs = [r for r in results if not isinstance(r, str)]
    command = "benchframe " + " ".join(shlex.quote(a) for a in (args.argv or []))
    header = report_header(costs.name, config, seeds, command)
    text, pngs = render_report(runs, studies, designs, baseline, args.format, out_dir, header, reg,
                               notes + [f"run failed: {e}" for e in errors], explore_designs=designs)
    ext = {"md": "md", "github": "md", "plain": "txt", "latex": "tex", "html": "html", "csv": "csv"}[args.format]
    write_atomic(out_dir / "results.json", dumps(result_document(runs, costs.name, config, command)))
    write_atomic(out_dir / f"comparison.{ext}", text)
    print(f"benchframe: wrote {out_dir / f'comparison.{ext}'} ({len(runs)} runs, {len(pngs)} plots)")
    for e in errors:
        print(f"benchframe: run failed: {e}", file=sys.stderr)
    return 1 if errors else 0


def _split(values) -> list[str]:
    out: list[str] = []
    for v in values or ():
        out.extend(x.strip() for x in str(v).split(",") if x.strip())
    return out


def _check_output_dir(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BenchframeError(f"--output {out_dir}: cannot create directory: {exc.strerror or exc}") from None
    if not os.access(out_dir, os.W_OK):
        raise BenchframeError(f"--output {out_dir}: directory is not writable")


def report_header(profile: str, config: list[str], seeds: list[int], command: str) -> list[tuple[str, str]]:
    return [
        ("benchframe", __version__),
        ("git commit", git_commit() or "unknown (not a git checkout)"),
        ("cost profile", profile),
        ("kernel config", ", ".join(config) or "default (!PREEMPT_RT)"),
        ("seeds", ", ".join(map(str, seeds))),
        ("reproduce with", f"`{command}`"),
    ]


# -- rendering --------------------------------------------------------------------------------------------
def _metric_title(metric: str, workload, reg: Registry) -> str:
    if metric in METRICS:
        m = METRICS[metric]
        return f"{metric} ({m.unit}, {m.better} is better)"
    w = reg.workloads.get(workload)
    if w and metric in w.metrics:
        unit, better, _ = w.metrics[metric]
        return f"{metric} ({unit}, {better} is better)"
    return metric


def study_tables(runs: list[dict], study: Study, designs: list[str], baseline: str, reg: Registry) -> list[Table]:
    cfg = sorted(study.config)
    mine = [r for r in runs if r["workload"] == study.workload and
            all(c in r.get("config", []) for c in cfg) and (cfg or "PREEMPT_RT" not in r.get("config", []))]
    if study.vary is not None:
        mine = [r for r in mine if r["params"].get(study.vary) in study.values]
    # Rows are labelled by every parameter that differs between the runs (the study's own first), so results
    # of a sweep that also varied another parameter are never pooled as if they were seeds.
    keys = sorted({k for r in mine for k in r["params"]})
    varied = [k for k in keys if len({json.dumps(r["params"].get(k)) for r in mine}) > 1]
    if study.vary is not None:
        varied = [study.vary] + [k for k in varied if k != study.vary]

    def label(r: dict) -> str:
        return ", ".join(f"{k}={r['params'].get(k)}" for k in varied)

    order = {v: i for i, v in enumerate(study.values)}
    ordered = sorted(mine, key=lambda r: tuple((order.get(r["params"].get(k), 0), str(r["params"].get(k)))
                                                 if k == study.vary else (0, _sort_key(r["params"].get(k)))
                                                 for k in varied))
    points = list(dict.fromkeys(label(r) for r in ordered)) or [""]
    tables = []
    workload = reg.workloads.get(study.workload)
    for metric in study.metrics:
        samples: dict[tuple[str, str], list[float]] = {}
        for r in mine:
            value = r["metrics"].get(metric)
            if value is None:
                continue
            samples.setdefault((r["design"], label(r)), []).append(float(value))
        if not samples:
            continue
        tables.append(compare_table(f"{study.workload}: {_metric_title(metric, study.workload, reg)}",
                                    designs, baseline, points, samples, metric_better(metric, workload)))
    return tables


def _sort_key(value) -> tuple:
    """Numbers in numeric order, everything else after them as text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return (1, 0.0, str(value))
    return (0, float(value), "")


def metadata_table(designs: list[str], reg: Registry) -> Table:
    rows = []
    for name in designs:
        design, _ = parse_design_spec(name, reg)
        rows.append([name, design.shape, str(design.metadata_bytes_per_page), str(design.pcp_link_bytes),
                     design.models])
    return Table("Metadata bytes per page", ["design", "shape", "caller link (bytes/page)",
                                             "pcp link (bytes/page)", "models"], rows,
                 "Caller link: page->lru list_head (16) for list designs, a struct page * slot (8) for arrays; "
                 "pcp link: list_head lru (16) or llist_node (8) on the per-CPU lists.", stralign="left")


def reentrancy_table(designs: list[str], reg: Registry) -> Table | None:
    try:
        from benchframe.explore import explore
    except ImportError:
        return None
    rows = []
    for name in designs:
        row = [name]
        for context in ("irq", "nmi"):
            try:
                res = explore(name, context, registry=reg)
                cell = f"{res.verdict}: {res.reason}" if res.reason else res.verdict
                findings = len(getattr(res, "findings", ()) or ())
                extent = [f"{findings} failing operation/handler pairs"] if findings > 1 else []
                if getattr(res, "explored_points", 0):
                    extent.append(f"{res.explored_points} interleavings")
                if extent and cell.endswith(")"):  # "(456 refusals)" + extent: one parenthesis
                    cell = f"{cell[:-1]}; {'; '.join(extent)})"
                elif extent:
                    cell = f"{cell} ({'; '.join(extent)})"
                row.append(cell)
            except BenchframeError as exc:
                row.append(f"error: {exc}")
        rows.append(row)
    return Table("Re-entrancy verdicts (benchframe explore)", ["design", "vs IRQ", "vs NMI"], rows,
                 "Found by systematic exploration: an interrupt or NMI whose handler allocates/frees on the same "
                 "CPU is delivered at each charge point of each operation in turn (the interleavings counted in "
                 "each cell) and the invariants are checked; the reason is the simplest failing case. "
                 "`benchframe explore --design NAME` prints the failing interleaving step by step.",
                 stralign="left")


def render_report(runs: list[dict], studies: list[Study], designs: list[str], baseline: str, fmt: str,
                  out_dir: Path | None, header: list[tuple[str, str]], reg: Registry, notes: list[str],
                  explore_designs: list[str] | None = None) -> tuple[str, list[str]]:
    """The whole report as text (and the PNGs written into ``out_dir``)."""
    all_tables: list[tuple[Study | None, list[Table]]] = []
    for study in studies:
        all_tables.append((study, study_tables(runs, study, designs, baseline, reg)))
    extra = [metadata_table(designs, reg)]
    if explore_designs:
        t = reentrancy_table(explore_designs, reg)
        if t is not None:
            extra.append(t)
    # a raising plugin is reported by name (main() prints reg.errors, exit 1); the report still comes out
    for section in reg.call("benchframe_report_sections", errors=reg.errors, runs=runs, baseline=baseline):
        for title, body in section:
            extra.append(Table(str(title), [], [], str(body)))
    pngs = plot_all(runs, designs, out_dir) if out_dir is not None else []
    if fmt == "csv":
        return render_csv([t for _, ts in all_tables for t in ts] + extra), pngs
    parts = []
    if fmt in ("md", "github"):
        parts.append("# benchframe comparison\n")
        parts.append("\n".join(f"- **{k}**: {v}" for k, v in header) + "\n")
        parts.append(f"Baseline: `{baseline}`. Cells read `value (pct%)` against the baseline; positive means "
                     "better whichever way the metric points; `*pct%*` marks a difference significant across "
                     "seeds (Welch's t-test, p < 0.05).\n")
        for png in pngs:
            parts.append(f"![{Path(png).stem}]({Path(png).name})\n")
    elif fmt == "html":
        parts.append("<h1>benchframe comparison</h1>\n<ul>\n" +
                     "".join(f"<li><b>{k}</b>: {html.escape(v.strip('`'))}</li>\n" for k, v in header) + "</ul>\n")
    elif fmt == "latex":
        parts.append("% benchframe comparison\n" + "".join(f"% {k}: {v}\n" for k, v in header))
    else:
        parts.append("benchframe comparison\n" + "\n".join(f"{k}: {v}" for k, v in header) + "\n")
    for study, tables in all_tables:
        if fmt in ("md", "github"):
            parts.append(f"## {study.question}\n")
        elif fmt == "html":
            parts.append(f"<h2>{html.escape(study.question)}</h2>\n")
        elif fmt == "latex":
            parts.append(f"% == {study.question}\n")
        else:
            parts.append(f"== {study.question}\n")
        if not tables:
            parts.append("(no results)\n")
        parts.extend(render(t, fmt) for t in tables)
    comment = "% " if fmt == "latex" else ""
    for t in extra:
        if not t.rows:
            parts.append(f"## {t.title}\n\n{t.note}\n" if fmt in ("md", "github") else
                         f"{comment}{t.title}\n{comment}{t.note}\n")
            continue
        parts.append(render(t, fmt))
    if notes:
        parts.append(("## Notes\n\n" if fmt in ("md", "github") else f"{comment}Notes\n") +
                     "\n".join(f"{comment}- {n}" for n in notes) + "\n")
    return "\n".join(parts), pngs


# -- plots ------------------------------------------------------------------------------------------------
def _mean_by(runs: list[dict], workload: str, metric: str, x: str, config_rt: bool = False):
    acc: dict[str, dict[Any, list[float]]] = {}
    for r in runs:
        if r["workload"] != workload or ("PREEMPT_RT" in r.get("config", [])) != config_rt:
            continue
        v = r["metrics"].get(metric)
        if v is None or x not in r["params"]:
            continue
        acc.setdefault(r["design"], {}).setdefault(r["params"][x], []).append(float(v))
    return {d: sorted((k, sum(v) / len(v)) for k, v in pts.items()) for d, pts in acc.items()}


def plot_all(runs: list[dict], designs: list[str], out_dir: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    styles = design_styles(designs)
    markers = {d: DESIGN_MARKERS[i % len(DESIGN_MARKERS)] for i, d in enumerate(designs)}
    written = []

    def save(fig, name: str) -> None:
        """Render to a temporary file, then rename: a failed or interrupted save leaves no partial PNG."""
        path = out_dir / name
        tmp = out_dir / f".{name}.tmp.png"
        try:
            fig.savefig(tmp, dpi=110, bbox_inches="tight", metadata={"Software": None})
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        finally:
            plt.close(fig)
        written.append(str(path))

    for metric, name, ylabel, title, logy in (
        ("alloc_free_cycles_per_page", "cost_per_page_vs_bulk.png", "alloc+free cost per page (cycles)",
         "page_bench04: cost per page vs bulk size", False),
        ("irqs_off_max_cycles", "irqs_off_vs_bulk.png", "longest IRQs-off window (cycles, log scale)",
         "page_bench04: longest IRQs-disabled window vs bulk size", True),
    ):
        series = _mean_by(runs, "page_bench04", metric, "bulk")
        if not series:
            continue
        fig, ax = plt.subplots(figsize=(7.5, 4.5))
        labels = legend_labels(series, designs)
        for d in designs:
            if d in series:
                xs, ys = zip(*series[d])
                ax.plot(xs, ys, marker=markers[d], markersize=max(4.0, 8.0 - 0.6 * designs.index(d)),
                        label=labels[d], **styles[d])
        ax.set_xscale("log", base=2)
        xs_all = sorted({x for pts in series.values() for x, _ in pts})
        ax.set_xticks(xs_all, [str(x) for x in xs_all])
        if logy:
            ax.set_yscale("symlog", linthresh=10)
            ax.set_ylim(bottom=0)
        ax.set_xlabel("bulk (pages per call, log scale)")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(title="design", fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        save(fig, name)
    # interrupt latency CDF per design at bulk=64 (irq_latency), both kernels if present
    for rt, name in ((False, "irq_latency_cdf.png"), (True, "irq_latency_cdf_rt.png")):
        per: dict[str, list[int]] = {}
        for r in runs:
            if r["workload"] != "irq_latency" or r["params"].get("bulk") != 64:
                continue
            if ("PREEMPT_RT" in r.get("config", [])) != rt:
                continue
            per.setdefault(r["design"], []).extend(r.get("samples", {}).get("irq_latency_cycles", []))
        if not per:
            continue
        fig, ax = plt.subplots(figsize=(7.5, 4.5))
        per = {d: sorted(v) for d, v in per.items() if v}
        labels = legend_labels(per, designs)
        for d in designs:
            vals = per.get(d)
            if not vals:
                continue
            ys = [(i + 1) / len(vals) for i in range(len(vals))]
            ax.step(vals, ys, where="post", label=labels[d], **styles[d])
        ax.set_xscale("symlog", linthresh=10)
        ax.set_xlim(left=0)
        ax.set_xlabel("interrupt latency, arrival to handler (cycles, log scale above 10)")
        ax.set_ylabel("fraction of interrupts (CDF)")
        ax.set_title("irq_latency, bulk=64" + (", PREEMPT_RT" if rt else "") + ": interrupt latency CDF")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(title="design", fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        save(fig, name)
    return written


# -- report from saved results ------------------------------------------------------------------------------
def load_runs(paths: list[str]) -> tuple[list[dict], list[str], str]:
    """Runs from result documents (``run --json``, a compare's results.json) or a sweep directory."""
    runs: list[dict] = []
    profiles = set()
    configs = set()
    for raw in paths:
        path = Path(raw)
        files = sorted(path.rglob("*.json")) if path.is_dir() else [path]
        if path.is_dir() and not files:
            raise BenchframeError(f"{path}: no result files in directory")
        for f in files:
            text = read_text(f)
            try:
                doc = json.loads(text)
            except json.JSONDecodeError as exc:
                raise BenchframeError(f"{f}: not a valid JSON result file ({exc})") from None
            if isinstance(doc, dict) and "runs" in doc:
                items = doc["runs"]
            elif isinstance(doc, dict) and "design" in doc and "metrics" in doc:
                items = [doc]
            elif path.is_dir():
                continue  # e.g. a sweep manifest
            else:
                raise BenchframeError(f"{f}: not a benchframe result document (no 'runs')")
            if not isinstance(items, list):
                raise BenchframeError(f"{f}: 'runs' must be a list")
            for i, r in enumerate(items):
                if not isinstance(r, dict) or not {"design", "workload", "params", "metrics"} <= set(r) or \
                        not isinstance(r["metrics"], dict) or not isinstance(r["params"], dict):
                    raise BenchframeError(f"{f}: run {i} lacks design/workload/params/metrics")
                runs.append(r)
                profiles.add(r.get("profile", "?"))
                configs.update(r.get("config", []))
    return runs, sorted(configs), ", ".join(sorted(profiles))


def studies_from_runs(runs: list[dict], reg: Registry) -> list[Study]:
    """The built-in studies that match the runs, plus one ad-hoc study per other workload/varied parameter."""
    studies = []
    seen_workloads = set()
    for study in STUDIES:
        have = [r for r in runs if r["workload"] == study.workload]
        if not have:
            continue
        if study.vary and not any(r["params"].get(study.vary) in study.values for r in have):
            continue
        if study.config and not any(all(c in r.get("config", []) for c in study.config) for r in have):
            continue
        studies.append(study)
        seen_workloads.add(study.workload)
    for workload in sorted({r["workload"] for r in runs} - seen_workloads):
        have = [r for r in runs if r["workload"] == workload]
        keys = sorted({k for r in have for k in r["params"]})
        varied = [k for k in keys if len({json.dumps(r["params"].get(k)) for r in have}) > 1]
        vary = varied[0] if varied else None
        values = tuple(sorted({r["params"][vary] for r in have}, key=str)) if vary else ()
        w = reg.workloads.get(workload)
        metrics = tuple(w.metrics) if w and w.metrics else ("alloc_free_cycles_per_page", "alloc_cycles_per_page",
                                                             "irqs_off_max_cycles")
        studies.append(Study(workload, f"{workload}" + (f" vs {vary}" if vary else ""), workload, metrics, vary,
                             values))
    return studies


def cmd_report(args) -> int:
    reg = get_registry(tuple(args.plugin))
    runs, config, profile = load_runs(args.results)
    if not runs:
        raise BenchframeError("no runs in the given result files")
    present = list(dict.fromkeys(r["design"] for r in runs))
    order = [d for d in reg.designs if d in present] + [d for d in present if d not in reg.designs]
    baseline = args.baseline if args.baseline in order else order[0]
    if args.baseline and args.baseline not in order and args.baseline != "single":
        raise BenchframeError(f"--baseline {args.baseline!r} has no runs in the results")
    seeds = sorted({r.get("seed", 0) for r in runs})
    header = report_header(profile, config, seeds, "benchframe report " + " ".join(map(shlex.quote, args.results)))
    out_dir = Path(args.output) if args.output else None
    if out_dir:
        _check_output_dir(out_dir)
    text, _ = render_report(runs, studies_from_runs(runs, reg), order, baseline, args.format, out_dir, header,
                            reg, ["re-entrancy verdicts are not part of run results: "
                                  "`benchframe explore --design NAME` (or `benchframe compare`) computes them"])
    if out_dir:
        ext = {"md": "md", "github": "md", "plain": "txt", "latex": "tex", "html": "html", "csv": "csv"}[args.format]
        write_atomic(out_dir / f"report.{ext}", text)
        print(f"benchframe: wrote {out_dir / f'report.{ext}'}")
    else:
        print(text)
    return 0


# -- asv history --------------------------------------------------------------------------------------------
def load_asv_history(results_dir: Path) -> dict[str, list[tuple[str, int, float | None]]]:
    """``{benchmark[param combo]: [(commit, date_ms, value), ...]}`` from asv's results directory."""
    from itertools import product

    if not results_dir.is_dir():
        raise BenchframeError(f"--results {results_dir}: no such directory (run `asv run` first)")
    series: dict[str, list[tuple[str, int, float | None]]] = {}
    for f in sorted(results_dir.glob("*/*.json")):
        if f.name in ("machine.json", "benchmarks.json"):
            continue
        try:
            doc = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BenchframeError(f"{f}: not a valid asv result file ({exc})") from None
        if not isinstance(doc, dict) or "results" not in doc or "commit_hash" not in doc:
            raise BenchframeError(f"{f}: not an asv result file (no results/commit_hash)")
        columns = doc.get("result_columns") or ["result", "params"]
        commit = str(doc["commit_hash"])[:8]
        date = int(doc.get("date") or 0)
        for name, entry in sorted(doc["results"].items()):
            if isinstance(entry, list):
                row = dict(zip(columns, entry))
            elif isinstance(entry, dict):
                row = entry
            else:
                row = {"result": [entry]}
            values = row.get("result")
            params = row.get("params") or []
            if values is None:
                continue
            if not isinstance(values, list):
                values = [values]
            combos = [", ".join(map(str, c)) for c in product(*params)] if params else [""]
            for combo, value in zip(combos, values):
                key = f"{name}({combo})" if combo else name
                series.setdefault(key, []).append((commit, date, value if isinstance(value, int | float) else None))
    return series


def cmd_history(args) -> int:
    from tabulate import tabulate

    series = load_asv_history(Path(args.results))
    if not series:
        raise BenchframeError(f"--results {args.results}: no benchmark results found")
    if args.factor <= 1.0:
        raise BenchframeError(f"--factor must be greater than 1, not {args.factor}")
    wanted = args.benchmark
    for key, points in series.items():
        if wanted and wanted not in key:
            continue
        points.sort(key=lambda p: (p[1], p[0]))
        rows = []
        prev = None
        for commit, date, value in points:
            when = datetime.fromtimestamp(date / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M") if date else "?"
            change = ""
            flag = ""
            if value is not None and prev:
                ratio = value / prev
                change = f"{(ratio - 1) * 100:+.2f}%"
                if ratio > args.factor or ratio < 1 / args.factor:  # asv values: better may be either way
                    flag = f"{'up' if ratio > 1 else 'down'} x{ratio:.2f}"
            rows.append([commit, when, "-" if value is None else f"{value:.6g}", change, flag])
            prev = value if value is not None else prev
        print(f"### {key}\n")
        print(tabulate(rows, headers=["commit", "date (UTC)", "value", "change vs previous",
                                      f"flag (beyond x{args.factor:g})"], tablefmt="pipe", disable_numparse=True))
        print()
    return 0
