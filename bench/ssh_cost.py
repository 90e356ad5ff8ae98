#!/usr/bin/python3
"""What a build node over OpenSSH costs the server: one master per node, one client per step.

  bench/ssh_cost.py [--sessions 1,8,32] [--starts 20]

Runs as root (sshd needs it): a throwaway sshd on 127.0.0.1 with its own host
key, letting root in with a throwaway key, and against it, with the options
Steward's ssh nodes use (no configuration file, strict host key, the key
alone, no agent, no forwarding):

- a master (`ssh -M -N -S DIR/ctl -oControlPersist=no HOST`), and its
  resident memory (VmRSS) and proportional memory (Pss) idle;
- K sessions over it (`ssh -S DIR/ctl -oControlMaster=no -s HOST sftp`, each
  waiting on its stdin, held open: a running step), for each K in
  --sessions: each client's VmRSS and Pss, and the master's growth;
- the time to open a session over the master, run it and see it end,
  against a new connection each time, and against posix_spawn of
  `/bin/true` (the local floor): median of --starts.

The sessions run sshd's internal-sftp subsystem, not a command: a command
runs through the remote user's login shell, whose start-up files (here
root's ~/.bashrc, which runs pyenv and takes seconds) would be measured
instead of ssh. A build step on a node pays its user's shell start-up on
top of the figures here.

The node's side (sshd's processes) is printed too: it is the node's memory,
not the server's. Everything is stopped and removed at the end; every wait is
bounded.
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trigger import rss_kb  # noqa: E402


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def tree(pid):
    kids = {}
    for t in os.listdir("/proc"):
        if t.isdigit():
            try:
                with open(f"/proc/{t}/stat") as f:
                    kids.setdefault(int(f.read().rsplit(")", 1)[1].split()[1]), []).append(int(t))
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def wait_for(fn, what, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.01)
    raise SystemExit(f"ssh_cost: timed out waiting for {what}")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", default="1,8,32")
    ap.add_argument("--starts", type=int, default=20)
    a = ap.parse_args()
    sshd_bin = shutil.which("sshd") or "/usr/sbin/sshd"
    if os.geteuid() != 0 or not os.path.exists(sshd_bin):
        raise SystemExit("ssh_cost: needs root and sshd")
    d = tempfile.mkdtemp(prefix="ssh-cost.")
    procs = []
    try:
        for name in ("host", "key"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{d}/{name}"],
                           check=True)
        shutil.copy(f"{d}/key.pub", f"{d}/authorized_keys")
        os.chmod(f"{d}/authorized_keys", 0o600)
        port = free_port()
        with open(f"{d}/sshd_config", "w") as f:
            f.write(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {d}/host
PidFile {d}/sshd.pid
AuthorizedKeysFile {d}/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
Subsystem sftp internal-sftp
MaxSessions 100
MaxStartups 100:30:200
LogLevel ERROR
""")
        with open(f"{d}/known_hosts", "w") as f:
            f.write(f"[127.0.0.1]:{port} " + open(f"{d}/host.pub").read())
        os.makedirs("/run/sshd", exist_ok=True)
        sshd = subprocess.Popen([sshd_bin, "-D", "-e", "-f", f"{d}/sshd_config"],
                                stdout=open(f"{d}/sshd.log", "w"), stderr=subprocess.STDOUT)
        procs.append(sshd)

        def listening():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return True
            except OSError:
                return sshd.poll() is not None and SystemExit("sshd exited: " + open(f"{d}/sshd.log").read())
        wait_for(listening, "sshd")

        common = ["ssh", "-F", "/dev/null", "-T", "-oBatchMode=yes", "-oStrictHostKeyChecking=yes",
                  f"-oUserKnownHostsFile={d}/known_hosts", "-oGlobalKnownHostsFile=/dev/null",
                  "-oUpdateHostKeys=no", "-oCheckHostIP=no", "-oIdentitiesOnly=yes",
                  f"-oIdentityFile={d}/key", "-oIdentityAgent=none",
                  "-oPreferredAuthentications=publickey", "-oPasswordAuthentication=no",
                  "-oForwardAgent=no", "-oForwardX11=no", "-oClearAllForwardings=yes",
                  "-oPermitLocalCommand=no", "-oTCPKeepAlive=no", "-oConnectTimeout=10",
                  "-oServerAliveInterval=15", "-oServerAliveCountMax=3", "-oLogLevel=ERROR",
                  "-p", str(port), "-l", "root"]
        ctl = f"{d}/ctl"
        master = subprocess.Popen(common + ["-M", "-N", "-S", ctl, "-oControlPersist=no", "--",
                                            "127.0.0.1"], stdin=subprocess.DEVNULL)
        procs.append(master)
        wait_for(lambda: os.path.exists(ctl) or (master.poll() is not None and
                                                 SystemExit("master exited")), "the master's socket")
        time.sleep(0.5)
        m_rss, m_pss = rss_kb(master.pid, "VmRSS"), pss_kb(master.pid)
        print(f"ssh_cost: OpenSSH {subprocess.run(['ssh', '-V'], capture_output=True, text=True).stderr.strip()}")
        print(f"load {open('/proc/loadavg').read().split()[:3]}")
        print(f"master, idle (-N): VmRSS {m_rss} KiB, Pss {m_pss} KiB")
        node0 = sum(rss_kb(p, "VmRSS") or 0 for p in tree(sshd.pid))
        print(f"  node side (sshd and its children): VmRSS sum {node0} KiB over {len(tree(sshd.pid))} processes")

        session = common + ["-S", ctl, "-oControlMaster=no", "-s", "--", "127.0.0.1", "sftp"]
        open_clients = []
        for k in [int(x) for x in a.sessions.split(",")]:
            while len(open_clients) < k:
                p = subprocess.Popen(session, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
                procs.append(p)
                open_clients.append(p)
            # a session is open once the master has a channel for it: let them settle
            time.sleep(1.0)
            rss = [rss_kb(p.pid, "VmRSS") or 0 for p in open_clients]
            pss = [pss_kb(p.pid) or 0 for p in open_clients]
            mr, mp = rss_kb(master.pid, "VmRSS"), pss_kb(master.pid)
            node = tree(sshd.pid)
            alive = sum(1 for p in open_clients if p.poll() is None)
            print(f"{k} sessions ({alive} clients alive): client VmRSS median {statistics.median(rss)} KiB, Pss median "
                  f"{statistics.median(pss)} KiB (sum {sum(pss)} KiB); master VmRSS {mr} KiB "
                  f"(+{(mr - m_rss) / k:.0f} KiB a session), Pss {mp} KiB; node side VmRSS sum "
                  f"{sum(rss_kb(p, 'VmRSS') or 0 for p in node)} KiB over {len(node)} processes")
        for p in open_clients:
            p.stdin.close()
        for p in open_clients:
            p.wait(timeout=30)

        def timed(argv):
            t = time.monotonic()
            subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True,
                           timeout=30)
            return (time.monotonic() - t) * 1000
        mux = [timed(session) for _ in range(a.starts)]
        direct = [timed(common + ["-oControlMaster=no", "-oControlPath=none", "-s", "--", "127.0.0.1",
                                  "sftp"]) for _ in range(a.starts)]
        local = []
        for _ in range(a.starts):
            t = time.monotonic()
            pid = os.posix_spawn("/bin/true", ["true"], {})
            os.waitpid(pid, 0)
            local.append((time.monotonic() - t) * 1000)
        print(f"a session (sftp subsystem, stdin at EOF) over the master: median {statistics.median(mux):.1f} ms; new connection each: "
              f"{statistics.median(direct):.1f} ms; posix_spawn /bin/true locally: "
              f"{statistics.median(local):.2f} ms ({a.starts} each)")
        print(f"load {open('/proc/loadavg').read().split()[:3]}")
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                if p.stdin:
                    try:
                        p.stdin.close()
                    except OSError:
                        pass
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
