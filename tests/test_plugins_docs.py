"""docs/plugins.md documents every hook in hookspecs.py with its exact signature (as datasette does)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from benchframe import hookspecs

DOC = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"


def documented() -> dict[str, str]:
    return {m.group(1): m.group(2) for m in re.finditer(r"^### (benchframe_\w+)\((.*)\)\s*$", DOC.read_text(), re.M)}


def test_every_hook_is_documented_with_its_signature():
    docs = documented()
    specs = {name: fn for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
             if name.startswith("benchframe_")}
    assert specs, "no hooks found"
    for name, fn in specs.items():
        assert name in docs, f"{name} is missing from docs/plugins.md"
        params = ", ".join(inspect.signature(fn).parameters)
        assert docs[name] == params, f"{name}: documented ({docs[name]}), actual ({params})"
    assert set(docs) <= set(specs), f"documented hooks that do not exist: {set(docs) - set(specs)}"


def test_every_hookspec_has_a_docstring_with_an_example():
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction):
        if name.startswith("benchframe_"):
            assert fn.__doc__ and "Example" in fn.__doc__ and "Called" in fn.__doc__, name
