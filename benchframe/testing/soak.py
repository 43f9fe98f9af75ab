"""Soak: many random sequences (``benchframe.testing.sequences``) per design, on a process pool or a Dask
cluster, reporting how many ran and how many broke an invariant.

    python -m benchframe.testing.soak [--designs a,b] [--sequences 100000] [--minutes 10] [--jobs 2]
                                      [--executor process|dask] [--scheduler tls://HOST:PORT --tls-ca-file PEM
                                      --tls-cert PEM --tls-key PEM] [--seed S]

Work is cut into chunks of ``--chunk`` sequences (one hypothesis run each, seeded ``seed + chunk index``, no
shrinking) spread over the designs round-robin; ``--minutes`` is a deadline: no chunk is handed out after it
(only as many chunks are out as there are workers, none waiting in a queue), and a chunk runs in slices of
``SLICE`` sequences, starting none after it, so the soak ends within a slice of the deadline and the report says
what that budget reached. A failing chunk is reported with its design, seed and the command that replays it
with shrinking (the minimal failing sequence). Exit status 1 if any sequence failed; 2 for bad arguments, in one
line (a scheduler takes the same options and gives the same errors as ``benchframe run``'s: ``benchframe.remote``).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from benchframe import BenchframeError
from benchframe.engine import Deadlock
from benchframe.plugins import get_registry
from benchframe.remote import add_scheduler_options, check_remote, connect, tls_files

if TYPE_CHECKING:
    from collections.abc import Iterator

    from benchframe.remote import TLSFiles

DEFAULT_EXAMPLES = 10
DEFAULT_STEPS = 20


@dataclass
class SoakResult:
    """What one run of sequences did: how many sequences started, the seed, and the first failure (or None)."""

    spec: str
    sequences: int
    seed: int
    failure: str | None = None
    seconds: float = 0.0


def run_sequences(spec: str, config: tuple[str, ...] = (), plugins: tuple[str, ...] = (), interrupts: bool = True,
                  examples: int | None = None, steps: int | None = None, seed: int | None = None,
                  shrink: bool = True) -> SoakResult:
    """Run ``examples`` random sequences of up to ``steps`` rules against ``spec`` with hypothesis, from ``seed``
    (a fresh random one when None: derandomized runs would only ever try the same sequences)."""
    from hypothesis import HealthCheck, Phase, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis.stateful import run_state_machine_as_test

    from benchframe.testing.sequences import sequences_for

    examples = DEFAULT_EXAMPLES if examples is None else examples
    steps = DEFAULT_STEPS if steps is None else steps
    seed = random.SystemRandom().getrandbits(32) if seed is None else seed
    machine = hypothesis_seed(seed)(sequences_for(spec, config, plugins, interrupts))
    phases = (Phase.explicit, Phase.generate, Phase.shrink) if shrink else (Phase.generate,)
    conf = settings(max_examples=examples, stateful_step_count=steps, deadline=None, database=None,
                    derandomize=False, phases=phases, suppress_health_check=list(HealthCheck), print_blob=False)
    t0 = time.perf_counter()
    result = SoakResult(spec, 0, seed)
    try:
        run_state_machine_as_test(machine, settings=conf)
    except BenchframeError as exc:
        if not isinstance(exc, Deadlock):  # bad input; a deadlock is what the sequence found
            raise
        result.failure = _failed(spec, config, seed, examples, steps, exc)
    except Exception as exc:  # noqa: BLE001 - any failure of a sequence is the finding, reported with its seed
        result.failure = _failed(spec, config, seed, examples, steps, exc)
    result.sequences = machine.runs
    result.seconds = time.perf_counter() - t0
    return result


def _failed(spec: str, config: tuple[str, ...], seed: int, examples: int, steps: int, exc: BaseException) -> str:
    config_text = f" --config {','.join(config)}" if config else ""
    return (f"{spec}{config_text}: random sequence failed (hypothesis seed {seed}; rerun with --benchframe-seed "
            f"{seed} --benchframe-examples {examples} --benchframe-steps {steps}): {type(exc).__name__}: {exc}")


#: with a deadline, a chunk runs in hypothesis runs of this many sequences, and starts none after the deadline
SLICE = 5


def _chunk(args: tuple[str, int, int, int, float | None]) -> SoakResult:
    """One chunk: ``examples`` sequences from ``seed``; with a deadline (``until``, ``time.time()``) in slices
    of ``SLICE``, each seeded from ``seed`` (its own seed and size in a failure's line, so it replays), none
    started after it."""
    spec, examples, steps, seed, until = args
    if until is None:
        return run_sequences(spec, examples=examples, steps=steps, seed=seed, shrink=False)
    out = SoakResult(spec, 0, seed)
    seeds = random.Random(seed)
    while out.sequences < examples and out.failure is None and time.time() < until:
        part = run_sequences(spec, examples=min(SLICE, examples - out.sequences), steps=steps,
                             seed=seeds.getrandbits(31), shrink=False)
        out.sequences += part.sequences
        out.seconds += part.seconds
        out.failure = part.failure
    return out


def _chunks(designs: list[str], total: int, chunk: int, steps: int, seed: int) -> Iterator[tuple[str, int, int, int]]:
    """Chunks of ``chunk`` sequences, round-robin over the designs, until each has ``total``."""
    left = dict.fromkeys(designs, total)
    i = 0
    while any(left.values()):
        for d in designs:
            if left[d]:
                n = min(chunk, left[d])
                left[d] -= n
                yield d, n, steps, seed + i
                i += 1


def _pool(jobs: int, executor: str, scheduler: str | None, tls: TLSFiles | None = None) -> tuple[Any, int]:
    """The pool the chunks run on and how many run at once (its workers: no chunk waits in a queue)."""
    if executor == "dask" or scheduler:
        if scheduler:
            client = connect(scheduler, tls)
            return client, max(1, sum(client.nthreads().values()))
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise BenchframeError("--executor dask needs dask.distributed: pip install 'benchframe[dask]'") from None
        return Client(LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                   dashboard_address=None)), jobs
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=jobs), jobs


def soak(designs: list[str], total: int, chunk: int, steps: int, jobs: int, seed: int, minutes: float | None,
         executor: str = "process", scheduler: str | None = None,
         tls: TLSFiles | None = None) -> dict[str, list[SoakResult]]:
    """Run the chunks on the pool, one per worker at a time, handing out none after ``minutes`` (and those
    running then start no new sequence)."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    until = time.time() + minutes * 60 if minutes else None
    results: dict[str, list[SoakResult]] = {d: [] for d in designs}
    todo = _chunks(designs, total, chunk, steps, seed)
    pool, workers = _pool(jobs, executor, scheduler, tls)
    try:
        running: set = set()
        while True:
            while len(running) < workers and (until is None or time.time() < until):
                nxt = next(todo, None)
                if nxt is None:
                    break
                running.add(pool.submit(_chunk, (*nxt, until)))
            if not running:
                break
            if isinstance(pool, ProcessPoolExecutor):
                done, running = wait(running, return_when=FIRST_COMPLETED)
            else:
                from distributed import wait as dask_wait

                done, pending = dask_wait(list(running), return_when="FIRST_COMPLETED")
                running = set(pending)
            for fut in done:
                r = fut.result()
                results[r.spec].append(r)
    finally:
        if isinstance(pool, ProcessPoolExecutor):
            pool.shutdown(cancel_futures=True)
        else:  # a dask.distributed Client (and the LocalCluster it started)
            cluster = pool.cluster
            pool.close()
            if cluster is not None and scheduler is None:
                cluster.close()
    return results


def report(results: dict[str, list[SoakResult]], seconds: float, jobs: int) -> str:
    """Sequences and violations per design, the rate, and every failure found."""
    lines = [f"{'design':<22} {'sequences':>10} {'violations':>10} {'seq/s':>8}"]
    for design, rs in results.items():
        n = sum(r.sequences for r in rs)
        bad = [r for r in rs if r.failure]
        busy = sum(r.seconds for r in rs) or 1e-9
        lines.append(f"{design:<22} {n:>10,} {len(bad):>10} {n / busy:>8.1f}")
    total = sum(r.sequences for rs in results.values() for r in rs)
    lines.append(f"{total:,} sequences in {seconds:.0f} s on {jobs} worker(s)")
    for rs in results.values():
        for r in rs:
            if r.failure:
                lines.append(r.failure)
    return "\n".join(lines)


class _Parser(argparse.ArgumentParser):
    """argparse with a bad argument as one line (``soak: error: ...``, exit 2), not the usage."""

    def error(self, message: str) -> NoReturn:
        """argparse's complaint about an argument, as the one-line error ``main`` prints."""
        raise BenchframeError(message)


def main(argv: list[str] | None = None) -> int:
    """``python -m benchframe.testing.soak``: exit 1 if a sequence breaks a design."""
    p = _Parser(prog="python -m benchframe.testing.soak", description=__doc__.split("\n\n")[0])
    p.add_argument("--designs", help="design specs, comma-separated (default: every registered design)")
    p.add_argument("--sequences", type=int, default=100_000, help="sequences per design (default 100000)")
    p.add_argument("--minutes", type=float, help="stop handing out work after this long")
    p.add_argument("--chunk", type=int, default=200, help="sequences per task (default 200)")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="rules per sequence, at most")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    p.add_argument("--executor", choices=("process", "dask"), default="process")
    add_scheduler_options(p)
    p.add_argument("--seed", type=int, help="base seed (default: random, printed)")
    try:
        args = p.parse_args(argv)
        try:
            import hypothesis  # noqa: F401 - the sequences are hypothesis state machines
        except ImportError:
            raise BenchframeError("the soak needs hypothesis: pip install 'benchframe[test]'") from None
        reg = get_registry()
        designs = [d.strip() for d in (args.designs or ",".join(reg.designs)).split(",")]
        if not all(designs):
            raise BenchframeError(f"--designs {args.designs!r}: an empty item in a comma-separated list")
        for d in designs:
            reg.design_spec(d)
        for name in ("sequences", "chunk", "steps", "jobs"):
            if getattr(args, name) < 1:
                raise BenchframeError(f"--{name} must be at least 1")
        if args.minutes is not None and not 0 < args.minutes < float("inf"):
            raise BenchframeError(f"--minutes must be a positive number, not {args.minutes}")
        if args.scheduler:
            check_remote(args.scheduler, tls_files(args))
        elif tls_files(args).given():
            raise BenchframeError("--tls-ca-file/--tls-cert/--tls-key need a --scheduler tls://HOST:PORT")
        seed = random.SystemRandom().getrandbits(31) if args.seed is None else args.seed
        print(f"soak: {', '.join(designs)}; up to {args.sequences:,} sequences each, seed {seed}", flush=True)
        t0 = time.monotonic()
        results = soak(designs, args.sequences, args.chunk, args.steps, args.jobs, seed, args.minutes,
                       args.executor, args.scheduler, tls_files(args))
    except BenchframeError as exc:
        print(f"soak: error: {exc}", file=sys.stderr)
        return 2
    print(report(results, time.monotonic() - t0, args.jobs))
    return 1 if any(r.failure for rs in results.values() for r in rs) else 0


if __name__ == "__main__":
    sys.exit(main())
