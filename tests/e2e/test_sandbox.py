"""The build sandbox: what a build can reach of the server, and what it leaves behind.

Each test here is the reproduction of a finding of the security review, and failed
before builds ran under bubblewrap: a build ran as the server's user and could rewrite
its database, read every secret and the server's environment.
"""
import os
import pwd
import shutil
import subprocess
import threading

import pytest

from conftest import BIN, SLOW, Server, create_job, job_xml
from e2e_helpers import console, restart, started_server, wait_for

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is missing")

PY = "/usr/bin/python3"


def build(server, job, auth=None):
    """Triggers job, waits for the end of the build; (result, console)."""
    auth = auth or server.alice
    r = server.post(f"job/{job}/build", auth=auth)
    assert r.status_code == 201, r.text
    n = server.wait_queue_item(r.headers["Location"], auth)["executable"]["number"]
    result = server.wait_build(job, n, auth, timeout=60)["result"]
    return result, console(server, job, n, auth)


@pytest.fixture
def bob_server(tmp_path):
    s = Server(tmp_path / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.alice = ("alice", s.new_token("alice", "ci"))
    s.add_user("bob", "bob-password")
    s.bob = ("bob", s.new_token("bob", "laptop"))
    s.start(env={**os.environ, "STEWARD_TEST_SERVER_SECRET": "server-only-value"})
    yield s
    s.stop()


def test_the_reviews_exploit_no_longer_makes_bob_an_administrator(bob_server):
    s = bob_server
    assert s.get("manage/users", auth=s.bob).status_code == 403
    # the review's build: bob makes himself an administrator through the database
    script = (f'{PY} -c "import sqlite3,os; '
              "c=sqlite3.connect(os.environ['JENKINS_HOME']+'/steward.db'); "
              "c.execute(\\\"update users set is_admin=1 where name='bob'\\\"); c.commit(); "
              'print(\'PROMOTED\')"')
    create_job(s, "promote", job_xml(script=script), auth=s.bob)
    result, log = build(s, "promote", auth=s.bob)
    assert result == "FAILURE", log
    assert "\nPROMOTED\n" not in log
    assert "unable to open database" in log, log
    assert s.get("manage/users", auth=s.bob).status_code == 403


def test_a_build_reaches_nothing_of_the_server(bob_server):
    s = bob_server
    home = s.home
    # another job's config, workspace and a file the server keeps in secrets/
    create_job(s, "other", job_xml(script="echo other-workspace-secret > kept.txt"))
    assert build(s, "other")[0] == "SUCCESS"
    assert os.path.exists(os.path.join(home, "workspace", "other", "kept.txt"))
    os.makedirs(os.path.join(home, "secrets"), exist_ok=True)
    with open(os.path.join(home, "secrets", "probe.key"), "w") as f:
        f.write("secret-file-value")

    script = "\n".join([
        "set +e",
        'for p in steward.db secrets/probe.key jobs/other/config.xml workspace/other/kept.txt; do',
        '  if cat "$JENKINS_HOME/$p" >/dev/null 2>&1; then echo "READ $p"; else echo "hidden $p"; fi',
        "done",
        # the server's environment, its processes and what it has open
        'env | grep -c STEWARD_TEST_SERVER_SECRET',
        'cat /proc/[0-9]*/environ 2>/dev/null | tr "\\0" "\\n" | grep -c STEWARD_TEST_SERVER_SECRET',
        'echo "processes: $(ls -d /proc/[0-9]* | wc -l)"',
        'echo "uid: $(id -u)"',
        'touch "$JENKINS_HOME/planted" /usr/planted 2>/dev/null; echo "planted: $?"',
        'echo "workspace: $(touch made && echo writable)"',
    ])
    create_job(s, "nosy", job_xml(script=script), auth=s.bob)
    result, log = build(s, "nosy", auth=s.bob)
    assert result == "SUCCESS", log
    for p in ("steward.db", "secrets/probe.key", "jobs/other/config.xml",
              "workspace/other/kept.txt"):
        assert f"hidden {p}" in log and f"READ {p}" not in log, log
    assert "secret-file-value" not in log and "other-workspace-secret" not in log
    # both counts of the server's variable are 0: `grep -c` printed 0 twice
    assert log.count("\n0\n") >= 2, log
    # the shell, its children and the sandbox's init: nothing of the server's processes
    procs = int(log.split("processes: ")[1].split()[0])
    assert procs < 10, log
    uid = pwd.getpwnam("steward-build").pw_uid
    assert f"uid: {uid}" in log
    assert "planted: 1" in log
    assert not os.path.exists(os.path.join(home, "planted"))
    assert "workspace: writable" in log
    st = os.stat(os.path.join(home, "workspace", "nosy", "made"))
    assert st.st_uid == uid
    assert "Building in a sandbox as steward-build, network host" in log


def test_no_descriptor_of_the_server_reaches_a_build(tmp_path):
    leak = tmp_path / "leaked-by-the-caller"
    leak.write_text("x")
    fd = os.open(leak, os.O_RDONLY)
    s = Server(tmp_path / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.alice = ("alice", s.new_token("alice", "ci"))
    try:
        s.start(pass_fds=(fd,))
        create_job(s, "fds", job_xml(script="ls -l /proc/self/fd/"))
        result, log = build(s, "fds")
        assert result == "SUCCESS", log
        assert "leaked-by-the-caller" not in log
        assert "socket:" not in log and "steward.db" not in log, log
        # 0, 1, 2 and the directory ls reads
        assert log.count(" -> ") == 4, log
    finally:
        os.close(fd)
        s.stop()


def test_the_environment_is_allow_listed(tmp_path):
    s = Server(tmp_path / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.alice = ("alice", s.new_token("alice", "ci"))
    s.start("--build-env", "TOOLCHAIN=/opt/tc", "--build-env", "EMPTY=",
            env={"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "TZ": "UTC",
                 "AWS_SECRET_ACCESS_KEY": "from-the-server", "NOTIFY_SOCKET": "/run/x"})
    try:
        create_job(s, "env", job_xml([("string", "P", "param-value")], script="env | sort"))
        r = s.post("job/env/buildWithParameters", auth=s.alice)
        n = s.wait_queue_item(r.headers["Location"], s.alice)["executable"]["number"]
        assert s.wait_build("env", n, s.alice)["result"] == "SUCCESS"
        names = {line.split("=", 1)[0] for line in console(s, "env", n, s.alice).splitlines()
                 if "=" in line and not line.startswith(("+", "["))}
        log = console(s, "env", n, s.alice)
        assert "AWS_SECRET_ACCESS_KEY" not in names and "NOTIFY_SOCKET" not in names, log
        for want in ("PATH", "LANG", "TZ", "HOME", "TOOLCHAIN", "EMPTY", "P", "WORKSPACE",
                     "BUILD_NUMBER", "JOB_NAME", "JENKINS_URL"):
            assert want in names, (want, log)
        assert f"HOME={s.home}/workspace/env\n" in log
        assert "TOOLCHAIN=/opt/tc\n" in log and "P=param-value\n" in log
    finally:
        s.stop()


NET_PROBE = (f'{PY} -c "import socket,sys; s=socket.socket(); s.settimeout(5); '
             "print('connect:', s.connect_ex(('127.0.0.1', int(sys.argv[1]))))\" $PORT")


def net_job(network=None):
    xml = job_xml([("string", "PORT", "")], script=NET_PROBE)
    if network:
        xml = xml.replace("<builders>", f'<steward.sandbox network="{network}"/><builders>')
    return xml


def net_build(s, job):
    port = s.url.rsplit(":", 1)[1].strip("/")
    r = s.post(f"job/{job}/buildWithParameters?PORT={port}", auth=s.alice)
    n = s.wait_queue_item(r.headers["Location"], s.alice)["executable"]["number"]
    assert s.wait_build(job, n, s.alice)["result"] == "SUCCESS"
    return console(s, job, n, s.alice)


def test_a_job_can_run_without_network(server):
    create_job(server, "online", net_job())
    create_job(server, "offline", net_job("none"))
    assert "connect: 0" in net_build(server, "online")
    log = net_build(server, "offline")
    assert "network none" in log and "connect: 111" in log, log   # ECONNREFUSED: a loopback of its own


def test_the_server_default_network_and_a_jobs_own_choice(server):
    server.stop()
    restart(server, "--build-network", "none")
    create_job(server, "default", net_job())
    create_job(server, "host", net_job("host"))
    assert "connect: 111" in net_build(server, "default")
    assert "connect: 0" in net_build(server, "host")


def test_a_bad_network_value_is_refused_and_changes_nothing(server):
    r = server.post("createItem?name=badnet", data=net_job("internet").encode(),
                    headers={"Content-Type": "application/xml"}, auth=server.alice)
    assert r.status_code == 400 and 'network is "none" or "host"' in r.json()["message"], r.text
    assert server.get("job/badnet/api/json", auth=server.alice).status_code == 404


def test_build_user_option(tmp_path):
    s = Server(tmp_path / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.alice = ("alice", s.new_token("alice", "ci"))
    s.start("--build-user", "nobody")
    try:
        create_job(s, "who", job_xml(script="id -un"))
        result, log = build(s, "who")
        assert result == "SUCCESS" and "\nnobody\n" in log and "as nobody" in log, log
    finally:
        s.stop()


@pytest.mark.parametrize("args,message", [
    (("--build-user", "root"), "--build-user must not be root"),
    (("--build-user", "no-such-user-here"), "there is no such user"),
    (("--build-network", "wifi"), "--build-network is host or none"),
    (("--build-env", "1X=2"), "--build-env takes NAME=VALUE"),
    (("--build-bind", "relative"), "absolute path"),
])
def test_bad_sandbox_settings_stop_the_start(tmp_path, args, message):
    home = tmp_path / "home"
    p = subprocess.run([BIN, "--home", str(home),
                        "serve", "--listen", "127.0.0.1:0", *args],
                       capture_output=True, text=True, timeout=30 * SLOW)
    assert p.returncode != 0 and message in p.stderr, p.stderr


def test_a_bind_that_would_show_the_home_is_refused(tmp_path):
    home = tmp_path / "home"
    os.makedirs(home)
    p = subprocess.run([BIN, "--home", str(home),
                        "serve", "--listen", "127.0.0.1:0", "--build-bind", str(tmp_path)],
                       capture_output=True, text=True, timeout=30 * SLOW)
    assert p.returncode != 0 and "builds would see the home directory" in p.stderr, p.stderr


def test_where_the_sandbox_cannot_be_set_up_no_build_starts(tmp_path):
    """A bwrap that cannot make namespaces (as on a kernel without them): builds fail and
    their console says why; nothing runs outside the sandbox."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bwrap").write_text("#!/bin/sh\necho 'bwrap: No permissions to creating new "
                                "namespace' >&2\nexit 1\n")
    os.chmod(fake / "bwrap", 0o755)
    s = Server(tmp_path / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.alice = ("alice", s.new_token("alice", "ci"))
    s.start(env={**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"})
    try:
        # the probe runs while the server already listens: its warning comes when it ends
        wait_for(lambda: "could not set up the sandbox" in s.read_log(),
                 what="the sandbox probe's warning", seen=s.read_log)
        marker = os.path.join(s.shared, "ran")
        create_job(s, "never", job_xml(script=f"touch {marker}"))
        result, log = build(s, "never")
        assert result == "FAILURE"
        assert "The build sandbox cannot be set up" in log and "No permissions" in log, log
        assert "--no-sandbox" in log
        assert not os.path.exists(marker)
    finally:
        s.stop()


def test_no_sandbox_runs_builds_as_the_server_and_says_so(server):
    server.stop()
    restart(server, "--no-sandbox")
    assert "builds run without a sandbox" in server.read_log()
    create_job(server, "plain",
               job_xml(script='id -u; test -e "$JENKINS_HOME/steward.db" && echo sees-db'))
    result, log = build(server, "plain")
    assert result == "SUCCESS"
    assert "Building without a sandbox, as root (serve --no-sandbox)" in log
    assert "\n0\n" in log and "sees-db" in log


def test_a_workspace_from_before_the_sandbox_is_handed_to_the_build_user(server):
    server.stop()
    restart(server, "--no-sandbox")
    create_job(server, "old", job_xml(script="mkdir -p sub && echo old > sub/file"))
    assert build(server, "old")[0] == "SUCCESS"
    ws = os.path.join(server.home, "workspace", "old")
    assert os.stat(os.path.join(ws, "sub", "file")).st_uid == 0
    server.stop()
    restart(server)
    r = server.post("job/old/config.xml",
                    data=job_xml(script="echo new >> sub/file; cat sub/file; rm -r sub").encode(),
                    headers={"Content-Type": "application/xml"}, auth=server.alice)
    assert r.status_code == 200
    result, log = build(server, "old")
    assert result == "SUCCESS", log
    assert "old\nnew\n" in log
    assert not os.path.exists(os.path.join(ws, "sub"))
    assert os.stat(ws).st_uid == pwd.getpwnam("steward-build").pw_uid


def test_a_step_the_sandbox_cannot_start_fails_with_bwraps_reason(tmp_path):
    s = started_server(tmp_path / "home")
    try:
        # the shared directory goes after the start: bwrap cannot mount it any more
        shutil.rmtree(s.shared)
        create_job(s, "gone", job_xml(script="echo must-not-run"))
        result, log = build(s, "gone")
        assert result == "FAILURE"
        assert "bwrap: " in log and "must-not-run" not in log, log
    finally:
        s.stop()


def test_a_build_triggered_before_the_probe_ends_waits_for_it_and_runs_sandboxed(tmp_path):
    """The build user, bwrap and the probe are found in the background while the server
    already answers: a build that starts meanwhile waits for their verdict, and runs in
    the sandbox as the build user, never without it."""
    real = shutil.which("bwrap")
    fake = tmp_path / "bin"
    fake.mkdir()
    waiting, gate = tmp_path / "probe-waiting", tmp_path / "gate"
    # every bwrap waits for the gate (at most a minute), the probe's first
    (fake / "bwrap").write_text(
        f"#!/bin/sh\ntouch {waiting}\ni=0\n"
        f"while [ ! -e {gate} ] && [ $i -lt 6000 ]; do sleep 0.01; i=$((i + 1)); done\n"
        f'exec {real} "$@"\n')
    os.chmod(fake / "bwrap", 0o755)
    s = Server(tmp_path / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.alice = ("alice", s.new_token("alice", "ci"))
    s.start(env={**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"})
    answer = {}
    trigger = threading.Thread(
        target=lambda: answer.update(r=s.post("job/early/build", auth=s.alice)))
    try:
        wait_for(waiting.exists, what="the probe to start bwrap")
        create_job(s, "early", job_xml(script="id -un"))
        trigger.start()
        # the build has started (its log is open) while the probe still waits
        log = os.path.join(s.home, "jobs", "early", "builds", "1", "log")
        wait_for(lambda: os.path.exists(log), what="the build to start")
        assert not gate.exists()
        gate.touch()
        trigger.join(timeout=30 * SLOW)
        assert answer["r"].status_code == 201, answer["r"].text
        n = s.wait_queue_item(answer["r"].headers["Location"], s.alice)["executable"]["number"]
        b = s.wait_build("early", n, s.alice, timeout=60)
        text = console(s, "early", n, s.alice)
        assert b["result"] == "SUCCESS", text
        assert "Building in a sandbox as steward-build" in text
        assert "\nsteward-build\n" in text, text
        assert "could not set up the sandbox" not in s.read_log()
    finally:
        gate.touch()
        if trigger.is_alive():
            trigger.join(timeout=30 * SLOW)
        s.stop()
