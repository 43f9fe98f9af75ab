"""The plugin manager's error paths: every broken plugin is reported by name, the others still load."""

from __future__ import annotations

import textwrap

from benchframe.plugins import load_registry

BUILTINS = {"single", "list", "array", "twopass", "llist", "locallock"}

GOOD = '''
from benchframe import hookimpl
from benchframe.api import Design, ARRAY, BulkAllocator

class Mine(BulkAllocator):
    shape = ARRAY

@hookimpl
def benchframe_register_designs():
    return [Design(name="mine", factory=Mine, description="test design")]
'''

BROKEN = {
    "import_error": ("import nosuchmodule_xyz\n", "failed to import"),
    "duplicate": (GOOD.replace('name="mine"', 'name="array"'), "already registered by plugin"),
    "unknown_hook": ("from benchframe import hookimpl\n@hookimpl\ndef benchframe_register_gadgets():\n"
                     "    return []\n", "benchframe_register_gadgets"),
    "raises": ("from benchframe import hookimpl\n@hookimpl\ndef benchframe_register_designs():\n"
               "    raise RuntimeError('boom')\n", "raised RuntimeError: boom"),
    "not_a_record": ("from benchframe import hookimpl\n@hookimpl\ndef benchframe_register_designs():\n"
                     "    return ['array']\n", "expected Design"),
    "not_a_list": ("from benchframe import hookimpl\n@hookimpl\ndef benchframe_register_workloads():\n"
                   "    return 42\n", "must return a list"),
    "bad_factory": ("from benchframe import hookimpl\nfrom benchframe.api import Design\n@hookimpl\n"
                    "def benchframe_register_designs():\n"
                    "    return [Design(name='bad', factory=dict, description='x')]\n", "DesignImpl subclass"),
}


def test_good_plugin_by_path_registers(tmp_path):
    path = tmp_path / "good_plugin.py"
    path.write_text(GOOD)
    reg = load_registry((str(path),))
    assert reg.errors == []
    assert "mine" in reg.designs and BUILTINS <= set(reg.designs)


def test_each_broken_plugin_is_reported_by_name_and_others_load(tmp_path):
    paths = []
    for name, (source, _) in BROKEN.items():
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        paths.append(str(path))
    good = tmp_path / "good_plugin.py"
    good.write_text(GOOD)
    reg = load_registry((*paths, str(good)))
    assert BUILTINS <= set(reg.designs) and "mine" in reg.designs
    assert reg.designs["array"].factory.__module__ == "benchframe_plugins.array"  # the duplicate was ignored
    assert "bad" not in reg.designs
    for (name, (_, needle)), path in zip(BROKEN.items(), paths):
        lines = [e for e in reg.errors if e.startswith(f"plugin {path}")]
        assert len(lines) == 1, (name, reg.errors)
        assert needle in lines[0], (name, lines[0])
        assert "\n" not in lines[0]


def test_disable_all_external_plugins(monkeypatch):
    monkeypatch.setenv("BENCHFRAME_DISABLE_PLUGINS", "all")
    reg = load_registry()
    assert BUILTINS <= set(reg.designs)  # the built-ins come from the benchframe distribution


def test_disable_one_builtin_by_entry_point_name(monkeypatch):
    monkeypatch.setenv("BENCHFRAME_DISABLE_PLUGINS", "llist")
    reg = load_registry()
    assert "llist" not in reg.designs and "array" in reg.designs
