"""A Dask scheduler that is not ours: its address, TLS, and what to say about an unencrypted one.

``--scheduler`` hands the scheduler cloudpickled jobs (with this machine's absolute paths and plugin
specs) and takes results back as pickles: whoever runs the scheduler can run code here, so it is trusted
like a plugin (README, "Sweeps at scale"). ``tls://`` with Dask's certificate options (``TLSFiles``:
``--tls-ca-file``, ``--tls-cert``, ``--tls-key``, or Dask's own ``distributed.comm.tls`` configuration)
encrypts and authenticates both ways; a plain ``tcp://`` address that is not on this host gets a one-line
warning.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchframe import BenchframeError

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
    tls = tls or TLSFiles()
    if scheme == "tcp" and tls.given():
        raise BenchframeError(f"--scheduler {address}: --tls-ca-file/--tls-cert/--tls-key need a tls:// address")
    for option, path in (("--tls-ca-file", tls.ca_file), ("--tls-cert", tls.cert), ("--tls-key", tls.key)):
        if path is not None and not Path(path).is_file():
            raise BenchframeError(f"{option} {path}: no such file")
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
    """One stderr line when jobs and results would cross the network unencrypted."""
    scheme, host, _ = parse_scheduler(address)
    if scheme == "tcp" and not on_this_host(host):
        print(f"benchframe: warning: --scheduler {address} is not on this host and tcp:// is unencrypted: jobs "
              "and results cross the network in the clear and the scheduler can run code here; use tls://",
              file=sys.stderr)
