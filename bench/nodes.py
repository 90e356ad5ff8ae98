#!/usr/bin/python3
"""The cost of a no-op build on an SSH node against the built-in node.

Starts a server and one sshd node (tests/e2e/sshnode.py: its own network namespace, or
loopback), and builds two jobs whose step is `true`, one tied to the built-in node and
one to the node, one build at a time, in turns (A B A B ...) so that noise from the
rest of the machine hits both. For each build: the client's time from the trigger's
POST to the build seen finished (polling its JSON every 2 ms), and the server's own
`duration`. Prints medians, 90th percentiles and the ratios node / built-in.

The node logs in as a throwaway system user whose login shell is /bin/sh
(`useradd`, removed at the end): sshd runs every session through the user's
login shell, and bash started by sshd reads ~/.bashrc, so root's shell start-up
(a pyenv or conda set-up there can take seconds) would be measured instead of
Steward. BENCH_NODE_USER=root measures with root, .bashrc included.

Run as root from the project's root after `make`: bench/nodes.py [RUNS] (default 30).
BENCH_BIN names another binary. Bounded: every wait has a deadline.
"""
import os
import pwd
import statistics
import subprocess
import sys
import tempfile
import time
import xml.sax.saxutils as sax
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "e2e"))
os.environ.setdefault("STEWARD_BIN", str(HERE.parent / "build" / "steward"))
if os.environ.get("BENCH_BIN"):
    os.environ["STEWARD_BIN"] = os.environ["BENCH_BIN"]

import requests  # noqa: E402

from conftest import Server, create_job  # noqa: E402
from sshnode import SshNode, can_run_sshd, keygen  # noqa: E402


def job_xml(label):
    return ("<?xml version='1.1' encoding='UTF-8'?>\n<project><description/><properties/>"
            f"<assignedNode>{sax.escape(label)}</assignedNode><canRoam>false</canRoam>"
            "<disabled>false</disabled><concurrentBuild>false</concurrentBuild>"
            "<builders><hudson.tasks.Shell><command>true</command></hudson.tasks.Shell>"
            "</builders><publishers/><buildWrappers/></project>\n")


def wait(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.002)
    raise SystemExit(f"bench: {what} did not happen within {timeout} s")


def one_build(session, server, job, number):
    t0 = time.perf_counter()
    r = session.post(server.url + f"job/{job}/build", timeout=30)
    assert r.status_code == 201, r.text
    url = server.url + f"job/{job}/{number}/api/json?tree=building,result,duration"

    def done():
        b = session.get(url, timeout=30)
        return b.status_code == 200 and not b.json()["building"] and b.json()

    b = wait(done, 60, f"build {job} #{number}")
    wall = (time.perf_counter() - t0) * 1000
    if b["result"] != "SUCCESS":
        raise SystemExit(f"bench: {job} #{number} ended {b['result']}")
    return wall, b["duration"]


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    why = can_run_sshd()
    if why:
        raise SystemExit(f"bench: {why}")
    with tempfile.TemporaryDirectory(prefix="bench-nodes.") as d:
        d = Path(d)
        (d / "keys").mkdir()
        priv, pub = keygen(d / "keys" / "login")
        user = os.environ.get("BENCH_NODE_USER", "")
        made_user = None
        if not user:
            made_user = user = f"stwbench{os.getpid()}"
            subprocess.run(["useradd", "--system", "--password", "*", "--shell", "/bin/sh", "--home-dir",
                            str(d / "nodehome"), "--create-home", user], check=True, timeout=60)
        os.chmod(d, 0o755)
        (d / "root").mkdir()
        pw = pwd.getpwnam(user)
        os.chown(d / "root", pw.pw_uid, pw.pw_gid)
        node = SshNode(d / "node", [pub])
        # sshd reads the authorized keys as the user logging in
        os.chmod(d / "node", 0o755)
        os.chmod(d / "node" / "authorized_keys", 0o644)
        s = Server(d / "home", executors=2)
        s.add_user("alice", "alice-password", admin=True)
        token = s.new_token("alice", "bench")
        s.admin("credentials", "add", "--id", "node-key", "--kind", "ssh-key", "--username",
                user, "--secret-file", "-", input=priv)
        s.admin("node", "add", "n1", "--host", node.host, "--port", str(node.port),
                "--credentials", "node-key", "--remote-fs", str(d / "root"), "--executors", "2",
                "--labels", "linux", "--host-key", node.host_key_line)
        s.start()
        try:
            session = requests.Session()
            session.auth = ("alice", token)
            try:
                wait(lambda: not session.get(s.url + "computer/n1/api/json",
                                             timeout=30).json()["offline"], 30, "n1 online")
            except SystemExit:
                print(session.get(s.url + "computer/n1/api/json", timeout=30).json()
                      ["offlineCauseReason"], node.sshd_log()[-1500:], file=sys.stderr)
                raise
            s.alice = ("alice", token)
            create_job(s, "local", job_xml("built-in"))
            create_job(s, "remote", job_xml("n1"))
            # warm-up: the first build of each makes its workspace
            one_build(session, s, "local", 1)
            one_build(session, s, "remote", 1)
            res = {"local": ([], []), "remote": ([], [])}
            for i in range(runs):
                for job in ("local", "remote"):
                    wall, dur = one_build(session, s, job, i + 2)
                    res[job][0].append(wall)
                    res[job][1].append(dur)
        finally:
            s.stop()
            node.stop()
            if made_user:
                subprocess.run(["userdel", "--remove", made_user], timeout=60,
                               stderr=subprocess.DEVNULL)
    load = os.getloadavg()
    print(f"no-op builds, {runs} each, in turns; node mode {node.mode}, user {user}; "
          f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"{'figure':44} {'built-in':>10} {'ssh node':>10} {'ratio':>7}")
    for k, name in ((0, "trigger to finished, client (ms)"), (1, "build duration, server (ms)")):
        for p in (50, 90):
            a, b = pct(res["local"][k], p), pct(res["remote"][k], p)
            print(f"{name + f', p{p}':44} {a:10.1f} {b:10.1f} {b / a if a else 0:7.2f}")
    ratios = [r / l for l, r in zip(res["local"][0], res["remote"][0]) if l]
    print(f"{'median of paired ratios, client':44} {'':10} {'':10} {statistics.median(ratios):7.2f}")


if __name__ == "__main__":
    main()
