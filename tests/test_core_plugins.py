"""Issue 2 acceptance, plugin manager: every broken plugin is reported in ``Registry.errors`` naming it, and the
built-in designs still load."""

from __future__ import annotations

import pytest

from benchframe.api import Design
from benchframe.plugins import load_registry

BUILTINS = {"single", "list", "array", "twopass", "llist", "locallock"}

HEADER = "from benchframe import hookimpl\nfrom benchframe.api import ARRAY, BulkAllocator, Design\n"

BROKEN = {
    "fails_import": ("import benchframe_no_such_module_q\n", ["failed to import", "ModuleNotFoundError"]),
    "dup_name": (HEADER + "class D(BulkAllocator):\n    shape = ARRAY\n@hookimpl\n"
                 "def benchframe_register_designs():\n"
                 "    return [Design(name='single', factory=D, description='impostor')]\n",
                 ["'single'", "already registered"]),
    "unknown_hook": (HEADER + "@hookimpl\ndef benchframe_register_gadgets():\n    return []\n",
                     ["benchframe_register_gadgets"]),
    "raising": (HEADER + "@hookimpl\ndef benchframe_register_designs():\n    raise KeyError('kaboom')\n",
                ["benchframe_register_designs raised KeyError", "kaboom"]),
    "non_design": (HEADER + "@hookimpl\ndef benchframe_register_designs():\n    return [{'name': 'x'}]\n",
                   ["Design"]),
}


def _write(tmp_path, name: str, source: str) -> str:
    path = tmp_path / f"bf_{name}.py"
    path.write_text(source)
    return str(path)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_plugin_is_reported_by_name_and_builtins_load(tmp_path, name):
    source, needles = BROKEN[name]
    path = _write(tmp_path, name, source)
    reg = load_registry((path,))
    mine = [e for e in reg.errors if f"bf_{name}" in e]
    assert len(mine) == 1, reg.errors
    for needle in needles:
        assert needle in mine[0]
    assert "\n" not in mine[0]
    assert BUILTINS <= set(reg.designs)
    assert "page_bench04" in reg.workloads
    for design in reg.designs.values():
        assert isinstance(design, Design)
    # the impostor did not replace the built-in
    assert reg.designs["single"].factory.__module__ == "benchframe_plugins.single"


def test_all_broken_plugins_together_next_to_a_good_one(tmp_path):
    paths = [_write(tmp_path, name, source) for name, (source, _) in sorted(BROKEN.items())]
    good = _write(tmp_path, "good", HEADER + "class G(BulkAllocator):\n    shape = ARRAY\n@hookimpl\n"
                  "def benchframe_register_designs():\n"
                  "    return [Design(name='goodone', factory=G, description='fine')]\n")
    reg = load_registry((*paths, good))
    assert "goodone" in reg.designs and BUILTINS <= set(reg.designs)
    for name in BROKEN:
        assert sum(f"bf_{name}" in e for e in reg.errors) == 1, (name, reg.errors)
    assert not any("bf_good" in e for e in reg.errors)
