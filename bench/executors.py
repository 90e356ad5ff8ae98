#!/usr/bin/python3
"""Many builds at once: N running builds of one job, against N plain processes.

  bench/executors.py [--sizes 8,32,128,256] [--runs 3] [--clients 1] [--bin build/steward]
                     [--limit S] [--tsv FILE]

For each N a fresh server runs with `--executors N` and a job with
<concurrentBuild>true</concurrentBuild> whose step opens a FIFO in a directory
shared with builds (`serve --build-bind DIR`), writes a marker file and waits
for the FIFO to close. The bench holds the FIFO open for writing, triggers N
builds (distinct parameter values, so that none merges into another) on one
keep-alive connection, each POST after the previous answer (`--clients K`:
on K connections at once), and measures:

- trigger burst: the N POSTs, first to last answer;
- all running: from the first POST to the N-th marker (every step's first
  command ran);
- the server's resident memory (VmRSS) idle and with N builds running, and
  its CPU time (user + system) while they start, while they wait (2 s) and
  while they finish; the processes per build below the server and their
  proportional memory (Pss, smaps_rollup), per build;
- all finished: from closing the FIFO (every step's cat sees EOF) to every
  build finished with SUCCESS in the API (polled every 20 ms).

Baseline in the same run: the same shell script started N times with
os.posix_spawn from this process, waited for alike (markers, then the FIFO
closed, then every process reaped): the machine's process ceiling for the
same work. Steward's figures are quoted as ratios against it.

Each N is measured --runs times, baseline and Steward in turns (A B A B ...),
so that a burst of load from elsewhere hits both; each figure is the median of
the runs (min-max beside it), each ratio the median of the ratios of the
paired runs.

Every wait is bounded (--limit seconds per phase); a phase that runs out is
reported as such and the run goes on with the next N. Everything the script
starts is stopped at the end.
"""
import argparse
import base64
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from figures import Figures  # noqa: E402
from trigger import rss_kb  # noqa: E402

# the step: the FIFO opened first (the bench holds a writer, so this does not block),
# then the marker, then wait for EOF. $1 is the marker's name.
STEP = 'exec 3<"{d}/fifo"; : >"{d}/started/$1"; cat <&3 >/dev/null'

JOB = """<?xml version='1.1' encoding='UTF-8'?>
<project><properties><hudson.model.ParametersDefinitionProperty><parameterDefinitions>
<hudson.model.StringParameterDefinition><name>N</name><defaultValue>0</defaultValue>
</hudson.model.StringParameterDefinition></parameterDefinitions>
</hudson.model.ParametersDefinitionProperty></properties>
<scm class="hudson.scm.NullSCM"/><canRoam>true</canRoam><disabled>false</disabled>
<triggers/><concurrentBuild>true</concurrentBuild><quietPeriod>0</quietPeriod>
<builders><hudson.tasks.Shell><command>set +x
exec 3&lt;"{d}/fifo"; : &gt;"{d}/started/$N"; cat &lt;&amp;3 &gt;/dev/null</command></hudson.tasks.Shell></builders>
<publishers/><buildWrappers/></project>
"""


def now():
    return time.monotonic()


def cpu_s(pid):
    """user + system time of a process (its own threads), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def children_map():
    kids = {}
    for t in os.listdir("/proc"):
        if not t.isdigit():
            continue
        try:
            with open(f"/proc/{t}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(t))
    return kids


def descendants(pid):
    kids, out, todo = children_map(), [], [pid]
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def pss_kb(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def wait_markers(d, n, deadline):
    """Waits until d/started holds n files; returns the time or None."""
    while now() < deadline:
        if len(os.listdir(os.path.join(d, "started"))) >= n:
            return now()
        time.sleep(0.002)
    return None


def setup_shared(base):
    d = os.path.join(base, "shared")
    os.makedirs(os.path.join(d, "started"))
    os.chmod(d, 0o1777)
    os.chmod(os.path.join(d, "started"), 0o1777)
    os.mkfifo(os.path.join(d, "fifo"), 0o666)
    os.chmod(os.path.join(d, "fifo"), 0o666)
    # held open for writing: the steps' open() returns at once, their read waits for EOF
    wfd = os.open(os.path.join(d, "fifo"), os.O_RDWR | os.O_CLOEXEC)
    return d, wfd


def baseline(n, base, limit):
    """N plain posix_spawns of the same script; returns a dict of figures."""
    d, wfd = setup_shared(base)
    script = STEP.format(d=d)
    env = {"PATH": "/usr/bin:/bin"}
    pids = []
    t0 = now()
    try:
        for i in range(n):
            pids.append(os.posix_spawn("/bin/sh", ["sh", "-c", script, "sh", str(i)], env))
        t_spawned = now()
        t_run = wait_markers(d, n, t0 + limit)
        pss = pss_kb(pids + [c for p in pids for c in descendants(p)]) if t_run else None
        procs = (len(pids) + sum(len(descendants(p)) for p in pids)) / n if t_run else None
        t1 = now()
        os.close(wfd)
        wfd = -1
        left = set(pids)
        deadline = t1 + limit
        while left and now() < deadline:
            pid, _ = os.waitpid(-1, os.WNOHANG)
            if pid:
                left.discard(pid)
            else:
                time.sleep(0.001)
        t_done = now() if not left else None
        return {"spawn_ms": (t_spawned - t0) * 1000,
                "running_ms": (t_run - t0) * 1000 if t_run else None,
                "finish_ms": (t_done - t1) * 1000 if t_done else None,
                "pss_kb": pss, "procs": procs}
    finally:
        if wfd >= 0:
            os.close(wfd)
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(p, 0)
            except ChildProcessError:
                pass


class Steward:
    def __init__(self, binary, base, n):
        self.home = os.path.join(base, "home")
        self.shared, self.wfd = setup_shared(base)
        os.makedirs(os.path.join(self.home, "jobs", "wait"))
        with open(os.path.join(self.home, "jobs", "wait", "config.xml"), "w") as f:
            f.write(JOB.format(d=self.shared))
        run = lambda *a: subprocess.run([binary, "--home", self.home, *a], check=True,
                                        capture_output=True, text=True)
        run("user", "add", "bench", "--password", "bench-password", "--admin")
        token = run("token", "new", "bench", "--name", "b").stdout.strip().splitlines()[-1]
        self.auth = {"Authorization": "Basic " + base64.b64encode(f"bench:{token}".encode()).decode()}
        self.log_path = os.path.join(base, "server.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [binary, "--home", self.home, "serve", "--listen", "127.0.0.1:0",
             "--executors", str(n), "--quiet-period", "0", "--build-bind", self.shared],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = now() + 30
        while now() < deadline:
            with open(self.log_path) as f:
                m = re.search(r"\(port (\d+)\)", f.read())
            if m:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        raise RuntimeError("steward did not start: " + open(self.log_path).read()[-2000:])

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def builds(self, c):
        c.request("GET", "/job/wait/api/json?tree=allBuilds%5Bnumber,building,result%5D",
                  headers=self.auth)
        r = c.getresponse()
        body = r.read()
        return json.loads(body).get("allBuilds", []) if r.status == 200 else []

    def stop(self):
        if self.wfd >= 0:
            os.close(self.wfd)
            self.wfd = -1
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def steward_run(binary, n, base, limit, clients=1):
    s = Steward(binary, base, n)
    pid = s.proc.pid
    out = {}
    try:
        time.sleep(0.5)
        out["rss_idle_kb"] = rss_kb(pid, "VmRSS")
        c = s.conn()
        cpu0 = cpu_s(pid)
        t0 = now()
        codes = {}

        def trigger(first):
            cc = c if clients == 1 else s.conn()
            for i in range(first, n, clients):
                cc.request("POST", f"/job/wait/buildWithParameters?N={i}", headers=s.auth)
                r = cc.getresponse()
                r.read()
                codes[r.status] = codes.get(r.status, 0) + 1
        if clients == 1:
            trigger(0)
        else:
            threads = [threading.Thread(target=trigger, args=(k,)) for k in range(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        t_trig = now()
        out["codes"] = codes
        out["trigger_ms"] = (t_trig - t0) * 1000
        t_run = wait_markers(s.shared, n, t0 + limit)
        out["running_ms"] = (t_run - t0) * 1000 if t_run else None
        out["markers"] = len(os.listdir(os.path.join(s.shared, "started")))
        out["cpu_start_s"] = cpu_s(pid) - cpu0
        if t_run:
            cpu1 = cpu_s(pid)
            time.sleep(2)
            out["cpu_hold_s"] = cpu_s(pid) - cpu1
            out["rss_running_kb"] = rss_kb(pid, "VmRSS")
            desc = descendants(pid)
            out["procs"] = len(desc) / n
            out["pss_kb"] = pss_kb(desc)
            out["threads"] = rss_kb(pid, "Threads")
        cpu2 = cpu_s(pid)
        t1 = now()
        os.close(s.wfd)
        s.wfd = -1
        deadline = t1 + limit
        done = None
        last = []
        while now() < deadline:
            last = s.builds(c)
            if len(last) >= n and not any(b["building"] for b in last):
                done = now()
                break
            time.sleep(0.02)
        out["finish_ms"] = (done - t1) * 1000 if done else None
        out["cpu_finish_s"] = cpu_s(pid) - cpu2
        out["results"] = {}
        for b in last:
            out["results"][b["result"]] = out["results"].get(b["result"], 0) + 1
        out["rss_after_kb"] = rss_kb(pid, "VmRSS")
        out["hwm_kb"] = rss_kb(pid, "VmHWM")
        c.close()
    finally:
        s.stop()
    return out


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def spread(xs, nd=1):
    xs = [x for x in xs if x is not None]
    return f"{min(xs):.{nd}f}-{max(xs):.{nd}f}" if xs else "n/a"


def report(figs, n, bs, ss):
    """Prints N's figures (medians of the runs) and adds them to figs."""
    def pair_ratio(key):
        return med([s.get(key) / b[key] for b, s in zip(bs, ss)
                    if s.get(key) is not None and b.get(key)])

    def sm(key, scale=1.0):
        return med([s[key] * scale if s.get(key) is not None else None for s in ss])

    def bm(key, scale=1.0):
        return med([b[key] * scale if b.get(key) is not None else None for b in bs])

    per_rss = med([(s["rss_running_kb"] - s["rss_idle_kb"]) / n
                   for s in ss if s.get("rss_running_kb") and s.get("rss_idle_kb")])
    codes = [s.get("codes") for s in ss]
    results = [s.get("results") for s in ss]
    print(f"\nN={n}, {len(ss)} runs (load {load()})")
    print(f"  baseline posix_spawn: all running {fmt(bm('running_ms'), ' ms')} "
          f"[{spread([b['running_ms'] for b in bs])}], all reaped {fmt(bm('finish_ms'), ' ms')} "
          f"[{spread([b['finish_ms'] for b in bs])}] after release; {fmt(bm('procs'))} processes and "
          f"{fmt(bm('pss_kb', 1 / n), ' KiB', 0)} Pss a process tree")
    print(f"  steward: triggers {codes} in {fmt(sm('trigger_ms'), ' ms')} "
          f"[{spread([s.get('trigger_ms') for s in ss])}]; all running {fmt(sm('running_ms'), ' ms')} "
          f"[{spread([s.get('running_ms') for s in ss])}] (x{fmt(pair_ratio('running_ms'), '', 2)} "
          f"the baseline); all finished {fmt(sm('finish_ms'), ' ms')} "
          f"[{spread([s.get('finish_ms') for s in ss])}] after release "
          f"(x{fmt(pair_ratio('finish_ms'), '', 2)}); results {results}")
    print(f"  steward server: VmRSS idle {fmt(sm('rss_idle_kb', 1 / 1024), ' MiB', 2)}, with {n} running "
          f"{fmt(sm('rss_running_kb', 1 / 1024), ' MiB', 2)} ({fmt(per_rss, ' KiB', 1)} a build), "
          f"after {fmt(sm('rss_after_kb', 1 / 1024), ' MiB', 2)}, peak "
          f"{fmt(sm('hwm_kb', 1 / 1024), ' MiB', 2)}; threads {[s.get('threads') for s in ss]}")
    print(f"  steward server CPU: {fmt(sm('cpu_start_s', 1000 / n), ' ms', 2)} a build starting, "
          f"{fmt(sm('cpu_hold_s'), ' s', 2)} over 2 s with {n} waiting, "
          f"{fmt(sm('cpu_finish_s', 1000 / n), ' ms', 2)} a build finishing "
          f"(clock ticks of 10 ms: sums over N builds)")
    print(f"  below the server: {fmt(sm('procs'))} processes a build, "
          f"{fmt(sm('pss_kb', 1 / n), ' KiB', 0)} Pss a build "
          f"(baseline {fmt(bm('pss_kb', 1 / n), ' KiB', 0)})")
    figs.add(f"N={n}: all builds running (first trigger to N-th step's first command)", "ms",
             sm("running_ms"), baseline=f"{n} posix_spawns of the same script",
             base_value=bm("running_ms"),
             notes=f"runs {spread([s.get('running_ms') for s in ss])}; paired ratio "
                   f"{fmt(pair_ratio('running_ms'), '', 2)}; trigger burst {fmt(sm('trigger_ms'), ' ms')}")
    figs.add(f"N={n}: all builds finished after release", "ms", sm("finish_ms"),
             baseline=f"{n} posix_spawns reaped", base_value=bm("finish_ms"),
             notes=f"runs {spread([s.get('finish_ms') for s in ss])}; paired ratio "
                   f"{fmt(pair_ratio('finish_ms'), '', 2)}; results {results}; API polled every 20 ms")
    figs.add(f"N={n}: server VmRSS with N running", "MiB", sm("rss_running_kb", 1 / 1024),
             baseline="idle", base_value=sm("rss_idle_kb", 1 / 1024))
    figs.add(f"N={n}: server CPU starting N builds, per build", "ms", sm("cpu_start_s", 1000 / n))
    figs.add(f"N={n}: Pss below the server per build", "KiB", sm("pss_kb", 1 / n),
             baseline="the same script, posix_spawn", base_value=bm("pss_kb", 1 / n),
             notes=f"{fmt(sm('procs'))} processes a build, baseline {fmt(bm('procs'))}")


def fmt(v, unit="", nd=1):
    return "n/a" if v is None else f"{v:.{nd}f}{unit}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.environ.get("STEWARD_BIN") or os.path.join(ROOT, "build", "steward"))
    ap.add_argument("--sizes", default="8,32,128,256")
    ap.add_argument("--limit", type=float, default=120, help="seconds per phase at most")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--clients", type=int, default=1,
                    help="trigger from this many connections at once (default 1: one after the other)")
    ap.add_argument("--tsv")
    a = ap.parse_args()
    sizes = [int(x) for x in a.sizes.split(",")]
    binary = os.path.abspath(a.bin)
    print(f"executors.py: {binary}; load before {load()}; sizes {sizes}; {a.runs} runs; "
          f"triggers from {a.clients} connection(s)")
    figs = Figures()
    for n in sizes:
        bs, ss = [], []
        for r in range(a.runs):
            with tempfile.TemporaryDirectory(prefix="bench-exec.") as tmp:
                os.chmod(tmp, 0o755)
                bs.append(baseline(n, os.path.join(tmp, "b"), a.limit))
                ss.append(steward_run(binary, n, os.path.join(tmp, "s"), a.limit, a.clients))
        report(figs, n, bs, ss)
    print(f"\nload after {load()}")
    figs.write(a.tsv)


if __name__ == "__main__":
    main()
