"""The build sandbox: what a build can reach of the server, and what it leaves behind.

Each test here is the reproduction of a finding of the security review, and failed
before builds ran under bubblewrap: a build ran as the server's user and could rewrite
its database, read every secret and the server's environment.
"""
import os
import pwd
import shutil
import subprocess
import tempfile
import threading

import pytest

from conftest import BIN, SLOW, Server, create_job, job_xml
from e2e_helpers import console, pids_running, restart, started_server, wait_for

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
        # no capability of any kind, none to gain: every set empty, no_new_privs
        'grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):" /proc/self/status | tr "\\t" " "',
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
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert f"\n{cap}: 0000000000000000\n" in log, log
    assert "\nNoNewPrivs: 1\n" in log, log
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


# Starts the server with SIGQUIT, SIGUSR1 and glibc's two internal signals (32 and 33)
# ignored and SIGUSR2 blocked, as a nohup, a supervisor or glibc's own posix_spawn may
# leave them (glibc's sigaction() refuses 32 and 33: the system call itself sets them).
# The server itself ignores SIGPIPE and blocks the signals it waits for.
SIGNALS_LEFT_SET = [PY, "-c",
                    "import ctypes, os, platform, signal, sys\n"
                    "nr = {'x86_64': 13, 'aarch64': 134}[platform.machine()]\n"
                    "libc = ctypes.CDLL(None, use_errno=True)\n"
                    "for sig in (32, 33):\n"
                    "    act = (ctypes.c_ulong * 4)(1, 0, 0, 0)  # SIG_IGN\n"
                    "    assert libc.syscall(nr, sig, act, None, 8) == 0, ctypes.get_errno()\n"
                    "signal.signal(signal.SIGQUIT, signal.SIG_IGN)\n"
                    "signal.signal(signal.SIGUSR1, signal.SIG_IGN)\n"
                    "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})\n"
                    "os.execv(sys.argv[1], sys.argv[1:])\n"]


@pytest.mark.parametrize("extra", [(), ("--no-sandbox",)], ids=["sandbox", "no-sandbox"])
def test_a_step_starts_with_no_signal_ignored_or_blocked(tmp_path, extra):
    s = Server(tmp_path / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.alice = ("alice", s.new_token("alice", "ci"))
    s.start(*extra, wrap=SIGNALS_LEFT_SET)
    try:
        # the server's own: what it ignores and blocks is not the step's
        with open(f"/proc/{s.proc.pid}/status") as f:
            mine = dict(line.split(":\t", 1) for line in f.read().splitlines() if ":\t" in line)
        assert int(mine["SigIgn"], 16) & (1 << 31) and int(mine["SigBlk"], 16) != 0, mine
        create_job(s, "sigs", job_xml(script="grep -E '^Sig(Blk|Ign):' /proc/self/status"))
        result, log = build(s, "sigs")
        assert result == "SUCCESS", log
        sig = dict(line.split(":\t", 1) for line in log.splitlines()
                   if line.startswith(("SigBlk:\t", "SigIgn:\t")))
        assert int(sig["SigBlk"], 16) == 0, log
        # without the sandbox the step comes from glibc's posix_spawn, which leaves its
        # own two internal signals (32 and 33) ignored whatever it is asked
        glibc_own = (1 << 31) | (1 << 32) if extra else 0
        assert int(sig["SigIgn"], 16) & ~glibc_own == 0, log
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
    """A server that is root only in a user namespace of its own (as in some containers):
    it cannot hand a workspace to the build user, let alone become it. Builds fail and
    their console says why; nothing runs outside the sandbox."""
    unshare = shutil.which("unshare")
    if not unshare:
        pytest.skip("needs unshare (util-linux)")
    s = Server(tmp_path / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.alice = ("alice", s.new_token("alice", "ci"))
    s.start(wrap=(unshare, "--user", "--map-root-user"))
    try:
        # the probe runs while the server already listens: its warning comes when it ends
        wait_for(lambda: "sandbox: cannot give the directory" in s.read_log(),
                 what="the sandbox probe's warning", seen=s.read_log)
        marker = os.path.join(s.shared, "ran")
        create_job(s, "never", job_xml(script=f"touch {marker}"))
        result, log = build(s, "never")
        assert result == "FAILURE"
        assert "The build sandbox cannot be set up: cannot give the directory" in log, log
        assert "to the build user steward-build: Invalid argument" in log, log
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


def test_a_step_the_sandbox_cannot_start_fails_with_the_reason(tmp_path):
    s = started_server(tmp_path / "home")
    try:
        # a first build waits for the probe's verdict (which mounts the shared directory too)
        create_job(s, "first", job_xml(script="true"))
        assert build(s, "first")[0] == "SUCCESS"
        # the shared directory goes after that: the next step cannot mount it any more
        shutil.rmtree(s.shared)
        create_job(s, "gone", job_xml(script="echo must-not-run"))
        result, log = build(s, "gone")
        assert result == "FAILURE"
        assert (f"steward: the build sandbox could not be set up: cannot mount {s.shared}: "
                "No such file or directory\n") in log, log
        assert "must-not-run" not in log, log
    finally:
        s.stop()


def test_a_build_triggered_before_the_probe_ends_waits_for_it_and_runs_sandboxed(tmp_path):
    """The build user and the probe are found in the background while the server already
    answers: a build that starts meanwhile waits for their verdict, and runs in the
    sandbox as the build user, never without it."""
    s = Server(tmp_path / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.alice = ("alice", s.new_token("alice", "ci"))
    # the probe runs `true` from the server's PATH in the sandbox: this one, in the
    # directory builds share with the test, waits for the gate (at most a minute)
    fake = os.path.join(s.shared, "bin")
    os.makedirs(fake)
    os.chmod(s.shared, 0o1777)
    waiting, gate = os.path.join(s.shared, "probe-waiting"), os.path.join(s.shared, "gate")
    with open(os.path.join(fake, "true"), "w") as f:
        f.write(f"#!/bin/sh\n: > {waiting}\ni=0\n"
                f"while [ ! -e {gate} ] && [ $i -lt 6000 ]; do sleep 0.01; i=$((i + 1)); done\n")
    os.chmod(os.path.join(fake, "true"), 0o755)
    s.start(env={**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"})
    answer = {}
    trigger = threading.Thread(
        target=lambda: answer.update(r=s.post("job/early/build", auth=s.alice)))
    try:
        wait_for(lambda: os.path.exists(waiting), what="the probe to run `true`")
        create_job(s, "early", job_xml(script="id -un"))
        trigger.start()
        # the build has started (its log is open) while the probe still waits
        log = os.path.join(s.home, "jobs", "early", "builds", "1", "log")
        wait_for(lambda: os.path.exists(log), what="the build to start")
        assert not os.path.exists(gate)
        open(gate, "w").close()
        trigger.join(timeout=30 * SLOW)
        assert answer["r"].status_code == 201, answer["r"].text
        n = s.wait_queue_item(answer["r"].headers["Location"], s.alice)["executable"]["number"]
        b = s.wait_build("early", n, s.alice, timeout=60)
        text = console(s, "early", n, s.alice)
        assert b["result"] == "SUCCESS", text
        assert "Building in a sandbox as steward-build" in text
        assert "\nsteward-build\n" in text, text
        assert "could not set up the sandbox" not in s.read_log()
        assert "sandbox:" not in s.read_log()
    finally:
        open(gate, "w").close()
        if trigger.is_alive():
            trigger.join(timeout=30 * SLOW)
        s.stop()


def test_a_server_that_is_not_root_runs_builds_as_itself_in_a_user_namespace(tmp_path):
    """The systemd unit's way (docs/OPERATIONS.md): the server runs as a user of its own;
    its builds run as that user, in a user namespace, and see nothing of its home but
    their workspace."""
    setpriv = shutil.which("setpriv")
    if not setpriv or os.geteuid() != 0:
        pytest.skip("needs root and setpriv to start the server as another user")
    nobody = pwd.getpwnam("nobody")
    # outside pytest's tmp_path, which only root may enter
    base = tempfile.mkdtemp(prefix="steward-nonroot-", dir="/var/tmp")
    try:
        s = Server(os.path.join(base, "home"))
        s.add_user("alice", "alice-password", admin=True)
        s.alice = ("alice", s.new_token("alice", "ci"))
        os.makedirs(s.shared)
        for root, dirs, files in os.walk(base):
            for x in [root] + [os.path.join(root, n) for n in dirs + files]:
                os.chown(x, nobody.pw_uid, nobody.pw_gid)
        s.start(wrap=(setpriv, f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
                      "--clear-groups"))
        try:
            script = "\n".join([
                "set +e",
                'echo "uid: $(id -u)"',
                'cat "$JENKINS_HOME/steward.db" >/dev/null 2>&1 && echo READ-DB || echo hidden-db',
                'echo "home: $(ls "$JENKINS_HOME" | tr "\\n" " ")"',
                'touch /usr/planted 2>/dev/null; echo "planted: $?"',
                'echo "caps: $(grep CapEff /proc/self/status | cut -f2)"',
                'echo "pid: $$"',
                'echo made > made && echo workspace-writable',
            ])
            create_job(s, "plain", job_xml(script=script))
            result, log = build(s, "plain")
            assert result == "SUCCESS", log
            assert f"uid: {nobody.pw_uid}\n" in log, log
            assert "hidden-db" in log and "READ-DB" not in log, log
            assert "\nhome: workspace \n" in log, log
            assert "planted: 1" in log
            assert "caps: 0000000000000000" in log, log
            assert "pid: 1\n" in log, log
            assert "workspace-writable" in log
            assert os.stat(os.path.join(s.home, "workspace", "plain", "made")).st_uid == \
                nobody.pw_uid
        finally:
            s.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_a_stopped_step_gets_sigterm_and_its_trap_runs(server):
    """The step's shell is the init of its PID namespace, which the kernel shields from
    signals it does not handle: a stop still reaches a trap it set, and the command it
    waits for, as without the sandbox (docs/SECURITY.md)."""
    script = "\n".join([
        "trap 'echo trapped-TERM; exit 3' TERM",
        "echo waiting",
        "sleep 300.0427 &",
        "wait",
    ])
    create_job(server, "stopme", job_xml(script=script))
    r = server.post("job/stopme/build", auth=server.alice)
    assert r.status_code == 201, r.text
    n = server.wait_queue_item(r.headers["Location"], server.alice)["executable"]["number"]
    wait_for(lambda: "\nwaiting\n" in console(server, "stopme", n, server.alice),
             what="the step to start", seen=lambda: console(server, "stopme", n, server.alice))
    assert server.post(f"job/stopme/{n}/stop", auth=server.alice,
                       allow_redirects=False).status_code in (200, 302)
    b = server.wait_build("stopme", n, server.alice)
    log = console(server, "stopme", n, server.alice)
    assert b["result"] == "ABORTED", log
    assert "\ntrapped-TERM\n" in log, log
    wait_for(lambda: not pids_running("sleep", "300.0427"), 5,
             "the step's background process to be gone",
             seen=lambda: pids_running("sleep", "300.0427"))
