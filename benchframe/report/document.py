"""The comparison document: a header that says how to reproduce it, the decision table a reviewer reads first,
one section of compare-kernels tables per study, the metadata and re-entrancy tables and the plugins' sections,
in any ``--format``, plus the plots.

Reporters read only flat run records (``RunResult.as_dict()``) and explore verdicts; they know nothing of the
simulator. Everything the header and the headings say is taken from the runs themselves.
"""

from __future__ import annotations

import html
import json
import textwrap
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError, __version__
from benchframe.explore import CONTEXT_LABELS
from benchframe.explore.verdicts import DISQUALIFYING_TEXT, UNSAFE_MARK, marked, unsafe
from benchframe.io import git_commit
from benchframe.metrics import METRICS, metric_better
from benchframe.report.plots import plot_all
from benchframe.report.stats import CORRECTION, RATIO_BEYOND
from benchframe.report.tables import (
    PLAIN_WIDTH,
    Cell,
    Table,
    compare_table,
    correct,
    fmt_ratio,
    render,
    render_csv,
    render_json,
)

if TYPE_CHECKING:
    from benchframe.explore.verdicts import Verdict, Verdicts
    from benchframe.registry import Registry
    from benchframe.report.studies import Study

DEFAULT_CONFIG = "default (!PREEMPT_RT)"


def _tally(values: list[str]) -> str:
    """``a`` when every run has the same, else ``a (396 runs), b (90 runs)``, most frequent first."""
    counts = Counter(values)
    if len(counts) <= 1:
        return next(iter(counts), "-")
    return ", ".join(f"{k} ({n} runs)" for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def run_config(run: dict[str, Any]) -> str:
    return " + ".join(run.get("config") or []) or DEFAULT_CONFIG


def report_header(runs: list[dict[str, Any]], command: str, plugins: dict[str, str],
                  sources: list[str] | None = None) -> list[tuple[str, str]]:
    """The header lines, from the runs themselves: profile, kernel, config and seeds as the runs have them
    (with the number of runs of each where they differ), the version of every plugin distribution loaded, and
    the command that reproduces the document. ``sources``: where saved results came from (``report``)."""
    lines = [
        ("benchframe", __version__),
        ("git commit", git_commit() or "unknown (not a git checkout)"),
        ("plugins", ", ".join(f"{d} {v}" for d, v in sorted(plugins.items())) or "none"),
        ("cost profile", _tally([str(r.get("profile") or "?") for r in runs])),
        ("kernel", _tally([str(r.get("kernel", "5.13")) for r in runs])),
        ("kernel config", _tally([run_config(r) for r in runs])),
        ("seeds", ", ".join(map(str, sorted({int(r.get("seed", 0)) for r in runs})))),
        ("runs", str(len(runs))),
    ]
    lines += [("results from", s) for s in sources or ()]
    lines.append(("reproduce with", f"`{command}`"))
    return lines


def _metric_title(metric: str, workload: str, reg: Registry) -> str:
    if metric in METRICS:
        m = METRICS[metric]
        return f"{metric} ({m.unit}, {m.better} is better)"
    w = reg.workloads.get(workload)
    if w and metric in w.metrics:
        unit, better, _ = w.metrics[metric]
        return f"{metric} ({unit}, {better} is better)"
    return metric


def study_runs(runs: list[dict[str, Any]], study: Study) -> list[dict[str, Any]]:
    """The runs a study's tables are made of: its workload, its kernel config, its varied parameter's values."""
    cfg = sorted(study.config)
    mine = [r for r in runs if r["workload"] == study.workload and
            all(c in r.get("config", []) for c in cfg) and (cfg or "PREEMPT_RT" not in r.get("config", []))]
    if study.vary is not None:
        mine = [r for r in mine if r["params"].get(study.vary) in study.values]
    return mine


def _varied(runs: list[dict[str, Any]]) -> list[str]:
    keys = sorted({k for r in runs for k in r["params"]})
    return [k for k in keys if len({json.dumps(r["params"].get(k)) for r in runs}) > 1]


def study_heading(runs: list[dict[str, Any]], study: Study, reg: Registry) -> str:
    """The study's question and the parameters its runs share that are not the workload's defaults -- read
    from the runs, so a heading never names a value its rows do not have."""
    mine = study_runs(runs, study)
    if not mine:
        return study.question
    varied = set(_varied(mine)) | ({study.vary} if study.vary else set())
    w = reg.workloads.get(study.workload)
    defaults = w.resolve_params({}) if w else {}
    fixed = [f"{k}={v}" for k, v in sorted(mine[0]["params"].items())
             if k not in varied and (k not in defaults or defaults[k] != v)]
    return study.question + (f" -- {', '.join(fixed)}" if fixed else "")


def study_tables(runs: list[dict[str, Any]], study: Study, designs: list[str], baseline: str,
                 reg: Registry, labels: dict[str, str] | None = None) -> list[Table]:
    mine = study_runs(runs, study)
    # Rows are labelled by every parameter that differs between the runs (the study's own first), so results
    # of a sweep that also varied another parameter are never pooled as if they were seeds.
    varied = _varied(mine)
    if study.vary is not None:
        varied = [study.vary] + [k for k in varied if k != study.vary]

    def label(r: dict[str, Any]) -> str:
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
        counts: dict[tuple[str, str], list[int]] | None = None
        count_metric = METRICS[metric].samples if metric in METRICS else ""
        if count_metric:
            counts = {}
        for r in mine:
            if counts is not None and r["metrics"].get(count_metric) is not None:
                counts.setdefault((r["design"], label(r)), []).append(int(r["metrics"][count_metric]))
            value = r["metrics"].get(metric)
            if value is None:
                continue
            samples.setdefault((r["design"], label(r)), []).append(float(value))
        if not samples and not counts:
            continue
        note = ""
        if counts is not None:
            note = (f"Samples: the {count_metric} each run's percentile is taken over (min-max over seeds); "
                    "'-' where a run had too few to support the percentile (a p99 needs 100).")
        tables.append(compare_table(f"{study.workload}: {_metric_title(metric, study.workload, reg)}",
                                    designs, baseline, points, samples, metric_better(metric, workload),
                                    note=note, counts=counts, labels=labels))
    for t in tables:
        t.section = study.key
    return tables


def _sort_key(value: Any) -> tuple[int, float, str]:
    """Numbers in numeric order, everything else after them as text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return (1, 0.0, str(value))
    return (0, float(value), "")


# -- the decision table ----------------------------------------------------------------------------------------
def _point(runs: list[dict[str, Any]], workload: str, rt: bool, bulk: int) -> list[dict[str, Any]]:
    """The runs of ``workload`` at ``bulk`` on the default (or RT) config; where other parameters were varied
    too, those of the most frequent setting (its parameters go into the table's note)."""
    have = [r for r in runs if r["workload"] == workload and r["params"].get("bulk") == bulk
            and ("PREEMPT_RT" in r.get("config", [])) == rt]
    if not have:
        return []
    others = Counter(json.dumps({k: v for k, v in r["params"].items() if k != "bulk"}, sort_keys=True)
                     for r in have)
    best = sorted(others.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    return [r for r in have if json.dumps({k: v for k, v in r["params"].items() if k != "bulk"},
                                          sort_keys=True) == best]


def _mean(runs: list[dict[str, Any]], design: str, metric: str) -> float | None:
    vals = [float(r["metrics"][metric]) for r in runs if r["design"] == design and
            r["metrics"].get(metric) is not None]
    return sum(vals) / len(vals) if vals else None


def _cost_cell(runs: list[dict[str, Any]], design: str, baseline: str) -> Cell:
    value = _mean(runs, design, "alloc_free_cycles_per_page")
    base = _mean(runs, baseline, "alloc_free_cycles_per_page")
    if value is None:
        return Cell(None)
    ratio = value / base if base else None
    return Cell(value, ratio=ratio, text=f"{value:.0f} ({fmt_ratio(ratio) if ratio is not None else 'vs 0'})")


def _window_cell(runs: list[dict[str, Any]], design: str) -> Cell:
    values = [float(r["metrics"]["irqs_off_max_cycles"]) for r in runs
              if r["design"] == design and r["metrics"].get("irqs_off_max_cycles") is not None]
    window = max(values, default=None)
    return Cell(window, text=f"{window:.0f}" if window is not None else "-")


def _p99_cell(runs: list[dict[str, Any]], design: str) -> Cell:
    mine = [r for r in runs if r["design"] == design]
    if not mine:
        return Cell(None)
    value = _mean(mine, design, "irq_latency_p99_cycles")
    counts = [r["metrics"].get("irq_latency_samples") for r in mine]
    n = str(min(int(c) for c in counts)) if None not in counts else "?"  # results of an older benchframe
    return Cell(value, text=f"{value:.0f} (n={n})" if value is not None else f"- (n={n})")


def _verdict_text(v: Verdict | None) -> str:
    if v is None:
        return "-"
    if v.verdict == "SAFE" and v.refused:
        return "SAFE (refuses)"
    return v.verdict


def _constraints(reg: Registry, design: str, v: dict[str, Verdict]) -> str:
    parts = []
    if design in reg.designs or ":" in design:
        try:
            rec, _ = reg.design_spec(design)
            parts += [c for c in [rec.constraints] if c]
        except BenchframeError:  # a design of saved results that is no longer registered
            pass
    for context, verdict in v.items():
        if verdict.verdict == "SAFE" and verdict.refused:
            parts.append(f"refuses {context.upper()} allocations")
    return "; ".join(parts) or "-"


def _metadata(reg: Registry, design: str) -> str:
    try:
        rec, _ = reg.design_spec(design)
    except BenchframeError:  # no longer registered
        return "-"
    return f"{rec.metadata_bytes_per_page} + {rec.pcp_link_bytes}"


def decision_table(runs: list[dict[str, Any]], designs: list[str], baseline: str, reg: Registry,
                   verdicts: Verdicts | None) -> Table | None:
    """One row per design with what a reviewer asks first: cost per page at bulk 8 and 64 (its ratio to the
    baseline), the longest IRQs-off window and the p99 interrupt latency at 64 (default and PREEMPT_RT, with
    the number of interrupts it is taken over), the explore verdicts, the API constraints and the metadata."""
    cost8 = _point(runs, "page_bench04", False, 8)
    cost64 = _point(runs, "page_bench04", False, 64)
    lat = _point(runs, "irq_latency", False, 64)
    lat_rt = _point(runs, "irq_latency", True, 64)
    if not (cost8 or cost64 or lat or lat_rt or verdicts):
        return None
    verdicts = verdicts or {}
    rows: list[tuple[str, list[Cell]]] = []
    order = [baseline] + [d for d in designs if d != baseline]
    for d in order:
        v = verdicts.get(d, {})
        rows.append((marked(d, verdicts), [
            _cost_cell(cost8, d, baseline), _cost_cell(cost64, d, baseline), _window_cell(cost64, d),
            _p99_cell(lat, d), _p99_cell(lat_rt, d),
            Cell(None, text=_verdict_text(v.get("irq"))), Cell(None, text=_verdict_text(v.get("nmi"))),
            Cell(None, text=_constraints(reg, d, v)), Cell(None, text=_metadata(reg, d))]))
    headers = ["design", "cost @8", "cost @64", "IRQs-off @64", "p99 lat @64", "p99 lat @64 RT", "vs IRQ",
               "vs NMI", "API constraints", "meta B/page"]
    params = []
    for name, rs in (("page_bench04", cost64), ("irq_latency", lat)):
        if rs:
            w = reg.workloads.get(name)
            defaults = w.resolve_params({}) if w else {}
            changed = [f"{k}={v}" for k, v in sorted(rs[0]["params"].items())
                       if k != "bulk" and defaults.get(k, v) != v]
            params.append(f"{name}" + (f" ({', '.join(changed)})" if changed else ""))
    note = (f"cost @8/@64: page_bench04 alloc+free cycles per page at bulk 8/64, mean over seeds (ratio to "
            f"{baseline}); IRQs-off @64: its longest IRQs-disabled window (cycles); p99 lat: irq_latency's 99th "
            "percentile interrupt latency at bulk 64 (cycles, mean over seeds; n = the fewest interrupts a run's "
            f"percentile was taken over, '-' under 100); from {', '.join(params) or 'no runs'}. "
            "vs IRQ / vs NMI: `benchframe explore`; "
            f"{UNSAFE_MARK} marks a design UNSAFE {DISQUALIFYING_TEXT}: its costs are those of an "
            "incorrect design. Against an NMI no page allocator is safe (the single-page path included): "
            "allocating in NMI context is the caller's bug, unless a design refuses it. meta: bytes per page "
            "of the caller's link (lru list_head 16, array slot 8) + the pcp link (lru 16, llist_node 8).")
    return Table("Decision: one row per design", headers, [], note, stralign="left", cells=rows)


def metadata_table(designs: list[str], reg: Registry) -> Table:
    rows = []
    for name in designs:
        design, _ = reg.design_spec(name)
        rows.append([name, design.shape, str(design.metadata_bytes_per_page), str(design.pcp_link_bytes),
                     design.models])
    return Table("Metadata bytes per page", ["design", "shape", "caller link (bytes/page)",
                                             "pcp link (bytes/page)", "models"], rows,
                 "Caller link: page->lru list_head (16) for list designs, a struct page * slot (8) for arrays; "
                 "pcp link: list_head lru (16) or llist_node (8) on the per-CPU lists.", stralign="left")


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
                 "`benchframe explore --design NAME` prints the failing interleaving step by step.",
                 stralign="left")


def render_report(runs: list[dict[str, Any]], studies: list[Study], designs: list[str], baseline: str, fmt: str,
                  out_dir: Path | None, header: list[tuple[str, str]], reg: Registry, notes: list[str],
                  verdicts: Verdicts | None = None, jobs: int = 1) -> tuple[str, list[str]]:
    """The whole report as text (and the PNGs written into ``out_dir``, drawn on ``jobs`` processes)."""
    labels = {d: marked(d, verdicts) for d in designs}
    sections: list[tuple[str, list[Table]]] = []
    for study in studies:
        sections.append((study_heading(runs, study, reg), study_tables(runs, study, designs, baseline, reg,
                                                                       labels)))
    family = [t for _, ts in sections for t in ts]
    n_tests = correct(family)
    first = [t for t in [decision_table(runs, designs, baseline, reg, verdicts)] if t is not None]
    extra = [metadata_table(designs, reg)]
    if verdicts:
        extra.append(reentrancy_table(verdicts))
    # a raising plugin is reported by name (main() prints reg.errors, exit 1); the report still comes out
    for section in reg.call("benchframe_report_sections", errors=reg.errors, runs=runs, baseline=baseline):
        for title, body in section:
            extra.append(Table(str(title), [], [], str(body)))
    pngs = plot_all(runs, designs, out_dir, labels, jobs) if out_dir is not None else []
    if fmt in ("csv", "json"):
        tables = first + family + extra
        return (render_csv(tables) if fmt == "csv" else render_json(tables, header)), pngs
    parts = [_preamble(fmt, header, baseline, pngs, n_tests, verdicts)]
    parts.extend(render(t, fmt) for t in first)
    for heading, tables in sections:
        parts.append(_heading(fmt, heading))
        if not tables:
            parts.append("(no results)\n")
        parts.extend(render(t, fmt) for t in tables)
    comment = "% " if fmt == "latex" else ""
    for t in extra:
        if not t.rows:
            parts.append(f"## {t.title}\n\n{t.note}\n" if fmt in ("md", "github") else
                         _wrap(fmt, f"{comment}{t.title}") + _wrap(fmt, f"{comment}{t.note}"))
            continue
        parts.append(render(t, fmt))
    if notes:
        parts.append(("## Notes\n\n" if fmt in ("md", "github") else f"{comment}Notes\n") +
                     "".join(_wrap(fmt, f"{comment}- {n}") for n in notes))
    return "\n".join(parts), pngs


def _wrap(fmt: str, text: str) -> str:
    """A line of the plain format wrapped at ``PLAIN_WIDTH`` (continuation lines indented); other formats as
    they are."""
    if fmt != "plain":
        return text + "\n"
    return "\n".join(textwrap.wrap(text, PLAIN_WIDTH, subsequent_indent="    ", break_long_words=True,
                                   break_on_hyphens=False)) + "\n"


def legend(baseline: str, n_tests: int, verdicts: Verdicts | None) -> str:
    text = (f"Baseline: `{baseline}`. Cells read `value (pct%)` against the baseline; positive means better "
            f"whichever way the metric points; beyond a factor of {RATIO_BEYOND:g} a cell shows the ratio to the "
            f"baseline instead (`229x`: 229 times the baseline's value); `*...*` marks a difference significant "
            f"across seeds: Welch's t-test, p < 0.05 after the {CORRECTION} correction over all {n_tests} tests "
            "of this report.")
    if verdicts and any(unsafe(v) for v in verdicts.values()):
        text += (f" {UNSAFE_MARK} after a design's name: `benchframe explore` found it UNSAFE {DISQUALIFYING_TEXT}; "
                 "its costs are those of an incorrect design.")
    return text


def _preamble(fmt: str, header: list[tuple[str, str]], baseline: str, pngs: list[str], n_tests: int,
              verdicts: Verdicts | None) -> str:
    """The title, the header lines and the legend of the cells (and, in Markdown, the plots)."""
    text = legend(baseline, n_tests, verdicts)
    if fmt in ("md", "github"):
        parts = ["# benchframe comparison\n", "\n".join(f"- **{k}**: {v}" for k, v in header) + "\n", text + "\n"]
        parts += [f"![{Path(png).stem}]({Path(png).name})\n" for png in pngs]
        return "\n".join(parts)
    if fmt == "html":
        return ("<h1>benchframe comparison</h1>\n<ul>\n" +
                "".join(f"<li><b>{k}</b>: {html.escape(v.strip('`'))}</li>\n" for k, v in header) + "</ul>\n" +
                f"<p>{html.escape(text)}</p>\n")
    if fmt == "latex":
        return "% benchframe comparison\n" + "".join(f"% {k}: {v}\n" for k, v in header) + f"% {text}\n"
    return ("benchframe comparison\n" + "".join(_wrap(fmt, f"{k}: {v.strip('`')}") for k, v in header) + "\n" +
            _wrap(fmt, text.replace("`", "")))


def _heading(fmt: str, text: str) -> str:
    if fmt in ("md", "github"):
        return f"## {text}\n"
    if fmt == "html":
        return f"<h2>{html.escape(text)}</h2>\n"
    if fmt == "latex":
        return f"% == {text}\n"
    return _wrap(fmt, f"== {text}")
