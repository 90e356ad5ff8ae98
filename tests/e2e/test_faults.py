"""Faults: each fails only what it must, with a clear error, and the server recovers by itself.

The full and read-only disks are real: the home lives on a small tmpfs that the test
mounts (the tests run as root), fills, remounts read-only and frees again.
"""
import base64
import errno
import os
import pathlib
import re
import shutil
import socket
import sqlite3
import subprocess
import threading
import urllib.parse

import pytest

from conftest import SLOW, Server, create_job, job_xml
from e2e_helpers import wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")


@pytest.fixture
def disk(tmp_path):
    """A 24 MiB tmpfs of the test's own."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", str(mnt)],
                   check=True)
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def server_on(home, log_dir):
    """started_server() on `home`, with its log outside (a full disk must not eat it)."""
    s = Server(home)
    s.log_path = str(log_dir / "server.log")
    s.shared = str(log_dir / "shared")
    s.add_user("alice", "alice-password", admin=True)
    s.alice = ("alice", s.new_token("alice", "ci"))
    return s.start()


def fill(path):
    """Writes `path` until the disk is full, in smaller and smaller pieces."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for chunk in (1 << 20, 1 << 16, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * chunk)
            except OSError as e:
                assert e.errno == errno.ENOSPC, e
    finally:
        os.close(fd)


def trigger(s, value):
    return s.post("job/p/buildWithParameters", data={"P": value}, auth=s.alice)


def test_a_full_disk_refuses_triggers_and_config_writes_then_recovers(disk, tmp_path):
    s = server_on(disk / "home", tmp_path)
    try:
        create_job(s, "p", job_xml([("string", "P", "x")], quiet=3600))
        assert trigger(s, "before").status_code == 201
        config = s.get("job/p/config.xml", auth=s.alice).text
        fill(disk / "filler")

        # big distinct values: the write-ahead log soon needs room the disk does not have
        refused = None
        for i in range(400):
            r = trigger(s, f"{i}-" + "v" * 60000)
            if r.status_code != 201:
                refused = r
                break
        assert refused is not None, "every trigger was taken on a full disk"
        assert refused.status_code == 507, (refused.status_code, refused.text)
        body = refused.json()
        assert body["error"] == "The server's disk is full"
        assert "Nothing was queued" in body["fix"]
        assert refused.headers["Retry-After"] == "60"

        # reads go on
        assert s.get("api/json", auth=s.alice).status_code == 200
        queued = s.get("queue/api/json", auth=s.alice).json()["items"]
        values = {a["value"] for it in queued for act in it["actions"]
                  for a in act.get("parameters", [])}
        assert not any(v.startswith(f"{i}-") for v in values), "the refused trigger was queued"

        # a config.xml that cannot be written changes nothing
        r = s.post("job/p/config.xml", data=config.replace(
            "<description></description>", "<description>" + "d" * 500000 + "</description>"),
            headers={"Content-Type": "application/xml"}, auth=s.alice)
        assert r.status_code == 507, (r.status_code, r.text)
        assert "config.xml" in r.json()["presented"]
        assert s.get("job/p/config.xml", auth=s.alice).text == config
        r = s.post("createItem?name=newjob", data=job_xml().encode(),
                   headers={"Content-Type": "application/xml"}, auth=s.alice)
        assert r.status_code == 507, (r.status_code, r.text)
        assert not os.path.exists(disk / "home" / "jobs" / "newjob")
        assert s.get("job/newjob/api/json", auth=s.alice).status_code == 404

        # room again: the server takes triggers without a restart
        os.unlink(disk / "filler")
        r = wait_for(lambda: (lambda r: r if r.status_code == 201 else None)(trigger(s, "after")),
                     20, "a trigger to be taken again")
        assert r.status_code == 201
        assert s.proc.poll() is None
    finally:
        s.stop()


def test_a_build_whose_log_fills_the_disk_fails_with_the_reason(disk, tmp_path):
    s = server_on(disk / "home", tmp_path)
    try:
        reserve = disk / "reserve"
        reserve.write_bytes(b"\0" * (2 << 20))
        # off the full disk, where files can still be made
        shared = pathlib.Path(s.shared)
        marker, go = shared / "step-wrote", shared / "step-go"
        # the step loses output to the full disk, and still exits 0
        script = (f"(head -c 40000000 /dev/zero | tr '\\0' x) 2>/dev/null || true\n"
                  f"touch {marker}\n"
                  f"i=0; while [ ! -e {go} ] && [ $i -lt {1200 * SLOW} ]; do sleep 0.05; "
                  "i=$((i+1)); done\n")
        create_job(s, "loud", job_xml(script=script))
        r = s.post("job/loud/build", auth=s.alice)
        assert r.status_code == 201
        n = s.wait_queue_item(r.headers["Location"], s.alice)["executable"]["number"]
        wait_for(lambda: marker.exists(), 60, "the step to have written its output")
        go.touch()
        wait_for(lambda: "the disk of its log is full: marked FAILURE" in s.read_log(), 30,
                 "the server to see the full disk", seen=lambda: s.read_log()[-800:])
        # room for the result
        os.unlink(reserve)
        b = wait_for(lambda: (lambda b: b if not b["building"] else None)(
            s.get(f"job/loud/{n}/api/json", auth=s.alice).json()), 30, "the result")
        assert b["result"] == "FAILURE", b
        assert b["abortReason"] == "Steward could not write the build's log: the disk is full"
        assert s.proc.poll() is None
    finally:
        s.stop()


def test_a_database_held_by_another_process_gives_503_then_recovers(server):
    s = server
    create_job(s, "p", job_xml([("string", "P", "x")]))
    db = sqlite3.connect(os.path.join(s.home, "steward.db"), timeout=1, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    try:
        answer = {}
        t = threading.Thread(target=lambda: answer.update(r=trigger(s, "held")))
        t.start()
        # reads are not held up meanwhile
        assert s.get("api/json", auth=s.alice).status_code == 200
        t.join(timeout=60 * SLOW)
        r = answer["r"]
        assert r.status_code == 503, (r.status_code, r.text)
        assert "held by another process" in r.json()["presented"]
        assert r.headers["Retry-After"] == "5"
    finally:
        db.execute("ROLLBACK")
        db.close()
    r = trigger(s, "free")
    assert r.status_code == 201, r.text
    n = s.wait_queue_item(r.headers["Location"], s.alice)["executable"]["number"]
    assert s.wait_build("p", n, s.alice)["result"] == "SUCCESS"


def description(s, job):
    r = s.get(f"job/{job}/api/json", auth=s.alice)
    return r.json()["description"] if r.status_code == 200 else None


def test_config_xml_edited_on_disk_is_picked_up_or_refused(server):
    s = server
    create_job(s, "hand", job_xml(description="first"))
    path = os.path.join(s.home, "jobs", "hand", "config.xml")

    with open(path, "w") as f:
        f.write(job_xml(description="edited by hand", script="echo from-the-edit"))
    wait_for(lambda: description(s, "hand") == "edited by hand", 10,
             "the edit to be picked up", seen=lambda: description(s, "hand"))
    # the line follows the new definition, which answers may show a moment before it
    wait_for(lambda: "job hand: config.xml changed on disk; reloaded" in s.read_log(), 10,
             "the reload in the log", seen=lambda: s.read_log()[-600:])

    # a broken file: one log line, and the last good definition goes on
    with open(path, "w") as f:
        f.write("<project><description>half")
    wait_for(lambda: "job hand: config.xml changed on disk and is refused" in s.read_log(), 10,
             "the refusal in the log", seen=lambda: s.read_log()[-600:])
    with open(path, "w") as f:
        f.write("<project><description>half")   # the same content again: no second line
    assert description(s, "hand") == "edited by hand"
    # a build reads its steps from the file: it fails, and says why, rather than run what
    # the file no longer says
    r = s.post("job/hand/build", auth=s.alice)
    n = s.wait_queue_item(r.headers["Location"], s.alice)["executable"]["number"]
    assert s.wait_build("hand", n, s.alice)["result"] == "FAILURE"
    log = s.get(f"job/hand/{n}/consoleText", auth=s.alice).text
    assert "config.xml cannot be read" in log or "not well-formed" in log, log
    assert "from-the-edit" not in log

    # fixed again
    with open(path, "w") as f:
        f.write(job_xml(description="fixed"))
    wait_for(lambda: description(s, "hand") == "fixed", 10, "the fix to be picked up",
             seen=lambda: description(s, "hand"))
    assert s.read_log().count("job hand: config.xml changed on disk and is refused") == 1

    # a job copied in by hand appears
    os.makedirs(os.path.join(s.home, "jobs", "copied"))
    with open(os.path.join(s.home, "jobs", "copied", "config.xml"), "w") as f:
        f.write(job_xml(description="copied in"))
    wait_for(lambda: description(s, "copied") == "copied in", 10, "the copied job to appear")

    # the server's own writes are not read back as edits: a hand edit made after them is
    # read after them, so once it shows, they have been looked at
    before = s.read_log().count("changed on disk")
    assert s.post("job/copied/disable", auth=s.alice, allow_redirects=False).status_code == 302
    create_job(s, "made", job_xml())
    with open(os.path.join(s.home, "jobs", "hand", "config.xml"), "w") as f:
        f.write(job_xml(description="last"))
    wait_for(lambda: description(s, "hand") == "last", 10, "the last edit to be picked up")
    assert s.read_log().count("changed on disk") == before + 1, s.read_log()[-1500:]


def test_each_build_runs_the_steps_its_config_xml_has_when_it_starts(server):
    """A build reads its steps from config.xml as the file is when it starts, not as an
    earlier build read them: after an edit in place that keeps the file's size, made
    right after a build, after an edit through the API, and back to the first text."""
    s = server
    path = os.path.join(s.home, "jobs", "steps", "config.xml")

    def build():
        r = s.post("job/steps/build?delay=0sec", auth=s.alice)
        assert r.status_code == 201, (r.status_code, r.text)
        n = s.wait_queue_item(r.headers["Location"], s.alice)["executable"]["number"]
        assert s.wait_build("steps", n, s.alice)["result"] == "SUCCESS"
        return s.get(f"job/steps/{n}/consoleText", auth=s.alice).text

    first = job_xml(script="echo ran-AAAA")
    create_job(s, "steps", first)
    assert "ran-AAAA" in build()
    assert "ran-AAAA" in build()
    # the same size, the same inode: only the file's times and text differ
    edited = first.replace("ran-AAAA", "ran-BBBB")
    assert len(edited) == len(first)
    with open(path, "r+") as f:
        f.write(edited)
    log = build()
    assert "ran-BBBB" in log and "ran-AAAA" not in log, log
    r = s.post("job/steps/config.xml", data=first.replace("ran-AAAA", "ran-CCCC"),
               headers={"Content-Type": "application/xml"}, auth=s.alice)
    assert r.status_code == 200, (r.status_code, r.text)
    log = build()
    assert "ran-CCCC" in log and "ran-BBBB" not in log, log
    with open(path, "w") as f:
        f.write(first)
    log = build()
    assert "ran-AAAA" in log and "ran-CCCC" not in log, log


def raw_get(s, path, auth):
    u = urllib.parse.urlsplit(s.url)
    sock = socket.create_connection((u.hostname, u.port), timeout=30 * SLOW)
    cred = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    sock.sendall(f"GET /{path} HTTP/1.1\r\nHost: {u.netloc}\r\nAuthorization: Basic {cred}\r\n"
                 "\r\n".encode())
    return sock


def open_fds(pid):
    """The server's descriptors, less its database files: each HTTP thread opens its own
    connection the first time it serves, whenever that is."""
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        n += not re.search(r"steward\.db(-wal|-shm)?$", target)
    return n


def big_log_build(s, job, mb, xml=None):
    create_job(s, job, xml or job_xml(script=f"head -c {mb * 1000000} /dev/zero | tr '\\0' y"))
    r = s.post(f"job/{job}/build", auth=s.alice)
    n = s.wait_queue_item(r.headers["Location"], s.alice)["executable"]["number"]
    assert s.wait_build(job, n, s.alice, timeout=60)["result"] == "SUCCESS"
    return n


def test_clients_that_leave_in_the_middle_of_a_console_cost_nothing(server):
    s = server
    n = big_log_build(s, "big", 20)
    pid = s.proc.pid

    def leave_early(times):
        for _ in range(times):
            sock = raw_get(s, f"job/big/{n}/consoleText", s.alice)
            got = sock.recv(65536)
            assert got.startswith(b"HTTP/1.1 200"), got[:200]
            sock.close()
        # the server goes on
        assert s.get(f"job/big/{n}/api/json", auth=s.alice).json()["result"] == "SUCCESS"
    # the first round warms up every HTTP thread (each opens its database connection once)
    leave_early(20)
    wait_for(lambda: open_fds(pid) < 200, 20, "the first round's connections to close",
             seen=lambda: open_fds(pid))
    warm = open_fds(pid)
    leave_early(60)
    # no descriptor is left behind by a reader that left
    wait_for(lambda: open_fds(pid) <= warm, 20, "the server's descriptors to go back",
             seen=lambda: (open_fds(pid), warm))
    full = s.get(f"job/big/{n}/consoleText", auth=s.alice).content
    assert len(full) > 20000000 and full.endswith(b"Finished: SUCCESS\n")


def test_a_log_reader_whose_build_is_discarded_under_it(server):
    s = server
    xml = job_xml(script="head -c 20000000 /dev/zero | tr '\\0' z")
    xml = xml.replace("<properties>", "<properties><jenkins.model.BuildDiscarderProperty>"
                      "<strategy class=\"hudson.tasks.LogRotator\"><daysToKeep>-1</daysToKeep>"
                      "<numToKeep>1</numToKeep><artifactDaysToKeep>-1</artifactDaysToKeep>"
                      "<artifactNumToKeep>-1</artifactNumToKeep></strategy>"
                      "</jenkins.model.BuildDiscarderProperty>", 1)
    n = big_log_build(s, "rot", 20, xml)
    sock = raw_get(s, f"job/rot/{n}/consoleText", s.alice)
    first = sock.recv(65536)
    assert first.startswith(b"HTTP/1.1 200"), first[:200]
    # the next build discards the one being read
    r = s.post("job/rot/build", auth=s.alice)
    m = s.wait_queue_item(r.headers["Location"], s.alice)["executable"]["number"]
    assert s.wait_build("rot", m, s.alice, timeout=60)["result"] == "SUCCESS"
    assert s.get(f"job/rot/{n}/api/json", auth=s.alice).status_code == 404
    # the reader holds the log it opened: it gets all of it, though the file is gone
    data = first
    sock.settimeout(30 * SLOW)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int([h.split(b":")[1] for h in head.split(b"\r\n")
                  if h.lower().startswith(b"content-length:")][0])
    while len(body) < length:
        chunk = sock.recv(1 << 20)
        assert chunk, f"the answer ended after {len(body)} of {length} bytes"
        body += chunk
    sock.close()
    assert body.endswith(b"Finished: SUCCESS\n") and body.count(b"z") >= 20000000
    assert s.get(f"job/rot/{m}/consoleText", auth=s.alice).status_code == 200
    assert s.proc.poll() is None


def test_a_stale_build_directory_is_not_mixed_into_a_new_build(server):
    """A directory whose number no build of the database has (a restore of a backup taken
    while builds started) goes to the trash before a new build takes the number."""
    s = server
    create_job(s, "stale", job_xml(script="echo fresh"))
    stale = os.path.join(s.home, "jobs", "stale", "builds", "1")
    os.makedirs(os.path.join(stale, "archive"))
    with open(os.path.join(stale, "log"), "w") as f:
        f.write("a log from elsewhere\n")
    r = s.post("job/stale/build", auth=s.alice)
    n = s.wait_queue_item(r.headers["Location"], s.alice)["executable"]["number"]
    assert n == 1
    assert s.wait_build("stale", n, s.alice)["result"] == "SUCCESS"
    log = s.get(f"job/stale/{n}/consoleText", auth=s.alice).text
    assert "from elsewhere" not in log and "fresh" in log, log
    assert not os.path.exists(os.path.join(stale, "archive"))
    assert "a directory of that number was left from elsewhere" in s.read_log()


@pytest.fixture(scope="module")
def eio_preload(tmp_path_factory):
    """tests/e2e/faults/eio_preload.c, built for LD_PRELOAD into the real server."""
    if not shutil.which("gcc"):
        pytest.skip("gcc is needed to build the fault-injection library")
    lib = tmp_path_factory.mktemp("eio") / "eio_preload.so"
    src = os.path.join(os.path.dirname(__file__), "faults", "eio_preload.c")
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", str(lib), src, "-ldl"], check=True)
    return str(lib)


def eio_server(tmp_path, eio_preload, flag, **env):
    """A started server with an admin 'alice' whose steward.db-wal fails while `flag` exists."""
    s = Server(tmp_path / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.alice = ("alice", s.new_token("alice", "ci"))
    # under ASan its runtime must come first, which a preload cannot: it is told not to mind
    asan = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"), "verify_asan_link_order=0"]))
    s.start(env={**os.environ, "LD_PRELOAD": eio_preload, "STEWARD_EIO_FLAG": str(flag),
                 "STEWARD_EIO_SUFFIX": "/steward.db-wal", "ASAN_OPTIONS": asan, **env})
    return s


def test_an_io_error_of_the_database_fails_the_trigger_then_recovers(tmp_path, eio_preload):
    """The disk under steward.db-wal answers EIO: the trigger is refused with the reason,
    reads go on, and once the disk answers again so does Steward, with nothing to do."""
    flag = tmp_path / "eio-now"
    s = eio_server(tmp_path, eio_preload, flag)
    try:
        create_job(s, "p", job_xml([("string", "P", "x")]))
        flag.touch()
        r = trigger(s, "during")
        assert r.status_code == 503, (r.status_code, r.text)
        assert "Input/output error" in r.json()["presented"]
        assert r.headers["Retry-After"] == "5"
        # reads are not held up
        assert s.get("api/json", auth=s.alice).status_code == 200
        assert s.get("job/p/api/json", auth=s.alice).status_code == 200
        flag.unlink()

        r = trigger(s, "after")
        assert r.status_code == 201, r.text
        n = s.wait_queue_item(r.headers["Location"], s.alice)["executable"]["number"]
        assert s.wait_build("p", n, s.alice)["result"] == "SUCCESS"
        # the refused trigger left nothing behind: one build, of "after"
        builds = s.get("job/p/api/json?tree=builds[number,actions[parameters[value]]]",
                       auth=s.alice).json()["builds"]
        values = [p["value"] for b in builds for a in b["actions"] if a and "parameters" in a
                  for p in a["parameters"]]
        assert values == ["after"], builds
    finally:
        flag.unlink(missing_ok=True)
        s.stop()


def test_a_commit_the_disk_does_not_confirm_is_not_answered_201_and_runs_no_step(
        tmp_path, eio_preload):
    """The WAL's writes succeed but its syncs fail (the page cache took the trigger, the
    disk never confirmed it): the trigger is answered 503 with the I/O error, not 201;
    the build claimed in that commit runs no step and says why; once the disk answers
    again, triggers are accepted and builds run."""
    flag = tmp_path / "eio-now"
    s = eio_server(tmp_path, eio_preload, flag, STEWARD_EIO_SYNC_ONLY="1")
    try:
        create_job(s, "p", job_xml([("string", "P", "x")], script='echo "step ran with $P"'))
        flag.touch()
        r = s.post("job/p/buildWithParameters?delay=0sec", data={"P": "during"}, auth=s.alice)
        assert r.status_code == 503, (r.status_code, r.text)
        assert "Input/output error" in r.json()["presented"]
        # the commit was written, so the build it claimed exists, and ended before its step
        def first_build():
            builds = s.get("job/p/api/json?tree=builds[number,result]", auth=s.alice).json()
            return builds["builds"][0] if builds["builds"] else None
        b = wait_for(first_build, what="the claimed build's row")
        b = s.wait_build("p", b["number"], s.alice)
        assert b["result"] == "FAILURE", b
        log = s.get(f"job/p/{b['number']}/consoleText", auth=s.alice).text
        assert "The disk did not confirm this build's start" in log, log
        assert "step ran" not in log, log
        flag.unlink()

        r = s.post("job/p/buildWithParameters?delay=0sec", data={"P": "after"}, auth=s.alice)
        assert r.status_code == 201, r.text
        n = s.wait_queue_item(r.headers["Location"], s.alice)["executable"]["number"]
        assert s.wait_build("p", n, s.alice)["result"] == "SUCCESS"
        assert "step ran with after" in s.get(f"job/p/{n}/consoleText", auth=s.alice).text
    finally:
        flag.unlink(missing_ok=True)
        s.stop()
