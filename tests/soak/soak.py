#!/usr/bin/python3
"""A mixed load against a real server for MINUTES, then a check that it stayed flat.

The load: triggers with distinct values, builds with large output read through
progressiveText while they run, JSON and page reads, builds stopped while they
run, and queue items cancelled while they wait. Every answer is checked against
what that request may get; anything else is a failure. The server's resident
memory and open file descriptors are sampled throughout: after the load, with
the queue drained, they must be back near what they were once warm.

    soak.py --bin build/steward --minutes 1
"""
import argparse
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from xml.sax.saxutils import escape

import requests

QUICK = "echo quick $P"
LOUD = "i=0; while [ $i -lt 40 ]; do head -c 50000 /dev/zero | tr '\\0' L; echo; i=$((i+1)); done"
SLOW = "echo slow started; i=0; while [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done"
# The trigger threads hold off while this many items wait: a client that keeps the
# server busy, not one that outruns the executors for the whole soak (a backlog
# that grows for minutes is the queue's memory, which this test would take for a leak)
BACKLOG = 64


def job_xml(script, params=(), quiet=None, concurrent=True):
    props = ""
    if params:
        props = ("<hudson.model.ParametersDefinitionProperty><parameterDefinitions>"
                 + "".join(f"<hudson.model.StringParameterDefinition><name>{p}</name>"
                           "<defaultValue>x</defaultValue></hudson.model.StringParameterDefinition>"
                           for p in params)
                 + "</parameterDefinitions></hudson.model.ParametersDefinitionProperty>")
    q = f"<quietPeriod>{quiet}</quietPeriod>" if quiet is not None else ""
    return ("<?xml version='1.1' encoding='UTF-8'?>\n<project><actions/><description/>"
            f"<keepDependencies>false</keepDependencies><properties>{props}</properties>"
            "<scm class=\"hudson.scm.NullSCM\"/><canRoam>true</canRoam><disabled>false</disabled>"
            f"<concurrentBuild>{'true' if concurrent else 'false'}</concurrentBuild>{q}"
            "<triggers/><builders><hudson.tasks.Shell>"
            f"<command>{escape(script)}</command></hudson.tasks.Shell></builders>"
            "<publishers/><buildWrappers/></project>\n")


class Soak:
    def __init__(self, binary, minutes, executors):
        self.bin = binary
        self.minutes = minutes
        self.executors = executors
        self.tmp = tempfile.mkdtemp(prefix="steward-soak-")
        self.home = os.path.join(self.tmp, "home")
        self.failures = []
        self.counts = {}
        self.lock = threading.Lock()
        self.samples = []
        self.stop_load = threading.Event()
        self.waiting = 0                 # items in the queue, as last read
        self.waiting_read_at = 0.0

    # ---- the server ----

    def admin(self, *args):
        p = subprocess.run([self.bin, "--home", self.home, *args], capture_output=True, text=True,
                           timeout=60)
        if p.returncode:
            raise SystemExit(f"steward {' '.join(args)}: {p.stderr}")
        return p.stdout.strip()

    def start(self):
        os.makedirs(self.home)
        self.admin("user", "add", "alice", "--password", "alice-password", "--admin")
        self.auth = ("alice", self.admin("token", "new", "alice", "--name", "soak"))
        self.log = open(os.path.join(self.tmp, "server.log"), "w")
        self.proc = subprocess.Popen([self.bin, "--home", self.home, "serve", "--listen",
                                      "127.0.0.1:0", "--executors", str(self.executors),
                                      "--quiet-period", "0"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            with open(self.log.name) as f:
                m = re.search(r"listening on \S+ \(port (\d+)\)", f.read())
            if m:
                self.url = f"http://127.0.0.1:{m.group(1)}/"
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise SystemExit("the server did not start:\n" + open(self.log.name).read())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=60)
        self.log.close()
        if rc != 0:
            self.fail(f"the server exited with {rc} on SIGTERM")

    def sample(self):
        pid = self.proc.pid
        with open(f"/proc/{pid}/status") as f:
            rss = int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))
        fds = 0
        for fd in os.listdir(f"/proc/{pid}/fd"):
            # each HTTP thread opens its database connection the first time it serves
            try:
                fds += not re.search(r"steward\.db(-wal|-shm)?$", os.readlink(f"/proc/{pid}/fd/{fd}"))
            except OSError:
                pass
        return rss, fds

    # ---- bookkeeping ----

    def fail(self, what):
        with self.lock:
            self.failures.append(what)

    def count(self, what):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + 1

    def call(self, what, method, path, ok, **kw):
        """One request; its status must be in `ok`. Returns the response or None."""
        kw.setdefault("auth", self.auth)
        kw.setdefault("timeout", 60)
        kw.setdefault("allow_redirects", False)
        try:
            r = requests.request(method, self.url + path, **kw)
        except requests.RequestException as e:
            self.fail(f"{what}: {method} {path}: {e}")
            return None
        if r.status_code not in ok:
            self.fail(f"{what}: {method} {path}: {r.status_code} {r.text[:300]!r}")
            return None
        self.count(what)
        return r

    # ---- the load ----

    def loop(self, fn):
        def run():
            rnd = random.Random(hash(fn.__name__))
            while not self.stop_load.is_set():
                try:
                    fn(rnd)
                except Exception as e:  # a bug in the soak itself must show too
                    self.fail(f"{fn.__name__}: {type(e).__name__}: {e}")
                    time.sleep(0.1)
        return threading.Thread(target=run, name=fn.__name__, daemon=True)

    def backlog(self):
        """The number of waiting items, read at most every quarter second."""
        with self.lock:
            if time.time() - self.waiting_read_at < 0.25:
                return self.waiting
            self.waiting_read_at = time.time()
        r = self.call("queue", "GET", "queue/api/json?tree=items[id]", (200,))
        with self.lock:
            if r is not None:
                self.waiting = len(r.json()["items"])
            return self.waiting

    def triggers(self, rnd):
        if self.backlog() >= BACKLOG:
            time.sleep(0.05)
            return
        v = f"{time.time_ns()}-{rnd.random()}"
        # 503 (queue full) is an allowed answer under load, with Retry-After
        r = self.call("trigger", "POST", "job/quick/buildWithParameters", (201, 503),
                      data={"P": v})
        if r is not None and r.status_code == 503 and "Retry-After" not in r.headers:
            self.fail("a 503 without Retry-After")

    def start_build(self, job):
        """Triggers `job` and waits (bounded) until its item becomes a build: its number,
        or None when the load stopped first or an answer was wrong."""
        r = self.call(f"{job} trigger", "POST", f"job/{job}/build", (201,))
        if r is None:
            return None
        loc = r.headers["Location"].replace(self.url, "")
        deadline = time.time() + 60
        while time.time() < deadline and not self.stop_load.is_set():
            it = self.call("queue item", "GET", loc + "api/json", (200,))
            if it is None:
                return None
            ex = it.json().get("executable")
            if ex:
                return ex["number"]
            time.sleep(0.05)
        return None

    def loud_builds(self, rnd):
        n = self.start_build("loud")
        if n is not None:
            self.read_progressively(n)

    def read_progressively(self, n):
        start, deadline = 0, time.time() + 120
        while time.time() < deadline:
            r = self.call("progressiveText", "GET", f"job/loud/{n}/logText/progressiveText",
                          (200,), params={"start": start})
            if r is None:
                return
            size = int(r.headers["X-Text-Size"])
            if size != start + len(r.content):
                self.fail(f"progressiveText of loud #{n}: {start} + {len(r.content)} != {size}")
                return
            start = size
            if r.headers.get("X-More-Data") != "true":
                return
            time.sleep(0.02)

    def reads(self, rnd):
        path, headers = rnd.choice([
            ("api/json?tree=jobs[name,color,lastBuild[number,result]]", {}),
            ("job/quick/api/json", {}),
            ("queue/api/json", {}),
            ("computer/api/json?depth=1", {}),
            ("", {"Accept": "text/html"}),
            ("job/loud/", {"Accept": "text/html"}),
        ])
        self.call("read", "GET", path, (200,), headers=headers)

    def stops(self, rnd):
        n = self.start_build("slow")
        if n is None:
            return
        time.sleep(rnd.uniform(0, 0.3))   # a stop at a random moment of the build
        self.call("stop", "POST", f"job/slow/{n}/stop", (302,))
        self.await_result("slow", n, ("ABORTED", "SUCCESS"))

    def await_result(self, job, n, allowed):
        deadline = time.time() + 60
        while time.time() < deadline:
            b = self.call("build", "GET", f"job/{job}/{n}/api/json", (200,))
            if b is None:
                return
            if not b.json()["building"]:
                if b.json()["result"] not in allowed:
                    self.fail(f"{job} #{n} ended {b.json()['result']}, not one of {allowed}")
                return
            time.sleep(0.05)
        self.fail(f"{job} #{n} did not end within 60 s")

    def cancels(self, rnd):
        r = self.call("waits trigger", "POST", "job/waits/buildWithParameters", (201,),
                      data={"P": f"{time.time_ns()}"})
        if r is None:
            return
        qid = r.headers["Location"].rstrip("/").rsplit("/", 1)[1]
        time.sleep(rnd.uniform(0, 0.2))
        self.call("cancel", "POST", f"queue/cancelItem?id={qid}", (302,))

    # ---- the run ----

    def drain(self):
        deadline = time.time() + 120
        while time.time() < deadline:
            q = requests.get(self.url + "queue/api/json", auth=self.auth, timeout=60).json()
            busy = requests.get(self.url + "computer/api/json?depth=1", auth=self.auth,
                                timeout=60).json()
            running = [e for c in busy["computer"] for e in c.get("executors", [])
                       if e.get("currentExecutable")]
            if not q["items"] and not running:
                return
            time.sleep(0.2)
        self.fail("the queue did not drain within 120 s after the load")

    def run(self):
        self.start()
        for name, xml in (("quick", job_xml(QUICK, ["P"])), ("loud", job_xml(LOUD)),
                          ("slow", job_xml(SLOW)), ("waits", job_xml(QUICK, ["P"], quiet=3600))):
            self.call("create", "POST", f"createItem?name={name}", (200,), data=xml.encode(),
                      headers={"Content-Type": "application/xml"})
        threads = [self.loop(f) for f in (self.triggers, self.triggers, self.loud_builds,
                                          self.reads, self.reads, self.stops, self.cancels)]
        t0 = time.time()
        end = t0 + self.minutes * 60
        for t in threads:
            t.start()
        while time.time() < end:
            self.samples.append((time.time() - t0, *self.sample()))
            time.sleep(min(5, max(0.1, end - time.time())))
        self.stop_load.set()
        for t in threads:
            t.join(timeout=180)
            if t.is_alive():
                self.fail(f"load thread {t.name} did not end")
        self.drain()
        # what the load left: connections the clients closed take a moment to go
        warm = self.warm()
        deadline = time.time() + 20
        after = self.sample()
        while after[1] > warm[2] + 8 and time.time() < deadline:
            time.sleep(0.1)
            after = self.sample()
        self.stop()
        return self.report(after)

    def warm(self):
        """The sample a fifth into the load, once every thread and cache is warm."""
        return self.samples[min(len(self.samples) - 1, max(1, len(self.samples) // 5))]

    def report(self, after):
        warm = self.warm()
        peak_rss = max(s[1] for s in self.samples)
        print(f"soak: {self.minutes:g} min against {self.bin}")
        print("  requests: " + ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items())))
        print(f"  resident memory: {warm[1] / 1024:.1f} MiB once warm (at {warm[0]:.0f} s), "
              f"peak {peak_rss / 1024:.1f} MiB, {after[0] / 1024:.1f} MiB after the load")
        print(f"  open descriptors: {warm[2]} once warm, {after[1]} after the load")
        if after[1] > warm[2] + 8:
            self.fail(f"descriptors grew from {warm[2]} to {after[1]}")
        if after[0] > warm[1] * 1.5 + 16 * 1024:
            self.fail(f"resident memory grew from {warm[1]} kB to {after[0]} kB")
        if self.counts.get("trigger", 0) == 0 or self.counts.get("stop", 0) == 0:
            self.fail("the load did too little to judge: " + repr(self.counts))
        for f in self.failures[:20]:
            print("  FAILED: " + f)
        if self.failures:
            print(f"soak: {len(self.failures)} failures; the server log is {self.log.name}")
            return 1
        print("soak: passed")
        return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=os.environ.get("STEWARD_BIN", "build/steward"))
    ap.add_argument("--minutes", type=float, default=1)
    ap.add_argument("--executors", type=int, default=2)
    a = ap.parse_args()
    sys.exit(Soak(os.path.abspath(a.bin), a.minutes, a.executors).run())


if __name__ == "__main__":
    main()
