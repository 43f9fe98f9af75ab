"""``benchframe new-plugin NAME [--from DESIGN] [--dir PATH]``: an installable design plugin package.

The package derives its design from a built-in one (a subclass: you override only what your kernel patch
changes), registers it through the ``benchframe`` entry point, and ships a test that runs the conformance kit.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from benchframe import BenchframeError
from benchframe.plugins import get_registry

PYPROJECT = '''[build-system]
requires = ["setuptools>=68", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "benchframe-{name}"
version = "0.1.0"
description = "benchframe design plugin: {name}"
requires-python = ">=3.11"
dependencies = ["benchframe"]

[project.optional-dependencies]
test = ["pytest>=8", "hypothesis>=6.100"]

# This is what makes benchframe find the design: list, run, compare and the asv suite all see it.
[project.entry-points.benchframe]
{name} = "{package}"

[tool.setuptools]
packages = ["{package}"]
'''

MODULE = '''"""``{name}``: <one line: which kernel patch or idea this design models>.

Derived from the built-in ``{base}`` design ({base_doc}). Override only what your patch changes, e.g.:

* ``pcp_ops``: how the per-CPU lists are protected (subclass ``benchframe.mm.pcp.PcpOps`` and override
  ``lock``/``unlock``, or ``rmqueue_pcplist``/``free_commit``);
* ``prep_in_loop = False``: run ``prep_new_page()`` after the pcp is unlocked;
* ``account_per_page = False``: count statistics once per call, after the unlock;
* ``alloc_bulk``/``free_page``/``free_bulk``: the whole call, when the control flow differs.

See docs/plugins.md in the benchframe repository for the building blocks and a worked example (pcpspin).
"""

from __future__ import annotations

from benchframe import hookimpl
from benchframe.api import Design
from {base_module} import {base_class}


class {cls}({base_class}):
    """{name}: starts out identical to ``{base}``; change what your design changes."""


@hookimpl
def benchframe_register_designs():
    return [Design(
        name="{name}",
        factory={cls},
        description="{name}: derived from {base} (describe it in one line)",
        models="<kernel commit or mail this models>",
    )]
'''

TEST = '''"""{name} passes the benchframe design contract (the same tests every built-in design passes)."""

from benchframe.testing import conformance_suite

TestConformance = conformance_suite("{name}")
'''

README = '''# benchframe-{name}

A [benchframe](https://example.invalid/benchframe) design plugin, derived from the built-in `{base}` design.

```sh
pip install -e .                                   # registers the design through the benchframe entry point
benchframe plugins                                 # {name} is listed with its hooks
benchframe run --design {base},{name} --workload page_bench04 --param bulk=1,8,64
benchframe compare --designs {base},{name}         # full comparison report in reports/
benchframe explore --design {name}                 # re-entrancy exploration (SAFE/UNSAFE)
python -m pytest tests                             # the conformance kit
```

Edit `{package}/__init__.py`: override only what your design changes (see its docstring).
'''


def scaffold(name: str, from_design: str, directory: str) -> Path:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or keyword.iskeyword(name):
        raise BenchframeError(f"plugin name {name!r} must be a lower-case Python identifier (e.g. pcp_spin)")
    reg = get_registry()
    if name in reg.designs:
        raise BenchframeError(f"a design named {name!r} is already registered")
    base = reg.design(from_design)
    target = Path(directory) / name
    if target.exists():
        raise BenchframeError(f"{target} already exists; choose another name or --dir")
    if not Path(directory).is_dir():
        raise BenchframeError(f"--dir {directory}: no such directory")
    package = f"benchframe_{name}"
    cls = "".join(part.capitalize() for part in name.split("_")) or "Design"
    fields = dict(name=name, package=package, base=base.name, base_doc=base.models or base.description,
                  base_module=base.factory.__module__, base_class=base.factory.__name__, cls=cls)
    files = {
        "pyproject.toml": PYPROJECT,
        f"{package}/__init__.py": MODULE,
        "tests/test_conformance.py": TEST,
        "README.md": README,
    }
    try:
        for rel, template in files.items():
            path = target / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(template.format(**fields), encoding="utf-8")
    except OSError as exc:
        raise BenchframeError(f"cannot create {target}: {exc.strerror or exc}") from None
    return target
