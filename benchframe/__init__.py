"""benchframe: compare designs of the Linux bulk page allocation API on a simulated machine."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import pluggy

try:
    __version__ = version("benchframe")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"


class BenchframeError(Exception):
    """A user-facing error: bad input, an impossible request, a plugin breaking the contract.

    The CLI prints ``str(exc)`` on one line and exits with status 2.
    """


#: decorator marking a plugin's hook implementations (see ``benchframe.hookspecs``)
hookimpl = pluggy.HookimplMarker("benchframe")

__all__ = ["BenchframeError", "hookimpl", "__version__"]
