"""What ``run`` and ``compare`` share when they replay traces: the kernel version a capture asks for when
``--kernel`` was not given."""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchframe.cli.options import LOG

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable


def choose_capture_kernel(args: argparse.Namespace, traces: Iterable[str]) -> bool:
    """Without ``--kernel``, replay the captures at ``traces`` on the version of the release their headers name
    (``trace.replay.capture_kernel``), and say so; nothing when none names one (the default version). True
    when ``args.kernel`` was so chosen."""
    if getattr(args, "kernel", None) is not None:
        return False
    from benchframe.trace.replay import capture_kernel  # numpy: only where a trace is replayed

    found = capture_kernel(traces)
    if found is not None:
        args.kernel = found[0]
        LOG.warning("replaying on kernel %s, the modelled version of the capture's release %s (--kernel to "
                    "choose another)", *found)
    return found is not None
