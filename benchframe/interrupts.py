"""Telling the user's Ctrl-C from a plugin's ``sys.exit()`` or ``raise KeyboardInterrupt``.

Plugin code (its import, its hooks, its design or workload) that raises ``SystemExit`` or ``KeyboardInterrupt``
must not end benchframe with the plugin's exit status, no output and no result file: that is a plugin error,
named like any other. A real Ctrl-C still interrupts. Both arrive as ``KeyboardInterrupt``; what tells them
apart is whether SIGINT was delivered. ``watch_sigint()`` (the CLI's main thread, each process-pool worker)
installs a handler that notes the signal before raising ``KeyboardInterrupt`` as Python's default handler does.
"""

from __future__ import annotations

import signal
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import FrameType

_received = False


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    global _received
    _received = True
    raise KeyboardInterrupt


def watch_sigint() -> object:
    """Note SIGINT before raising ``KeyboardInterrupt`` (main thread only; elsewhere a no-op). Returns the
    previous handler, for ``restore_sigint``."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, _on_sigint)


def restore_sigint(previous: object) -> None:
    if previous is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, previous)  # type: ignore[arg-type]


def plugin_exit(exc: BaseException) -> bool:
    """Whether ``exc``, raised while plugin code ran, is the plugin's doing (a plugin error) rather than the
    user's Ctrl-C: every ``SystemExit``; a ``KeyboardInterrupt`` that no SIGINT explains (in a thread other
    than the main one, which never receives signals, or while ``watch_sigint`` is watching and saw none)."""
    if isinstance(exc, SystemExit):
        return True
    if not isinstance(exc, KeyboardInterrupt) or _received:
        return False
    return threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is _on_sigint


def describe(exc: BaseException) -> str:
    """``ValueError: broken``; ``SystemExit(7)`` for an exit, which says nothing as a plain message."""
    if isinstance(exc, SystemExit):
        return f"SystemExit({exc.code!r}) (called sys.exit)"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
