"""Connections: each HTTP thread accepts its own from a socket on the shared port; the limits hold."""
import os
import socket
import subprocess
import threading
import urllib.parse

import requests

from conftest import BIN, SLOW, Server, create_job, job_xml
from e2e_helpers import wait_for


def address(server):
    u = urllib.parse.urlsplit(server.url)
    return u.hostname, u.port


def refused(server):
    """True when the server closes a new connection without answering it."""
    s = socket.create_connection(address(server), timeout=10 * SLOW)
    try:
        s.sendall(b"GET /whoAmI/api/json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        try:
            return s.recv(100) == b""
        except ConnectionResetError:
            return True
    finally:
        s.close()


def test_the_connections_of_one_address_are_limited_and_freed_again(tmp_path):
    server = Server(tmp_path / "home")
    server.add_user("alice", "alice-password", admin=True)
    server.start("--connections-per-address", "3")
    try:
        idle = []
        for _ in range(3):
            # answered, so accepted and counted: each thread accepts from its own socket, and
            # one that has not accepted yet could leave it to a later connection to be counted
            s = socket.create_connection(address(server), timeout=10 * SLOW)
            s.sendall(b"GET /whoAmI/api/json HTTP/1.1\r\nHost: x\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.1 "), "an idle connection not answered"
            idle.append(s)
        # each of them is the server's, kept open: a fourth from the same address is closed
        # unanswered
        wait_for(lambda: refused(server), timeout=10 * SLOW, what="a fourth connection refused")
        idle.pop().close()
        # one given back: the next is answered
        wait_for(lambda: not refused(server), timeout=10 * SLOW, what="a connection answered again")
        for s in idle:
            s.close()
    finally:
        server.stop()


def test_many_new_connections_at_once_are_all_answered(server):
    create_job(server, "conn", job_xml(params=[("string", "N", "0")], concurrent=True,
                                       script="true"))
    results, lock = [], threading.Lock()

    def client(k):
        got = []
        for i in range(25):
            r = requests.post(f"{server.url}job/conn/buildWithParameters",
                              params={"N": f"{k}-{i}"}, auth=server.alice,
                              headers={"Connection": "close"}, timeout=30 * SLOW)
            got.append(r.status_code)
        with lock:
            results.extend(got)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [201] * 200
    # a stop with connections just accepted ends cleanly (Server.stop checks the exit)


def test_a_second_server_on_the_same_port_is_refused_and_takes_no_connection(server, tmp_path):
    """The threads' sockets share the port (SO_REUSEPORT): another server must not join them."""
    host, port = address(server)
    other = tmp_path / "other"
    subprocess.run([BIN, "--home", other, "user", "add", "bob", "--password", "bob-password",
                    "--admin"], check=True, capture_output=True, timeout=30 * SLOW)
    p = subprocess.run([BIN, "--home", other, "serve", "--listen", f"{host}:{port}"],
                       capture_output=True, text=True, timeout=30 * SLOW)
    assert p.returncode == 1, p.stderr
    assert f"cannot listen on {host}:{port}: {os.strerror(98)}" in p.stderr, p.stderr
    # every new connection is still the first server's: alice exists there, bob does not
    for _ in range(40):
        r = requests.get(f"{server.url}whoAmI/api/json", auth=server.alice,
                         headers={"Connection": "close"}, timeout=10 * SLOW)
        assert r.status_code == 200 and r.json()["name"] == "alice", r.text
