"""The comparison document: a header that says how to reproduce it, one section of compare-kernels tables per
study, the metadata and re-entrancy tables and the plugins' sections, in any ``--format``, plus the plots.

Reporters read only flat run records (``RunResult.as_dict()``) and explore verdicts; they know nothing of the
simulator.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchframe import __version__
from benchframe.explore import CONTEXT_LABELS
from benchframe.io import git_commit
from benchframe.metrics import METRICS, metric_better
from benchframe.report.plots import plot_all
from benchframe.report.tables import Table, compare_table, render, render_csv

if TYPE_CHECKING:
    from benchframe.explore import ExploreResult
    from benchframe.registry import Registry
    from benchframe.report.studies import Study


def report_header(profile: str, config: list[str], seeds: list[int], command: str,
                  kernel: str = "5.13") -> list[tuple[str, str]]:
    return [
        ("benchframe", __version__),
        ("git commit", git_commit() or "unknown (not a git checkout)"),
        ("cost profile", profile),
        ("kernel", kernel),
        ("kernel config", ", ".join(config) or "default (!PREEMPT_RT)"),
        ("seeds", ", ".join(map(str, seeds))),
        ("reproduce with", f"`{command}`"),
    ]


def _metric_title(metric: str, workload: str, reg: Registry) -> str:
    if metric in METRICS:
        m = METRICS[metric]
        return f"{metric} ({m.unit}, {m.better} is better)"
    w = reg.workloads.get(workload)
    if w and metric in w.metrics:
        unit, better, _ = w.metrics[metric]
        return f"{metric} ({unit}, {better} is better)"
    return metric


def study_tables(runs: list[dict[str, Any]], study: Study, designs: list[str], baseline: str,
                 reg: Registry) -> list[Table]:
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


def _sort_key(value: Any) -> tuple[int, float, str]:
    """Numbers in numeric order, everything else after them as text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return (1, 0.0, str(value))
    return (0, float(value), "")


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


#: per design, its explore verdicts against an IRQ and an NMI, or the one-line error explore gave
Verdicts = dict[str, list["ExploreResult | str"]]


def reentrancy_table(verdicts: Verdicts) -> Table:
    """One row per design: its ``benchframe explore`` verdicts against an IRQ, an NMI and another CPU."""
    rows = []
    for design, pair in verdicts.items():
        row = [design]
        for res in pair:
            if isinstance(res, str):
                row.append(f"error: {res}")
                continue
            cell = f"{res.verdict}: {res.reason}" if res.reason else res.verdict
            extent = [f"{len(res.findings)} failing operation/handler pairs"] if len(res.findings) > 1 else []
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
                  verdicts: Verdicts | None = None) -> tuple[str, list[str]]:
    """The whole report as text (and the PNGs written into ``out_dir``)."""
    all_tables: list[tuple[Study, list[Table]]] = []
    for study in studies:
        all_tables.append((study, study_tables(runs, study, designs, baseline, reg)))
    extra = [metadata_table(designs, reg)]
    if verdicts:
        extra.append(reentrancy_table(verdicts))
    # a raising plugin is reported by name (main() prints reg.errors, exit 1); the report still comes out
    for section in reg.call("benchframe_report_sections", errors=reg.errors, runs=runs, baseline=baseline):
        for title, body in section:
            extra.append(Table(str(title), [], [], str(body)))
    pngs = plot_all(runs, designs, out_dir) if out_dir is not None else []
    if fmt == "csv":
        return render_csv([t for _, ts in all_tables for t in ts] + extra), pngs
    parts = [_preamble(fmt, header, baseline, pngs)]
    for study, tables in all_tables:
        parts.append(_heading(fmt, study.question))
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


def _preamble(fmt: str, header: list[tuple[str, str]], baseline: str, pngs: list[str]) -> str:
    """The title, the header lines and (Markdown) the legend of the cells and the plots."""
    if fmt in ("md", "github"):
        parts = ["# benchframe comparison\n", "\n".join(f"- **{k}**: {v}" for k, v in header) + "\n",
                 f"Baseline: `{baseline}`. Cells read `value (pct%)` against the baseline; positive means "
                 "better whichever way the metric points; `*pct%*` marks a difference significant across "
                 "seeds (Welch's t-test, p < 0.05).\n"]
        parts += [f"![{Path(png).stem}]({Path(png).name})\n" for png in pngs]
        return "\n".join(parts)
    if fmt == "html":
        return ("<h1>benchframe comparison</h1>\n<ul>\n" +
                "".join(f"<li><b>{k}</b>: {html.escape(v.strip('`'))}</li>\n" for k, v in header) + "</ul>\n")
    if fmt == "latex":
        return "% benchframe comparison\n" + "".join(f"% {k}: {v}\n" for k, v in header)
    return "benchframe comparison\n" + "\n".join(f"{k}: {v}" for k, v in header) + "\n"


def _heading(fmt: str, text: str) -> str:
    if fmt in ("md", "github"):
        return f"## {text}\n"
    if fmt == "html":
        return f"<h2>{html.escape(text)}</h2>\n"
    if fmt == "latex":
        return f"% == {text}\n"
    return f"== {text}\n"
