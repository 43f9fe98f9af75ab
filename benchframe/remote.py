"""A Dask scheduler that is not ours: its address, TLS, what to say about an unencrypted one, and connecting
to it -- the same options and errors for every command that takes ``--scheduler`` (``run``, ``compare``,
``sweep``, and the soak runner ``python -m benchframe.testing.soak``).

``--scheduler`` hands the scheduler cloudpickled jobs (with this machine's absolute paths and plugin
specs) and takes results back as pickles: whoever runs the scheduler can run code here, so it is trusted
like a plugin (README, "Sweeps at scale"). ``tls://`` with Dask's certificate options (``TLSFiles``:
``--tls-ca-file``, ``--tls-cert``, ``--tls-key``, or Dask's own ``distributed.comm.tls`` configuration)
encrypts and authenticates both ways; a plain ``tcp://`` address that is not on this host gets a one-line
warning. Before Dask's client is let at an address, ``probe`` checks within the timeout that what answers
there speaks first the way a Dask scheduler does (a length-prefixed handshake): a web server that waits for a
request, or an SSH server's banner read as a frame length (``MemoryError: Unable to allocate 3.07 EiB``), is a
one-line error instead of a hang or a crash.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import socket
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError

if TYPE_CHECKING:
    import argparse

#: how long to wait for ``--scheduler`` (its handshake, then a worker) before a one-line error
DASK_CONNECT_TIMEOUT = os.environ.get("BENCHFRAME_DASK_TIMEOUT", "10s")
#: the largest first message a Dask scheduler's handshake plausibly is (it is about 60 bytes)
MAX_HANDSHAKE = 1 << 20

_SCHEDULER = re.compile(r"(?:(tcp|tls)://)?(\[[^\]\s]+\]|[^:/\s\[\]]+):(\d{1,5})")


@dataclass(frozen=True)
class TLSFiles:
    """The PEM files of a TLS connection to a scheduler, as Dask's ``Security`` takes them."""

    ca_file: str | None = None  # the CA that signed the scheduler's certificate
    cert: str | None = None  # this client's certificate (the scheduler requires one)
    key: str | None = None  # its private key (may be inside ``cert``)

    def given(self) -> bool:
        return any((self.ca_file, self.cert, self.key))


def parse_scheduler(address: str) -> tuple[str, str, int]:
    """``tcp://HOST:PORT`` or ``tls://HOST:PORT`` (``HOST:PORT`` means tcp) -> (scheme, host, port)."""
    m = _SCHEDULER.fullmatch(address)
    if not m or not 0 < int(m.group(3)) < 65536:
        raise BenchframeError(f"--scheduler {address!r}: not a scheduler address (expected tcp://HOST:PORT or "
                              "tls://HOST:PORT)")
    return m.group(1) or "tcp", m.group(2).strip("[]"), int(m.group(3))


def check_remote(address: str, tls: TLSFiles | None) -> None:
    """One-line errors for the address and the TLS options, before anything runs."""
    scheme, _, _ = parse_scheduler(address)
    _seconds(DASK_CONNECT_TIMEOUT)  # BENCHFRAME_DASK_TIMEOUT, before anything runs
    tls = tls or TLSFiles()
    if scheme == "tcp" and tls.given():
        raise BenchframeError(f"--scheduler {address}: --tls-ca-file/--tls-cert/--tls-key need a tls:// address")
    for option, path in (("--tls-ca-file", tls.ca_file), ("--tls-cert", tls.cert), ("--tls-key", tls.key)):
        if path is not None and not Path(path).exists():
            raise BenchframeError(f"{option} {path}: no such file")
        if path is not None and not Path(path).is_file():
            raise BenchframeError(f"{option} {path}: not a regular file (a PEM file is read whole)")
    if scheme == "tls":
        try:
            security(address, tls).get_connection_args("client")  # reads the files now, not after the work
        except ImportError:
            raise BenchframeError("--scheduler needs dask.distributed: pip install 'benchframe[dask]'") from None
        except (OSError, ValueError) as exc:  # a file that is not a certificate or key
            raise BenchframeError(f"--scheduler {address}: bad TLS files: {exc}") from None


def security(address: str, tls: TLSFiles | None) -> Any:
    """The ``distributed.Security`` for ``address``: from the TLS files, else Dask's configuration; ``None``
    for tcp://. A tls:// address with no certificate anywhere is a one-line error."""
    if parse_scheduler(address)[0] != "tls":
        return None
    from distributed.security import Security

    tls = tls or TLSFiles()
    if tls.given():
        if not (tls.ca_file and tls.cert):
            raise BenchframeError(f"--scheduler {address}: tls:// needs both --tls-ca-file and --tls-cert (and "
                                  "--tls-key unless the key is in the certificate file)")
        return Security(tls_ca_file=tls.ca_file, tls_client_cert=tls.cert, tls_client_key=tls.key,
                        require_encryption=True)
    configured = Security()  # distributed.comm.tls.* in Dask's configuration
    if not getattr(configured, "tls_ca_file", None):
        raise BenchframeError(f"--scheduler {address}: tls:// needs --tls-ca-file, --tls-cert and --tls-key (or "
                              "Dask's distributed.comm.tls configuration)")
    return configured


def on_this_host(host: str) -> bool:
    """Whether ``host`` names this machine: loopback, this host's name, or an address of one of its
    interfaces."""
    if host in ("localhost", socket.gethostname(), socket.getfqdn()):
        return True
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False  # unresolvable: connecting will say so
    local = _local_addresses()
    return all(ipaddress.ip_address(a.split("%")[0]).is_loopback or a in local for a in addresses)


def _local_addresses() -> set[str]:
    try:
        import psutil
    except ImportError:  # distributed brings psutil; without it only loopback counts as local
        return set()
    return {a.address.split("%")[0] for addrs in psutil.net_if_addrs().values() for a in addrs}


def warn_if_exposed(address: str) -> None:
    """One warning line (benchframe's log: ``-q`` silences it) when jobs and results would cross the network
    unencrypted."""
    scheme, host, _ = parse_scheduler(address)
    if scheme == "tcp" and not on_this_host(host):
        logging.getLogger("benchframe").warning(
            f"--scheduler {address} is not on this host and tcp:// is unencrypted: jobs and results cross the "
            "network in the clear and the scheduler can run code here; use tls://")


def add_scheduler_options(p: argparse.ArgumentParser) -> None:
    """``--scheduler`` and its ``--tls-*`` files, spelt the same wherever a command takes a Dask scheduler."""
    p.add_argument("--scheduler", metavar="tls://HOST:PORT", help="Dask scheduler address (implies dask); "
                   "tls:// with the --tls-* files encrypts, tcp:// does not (trust the scheduler like a plugin)")
    p.add_argument("--tls-ca-file", metavar="PEM", help="CA certificate the tls:// scheduler's is signed by")
    p.add_argument("--tls-cert", metavar="PEM", help="this client's certificate for a tls:// scheduler")
    p.add_argument("--tls-key", metavar="PEM", help="its private key (if not in --tls-cert)")


def tls_files(args: argparse.Namespace) -> TLSFiles:
    """The ``--tls-*`` files of parsed options."""
    return TLSFiles(args.tls_ca_file, args.tls_cert, args.tls_key)


def _seconds(timeout: str) -> float:
    """Dask's ``"10s"`` as seconds; one line for what is not a duration (``BENCHFRAME_DASK_TIMEOUT``)."""
    from dask.utils import parse_timedelta

    try:
        seconds = float(parse_timedelta(timeout))
    except (KeyError, ValueError, TypeError):
        seconds = float("nan")
    if not 0 < seconds < float("inf"):
        raise BenchframeError(f"BENCHFRAME_DASK_TIMEOUT={timeout!r}: not a positive duration (e.g. 10s)")
    return seconds


def probe(address: str, tls: TLSFiles | None, timeout: str | None = None) -> None:
    """One line unless what answers at ``address`` starts as a Dask scheduler does: (for tls://, after the TLS
    handshake) an 8-byte little-endian length of a handshake message of at most ``MAX_HANDSHAKE`` bytes."""
    _, host, port = parse_scheduler(address)
    sec = security(address, tls)
    timeout = timeout or DASK_CONNECT_TIMEOUT
    wait = _seconds(timeout)
    try:
        with socket.create_connection((host, port), timeout=wait) as raw:
            conn = sec.get_connection_args("client")["ssl_context"].wrap_socket(raw, server_hostname=host) \
                if sec is not None else raw
            with conn:
                conn.settimeout(wait)
                head = _read(conn, 8)
    except TimeoutError:
        raise BenchframeError(f"--scheduler {address}: cannot connect: no Dask handshake within {timeout} (not a "
                              "Dask scheduler, or a tls:// one addressed as tcp://)") from None
    except OSError as exc:  # refused, unreachable, a TLS handshake that fails
        raise BenchframeError(f"--scheduler {address}: cannot connect: {_one_line(exc)}") from None
    if len(head) < 8:
        raise BenchframeError(f"--scheduler {address}: cannot connect: closed after {len(head)} bytes, before a "
                              "Dask handshake (a tls:// scheduler refusing this client's certificate?)")
    if struct.unpack("<Q", head)[0] > MAX_HANDSHAKE:
        raise BenchframeError(f"--scheduler {address}: not a Dask scheduler (it answered {head!r}, not a Dask "
                              "handshake)")


def _read(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def connect(address: str, tls: TLSFiles | None, timeout: str | None = None) -> Any:
    """A Dask client of the scheduler at ``address`` that has at least one worker, or a one-line error within
    the timeout (a scheduler with no workers would take the jobs and never run them)."""
    timeout = timeout or DASK_CONNECT_TIMEOUT
    try:
        from distributed import Client
    except ImportError:
        raise BenchframeError("--scheduler needs dask.distributed: pip install 'benchframe[dask]'") from None
    sec = security(address, tls)
    warn_if_exposed(address)
    probe(address, tls, timeout)
    try:
        client = Client(address, timeout=timeout, security=sec)
    except Exception as exc:  # noqa: BLE001 - whatever Dask makes of the other end, it is that end's error
        raise BenchframeError(f"--scheduler {address}: cannot connect: {_one_line(exc)}") from None
    try:
        client.wait_for_workers(1, timeout=_seconds(timeout))
    except (OSError, TimeoutError) as exc:
        client.close()
        raise BenchframeError(f"--scheduler {address}: no worker joined within {timeout} "
                              f"({type(exc).__name__})") from None
    return client


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: " + (" ".join(str(exc).split()) or "no detail")
