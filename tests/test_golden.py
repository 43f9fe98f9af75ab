"""The simulated numbers of a representative grid (every design x workload x kernel config, through
``benchframe run`` and ``benchframe explore``) equal the fixture ``tests/data/golden_runs.json``.

The fixture was produced before the structure move of issue #11 (see ``tests/data/golden_grid.py``): a
refactoring must leave it byte-identical; a deliberate change of the model regenerates it in the same commit.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

DATA = Path(__file__).parent / "data"


def _grid():
    spec = importlib.util.spec_from_file_location("golden_grid", DATA / "golden_grid.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_grid_matches_the_fixture_byte_for_byte():
    grid = _grid()
    expected = (DATA / "golden_runs.json").read_text()
    got = grid.dumps(grid.produce())
    if got != expected:
        want = json.loads(expected)
        have = json.loads(got)
        for key in ("runs", "explore"):
            assert len(have[key]) == len(want[key]), f"{key}: {len(have[key])} records, fixture {len(want[key])}"
            for h, w in zip(have[key], want[key]):
                assert h == w, f"{key}: first differing record:\n got  {h}\n want {w}"
    assert got == expected
