"""Quiet-down, safe exit and a graceful stop, with Jenkins' meaning.

quietDown: triggers still queue, no new build starts, running builds go on.
safeExit: the same, and the server stops once no build runs. SIGTERM: no new
connections, running builds get --shutdown-grace to end, then they are ABORTED
with a reason that says why.
"""
import os
import pathlib
import signal
import socket
import subprocess
import urllib.parse

import jenkins
import pytest

from conftest import BIN, SLOW, Server, create_job, job_xml
from e2e_helpers import item_id, item_path, restart, wait_for


def gated(flag):
    """A build that says it started, then waits (bounded) for the test's flag file."""
    return (f'echo "started $BUILD_NUMBER"; i=0; '
            f'while [ ! -e "{flag}" ] && [ $i -lt {1200 * SLOW} ]; do sleep 0.05; i=$((i+1)); done; '
            f'echo "went on"')


def new_server(home, *extra):
    s = Server(home)
    s.add_user("alice", "alice-password", admin=True)
    s.add_user("bob", "bob-password")
    s.alice = ("alice", s.new_token("alice", "ci"))
    s.bob = ("bob", s.new_token("bob", "laptop"))
    return s.start(*extra)


def running(s, job, number):
    def started():
        r = s.get(f"job/{job}/{number}/consoleText", auth=s.alice)
        return r.status_code == 200 and f"started {number}" in r.text
    wait_for(started, 20, f"{job} #{number} to print its first line",
             seen=lambda: s.get(f"job/{job}/{number}/consoleText", auth=s.alice).text[-300:])


def start_gated(s, job, flag):
    create_job(s, job, job_xml(script=gated(flag)))
    r = s.post(f"job/{job}/build", auth=s.alice)
    assert r.status_code == 201, r.text
    n = s.wait_queue_item(r.headers["Location"], s.alice)["executable"]["number"]
    running(s, job, n)
    return n


def info(s):
    return s.get("api/json", auth=s.alice).json()


def loop_turn(s):
    """Cancels a far-off item of a job of its own: once that answer came, the engine's loop
    has had a turn (and looked at the queue) since the call."""
    if s.get("job/turn/api/json", auth=s.alice).status_code == 404:
        create_job(s, "turn", job_xml())
    r = s.post("job/turn/build?delay=3600sec", auth=s.alice)
    assert r.status_code == 201, r.text
    c = s.post(f"queue/cancelItem?id={item_id(r.headers['Location'])}", auth=s.alice,
               allow_redirects=False)
    assert c.status_code == 302, c.text


def item(s, location):
    return s.get(location.replace(s.url, "").rstrip("/") + "/api/json", auth=s.alice).json()


def test_quiet_down_queues_triggers_and_starts_nothing_until_cancelled(server):
    s = server
    create_job(s, "q", job_xml([("string", "P", "x")]))
    assert info(s)["quietingDown"] is False and info(s)["quietDownReason"] is None

    # python-jenkins' quiet_down() posts /quietDown and then checks quietingDown itself
    jenkins.Jenkins(s.url, username=s.alice[0], password=s.alice[1]).quiet_down()
    assert info(s)["quietingDown"] is True

    r = s.post("job/q/buildWithParameters?P=one", auth=s.alice)
    assert r.status_code == 201, r.text
    loc = r.headers["Location"]
    loop_turn(s)
    it = item(s, loc)
    assert it.get("executable") is None, it
    assert it["why"].startswith("Steward is quieting down"), it["why"]
    assert "cancelQuietDown" in it["why"]
    assert s.get("job/q/api/json", auth=s.alice).json()["builds"] == []

    # a reason replaces the first quiet-down's; control characters become spaces
    r = s.post("quietDown", data={"reason": "upgrade\r\nat noon"}, auth=s.alice,
               allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == s.url
    assert info(s)["quietDownReason"] == "upgrade  at noon"
    assert "Reason: upgrade  at noon" in item(s, loc)["why"]

    # every page says so, and offers the administrator the way out
    page = s.get("", auth=s.alice, headers={"Accept": "text/html"}).text
    assert 'id="quiet-down"' in page and "upgrade  at noon" in page
    assert "Cancel quiet-down" in page
    page = s.get("job/q/", auth=s.bob, headers={"Accept": "text/html"}).text
    assert 'id="quiet-down"' in page and "Cancel quiet-down" not in page

    r = s.post("cancelQuietDown", auth=s.alice, allow_redirects=False)
    assert r.status_code == 302
    assert info(s)["quietingDown"] is False and info(s)["quietDownReason"] is None
    n = s.wait_queue_item(loc, s.alice)["executable"]["number"]
    assert s.wait_build("q", n, s.alice)["result"] == "SUCCESS"
    assert 'id="quiet-down"' not in s.get("", auth=s.alice, headers={"Accept": "text/html"}).text


def test_running_builds_go_on_while_quieting_down(server, tmp_path):
    s = server
    flag = pathlib.Path(s.shared) / f"{tmp_path.name}-go"
    n = start_gated(s, "runs", flag)
    assert s.post("quietDown", auth=s.alice, allow_redirects=False).status_code == 302
    flag.touch()
    assert s.wait_build("runs", n, s.alice)["result"] == "SUCCESS"
    # a timer or trigger that came meanwhile waits
    r = s.post("job/runs/build", auth=s.alice)
    loop_turn(s)
    assert item(s, r.headers["Location"]).get("executable") is None


def test_quiet_down_needs_an_administrator_and_a_post(server):
    s = server
    r = s.post("quietDown", auth=s.bob, allow_redirects=False)
    assert r.status_code == 403, r.text
    assert "Overall/Administer" in r.text and "bob" in r.text
    assert info(s)["quietingDown"] is False
    r = s.get("quietDown", auth=s.alice, allow_redirects=False)
    assert r.status_code == 405 and r.headers["Allow"] == "POST"
    assert s.post("quietDown", allow_redirects=False).status_code == 401
    assert s.post("safeExit", auth=s.bob, allow_redirects=False).status_code == 403
    assert s.post("cancelQuietDown", auth=s.bob, allow_redirects=False).status_code == 403
    assert info(s)["quietingDown"] is False
    # a reason has a size limit, cut on a character's boundary, and must be UTF-8
    r = s.post("quietDown", data={"reason": "x" * 5000}, auth=s.alice, allow_redirects=False)
    assert r.status_code == 302
    assert len(info(s)["quietDownReason"]) == 1024
    r = s.post("quietDown", data={"reason": "x" + "é" * 3000}, auth=s.alice,
               allow_redirects=False)
    assert r.status_code == 302
    assert info(s)["quietDownReason"] == "x" + "é" * 511
    r = s.post("quietDown?reason=%FF", auth=s.alice, allow_redirects=False)
    assert r.status_code == 400 and "UTF-8" in r.text
    assert info(s)["quietDownReason"] == "x" + "é" * 511


def test_cli_quiet_down_and_cancel(server, tmp_path):
    s = server
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "STEWARD_URL": s.url,
           "STEWARD_USER": s.alice[0], "STEWARD_TOKEN": s.alice[1]}

    def cli(*args):
        return subprocess.run([BIN, *args], capture_output=True, text=True, env=env,
                              timeout=30 * SLOW)
    p = cli("quiet-down", "backup at 3")
    assert p.returncode == 0, p.stderr
    assert "quieting down (reason: backup at 3)" in p.stderr
    assert info(s)["quietDownReason"] == "backup at 3"
    p = cli("quiet-down", "--cancel")
    assert p.returncode == 0, p.stderr
    assert "not quieting down" in p.stderr
    assert info(s)["quietingDown"] is False
    p = cli("quiet-down", "--cancel", "why")
    assert p.returncode == 2
    env["STEWARD_USER"], env["STEWARD_TOKEN"] = s.bob
    p = cli("quiet-down")
    assert p.returncode == 6, (p.returncode, p.stderr)
    assert "Overall/Administer" in p.stderr


def test_safe_exit_lets_running_builds_end_then_stops(tmp_path):
    s = new_server(tmp_path / "home")
    flag = pathlib.Path(s.shared) / f"{tmp_path.name}-go"
    try:
        n = start_gated(s, "last", flag)
        r = s.post("safeExit", auth=s.alice)
        assert r.status_code == 200 and "as soon as all jobs are complete" in r.text
        assert info(s)["quietingDown"] is True
        # triggers still queue, and wait
        q = s.post("job/last/build", auth=s.alice)
        assert q.status_code == 201
        assert item(s, q.headers["Location"])["why"] == "Steward is about to shut down"
        assert s.proc.poll() is None, "the server stopped while a build ran"
        flag.touch()
        rc = s.proc.wait(timeout=30 * SLOW)
        assert rc == 0, s.read_log()[-3000:]
        s.proc = None
        s.log.close()
        assert "safe exit: no build runs any more; stopping" in s.read_log()
        # the build ended by itself, and the queued trigger runs after a restart
        restart(s)
        assert s.get(f"job/last/{n}/api/json", auth=s.alice).json()["result"] == "SUCCESS"
        flag.touch()
        m = s.wait_queue_item(s.url + item_path(q.headers["Location"]), s.alice)["executable"]["number"]
        assert s.wait_build("last", m, s.alice)["result"] == "SUCCESS"
    finally:
        s.stop()


def connect_refused(url):
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
        return False
    except OSError:
        return True


def test_sigterm_gives_running_builds_the_grace_to_end(tmp_path):
    s = new_server(tmp_path / "home", "--shutdown-grace", "60")
    flag = pathlib.Path(s.shared) / f"{tmp_path.name}-go"
    try:
        n = start_gated(s, "graceful", flag)
        s.proc.send_signal(signal.SIGTERM)
        # no new connections while the build finishes
        wait_for(lambda: connect_refused(s.url), 20, "the listener to refuse connections")
        wait_for(lambda: "waiting up to 60 s for them to end" in s.read_log(), 20,
                 "the server to say it waits for the build", seen=lambda: s.read_log()[-500:])
        assert s.proc.poll() is None
        flag.touch()
        rc = s.proc.wait(timeout=30 * SLOW)
        assert rc == 0, s.read_log()[-3000:]
        s.proc = None
        s.log.close()
        restart(s)
        b = s.get(f"job/graceful/{n}/api/json", auth=s.alice).json()
        assert b["result"] == "SUCCESS" and "abortReason" not in b, b
        log = s.get(f"job/graceful/{n}/consoleText", auth=s.alice).text
        assert "this build has 60 s to end before it is aborted" in log
        assert log.endswith("went on\nFinished: SUCCESS\n"), log
    finally:
        s.stop()


def test_builds_past_the_grace_are_aborted_with_the_reason(tmp_path):
    s = new_server(tmp_path / "home", "--shutdown-grace", "1")
    flag = pathlib.Path(s.shared) / f"{tmp_path.name}-never"
    try:
        n = start_gated(s, "stuck", flag)
        s.stop()    # SIGTERM, and the exit code must be 0
        restart(s)
        b = s.get(f"job/stuck/{n}/api/json", auth=s.alice).json()
        assert b["result"] == "ABORTED", b
        assert b["abortReason"] == "Steward shut down while this build was running"
        log = s.get(f"job/stuck/{n}/consoleText", auth=s.alice).text
        assert f"started {n}" in log
        assert "this build has 1 s to end" in log
        assert "Aborted by Steward shutting down" in log and log.endswith("Finished: ABORTED\n")
    finally:
        s.stop()


def test_a_second_signal_aborts_at_once(tmp_path):
    s = new_server(tmp_path / "home", "--shutdown-grace", "3600")
    try:
        n = start_gated(s, "second", tmp_path / "never")
        s.proc.send_signal(signal.SIGTERM)
        wait_for(lambda: "waiting up to 3600 s" in s.read_log(), 20,
                 "the server to start waiting for the build", seen=lambda: s.read_log()[-500:])
        s.stop(signal.SIGINT)
        restart(s)
        b = s.get(f"job/second/{n}/api/json", auth=s.alice).json()
        assert b["result"] == "ABORTED"
        assert b["abortReason"] == "Steward shut down while this build was running"
    finally:
        s.stop()


@pytest.mark.parametrize("value", ["-1", "x", "86401"])
def test_shutdown_grace_is_checked(tmp_path, value):
    p = subprocess.run([BIN, "--home", str(tmp_path / "h"), "serve", "--listen", "127.0.0.1:0",
                        "--shutdown-grace", value], capture_output=True, text=True,
                       timeout=30 * SLOW)
    assert p.returncode == 2 and "--shutdown-grace takes seconds" in p.stderr
