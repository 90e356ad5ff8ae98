"""A build node reached over ssh, for tests: /usr/sbin/sshd as a separate host.

SshNode(dir, authorized_pubkeys) starts `sshd -D -e` letting root in with the given public
keys (no ForceCommand: sessions run what the client asks). It has two modes, in `node.mode`:

- "netns": its own network namespace joined to this one by a veth pair with a private /30
  (10.213.x.y), sshd on port 22 of the far side. cut() brings the node's side of the link down,
  so that established connections go silent (nothing is refused or reset: only ssh's
  ServerAlive notices), restore() brings it back.
- "loopback", when network namespaces cannot be used (or STEWARD_SSHNODE_MODE=loopback): sshd
  on 127.0.0.1 with a free port. cut() stops (SIGSTOP) sshd and all its session processes, so
  that connections stay open and go silent just the same; restore() kills those sessions and
  lets sshd go on. A command a session left behind (one that was not stopped in time) is
  found by nothing in this mode: tests stop their builds.

stop() kills sshd and everything of its sessions and removes the namespace and the veth pair;
the `sshnode` fixture calls it for every node it made, also when a test fails.

A second host key (for a test of a changed key): SshNode(..., host_key=path) uses that
private key instead of a new one, and new_host_key(path) makes one.
"""
import itertools
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from e2e_helpers import wait_for

SSHD = "/usr/sbin/sshd"
_counter = itertools.count()


def can_run_sshd():
    """None when sshd can run here, else why not."""
    if os.geteuid() != 0:
        return "sshd nodes need root (sshd checks its files and lets root in)"
    if not os.path.exists(SSHD):
        return f"{SSHD} is not installed"
    if not shutil.which("ssh") or not shutil.which("ssh-keygen"):
        return "the OpenSSH client (ssh, ssh-keygen) is not installed"
    return None


def keygen(path, passphrase=""):
    """A new ed25519 key at path: (private key text, public key line)."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", "", "-f",
                    str(path)], check=True, timeout=60)
    return path.read_text(), (path.parent / (path.name + ".pub")).read_text()


def new_host_key(path):
    """A host key for SshNode(host_key=path); returns its public line "ssh-ed25519 AAAA..."."""
    _, pub = keygen(path)
    return " ".join(pub.split()[:2])


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30, check=check)


def _descendants(pid):
    """pid and every process below it, from /proc."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _signal_all(pids, sig):
    for p in pids:
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass


class SshNode:
    def __init__(self, d, authorized_pubkeys, host_key=None, mode=None, no_bwrap=False):
        why = can_run_sshd()
        if why:
            pytest.skip(why)
        self.dir = d
        d.mkdir(parents=True, exist_ok=True)
        # a node without bubblewrap: its sessions get a PATH of every command but bwrap
        self.path_env = None
        if no_bwrap:
            bin_dir = d / "bin-without-bwrap"
            bin_dir.mkdir()
            for src in ("/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"):
                for name in sorted(os.listdir(src)) if os.path.isdir(src) else ():
                    if name != "bwrap" and not (bin_dir / name).exists():
                        os.symlink(os.path.join(src, name), bin_dir / name)
            self.path_env = str(bin_dir)
        self.proc = None
        self.log = None
        self.netns = None
        self.veth = None
        self.cut_state = False
        if host_key is None:
            host_key = d / "host_key"
            keygen(host_key)
        self.host_key_path = str(host_key)
        pub = subprocess.run(["ssh-keygen", "-y", "-f", self.host_key_path], check=True,
                             capture_output=True, text=True, timeout=30).stdout
        self.host_key_line = " ".join(pub.split()[:2])
        (d / "authorized_keys").write_text(
            "".join(k if k.endswith("\n") else k + "\n" for k in authorized_pubkeys))
        (d / "authorized_keys").chmod(0o600)
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        mode = mode or os.environ.get("STEWARD_SSHNODE_MODE")
        try:
            if mode != "loopback" and self._make_netns():
                self.mode = "netns"
                self._start_sshd(self.host, 22, ["ip", "netns", "exec", self.netns])
            else:
                self.mode = "loopback"
                self._start_loopback()
        except BaseException:
            self.stop()
            raise

    # -- set-up -------------------------------------------------------------------------

    def _make_netns(self):
        """A namespace and a veth pair with a /30 no other node of this machine uses.
        False when namespaces cannot be made here."""
        n = next(_counter)
        # pid and counter apart (interface names hold 15 characters: "stwh" and 11)
        tag = f"{os.getpid():x}g{n % 4096:x}"
        self.netns = f"steward-node-{tag}"
        r = _ip("netns", "add", self.netns, check=False)
        if r.returncode != 0:
            self.netns = None
            return False
        host_if, node_if = f"stwh{tag}", f"stwn{tag}"
        _ip("link", "add", host_if, "type", "veth", "peer", "name", node_if,
            "netns", self.netns)
        self.veth = host_if
        self.node_if = node_if
        used = _ip("-4", "route", "show").stdout + _ip("-4", "-o", "addr", "show").stdout
        base = (os.getpid() * 8 + n) % 16384
        for i in range(16384):
            k = (base + i) % 16384
            net = f"10.213.{k >> 6}.{(k & 63) * 4}"
            if f"{net}/30" not in used and f"10.213.{k >> 6}.{(k & 63) * 4 + 1}" not in used:
                break
        prefix = net.rsplit(".", 1)[0]
        last = int(net.rsplit(".", 1)[1])
        self.local_addr = f"{prefix}.{last + 1}"
        self.host = f"{prefix}.{last + 2}"
        _ip("addr", "add", f"{self.local_addr}/30", "dev", host_if)
        _ip("link", "set", host_if, "up")
        _ip("-n", self.netns, "link", "set", "lo", "up")
        _ip("-n", self.netns, "addr", "add", f"{self.host}/30", "dev", node_if)
        _ip("-n", self.netns, "link", "set", node_if, "up")
        return True

    def _config(self, addr, port):
        d = self.dir
        (d / "sshd_config").write_text(f"""Port {port}
ListenAddress {addr}
HostKey {self.host_key_path}
PidFile {d}/sshd.pid
AuthorizedKeysFile {d}/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
MaxSessions 50
LogLevel VERBOSE
""" + (f"SetEnv PATH={self.path_env}\n" if self.path_env else ""))

    def _start_sshd(self, addr, port, prefix=()):
        self.port = port
        self._config(addr, port)
        self.log_path = self.dir / "sshd.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([*prefix, SSHD, "-D", "-e", "-f",
                                      str(self.dir / "sshd_config")],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        want = f"Server listening on {addr} port {port}"

        def state():
            if want in self.log_path.read_text(errors="replace"):
                return "listening"
            if self.proc.poll() is not None:
                return "exited"
            return None
        return wait_for(state, timeout=10, what=want, seen=self.sshd_log)

    def _start_loopback(self):
        self.host = "127.0.0.1"
        # a free port may be taken by a test beside this one before sshd binds it: try again
        for _ in range(5):
            if self._start_sshd("127.0.0.1", _free_port()) == "listening":
                return
            self._stop_sshd()
        pytest.fail("sshd cannot listen on 127.0.0.1: " + self.sshd_log()[-500:])

    # -- what tests use --------------------------------------------------------------------

    def known_hosts_line(self, key_line=None):
        """A known_hosts line for this node with its host key (or key_line)."""
        key = key_line or self.host_key_line
        if self.port == 22:
            return f"{self.host} {key}\n"
        return f"[{self.host}]:{self.port} {key}\n"

    def sshd_log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except (OSError, AttributeError):
            return ""

    def cut(self):
        """Makes the node unreachable: established connections go silent."""
        if self.mode == "netns":
            _ip("-n", self.netns, "link", "set", self.node_if, "down")
        else:
            _signal_all(_descendants(self.proc.pid), signal.SIGSTOP)
        self.cut_state = True

    def restore(self):
        """Makes the node reachable again; returns once a TCP connection to sshd succeeds."""
        if self.mode == "netns":
            _ip("-n", self.netns, "link", "set", self.node_if, "up")
            # the neighbour entry that failed while the link was down would refuse for a while
            _ip("neigh", "flush", "dev", self.veth, check=False)
        else:
            # the sessions of before are over for their clients: ended here, before sshd could
            # notice and leave their commands running without it
            pids = _descendants(self.proc.pid)
            _signal_all([p for p in pids if p != self.proc.pid], signal.SIGKILL)
            _signal_all(pids, signal.SIGCONT)
        self.cut_state = False
        wait_for(self._connects, timeout=30, what=f"{self.host}:{self.port} reachable again")

    def _connects(self):
        try:
            with socket.create_connection((self.host, self.port), timeout=1):
                return True
        except OSError:
            return False

    def _stop_sshd(self):
        if self.proc is not None:
            pids = _descendants(self.proc.pid)
            # `ip netns exec` execs sshd: the same pid; sessions are sshd's children
            _signal_all(pids, signal.SIGKILL)
            _signal_all(pids, signal.SIGCONT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None
        if self.log is not None:
            self.log.close()
            self.log = None

    def stop(self):
        """Ends sshd and its sessions, removes the namespace and the veth pair. Idempotent."""
        self._stop_sshd()
        if self.netns:
            # whatever still runs in the namespace (sessions that left sshd's tree)
            r = _ip("netns", "pids", self.netns, check=False)
            for p in r.stdout.split():
                try:
                    os.kill(int(p), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
        if self.veth:
            _ip("link", "del", self.veth, check=False)
            self.veth = None
        if self.netns:
            _ip("netns", "del", self.netns, check=False)
            self.netns = None


@pytest.fixture
def sshnode(tmp_path):
    """make(authorized_pubkeys, **kw) -> SshNode; every node is stopped after the test."""
    nodes = []

    def make(authorized_pubkeys, **kw):
        node = SshNode(tmp_path / f"sshnode{len(nodes)}", authorized_pubkeys, **kw)
        nodes.append(node)
        return node
    yield make
    for node in nodes:
        node.stop()
