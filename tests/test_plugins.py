"""The plugin manager (``plugins.py``): a good plugin by path registers; every broken plugin is reported in
``Registry.errors`` in one line naming it, alone or next to others, and everything else still loads; the
environment switches ``BENCHFRAME_DISABLE_PLUGINS`` and ``BENCHFRAME_TRACE_PLUGINS``."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from benchframe import BenchframeError
from benchframe.api import Design
from benchframe.plugins import load_registry

BUILTINS = {"single", "list", "array", "twopass", "llist", "locallock"}

HEADER = "from benchframe import hookimpl\nfrom benchframe.api import ARRAY, BulkAllocator, Design\n"

GOOD = HEADER + '''
class Mine(BulkAllocator):
    shape = ARRAY

@hookimpl
def benchframe_register_designs():
    return [Design(name="mine", factory=Mine, description="test design")]
'''

# name -> (plugin source, what its one error line must say)
BROKEN = {
    "import_error": ("import benchframe_no_such_module_q\n",
                     ["failed to import: ModuleNotFoundError", "benchframe_no_such_module_q"]),
    "duplicate": (GOOD.replace('name="mine"', 'name="array"'),
                  ["design 'array' is already registered by plugin array; ignored"]),
    "unknown_hook": (HEADER + "@hookimpl\ndef benchframe_register_gadgets():\n    return []\n",
                     ["benchframe_register_gadgets"]),
    "raises": (HEADER + "@hookimpl\ndef benchframe_register_designs():\n    raise KeyError('kaboom')\n",
               ["benchframe_register_designs raised KeyError: 'kaboom'"]),
    "not_a_record": (HEADER + "@hookimpl\ndef benchframe_register_designs():\n    return ['array']\n",
                     ["returned str from benchframe_register_designs, expected Design"]),
    "not_a_list": (HEADER + "@hookimpl\ndef benchframe_register_workloads():\n    return 42\n",
                   ["benchframe_register_workloads must return a list"]),
    "bad_factory": (HEADER + "@hookimpl\ndef benchframe_register_designs():\n"
                    "    return [Design(name='bad', factory=dict, description='x')]\n",
                    ["design bad: factory must be a DesignImpl subclass"]),
    # design options are declared with their allowed values (#14: llist:free=splcie silently ran the default)
    "free_string_option": (GOOD.replace('description="test design"', 'description="x", options={"mode": "a"}'),
                           ["design mine: option mode: a string option must list its allowed values"]),
    "bad_default": (GOOD.replace("from benchframe.api import", "from benchframe.api import Option,").replace(
        'description="test design"', 'description="x", options=(Option("mode", "c", choices=("a", "b")),)'),
        ["design mine: option mode: default 'c' is not one of its allowed values"]),
    "not_an_option": (GOOD.replace('description="test design"', 'description="x", options=("mode",)'),
                      ["design mine: options must be Option records"]),
}


def _write(tmp_path, name: str, source: str) -> str:
    path = tmp_path / f"bf_{name}.py"
    path.write_text(source)
    return str(path)


def _errors_of(reg, path: str) -> list[str]:
    return [e for e in reg.errors if e.startswith(f"plugin {path}")]


def test_good_plugin_by_path_registers(tmp_path):
    reg = load_registry((_write(tmp_path, "good", GOOD),))
    assert reg.errors == []
    assert "mine" in reg.designs and BUILTINS <= set(reg.designs)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_plugin_is_reported_by_name_and_builtins_load(tmp_path, name):
    source, needles = BROKEN[name]
    path = _write(tmp_path, name, source)
    reg = load_registry((path,))
    mine = _errors_of(reg, path)
    assert len(mine) == 1 and len(reg.errors) == 1, reg.errors
    for needle in needles:
        assert needle in mine[0], mine[0]
    assert "\n" not in mine[0]
    assert BUILTINS <= set(reg.designs)
    assert "page_bench04" in reg.workloads
    for design in reg.designs.values():
        assert isinstance(design, Design)
    assert "bad" not in reg.designs
    # the impostor did not replace the built-in
    assert reg.designs["array"].factory.__module__ == "benchframe_plugins.array"


def test_all_broken_plugins_together_next_to_a_good_one(tmp_path):
    paths = {name: _write(tmp_path, name, source) for name, (source, _) in sorted(BROKEN.items())}
    good = _write(tmp_path, "good", GOOD)
    reg = load_registry((*paths.values(), good))
    assert "mine" in reg.designs and BUILTINS <= set(reg.designs)
    assert reg.designs["array"].factory.__module__ == "benchframe_plugins.array"  # the duplicate was ignored
    assert "bad" not in reg.designs
    for name, path in paths.items():
        lines = _errors_of(reg, path)
        assert len(lines) == 1, (name, reg.errors)
        for needle in BROKEN[name][1]:
            assert needle in lines[0], (name, lines[0])
        assert "\n" not in lines[0]
    assert _errors_of(reg, good) == []
    assert len(reg.errors) == len(BROKEN)


def _fake_distribution(root, design_plugin) -> None:
    """An installed distribution ``benchframe-fake`` 0.3 with entry point ``fakey`` (found on sys.path)."""
    info = root / "benchframe_fake-0.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: benchframe-fake\nVersion: 0.3\n")
    (info / "entry_points.txt").write_text("[benchframe]\nfakey = fakey_mod\n")
    design_plugin("fakey", path=root / "fakey_mod.py")


@pytest.mark.parametrize("disable, loaded", [
    ("", True), ("all", False), ("fakey", False), ("benchframe-fake", False), ("llist, fakey", False),
    ("somethingelse", True),
])
def test_disable_env_skips_external_plugins_by_name_distribution_or_all(tmp_path, monkeypatch, design_plugin,
                                                                        disable, loaded):
    _fake_distribution(tmp_path, design_plugin)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "fakey_mod", raising=False)
    monkeypatch.setenv("BENCHFRAME_DISABLE_PLUGINS", disable)
    try:
        reg = load_registry()
    finally:
        sys.modules.pop("fakey_mod", None)
    assert reg.errors == []
    by_name = {p.name: p for p in reg.plugins}
    assert ("fakey" in by_name) is loaded and ("fakey" in reg.designs) is loaded
    if loaded:
        fakey = by_name["fakey"]
        assert (fakey.dist, fakey.version, fakey.registered) == ("benchframe-fake", "0.3", {"designs": ["fakey"]})
    # built-ins are never switched off by "all", one is by its entry-point name
    assert BUILTINS - {"llist"} <= set(reg.designs) and BUILTINS - {"llist"} <= set(by_name)
    assert ("llist" in reg.designs) is ("llist" not in disable)
    assert ("llist" in by_name) is ("llist" not in disable)


OBSERVER = '''
from benchframe import hookimpl

@hookimpl
def benchframe_check_invariants(kernel, design):
    return []

@hookimpl
def benchframe_run_finished(run):
    return None
'''


def test_trace_env_prints_hook_calls(clean_env):
    proc = subprocess.run([sys.executable, "-m", "benchframe.cli", "run", "--design", "array", "--workload",
                           "page_bench04", "--param", "pages=128", "--executor", "serial"], capture_output=True,
                          text=True, env=clean_env(BENCHFRAME_TRACE_PLUGINS="1"))
    assert proc.returncode == 0, proc.stderr
    trace = [ln for ln in proc.stderr.splitlines() if ln.startswith("benchframe trace: ")]
    assert "benchframe trace: array: benchframe_register_designs()" in trace
    assert "benchframe trace: benchframe.workloads: benchframe_register_workloads()" in trace
    quiet = subprocess.run([sys.executable, "-m", "benchframe.cli", "list", "designs"], capture_output=True,
                           text=True, env=clean_env())
    assert quiet.returncode == 0 and "trace" not in quiet.stderr


def test_trace_shows_run_hooks_with_the_plugin_that_implements_them(tmp_path, clean_env):
    observer = tmp_path / "observer.py"
    observer.write_text(OBSERVER)
    proc = subprocess.run([sys.executable, "-m", "benchframe.cli", "run", "--design", "array", "--workload",
                           "page_bench04", "--param", "pages=128", "--executor", "serial", "--plugin",
                           str(observer)], capture_output=True, text=True,
                          env=clean_env(BENCHFRAME_TRACE_PLUGINS="1"))
    assert proc.returncode == 0, proc.stderr
    assert f"benchframe trace: {observer}: benchframe_check_invariants(kernel, design)" in proc.stderr
    assert f"benchframe trace: {observer}: benchframe_run_finished(run)" in proc.stderr


def test_design_options_are_converted_and_checked_by_their_declaration(tmp_path):
    """Before: a bool option took any word ("maybe" was False) and a string option any value."""
    src = GOOD.replace("from benchframe.api import", "from benchframe.api import Option,").replace(
        'description="test design"', 'description="x", options=(Option("mode", "a", choices=("a", "b")), '
        'Option("hot", True, type=bool), Option("batch", 8, type=int))')
    src = src.replace("import Option, ARRAY", "import ARRAY, Option")
    reg = load_registry((_write(tmp_path, "opts", src),))
    assert reg.errors == []
    assert reg.design_spec("mine")[1] == {"mode": "a", "hot": True, "batch": 8}
    assert reg.design_spec("mine:mode=b,hot=no,batch=16")[1] == {"mode": "b", "hot": False, "batch": 16}
    for spec, needle in [("mine:mode=c", "option mode='c' must be one of a, b"),
                         ("mine:hot=maybe", "option hot='maybe' is not a boolean"),
                         ("mine:batch=x", "option batch='x' is not an integer"),
                         ("mine:mode=a,mode=b", "option mode is given twice"),
                         ("mine:colour=red", "unknown option 'colour=red' (options: mode, hot, batch)")]:
        with pytest.raises(BenchframeError, match=re.escape(needle)):
            reg.design_spec(spec)


def test_the_older_mapping_form_declares_typed_options(tmp_path):
    src = GOOD.replace('description="test design"', 'description="x", options={"batch": 8}')
    reg = load_registry((_write(tmp_path, "mapping", src),))
    assert reg.errors == [] and reg.design_spec("mine:batch=4")[1] == {"batch": 4}
    with pytest.raises(BenchframeError, match="not an integer"):
        reg.design_spec("mine:batch=four")
