"""Distributed runs, safely: a ``tls://`` scheduler with Dask's certificate options, one-line errors for a
scheduler that cannot be reached or has no workers, and a warning for plain ``tcp://`` off this host. Every
scheduler here is a LocalCluster on 127.0.0.1 started by the test (a real remote cluster is out of reach)."""

from __future__ import annotations

import datetime
import ipaddress
import json

import pytest

from benchframe import BenchframeError
from benchframe.cli import main
from benchframe.remote import TLSFiles, on_this_host, warn_if_exposed
from benchframe.run import RunSpec
from benchframe.run.executors import run_specs

distributed = pytest.importorskip("distributed")
x509 = pytest.importorskip("cryptography.x509")

SPECS = [RunSpec(design=d, workload="page_bench04", params={"bulk": 8, "pages": 128}) for d in ("array", "list")]


def _pem_pair(name: str, issuer=None):
    """A key and a certificate for ``name``, signed by ``issuer`` (key, cert) or self-signed (a CA)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(issuer[1].subject if issuer else subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
               .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                           x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                              critical=False))
    return key, builder.sign(issuer[0] if issuer else key, hashes.SHA256())


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """PEM files: a CA, and a certificate + key each for the scheduler, the workers and the client."""
    from cryptography.hazmat.primitives import serialization

    folder = tmp_path_factory.mktemp("tls")
    ca = _pem_pair("benchframe test CA")
    out = {"ca": folder / "ca.pem"}
    out["ca"].write_bytes(ca[1].public_bytes(serialization.Encoding.PEM))
    for who in ("scheduler", "worker", "client"):
        key, cert = _pem_pair(f"benchframe test {who}", issuer=ca)
        out[f"{who}_cert"] = folder / f"{who}.pem"
        out[f"{who}_key"] = folder / f"{who}-key.pem"
        out[f"{who}_cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        out[f"{who}_key"].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                        serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
    return {k: str(v) for k, v in out.items()}


@pytest.fixture(scope="module")
def tls_cluster(certs):
    """A one-worker cluster on tls://127.0.0.1 that requires encryption and client certificates."""
    from distributed import LocalCluster
    from distributed.security import Security

    sec = Security(tls_ca_file=certs["ca"], tls_scheduler_cert=certs["scheduler_cert"],
                   tls_scheduler_key=certs["scheduler_key"], tls_worker_cert=certs["worker_cert"],
                   tls_worker_key=certs["worker_key"], tls_client_cert=certs["client_cert"],
                   tls_client_key=certs["client_key"], require_encryption=True)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tls", host="127.0.0.1",
                      security=sec, dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tls://127.0.0.1:")
        yield cluster.scheduler_address


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr("benchframe.remote.DASK_CONNECT_TIMEOUT", "2s")


def test_a_tls_scheduler_runs_the_cells(tls_cluster, certs):
    """Before: only tcp:// (--scheduler took no certificates)."""
    tls = TLSFiles(certs["ca"], certs["client_cert"], certs["client_key"])
    got = run_specs(SPECS, scheduler=tls_cluster, tls=tls)
    assert got == run_specs(SPECS, executor="serial")


def test_run_on_a_tls_scheduler_from_the_command_line(tls_cluster, certs, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["run", "--design", "array", "--workload", "page_bench04", "--param", "pages=128",
                 "--scheduler", tls_cluster, "--tls-ca-file", certs["ca"], "--tls-cert", certs["client_cert"],
                 "--tls-key", certs["client_key"], "--json", str(out)]) == 0
    assert json.loads(out.read_text())["runs"][0]["design"] == "array"
    assert "warning" not in capsys.readouterr().err


@pytest.mark.parametrize("how", ["plain tcp", "a certificate of another CA"])
def test_a_tls_scheduler_refuses_a_client_without_its_tls_in_one_line(tls_cluster, certs, quick, how, tmp_path):
    from cryptography.hazmat.primitives import serialization

    address = tls_cluster.replace("tls://", "tcp://") if how == "plain tcp" else tls_cluster
    tls = None
    if how != "plain tcp":
        key, cert = _pem_pair("intruder", issuer=_pem_pair("another CA"))
        (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        tls = TLSFiles(certs["ca"], str(tmp_path / "c.pem"))
    with pytest.raises(BenchframeError, match="cannot connect") as info:
        run_specs(SPECS[:1], scheduler=address, tls=tls)
    assert "\n" not in str(info.value)


def test_a_scheduler_without_workers_fails_after_the_timeout(quick):
    """Before: the client handed its jobs to a scheduler with no workers and waited for good."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=0, processes=False, protocol="tcp", host="127.0.0.1",
                      dashboard_address=None) as cluster:
        with pytest.raises(BenchframeError, match=r"no worker joined within 2s") as info:
            run_specs(SPECS, scheduler=cluster.scheduler_address)
    assert str(info.value).startswith(f"--scheduler {cluster.scheduler_address}: ") and "\n" not in str(info.value)


def test_plain_tcp_off_this_host_is_warned_about_in_one_line(capsys):
    """Before: no word that jobs (with local paths) and pickled results cross the network unencrypted. (Only
    the address is looked at: nothing connects to it.)"""
    warn_if_exposed("tcp://192.0.2.7:8786")  # TEST-NET-1: never this host
    err = capsys.readouterr().err
    assert err.startswith("benchframe: warning: --scheduler tcp://192.0.2.7:8786 is not on this host and tcp:// is "
                          "unencrypted") and err.count("\n") == 1 and "use tls://" in err
    for quiet in ("tcp://127.0.0.1:8786", "localhost:8786", "tcp://[::1]:8786", "tls://192.0.2.7:8786"):
        warn_if_exposed(quiet)
    assert capsys.readouterr().err == ""


def test_this_hosts_own_addresses_are_on_this_host():
    psutil = pytest.importorskip("psutil")
    addresses = [a.address for addrs in psutil.net_if_addrs().values() for a in addrs
                 if a.family.name in ("AF_INET", "AF_INET6")]
    assert addresses and all(on_this_host(a.split("%")[0]) for a in addresses)
    assert not on_this_host("192.0.2.7")


@pytest.mark.parametrize("timeout", ["abc", "0s", "-5", "nan"])
def test_a_connect_timeout_that_is_not_a_duration_is_one_line_before_anything_runs(timeout, monkeypatch, capsys):
    """Before: BENCHFRAME_DASK_TIMEOUT=abc was an internal error (dask's KeyError: 'Invalid time unit')."""
    monkeypatch.setattr("benchframe.remote.DASK_CONNECT_TIMEOUT", timeout)
    argv = ["run", "--design", "array", "--workload", "page_bench04", "--scheduler", "tcp://127.0.0.1:9"]
    assert main(argv) == 2
    assert capsys.readouterr().err == (f"benchframe: error: BENCHFRAME_DASK_TIMEOUT={timeout!r}: not a positive "
                                       "duration (e.g. 10s)\n")
