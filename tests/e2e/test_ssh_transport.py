"""core/ssh.c against a real sshd (the sshnode fixture): the node's directory it prepares, its
master with the probe, build steps as programs on a session's stdin, stopping a step, a key
with a passphrase, and a node cut off mid-step. What core/ssh.c makes comes from
build/tests/unit/ssh_tool; the node shares this machine's files, so the test looks at the
node's root directly."""
import os
import subprocess
import time

import pytest

from conftest import BIN
from e2e_helpers import wait_for
from sshnode import can_run_sshd, keygen, sshnode  # noqa: F401 (fixture)

TOOL = os.path.join(os.path.dirname(BIN), "tests", "unit", "ssh_tool")

pytestmark = [
    pytest.mark.skipif(can_run_sshd() is not None, reason=str(can_run_sshd())),
    pytest.mark.skipif(not os.path.exists(TOOL), reason=f"{TOOL} is not built"),
]


def tool(*args, env=None):
    p = subprocess.run([TOOL, *map(str, args)], capture_output=True, timeout=30,
                       env={**os.environ, **(env or {})})
    assert p.returncode == 0, p.stderr.decode()
    return p.stdout


def vector(out):
    return out.decode().split("\0")[:-1]


class Node:
    """A node as the engine will hold it: its private directory, its master, sessions."""

    def __init__(self, tmp_path, sshnode, passphrase="", alive=1):
        self.client = tmp_path / "client"
        self.client.mkdir()
        keygen(self.client / "key", passphrase)
        self.node = sshnode([(self.client / "key.pub").read_text()])
        # short: ssh's control socket lives in it
        self.dir = tmp_path / "n"
        self.root = tmp_path / "remote root"
        self.penv = {"STEWARD_TEST_PASSPHRASE": passphrase}
        self.args = [self.dir, self.node.host, self.node.port, "root", self.client / "key",
                     "provided:" + self.node.host_key_line, alive]
        tool("prepare", *self.args, env=self.penv)
        self.env = dict(e.split("=", 1) for e in vector(tool("env", *self.args, env=self.penv)))
        self.master = None

    def start_master(self):
        self.master = subprocess.Popen(vector(tool("master", *self.args, env=self.penv)),
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, env=self.env)
        out = b""
        while not out.endswith(b"steward-ready\n"):
            line = self.master.stdout.readline()
            assert line, self.master.stderr.read().decode() + self.node.sshd_log()
            out += line
        return out.decode()

    def stop_master(self):
        if self.master and self.master.poll() is None:
            self.master.stdin.close()
            return self.master.wait(timeout=30)
        return None

    def session(self, payload):
        """A session running `payload` (bytes); returns the Popen."""
        r, w = os.pipe()
        os.write(w, payload)
        os.close(w)
        p = subprocess.Popen(vector(tool("session", *self.args, env=self.penv)), stdin=r,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=self.env)
        os.close(r)
        return p

    def step(self, script, *env, run_id="r1", workspace="job", shell=True):
        f = self.dir.parent / f"script-{run_id}"
        f.write_text(script)
        return tool("payload", self.root, workspace, run_id, "shell" if shell else "plain",
                    "plain", f, *env)


@pytest.fixture
def node_of(tmp_path, sshnode):
    nodes = []

    def make(**kw):
        n = Node(tmp_path, sshnode, **kw)
        nodes.append(n)
        return n
    yield make
    for n in nodes:
        if n.master and n.master.poll() is None:
            n.master.kill()
            n.master.wait()


def test_master_probes_and_steps_run_over_it(node_of):
    n = node_of()
    probe = n.start_master()
    assert "uname=Linux" in probe and "setsid=yes" in probe and "home=/root" in probe
    secret = "s3cr3t-$(id)-'quoted'\nsecond line"
    payload = n.step('printf "%s|" "$SECRET"; pwd; exit 255\n', f"SECRET={secret}",
                     "BUILD_NUMBER=7")
    assert secret not in "".join(vector(tool("session", *n.args)))
    s = n.session(payload)
    out, _ = s.communicate(timeout=60)
    # the step's 255 arrives as 254: ssh's own 255 means the connection
    assert s.returncode == 254, out
    assert f"{secret}|".encode() in out
    assert f"{n.root}/workspace/job\n".encode() in out
    # sessions go over the master: one login
    assert n.node.sshd_log().count("Accepted publickey") == 1
    assert n.stop_master() == 0


def test_nothing_of_the_step_is_on_a_command_line(node_of):
    n = node_of()
    n.start_master()
    secret = "hunter2-on-no-command-line"
    s = n.session(n.step("echo started\nsleep 300\n", f"TOKEN={secret}", run_id="ps1",
                         shell=False))
    assert s.stdout.readline() == b"started\n"
    # node and server are this machine: every command line of both sides
    lines = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True,
                           timeout=30).stdout
    assert "sleep 300" in lines
    assert secret not in lines
    s.kill()
    s.wait()
    n.session(tool("kill", n.root, "ps1", 1)).wait(timeout=60)


def test_stop_kills_the_step_and_what_it_started(node_of):
    n = node_of()
    n.start_master()
    s = n.session(n.step("sleep 301 &\necho $! > child.pid\nsleep 302\n", run_id="k1"))
    pidfile = n.root / ".steward" / "k1.pid"
    wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), what="the pid file")
    child = n.root / "workspace" / "job" / "child.pid"
    wait_for(lambda: child.exists() and child.read_text().endswith("\n"), what="child.pid")
    cpid = int(child.read_text())
    k = n.session(tool("kill", n.root, "k1", 2))
    assert k.wait(timeout=60) == 0, k.stdout.read()
    assert s.wait(timeout=60) == 143
    assert not pidfile.exists()

    def gone():
        try:
            with open(f"/proc/{cpid}/stat") as f:
                return ") Z " in f.read()
        except FileNotFoundError:
            return True
    wait_for(gone, what="the step's background child gone")
    # stopping again, a run that is over, is no error
    assert n.session(tool("kill", n.root, "k1", 2)).wait(timeout=60) == 0


def test_a_key_with_a_passphrase_goes_through_askpass(node_of):
    n = node_of(passphrase="pass 'phrase' $x")
    assert n.env.get("SSH_ASKPASS_REQUIRE") == "force"
    assert "pass 'phrase'" not in "".join(vector(tool("master", *n.args, env=n.penv)))
    n.start_master()
    s = n.session(n.step("echo ok\n", shell=False))
    out, _ = s.communicate(timeout=60)
    assert s.returncode == 0 and out == b"ok\n", out
    assert n.stop_master() == 0


def test_a_cut_node_ends_the_step_with_255(node_of):
    n = node_of(alive=1)
    n.start_master()
    s = n.session(n.step("echo started\nsleep 300\n", run_id="c1", shell=False))
    assert s.stdout.readline() == b"started\n"
    t0 = time.monotonic()
    n.node.cut()
    assert s.wait(timeout=30) == 255
    assert n.master.wait(timeout=30) == 255
    assert time.monotonic() - t0 < 30
    # back again: a new master, and the step left behind is stopped by its run id
    n.node.restore()
    n.start_master()
    assert (n.root / ".steward" / "c1.pid").exists()
    assert n.session(tool("kill", n.root, "c1", 2)).wait(timeout=60) == 0
    assert not (n.root / ".steward" / "c1.pid").exists()
    assert n.stop_master() == 0
