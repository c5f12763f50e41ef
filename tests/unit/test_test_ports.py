"""The test servers' port allocator: a port picked for a server must not be taken before the server binds it."""
from __future__ import annotations

import socket

from tests.support import infra


def test_ports_come_from_outside_the_kernels_ephemeral_range():
    low, high = (int(part) for part in infra._EPHEMERAL_RANGE_FILE.read_text().split())
    ports = [infra.free_port() for _ in range(50)]
    assert all(not low <= port <= high for port in ports)


def test_no_port_is_handed_out_twice_in_one_run():
    ports = [infra.free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)


def test_a_port_someone_listens_on_is_never_offered():
    low, high = infra._listening_port_range()
    listeners = []
    try:
        # Occupy a stretch of the range, then ask for many ports: none may fall on an occupied one.
        for port in range(low, low + 200):
            sock = socket.socket()
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                sock.close()
                continue
            sock.listen()
            listeners.append(sock)
        taken = {sock.getsockname()[1] for sock in listeners}
        offered = {infra.free_port() for _ in range(500)}
        assert not offered & taken
    finally:
        for sock in listeners:
            sock.close()


def test_weed_gets_a_pair_ten_thousand_apart_both_free():
    port = infra.free_weed_port()
    low, high = infra._listening_port_range()
    assert low <= port and port + 10000 <= high
    assert port + 10000 in infra._HANDED_OUT


def test_parallel_workers_draw_from_disjoint_shares_of_the_range(monkeypatch):
    """Under pytest-xdist two workers must never pick one port between a bind check and their server's bind."""
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    low, high = infra._listening_port_range()
    for worker, residue in (("gw0", 0), ("gw1", 1)):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        ports = [infra.free_port() for _ in range(100)] + [infra.free_weed_port() for _ in range(5)]
        assert {port % 2 for port in ports} == {residue}
        assert all(low <= port <= high for port in ports)


def test_outside_xdist_the_whole_range_is_used(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    assert {infra.free_port() % 2 for _ in range(100)} == {0, 1}
