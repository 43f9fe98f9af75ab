"""Which build of the simulator is installed: the optional compiled core (``setup.py`` compiles ``MODULES``
with mypyc where it can) or pure Python. Both give the same numbers byte for byte; the compiled one is faster."""

from __future__ import annotations

from importlib.machinery import EXTENSION_SUFFIXES
from importlib.util import find_spec

#: the modules setup.py compiles (its ``COMPILED``, as module names; tests/test_compiled.py checks they agree)
MODULES = ("benchframe.hw.cpu", "benchframe.hw.cache", "benchframe.mm.fast", "benchframe.mm.fast_alloc",
           "benchframe.mm.fast_free")


def compiled_modules() -> list[str]:
    """Those of ``MODULES`` that import as extension modules (found, not imported)."""
    out = []
    for name in MODULES:
        spec = find_spec(name)
        if spec is not None and spec.origin is not None and spec.origin.endswith(tuple(EXTENSION_SUFFIXES)):
            out.append(name)
    return out


def build() -> str:
    """``compiled core`` or ``pure Python`` (or which modules are compiled, if only some are)."""
    compiled = compiled_modules()
    if not compiled:
        return "pure Python"
    if len(compiled) == len(MODULES):
        return "compiled core"
    return f"compiled: {', '.join(compiled)}"


__all__ = ["MODULES", "build", "compiled_modules"]
