"""serve as a systemd service: one server per home (HOME/.lock), sd_notify, and SIGHUP's reload."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile

import pytest

from conftest import BIN, SLOW, create_job, job_xml
from e2e_helpers import console, restart, started_server, wait_for


def second_serve(home):
    """Runs another serve on the same home and returns its result (it is expected to refuse)."""
    return subprocess.run([BIN, "--home", str(home), "serve", "--listen", "127.0.0.1:0"],
                          capture_output=True, text=True, timeout=30 * SLOW)


def test_a_second_serve_on_the_same_home_refuses_and_names_the_first(server):
    p = second_serve(server.home)
    assert p.returncode == 1, p
    assert f"is in use by process {server.proc.pid}" in p.stderr, p.stderr
    assert ".lock" in p.stderr
    assert "listening" not in p.stdout + p.stderr
    # the first one goes on serving
    assert server.get("whoAmI/api/json", auth=server.alice).json()["name"] == "alice"
    with open(os.path.join(server.home, ".lock")) as f:
        assert f.read().strip() == str(server.proc.pid)


def test_the_lock_goes_with_the_server_even_after_kill_9(server):
    create_job(server, "sleepy", job_xml(script="echo started; exec sleep 60"))
    r = server.post("job/sleepy/build", auth=server.alice)
    assert r.status_code == 201
    n = server.wait_queue_item(r.headers["Location"], server.alice)["executable"]["number"]
    wait_for(lambda: "started" in console(server, "sleepy", n, server.alice), 15,
             "the build to write 'started'", seen=lambda: console(server, "sleepy", n, server.alice))
    # the build's process lives on after kill -9; it must not hold the lock
    server.stop(signal.SIGKILL)
    restart(server)
    assert server.get("whoAmI/api/json", auth=server.alice).status_code == 200
    b = server.wait_build("sleepy", n, server.alice)
    assert b["result"] == "ABORTED"


@pytest.fixture
def notify_socket(monkeypatch):
    """A datagram socket in the place of systemd's, named by $NOTIFY_SOCKET for servers started
    by the test."""
    d = tempfile.mkdtemp(prefix="stw-notify-", dir="/tmp")  # short: sun_path holds 108 bytes
    path = os.path.join(d, "notify")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(30 * SLOW)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    yield s
    s.close()
    shutil.rmtree(d)


def next_message(sock, what):
    try:
        return dict(line.split("=", 1) for line in sock.recv(4096).decode().splitlines())
    except socket.timeout:
        raise AssertionError(f"no sd_notify message came while waiting for {what}")


def test_serve_tells_systemd_ready_reloading_and_stopping(tmp_path, notify_socket):
    s = started_server(tmp_path / "home")
    try:
        ready = next_message(notify_socket, "READY=1")
        assert ready.get("READY") == "1", ready
        port = s.url.rstrip("/").rsplit(":", 1)[1]
        assert f"(port {port})" in ready.get("STATUS", ""), ready
        # by the time systemd hears READY=1, requests are answered
        assert s.get("whoAmI/api/json", auth=s.alice).status_code == 200

        s.proc.send_signal(signal.SIGHUP)
        reloading = next_message(notify_socket, "RELOADING=1")
        assert reloading.get("RELOADING") == "1", reloading
        assert int(reloading["MONOTONIC_USEC"]) > 0
        again = next_message(notify_socket, "READY=1 after the reload")
        assert again.get("READY") == "1", again
        assert again.get("STATUS") == ready.get("STATUS")

        # a build does not see the server's notify socket
        create_job(s, "env", job_xml(script='echo "socket=${NOTIFY_SOCKET-none}"'))
        r = s.post("job/env/build", auth=s.alice)
        n = s.wait_queue_item(r.headers["Location"], s.alice)["executable"]["number"]
        assert s.wait_build("env", n, s.alice)["result"] == "SUCCESS"
        assert "socket=none" in console(s, "env", n, s.alice)

        s.proc.send_signal(signal.SIGTERM)
        stopping = next_message(notify_socket, "STOPPING=1")
        assert stopping.get("STOPPING") == "1", stopping
    finally:
        s.stop()


def reload_done_lines(server):
    return re.findall(r"reload: done.*", server.read_log())


def test_an_abstract_notify_socket_hears_ready_and_stopping(tmp_path, monkeypatch):
    """$NOTIFY_SOCKET may name an abstract socket, written with a leading '@'."""
    name = f"stw-notify-{os.getpid()}-{tmp_path.name}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(30 * SLOW)
    monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
    s = started_server(tmp_path / "home")
    try:
        assert next_message(sock, "READY=1").get("READY") == "1"
        s.proc.send_signal(signal.SIGTERM)
        assert next_message(sock, "STOPPING=1").get("STOPPING") == "1"
    finally:
        s.stop()
        sock.close()


def test_sighup_rereads_job_configs_from_disk(server, tmp_path):
    """The jobs/ watcher usually sees these edits first; SIGHUP is for what it misses. Either
    way, once the reload is done the jobs are as the disk says."""
    create_job(server, "edited", job_xml(description="first"))
    create_job(server, "breaks", job_xml(description="good"))
    create_job(server, "removed", job_xml())
    jobs = os.path.join(server.home, "jobs")

    os.makedirs(os.path.join(jobs, "dropped-in"))
    with open(os.path.join(jobs, "dropped-in", "config.xml"), "w") as f:
        f.write(job_xml(description="written by hand", script="echo from disk"))
    with open(os.path.join(jobs, "edited", "config.xml"), "w") as f:
        f.write(job_xml(description="second"))
    with open(os.path.join(jobs, "breaks", "config.xml"), "w") as f:
        f.write("<project><unclosed></project>")
    os.unlink(os.path.join(jobs, "removed", "config.xml"))
    # a config.xml that appears as a hard link: no write and no rename in the job's directory
    outside = tmp_path / "linked.xml"
    outside.write_text(job_xml(description="hard-linked"))
    os.makedirs(os.path.join(jobs, "linked"))
    os.link(outside, os.path.join(jobs, "linked", "config.xml"))

    before = len(reload_done_lines(server))
    server.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: len(reload_done_lines(server)) > before, 20,
             "the server to log 'reload: done'", seen=lambda: server.read_log()[-2000:])
    assert "reload: re-reading every job's config.xml from disk" in server.read_log()

    r = server.get("job/dropped-in/api/json", auth=server.alice)
    assert r.status_code == 200 and r.json()["description"] == "written by hand"
    r = server.get("job/linked/api/json", auth=server.alice)
    assert r.status_code == 200 and r.json()["description"] == "hard-linked"
    assert server.get("job/edited/api/json", auth=server.alice).json()["description"] == "second"
    # what no longer parses keeps its last good config; what lost its file stays
    assert server.get("job/breaks/api/json", auth=server.alice).json()["description"] == "good"
    assert server.get("job/removed/api/json", auth=server.alice).status_code == 200

    # the new job builds
    r = server.post("job/dropped-in/build", auth=server.alice)
    assert r.status_code == 201
    n = server.wait_queue_item(r.headers["Location"], server.alice)["executable"]["number"]
    assert server.wait_build("dropped-in", n, server.alice)["result"] == "SUCCESS"
    assert "from disk" in console(server, "dropped-in", n, server.alice)
    # and the server still stops cleanly (the fixture checks the exit code)
