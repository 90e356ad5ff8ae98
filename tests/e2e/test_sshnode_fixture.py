"""The ssh build node fixture (sshnode.py), driven by the plain OpenSSH client with the
argument shapes core/ssh.c gives the engine: strict host keys from a known_hosts file, one
master connection and sessions over it, a node cut off mid-session noticed by ServerAlive,
and a changed host key refused."""
import subprocess
import time

import pytest

from e2e_helpers import wait_for
from sshnode import can_run_sshd, keygen, new_host_key, sshnode  # noqa: F401 (fixture)

pytestmark = pytest.mark.skipif(can_run_sshd() is not None, reason=str(can_run_sshd()))

SESSION_COMMAND = "sh -c 's=$(cat) && exec </dev/null && eval \"$s\"'"


@pytest.fixture
def client(tmp_path):
    d = tmp_path / "client"
    d.mkdir(mode=0o700)
    keygen(d / "key")
    return d


def ssh_argv(client, node, *extra, alive=(15, 3)):
    return ["/usr/bin/ssh", "-F", "/dev/null", "-T", "-oBatchMode=yes",
            "-oStrictHostKeyChecking=yes", f"-oUserKnownHostsFile={client}/known_hosts",
            "-oGlobalKnownHostsFile=/dev/null", "-oUpdateHostKeys=no",
            "-oIdentitiesOnly=yes", f"-oIdentityFile={client}/key", "-oIdentityAgent=none",
            "-oPasswordAuthentication=no", "-oConnectTimeout=10",
            f"-oServerAliveInterval={alive[0]}", f"-oServerAliveCountMax={alive[1]}",
            "-oTCPKeepAlive=no", "-oLogLevel=ERROR", f"-p{node.port}", "-l", "root", *extra,
            "--", node.host]


def pub(client):
    return (client / "key.pub").read_text()


def test_strict_host_key_from_known_hosts(sshnode, client):
    node = sshnode([pub(client)])
    (client / "known_hosts").write_text(node.known_hosts_line())
    p = subprocess.run(ssh_argv(client, node) + ["echo hello-from-$(hostname -s >/dev/null; echo node)"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr + node.sshd_log()
    assert p.stdout == "hello-from-node\n"
    assert node.mode in ("netns", "loopback")
    if node.mode == "netns":
        assert node.host.startswith("10.213.") and node.port == 22


def start_master(client, node, alive=(15, 3)):
    m = subprocess.Popen(ssh_argv(client, node, "-M", f"-S{client}/ctl", "-oControlPersist=no",
                                  alive=alive)
                         + ["echo steward-ready; exec cat >/dev/null"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    line = m.stdout.readline()
    assert line == "steward-ready\n", m.stderr.read() if m.poll() is not None else line
    return m


def session(client, node, program, alive=(15, 3), **kw):
    return subprocess.run(ssh_argv(client, node, f"-S{client}/ctl", "-oControlMaster=no",
                                   alive=alive) + [SESSION_COMMAND],
                          input=program, capture_output=True, text=True, **kw)


def test_master_and_sessions_over_it(sshnode, client):
    node = sshnode([pub(client)])
    (client / "known_hosts").write_text(node.known_hosts_line())
    m = start_master(client, node)
    try:
        check = subprocess.run(["/usr/bin/ssh", "-F", "/dev/null", f"-S{client}/ctl", "-O",
                                "check", "x"], capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stderr
        p = session(client, node, "echo $((6 * 7)); read x && echo stdin-was-not-empty; exit 3\n",
                    timeout=60)
        assert p.returncode == 3, p.stderr
        assert p.stdout == "42\n"
        # sessions go over the master: sshd saw one connection only
        assert node.sshd_log().count("Accepted publickey") == 1
    finally:
        m.stdin.close()
    # closing the master's stdin ends it
    assert m.wait(timeout=30) == 0


def test_cut_node_is_noticed_by_server_alive(sshnode, client):
    node = sshnode([pub(client)])
    (client / "known_hosts").write_text(node.known_hosts_line())
    alive = (1, 2)
    m = start_master(client, node, alive=alive)
    try:
        s = subprocess.Popen(ssh_argv(client, node, f"-S{client}/ctl", "-oControlMaster=no",
                                      alive=alive) + [SESSION_COMMAND],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        s.stdin.write("echo started; sleep 300\n")
        s.stdin.close()
        assert s.stdout.readline() == "started\n"
        t0 = time.monotonic()
        node.cut()
        # 1 s interval, 2 unanswered: about 3 s; bounded generously
        rc = s.wait(timeout=30)
        took = time.monotonic() - t0
        assert rc == 255, s.stderr.read()
        assert took < 30
        assert m.wait(timeout=30) == 255
    finally:
        if m.poll() is None:
            m.kill()
            m.wait()
    node.restore()
    p = subprocess.run(ssh_argv(client, node) + ["echo back"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0 and p.stdout == "back\n", p.stderr


def test_changed_or_unknown_host_key_is_refused(sshnode, client, tmp_path):
    other = new_host_key(tmp_path / "other_host_key")
    node = sshnode([pub(client)])
    # the node answers with its key, known_hosts holds another one for it
    (client / "known_hosts").write_text(node.known_hosts_line(other))
    p = subprocess.run(ssh_argv(client, node) + ["echo never"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 255
    assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in p.stderr
    assert "Host key verification failed" in p.stderr
    assert "never" not in p.stdout
    # no key at all for it: refused just the same, nothing trusted on the way
    (client / "known_hosts").write_text("")
    p = subprocess.run(ssh_argv(client, node) + ["echo never"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 255
    assert "Host key verification failed" in p.stderr
    assert (client / "known_hosts").read_text() == ""


def test_a_node_with_a_given_host_key(sshnode, client, tmp_path):
    line = new_host_key(tmp_path / "given_host_key")
    node = sshnode([pub(client)], host_key=tmp_path / "given_host_key")
    assert node.host_key_line == line
    (client / "known_hosts").write_text(node.known_hosts_line())
    p = subprocess.run(ssh_argv(client, node) + ["true"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr


@pytest.mark.parametrize("mode", ["loopback"])
def test_loopback_fallback_cuts_too(sshnode, client, mode):
    node = sshnode([pub(client)], mode=mode)
    assert node.mode == "loopback" and node.host == "127.0.0.1"
    (client / "known_hosts").write_text(node.known_hosts_line())
    s = subprocess.Popen(ssh_argv(client, node, alive=(1, 2)) + ["echo started; sleep 300"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert s.stdout.readline() == "started\n"
    node.cut()
    assert s.wait(timeout=30) == 255
    node.restore()
    wait_for(lambda: subprocess.run(ssh_argv(client, node) + ["true"], capture_output=True,
                                    timeout=60).returncode == 0, timeout=30,
             what="the node answering again")
