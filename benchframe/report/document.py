"""The comparison document: a header that says how to reproduce it, the decision table a reviewer reads first,
one section of compare-kernels tables per study, the metadata and re-entrancy tables and the plugins' sections,
in any ``--format`` (``benchframe.output``), plus the plots.

It is rendered from a ``Snapshot`` alone -- runs, verdicts, the metric catalogue, the designs' records, the
plugins' sections -- and knows nothing of the simulator, the registry or the explorer. Everything the header
and the headings say is taken from the runs themselves.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from benchframe import __version__
from benchframe.io import git_commit
from benchframe.output import Document, Heading, Note, Preamble, Section, Table
from benchframe.provenance import checkout_state
from benchframe.report.designs import decision_table, metadata_table, reentrancy_table
from benchframe.report.modelcheck import model_check_blocks
from benchframe.report.perf import cycles_tables
from benchframe.report.plots import plot_all
from benchframe.report.sections import distinct, study_heading, study_tables
from benchframe.report.stats import CORRECTION
from benchframe.report.tables import correct
from benchframe.verdict import DISQUALIFYING_TEXT, UNSAFE_MARK, marked, unsafe

if TYPE_CHECKING:
    from collections.abc import Mapping

    from benchframe.output import Writer
    from benchframe.output.document import Block
    from benchframe.results import RunResult
    from benchframe.snapshot import Snapshot
    from benchframe.verdict import Verdicts

TITLE = "benchframe comparison"
DEFAULT_CONFIG = "default (!PREEMPT_RT)"


def _tally(values: list[str]) -> str:
    """``a`` when every run has the same, else ``a (396 runs), b (90 runs)``, most frequent first."""
    counts = Counter(values)
    if len(counts) <= 1:
        return next(iter(counts), "-")
    return ", ".join(f"{k} ({n} runs)" for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def run_config(run: RunResult) -> str:
    return " + ".join(run.config) or DEFAULT_CONFIG


def _commit() -> str:
    """The commit, and whether the checkout is edited (the edit's digest): one commit, many edits."""
    state = checkout_state()
    edited = f" with edits (diff sha256 {str(state['diff_sha256'])[:12]})" if state["dirty"] else ""
    return (git_commit() or "unknown (not a git checkout)") + edited


def report_header(runs: list[RunResult], command: str, plugins: dict[str, str],
                  sources: list[str] | None = None, distinct: int | None = None) -> list[tuple[str, str]]:
    """The header lines, from the runs themselves: profile, kernel, config and seeds as the runs have them
    (with the number of runs of each where they differ), the version of every plugin distribution loaded, the
    runs and how many distinct results they hold (``distinct``: cells run once are shown under each seed), and
    the command that reproduces the document. ``sources``: where saved results came from (``report``)."""
    lines = [
        ("benchframe", __version__),
        ("git commit", _commit()),
        ("plugins", ", ".join(f"{d} {v}" for d, v in sorted(plugins.items())) or "none"),
        ("cost profile", _tally([r.profile or "?" for r in runs])),
        ("kernel", _tally([r.kernel for r in runs])),
        ("kernel config", _tally([run_config(r) for r in runs])),
        ("seeds", ", ".join(map(str, sorted({r.seed for r in runs})))),
        ("runs", _runs_line(len(runs), distinct)),
    ]
    lines += [("results from", s) for s in sources or ()]
    lines.append(("reproduce with", f"`{command}`"))
    return lines


def _runs_line(runs: int, distinct: int | None) -> str:
    if distinct is None or distinct == runs:
        return str(runs)
    return (f"{runs} ({distinct} distinct results: a cell whose workload does not use the seed is run once and "
            "shown under each seed)")


def legend(baseline: str, n_tests: int, verdicts: Verdicts) -> str:
    text = (f"Baseline: `{baseline}`. Cells read `value (pct%)` against the baseline, as mmtests compare-kernels "
            "prints them: the change in percent, positive meaning better whichever way the metric points (a "
            "ratio to the baseline only in a row or column of its own); `*pct%*` in place of the brackets marks "
            f"a difference significant across seeds: Welch's t-test, p < 0.05 after the {CORRECTION} correction "
            f"over all {n_tests} tests of this report. A cell identical across seeds on both sides is "
            "deterministic: its change is exact and not tested. Values carry the digits their spread supports.")
    if any(unsafe(v) for v in verdicts.values()):
        text += (f" {UNSAFE_MARK} after a design's name: `benchframe explore` found it UNSAFE {DISQUALIFYING_TEXT}; "
                 "its costs are those of an incorrect design.")
    return text


def document(snap: Snapshot, pngs: list[str], png_data: Mapping[str, bytes] | None = None) -> Document:
    """The report's blocks: the preamble (with the plots ``pngs``), the decision table, the model check, where
    the cycles go, a section per study, the tables about the designs, the plugins' sections and the notes."""
    labels = {d: marked(d, snap.verdicts) for d in snap.designs}
    sections = [(study_heading(snap.runs, study, snap.catalogue),
                 study_tables(snap.runs, study, snap.designs, snap.baseline, snap.catalogue, labels))
                for study in snap.studies]
    n_tests = correct([t for _, tables in sections for t in tables])
    header = report_header(snap.runs, snap.command, dict(snap.plugins), snap.sources,
                           len(distinct(snap.runs, snap.catalogue)))
    blocks: list[Block] = [Preamble(TITLE, header, legend(snap.baseline, n_tests, snap.verdicts), pngs,
                                    dict(png_data or {}))]
    blocks += [t for t in [decision_table(snap)] if t is not None]
    blocks += model_check_blocks(snap)
    cycles = cycles_tables(snap.runs, snap.studies, snap.designs, snap.baseline, labels)
    if cycles:
        blocks += [Heading("Where the cycles go"),
                   Note("Each design's run at that point with every cycle attributed to the kernel function the "
                        "model mirrors, named as a 5.13 x86-64 build has them (inlined callees counted in their "
                        "caller, as perf does): `benchframe perf` shows the whole profile, `--diff` against a "
                        "design, and flame graphs."), *cycles]
    for heading, tables in sections:
        blocks += [Heading(heading), *tables] if tables else [Heading(heading), Note("(no results)")]
    blocks.append(metadata_table(snap))
    if snap.verdicts:
        blocks.append(reentrancy_table(snap.verdicts))
    blocks += [Table(title, [], note=body) for title, body in snap.sections]
    if snap.notes:
        blocks.append(Section("Notes", [f"- {n}" for n in snap.notes]))
    return Document(blocks, column="design")


def render_report(snap: Snapshot, writer: Writer, plots: bool = False,
                  jobs: int = 1) -> tuple[str, dict[str, bytes]]:
    """The whole report as text in the writer's format and, with ``plots``, its PNGs (file name -> bytes,
    drawn on ``jobs`` processes), which the text shows beside it."""
    labels = {d: marked(d, snap.verdicts) for d in snap.designs}
    pngs = plot_all(snap.runs, snap.designs, labels, jobs) if plots else {}
    return writer.render(document(snap, list(pngs), pngs)), pngs
