"""The simulated numbers of a representative grid (every design x workload x kernel config, through
``benchframe run`` and ``benchframe explore``) equal the fixture ``tests/data/golden_runs.json``.

The fixture was produced before the structure move of issue #11 (see ``tests/data/golden_grid.py``): a
refactoring must leave it byte-identical; a deliberate change of the model regenerates it in the same commit.
One test per grid row and per design's verdicts, so the suite's workers share the grid; the fixture's records
are split by what tells the rows apart (workload, config, kernel), and a last test checks that this split
leaves no record over and the fixture is the script's own serialisation.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


def _grid():
    spec = importlib.util.spec_from_file_location("golden_grid", DATA / "golden_grid.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GRID = _grid()
FIXTURE_TEXT = (DATA / "golden_runs.json").read_text()
FIXTURE = json.loads(FIXTURE_TEXT)


def _same(have: list[dict], want: list[dict], what: str) -> None:
    assert len(have) == len(want), f"{what}: {len(have)} records, fixture {len(want)}"
    for h, w in zip(have, want):
        assert h == w, f"{what}: first differing record:\n got  {h}\n want {w}"


@pytest.mark.parametrize("row", range(len(GRID.GRID)), ids=lambda i: f"{i}-{GRID.GRID[i][0]}")
def test_grid_row_matches_the_fixture(row):
    workload, _params, options = GRID.GRID[row]
    key = GRID.row_key(workload, options)
    _same(GRID.produce_row(row), [r for r in FIXTURE["runs"] if GRID.run_key(r) == key], f"row {row}")


@pytest.mark.parametrize("design", GRID.DESIGNS.split(","))
def test_explore_verdicts_match_the_fixture(design):
    _same(GRID.produce_explore(design), [v for v in FIXTURE["explore"] if v["design"] == design], design)


def test_the_rows_cover_the_fixture_in_grid_order():
    """Every fixture record belongs to one row, in the grid's order, and one design's verdicts follow
    another's in DESIGNS order: the per-row tests together check the whole file, which is ``dumps`` of it."""
    keys = [GRID.row_key(w, o) for w, _p, o in GRID.GRID]
    assert len(set(keys)) == len(keys), "two grid rows share a key: the split would mix their runs"
    order = [keys.index(GRID.run_key(r)) for r in FIXTURE["runs"]]  # ValueError: a record of no row
    assert order == sorted(order)
    designs = GRID.DESIGNS.split(",")
    seen = [designs.index(v["design"]) for v in FIXTURE["explore"]]
    assert seen == sorted(seen) and set(seen) == set(range(len(designs)))
    assert GRID.dumps(FIXTURE) == FIXTURE_TEXT
