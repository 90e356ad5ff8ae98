#!/usr/bin/python3
"""`steward build JOB --wait` on a no-op job, against the same trigger-and-poll done by hand.

Each client runs as its own process, timed from process start to exit, on the same server
in the same run, interleaved so drift hits them alike:

  steward     build/steward build noop --wait
  curl loop   a bash script: curl -X POST .../build, read Location, poll the queue item
              until `executable`, poll the build until `result`
  python      a python3 script with python-jenkins: build_job, get_queue_item,
              get_build_info (it fetches a crumb first, as it always does)

The hand-written loops poll every POLL_MS; steward polls after 5, 10, 20, ... ms (at most
500 ms). Also printed: each client's own CPU time (user+sys), the server's own share
(from inQueueSince to the build's end, by its clocks), and `steward --version` alone.

  bench/cli.py [--runs N] [--bin build/steward] [--tsv FILE]

--tsv FILE also writes the figures to FILE, one a row (bench/figures.py); bench/run.sh
gathers them into `make bench`'s table.
"""
import argparse
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import base64
import json

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from figures import Figures  # noqa: E402
from trigger import start_steward  # noqa: E402

POLL_MS = 10

NOOP = """<?xml version='1.1' encoding='UTF-8'?>
<project><concurrentBuild>true</concurrentBuild><quietPeriod>0</quietPeriod>
<builders><hudson.tasks.Shell><command>true</command></hudson.tasks.Shell></builders></project>"""

CURL_LOOP = r"""#!/bin/bash
set -eu
loc=$(curl -sS -o /dev/null -w '%header{location}' -X POST -u "$U:$T" "${URL}job/noop/build")
while :; do
  exe=$(curl -sS -u "$U:$T" "${loc}api/json?tree=executable%5Burl%5D" |
        sed -n 's/.*"executable":{[^}]*"url":"\([^"]*\)".*/\1/p')
  [ -n "$exe" ] && break
  sleep $POLL
done
while :; do
  res=$(curl -sS -u "$U:$T" "${exe}api/json?tree=result" | sed -n 's/.*"result":"\([A-Z_]*\)".*/\1/p')
  [ -n "$res" ] && break
  sleep $POLL
done
[ "$res" = SUCCESS ]
"""

PYTHON_JENKINS = r"""
import os, sys, time
import jenkins
poll = float(os.environ["POLL"])
s = jenkins.Jenkins(os.environ["URL"], username=os.environ["U"], password=os.environ["T"])
qid = s.build_job("noop")
while True:
    item = s.get_queue_item(qid)
    if item.get("executable"):
        break
    time.sleep(poll)
n = item["executable"]["number"]
while True:
    b = s.get_build_info("noop", n)
    if b.get("result"):
        break
    time.sleep(poll)
sys.exit(0 if b["result"] == "SUCCESS" else 1)
"""


def timed(argv, env):
    """Wall time (ms) from process start to exit, and the child's CPU time (ms)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = (time.perf_counter() - t0) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({p.returncode}): {p.stderr.decode()[-2000:]}")
    cpu = ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000
    return wall, cpu


def api(url, path, auth, data=None, ctype=None):
    req = urllib.request.Request(url + path, data=data, method="POST" if data is not None else "GET")
    req.add_header("Authorization", auth)
    if ctype:
        req.add_header("Content-Type", ctype)
    with urllib.request.urlopen(req) as r:
        return r.read()


def server_share(url, auth, first, last):
    """Per build: from the queue item's inQueueSince to the build's end, by the server's clocks."""
    out = []
    for n in range(first, last + 1):
        b = json.loads(api(url, f"job/noop/{n}/api/json", auth))
        q = json.loads(api(url, f"queue/item/{b['queueId']}/api/json", auth))
        out.append(b["timestamp"] + b["duration"] - q["inQueueSince"])
    return out


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "steward"))
    ap.add_argument("--tsv", help="also write the figures to this file, one a row")
    a = ap.parse_args()
    # a TERM (bench/run.sh's time limit) stops the server and removes the temporary home
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    binary = os.path.abspath(a.bin)

    tmp = tempfile.mkdtemp(prefix="steward-bench-cli-")
    steward, port, token = start_steward(binary, os.path.join(tmp, "home"))
    url = f"http://127.0.0.1:{port}/"
    auth = "Basic " + base64.b64encode(f"bench:{token}".encode()).decode()
    try:
        api(url, "createItem?name=noop", auth, NOOP.encode(), "application/xml")
        script = os.path.join(tmp, "loop.sh")
        with open(script, "w") as f:
            f.write(CURL_LOOP)
        os.chmod(script, 0o755)
        pyfile = os.path.join(tmp, "pj.py")
        with open(pyfile, "w") as f:
            f.write(PYTHON_JENKINS)

        env = {k: v for k, v in os.environ.items() if not k.startswith(("STEWARD_", "JENKINS_"))}
        env.update(HOME=tmp, URL=url, U="bench", T=token, POLL=str(POLL_MS / 1000),
                   STEWARD_URL=url, STEWARD_USER="bench", STEWARD_TOKEN=token)
        clients = {
            "steward build --wait": [binary, "build", "noop", "--wait"],
            "curl shell loop": [script],
            "python-jenkins": ["/usr/bin/python3", pyfile],
        }
        have_pj = subprocess.run(["/usr/bin/python3", "-c", "import jenkins"],
                                 capture_output=True).returncode == 0
        if not have_pj:
            del clients["python-jenkins"]
            print("python-jenkins not installed (Debian python3-jenkins): skipped")
        if not shutil.which("curl"):
            del clients["curl shell loop"]
            print("curl not installed: skipped")

        # warm up: page cache, the server's prepared statements
        for argv in clients.values():
            timed(argv, env)
        first = json.loads(api(url, "job/noop/api/json", auth))["nextBuildNumber"]
        wall = {k: [] for k in clients}
        cpu = {k: [] for k in clients}
        start_only = []
        for _ in range(a.runs):
            for name, argv in clients.items():
                w, c = timed(argv, env)
                wall[name].append(w)
                cpu[name].append(c)
            start_only.append(timed([binary, "--version"], env)[0])
        last = json.loads(api(url, "job/noop/api/json", auth))["nextBuildNumber"] - 1
        share = server_share(url, auth, first, last)

        base = med(wall["steward build --wait"])
        print(f"steward {binary}, {os.cpu_count()} cores, {a.runs} runs each, medians; "
              f"hand-written loops poll every {POLL_MS} ms")
        print(f"{'client':24} {'wall ms':>9} {'client cpu ms':>14} {'vs steward':>11}")
        for name in clients:
            w = med(wall[name])
            print(f"{name:24} {w:9.1f} {med(cpu[name]):14.1f} {w / base:10.2f}x")
        print(f"{'steward --version':24} {med(start_only):9.1f}")
        print(f"server's share of a build (inQueueSince to the build's end): {med(share):.1f} ms")
        print(f"steward client cpu / wall: {med(cpu['steward build --wait']) / base:.0%}; "
              f"wall beyond the server's share: {base - med(share):.1f} ms")

        fig = Figures()
        me = "steward build --wait"
        note = f"no-op build, process start to exit, median of {a.runs}; loops poll every {POLL_MS} ms"
        for name in clients:
            if name != me:
                fig.add(f"`{me}` wall time, against {name}", "ms", base, None, name,
                        med(wall[name]), note)
        fig.add(f"`{me}` client CPU time", "ms", med(cpu[me]), None,
                "curl shell loop" if "curl shell loop" in clients else "",
                med(cpu["curl shell loop"]) if "curl shell loop" in clients else None,
                f"user+sys of the client process tree, median of {a.runs}")
        fig.add("`steward --version`, process start to exit", "ms", med(start_only))
        fig.add("server's share of a build (inQueueSince to its end)", "ms", med(share), None,
                "", None, "by the server's clocks")
        fig.write(a.tsv)
    finally:
        steward.send_signal(signal.SIGTERM)
        steward.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
