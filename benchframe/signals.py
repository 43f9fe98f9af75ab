"""Signals: the user's Ctrl-C told from a plugin's ``sys.exit()`` or ``raise KeyboardInterrupt`` (SIGINT), a
wall-clock limit on a cell (``deadline``: SIGALRM), and worker processes that die with their parent (SIGKILL).

Plugin code (its import, its hooks, its design or workload) that raises ``SystemExit`` or ``KeyboardInterrupt``
must not end benchframe with the plugin's exit status, no output and no result file: that is a plugin error,
named like any other. A real Ctrl-C still interrupts. Both arrive as ``KeyboardInterrupt``; what tells them
apart is whether SIGINT was delivered. ``watch_sigint()`` (the CLI's main thread, each process-pool worker)
installs a handler that notes the signal before raising ``KeyboardInterrupt`` as Python's default handler does;
``ignore_sigint()`` (each process-pool worker) notes it and leaves the interrupt to the parent;
``init_worker()`` also makes a worker end with the process that started it.
"""

from __future__ import annotations

import ctypes
import gc
import os
import signal
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator
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


def _note_sigint(signum: int, frame: FrameType | None) -> None:
    global _received
    _received = True


def ignore_sigint() -> None:
    """A process-pool worker leaves Ctrl-C to its parent: the terminal sends SIGINT to the whole process
    group, and the parent alone answers it (one line, the cells saved), not every worker with its traceback.
    The worker notes the signal and carries on, so a plugin's ``KeyboardInterrupt`` there is still told from it."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _note_sigint)


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
    return threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) in (_on_sigint,
                                                                                                  _note_sigint)


def describe(exc: BaseException) -> str:
    """``ValueError: broken``; ``SystemExit(7)`` for an exit, which says nothing as a plain message."""
    if isinstance(exc, SystemExit):
        return f"SystemExit({exc.code!r}) (called sys.exit)"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class CellTimeout(BaseException):
    """A cell ran past its wall-clock limit (``--cell-timeout``). A ``BaseException``, so that a design's own
    ``except Exception`` cannot swallow it."""

    def __init__(self, seconds: float | None = None):
        super().__init__("no result within the --cell-timeout" if seconds is None else
                         f"no result within {seconds:g} s (--cell-timeout)")


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Raise ``CellTimeout`` in this thread if the block runs longer than ``seconds`` (``None`` or 0: no
    limit). The main thread uses ``SIGALRM``, which also ends a blocking system call; another thread (a Dask
    worker's) gets the exception asynchronously at its next bytecode, so a hang inside C code there is not
    ended until that code returns."""
    if not seconds:
        yield
        return
    if threading.current_thread() is threading.main_thread():
        def on_alarm(signum: int, frame: FrameType | None) -> None:
            raise CellTimeout(seconds)

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        return
    tid = threading.get_ident()
    # PyThreadState_SetAsyncExc instantiates the class without arguments: one that knows its limit
    expired = type("CellTimeout", (CellTimeout,), {"__init__": lambda self: CellTimeout.__init__(self, seconds)})
    lock = threading.Lock()
    done = False

    def expire() -> None:
        with lock:
            if not done:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(tid), ctypes.py_object(expired))

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            done = True
        timer.cancel()


def init_worker(owner: int | None = None) -> None:
    """Set up a process-pool worker (the executors', the explore verdicts'): it ends when the process that
    started it dies (``exit_with_parent``), and Ctrl-C is left to the parent (a plugin's KeyboardInterrupt is
    still its error there)."""
    exit_with_parent(owner)
    ignore_sigint()
    # what the worker inherited (modules, the registry) lives as long as it does: out of the cyclic collector's
    # way, whose full collections would traverse it again and again while the cells' garbage is collected
    gc.freeze()


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def exit_with_parent(owner: int | None = None) -> None:
    """End this worker process when its parent dies (a ``kill -9`` of ``compare`` or ``sweep`` left the pool's
    workers running, adopted by init): on Linux the kernel sends SIGKILL at once (``prctl(PR_SET_PDEATHSIG)``);
    elsewhere a daemon thread notices the new parent within a second. ``owner``, the pid of the process that
    created the pool, catches a parent that died before this ran."""
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
            raise OSError(ctypes.get_errno(), "prctl")
    except (OSError, AttributeError):  # not Linux: watch for the parent's death
        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(1.0)
            os._exit(1)

        threading.Thread(target=watch, name="benchframe-parent-watch", daemon=True).start()
    if os.getppid() != parent or (owner is not None and not _alive(owner)):
        os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
