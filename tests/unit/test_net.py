import socket

from mlplatform.net import _ephemeral_range, free_port


def test_free_ports_are_distinct_bindable_and_outside_the_ephemeral_range():
    low = _ephemeral_range()[0]
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == 50
    assert all(1024 <= port < low for port in ports)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", ports[0]))



def test_each_parallel_worker_draws_from_its_own_slice(monkeypatch):
    low = _ephemeral_range()[0]
    slices = []
    for index in range(2):
        monkeypatch.setenv("MLP_PORT_SLICE", f"{index}/2")
        slices.append({free_port() for _ in range(30)})
    first, second = slices
    assert max(first) < min(second) < low
