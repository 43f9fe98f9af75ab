"""``benchframe new-plugin NAME [--from DESIGN] [--dir PATH]``: an installable design plugin package.

The package derives its design from a built-in one (a subclass: you override only what your kernel patch
changes), registers it through the ``benchframe`` entry point, and ships a test that runs the conformance kit.
"""

from __future__ import annotations

import importlib.util
import keyword
import re
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from benchframe import BenchframeError
from benchframe.plugins import get_registry

if TYPE_CHECKING:
    from collections.abc import Sequence

    from benchframe.records import Option

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
test = ["benchframe[kit]"]  # the conformance kit: pytest and hypothesis

# This is what makes benchframe find the design: list, run, compare and the asv suite all see it.
[project.entry-points.benchframe]
{name} = "{package}"

[tool.setuptools]
packages = ["{package}"]
'''

MODULE = '''"""``{name}``: <one line: which kernel patch or idea this design models>.

Derived from the ``{base}`` design:
{base_doc}

Override only what your patch changes, e.g.:

* ``pcp_ops``: how the per-CPU lists are protected (subclass ``benchframe.mm.pcp.PcpOps`` and override
  ``lock``/``unlock``, or ``rmqueue_pcplist``/``free_commit``);
* ``prep_in_loop = False``: run ``prep_new_page()`` after the pcp is unlocked;
* ``account_per_page = False``: count statistics once per call, after the unlock;
* ``alloc_bulk``/``free_page``/``free_bulk``: the whole call, when the control flow differs.

See docs/plugins.md in the benchframe repository for the building blocks and a worked example (pcpspin).
"""

from __future__ import annotations

from benchframe import hookimpl
from benchframe.api import Design, Option
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
        options=({options}),  # --design {name}:option=value, declared as {base} declares them
        pcp_link_bytes={pcp_link_bytes},  # struct page bytes linking a page on the pcp lists (lru 16, llist 8)
    )]
'''

TEST = '''"""{name} passes the benchframe design contract (the same tests every built-in design passes)."""

from benchframe.testing import conformance_suite

TestConformance = conformance_suite("{name}")
TestConformanceRT = conformance_suite("{name}", config=("PREEMPT_RT",))
'''

README = '''# benchframe-{name}

A benchframe design plugin, derived from the `{base}` design. Edit `{package}/__init__.py`: override only
what your design changes (its docstring lists the usual hooks; benchframe's docs/plugins.md has the building
blocks and a worked example).

```sh
pip install -e '.[test]'     # registers the design through the benchframe entry point (+ pytest for the kit)
benchframe plugins           # {name} is listed with its distribution and hooks
benchframe run --design {base},{name} --workload page_bench04 --param bulk=1,8,64
benchframe compare --designs {base},{name}    # the full comparison report, in reports/
benchframe explore --design {name}            # re-entrancy exploration: SAFE or UNSAFE, with the interleaving
python -m pytest tests       # the conformance kit: the contract every built-in design passes
```

Without installing: `benchframe run --plugin {package}/__init__.py --design {name} ...` and
`python -m pytest --benchframe-plugin {package}/__init__.py tests`.
'''


def _options_source(options: Sequence[Option]) -> str:
    """The ``Option(...)`` declarations of ``options`` as Python source, a tuple's items."""
    items = [f"Option({o.name!r}, {o.default!r},\n                   {o.help!r},\n                   "
             f"type={o.type.__name__}" + (f", choices={o.choices!r})" if o.choices is not None else ")")
             for o in options]
    return "".join(f"\n            {item}," for item in items) + ("\n        " if items else "")


def scaffold(name: str, from_design: str, directory: str, plugins: tuple[str, ...] = ()) -> Path:
    """Write ``directory/name/``: pyproject.toml, ``benchframe_NAME/__init__.py``, tests/, README.md."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or keyword.iskeyword(name):
        raise BenchframeError(f"plugin name {name!r} must be a lower-case Python identifier (e.g. pcp_spin)")
    reg = get_registry(plugins)
    if name in reg.designs:
        raise BenchframeError(f"a design named {name!r} is already registered")
    base = reg.design(from_design)
    base_module = base.factory.__module__
    owner = next((p for p in reg.plugins if base.name in p.registered.get("designs", ())), None)
    if (owner is not None and owner.dist == "--plugin") or importlib.util.find_spec(base_module.split(".")[0]) is None:
        raise BenchframeError(f"--from {from_design}: its module {base_module} is not importable (a --plugin "
                              "file?); install it as a package first or derive from another design")
    target = Path(directory) / name
    if target.exists():
        raise BenchframeError(f"{target} already exists; choose another name or --dir")
    if not Path(directory).is_dir():
        raise BenchframeError(f"--dir {directory}: no such directory")
    package = f"benchframe_{name}"
    cls = "".join(part.capitalize() for part in name.split("_"))
    if cls == base.factory.__name__:
        cls += "Design"
    base_doc = textwrap.fill(f"{base.description}. Models: {base.models or '-'}.", 110,
                             initial_indent="    ", subsequent_indent="    ")
    fields = dict(name=name, package=package, base=base.name, base_doc=base_doc, base_module=base_module,
                  base_class=base.factory.__name__, cls=cls, options=_options_source(base.options),
                  pcp_link_bytes=base.pcp_link_bytes)
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
