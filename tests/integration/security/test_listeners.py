"""The gateway is the store server's only listener beyond loopback: Ray's GCS, raylet, object
manager, every actor's and the server's own gRPC port and Ray's agents listen on 127.0.0.1, whatever
address the gateway is given."""

from __future__ import annotations

import ipaddress
import time

import pytest

from actors.process import StoreProcess
from seckit import listening_sockets, session_pids

pytestmark = pytest.mark.ray


def is_loopback(addr: str) -> bool:
    ip = ipaddress.ip_address(addr)
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1, how a v6 socket shows v4
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def cmdline(pid: int) -> str:
    try:
        return open(f"/proc/{pid}/cmdline").read().split("\0")[0].strip()
    except OSError:
        return ""


def listeners(host: str, tmp_path) -> tuple[StoreProcess, list[tuple[int, str, int]]]:
    proc = StoreProcess(tmp_path / "store", demo=False, host=host).start()
    try:
        # the actors start in the background once the selling path is up: wait for them all
        end = time.time() + 90
        found: list[tuple[int, str, int]] = []
        while time.time() < end:
            found = listening_sockets(session_pids(proc.proc.pid))
            names = {cmdline(pid) for pid, _, _ in found}
            if {
                "ray::CatalogueActor",
                "ray::HostActor",  # stock, wallet, uploader, licence (actors.shells.host)
                "ray::AnalyticsActor",
            } <= names:
                break
            time.sleep(1)
        return proc, found
    except BaseException:
        proc.stop()
        raise


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_only_the_gateway_listens_beyond_loopback(host, tmp_path):
    proc, found = listeners(host, tmp_path)
    try:
        assert len(found) >= 8  # the gateway, Ray's daemons, the actors: all seen
        exposed = [(pid, addr, port) for pid, addr, port in found if not is_loopback(addr)]
        if host == "127.0.0.1":
            assert exposed == []
        else:
            assert [(addr, port) for _, addr, port in exposed] == [("0.0.0.0", proc.port)]
            assert exposed[0][0] == proc.proc.pid
    finally:
        proc.stop()
