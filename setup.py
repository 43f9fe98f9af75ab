"""The optional compiled core: the simulator's innermost modules compiled with mypyc where it can be built.

Everything else about the distribution is declared in pyproject.toml; this file only adds the extension
modules. They are the same source as the pure-Python modules and give the same numbers byte for byte (the
golden grid runs on both builds: tests/test_compiled.py). Only modules that ``benchframe explore`` never names
in a trace and that no test patches are compiled: the CPU and its cache model, whose calls are the hottest in
every cell, and the fused fast paths (``benchframe.mm.fast``, ``fast_alloc``, ``fast_free``), which explore
never runs.

The build falls back to pure Python, with a warning, when mypyc is missing or fails or when there is no C
compiler; ``BENCHFRAME_PURE_PYTHON=1`` asks for pure Python outright. ``benchframe --version`` says which
build is installed.
"""

from __future__ import annotations

import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, CompileError, ExecError, LinkError, PlatformError

#: compiled where possible; benchframe/_build.py's COMPILED names the same modules
COMPILED = ["benchframe/hw/cpu.py", "benchframe/hw/cache.py", "benchframe/mm/fast.py",
            "benchframe/mm/fast_alloc.py", "benchframe/mm/fast_free.py"]


def _warn(why: str) -> None:
    print(f"benchframe: building pure Python, without the compiled core: {why}", file=sys.stderr)


def ext_modules() -> list:
    """The mypyc extensions, or none (pure Python) when they are not wanted or cannot be generated."""
    if os.environ.get("BENCHFRAME_PURE_PYTHON", "") not in ("", "0"):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError as exc:
        _warn(f"mypyc is not installed ({exc})")
        return []
    try:
        # the modules' third-party imports (pydantic, numpy) may not be in the build environment: Any is fine,
        # and a `type: ignore` that only they need is then unused (an error under the project's mypy settings)
        flags = ["--ignore-missing-imports", "--no-warn-unused-ignores"]
        return mypycify([*flags, *COMPILED], opt_level="3", group_name="benchframe")
    except (SystemExit, OSError, RuntimeError, ValueError) as exc:  # mypyc reports a type error by exiting
        _warn(f"mypyc failed ({exc})")
        return []


class OptionalBuildExt(build_ext):
    """``build_ext`` that leaves pure Python behind when a compiler is missing or fails: the extensions
    import one shared library, so either all of them are built or none is left in place."""

    def run(self) -> None:
        try:
            super().run()
        except (CCompilerError, CompileError, ExecError, LinkError, PlatformError, OSError) as exc:
            for ext in self.extensions:
                path = self.get_ext_fullpath(ext.name)
                if os.path.exists(path):
                    os.remove(path)
            _warn(f"the C build failed: {str(exc)[:200]}")


setup(ext_modules=ext_modules(), cmdclass={"build_ext": OptionalBuildExt})
