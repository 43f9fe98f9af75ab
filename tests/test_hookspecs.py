"""`hookspecs.py` is documented: docs/plugins.md has every hook with its exact signature and an example implementing
it, as datasette does; every hookspec docstring says when it is called and has an example."""

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


def test_each_hook_section_has_a_python_example_implementing_that_hook():
    import ast

    text = DOC.read_text()
    sections = re.split(r"^### ", text, flags=re.M)[1:]
    specs = {name: fn for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
             if name.startswith("benchframe_")}
    seen = set()
    for section in sections:
        name = section.split("(", 1)[0].strip()
        if name not in specs:
            continue
        blocks = re.findall(r"```python\n(.*?)```", section, re.S)
        assert blocks, f"{name}: no python example"
        tree = ast.parse(blocks[0])
        defs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name]
        assert defs, f"{name}: the example does not define {name}()"
        args = [a.arg for a in defs[0].args.args]
        assert set(args) <= set(inspect.signature(specs[name]).parameters), f"{name}: example takes {args}"
        seen.add(name)
    assert seen == set(specs)


def test_every_python_block_in_the_guide_is_valid_python():
    import ast

    for block in re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S):
        ast.parse(block)
