#!/usr/bin/python3
"""kill -9 torture: concurrent triggers while the server is killed and restarted, over and over.

Several client threads trigger builds with a unique parameter value each (user API token
and job trigger token, GET and POST). Meanwhile the server gets SIGKILL at random moments
and is started again on the same home. After the last start the queue drains, and the
result is checked against the server's JSON API, its SQLite file and the build logs:

- every acknowledged trigger (a 201) is in the database at the next crash, and in the end
  it ran exactly once, or its build was running at a crash and is ABORTED with a reason
  that says so;
- no parameter value ran twice, no queue item became two builds, nothing merged;
- a build running at a crash is ABORTED, its log keeps what the build wrote and ends with
  the notice;
- build numbers are never reused: per job they are unique, and what one crash left on disk
  is still there, unchanged, after the next;
- PRAGMA integrity_check is ok.

Debian's python3 only (standard library). Exit status 0 when every check holds; otherwise
the problems are printed and the work directory is kept for a look.

    tests/torture/torture.py --bin build/steward --cycles 20
"""
import argparse
import base64
import ctypes
import http.client
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
from xml.sax.saxutils import escape

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SANITIZED = os.environ.get("STEWARD_SANITIZED") == "1"
SLOW = 4 if SANITIZED else 1

USER, PASSWORD = "loader", "loader-password-1"
# name -> concurrent builds allowed; gamma's items wait for its running build
JOBS = {"alpha": True, "beta": True, "gamma": False}
JOB_NAMES, JOB_WEIGHTS = ("alpha", "beta", "gamma"), (0.45, 0.45, 0.1)
# how long a build sleeps: most are quick, some are running when the kill comes
SLEEPS = ("0", "0", "0", "0.01", "0.05", "0.1", "0.2", "0.4")
EXECUTORS = 3
CLIENTS = 4
NOTICE = "Steward stopped while this build was running; it is marked ABORTED."
# what recovery appends to the log of a build that was running
ENDS_ABORTED = re.compile(re.escape(NOTICE) + r"\n(Killed \d+ process(es)? the build left "
                          r"running\.\n)?Finished: ABORTED\n\Z")
SANITIZER = ("AddressSanitizer", "LeakSanitizer", "runtime error:")


class Failure(Exception):
    pass


def wait_for(pred, timeout, what):
    """Polls pred(), which returns (done, what it saw), until done, at most `timeout`
    seconds (scaled); returns what it saw last."""
    deadline = time.monotonic() + timeout * SLOW
    while True:
        done, last = pred()
        if done:
            return last
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout * SLOW:.0f}s waiting for {what}; "
                          f"last seen: {last!r}")
        time.sleep(0.02)


# ---- processes ----

def set_child_subreaper():
    """Build processes a kill -9 leaves behind become our children, so that we reap them
    (the init of a container may never do it)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def proc_stat(pid):
    """(state, ppid) of a process, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    return fields[0], int(fields[1])


def reap_orphans(keep):
    """Reaps our zombie children other than `keep` (the server's pid, which Popen waits for)."""
    me = os.getpid()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in keep:
            continue
        st = proc_stat(name)
        if st and st[0] == "Z" and st[1] == me:
            try:
                os.waitpid(int(name), os.WNOHANG)
            except ChildProcessError:
                pass


def build_processes(home):
    """Pids of live processes started by a build of this home (by their environment)."""
    want = f"JENKINS_HOME={home}".encode()
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        st = proc_stat(name)
        if want in env and any(e.startswith(b"STEWARD_BUILD_COOKIE=") for e in env) \
                and st and st[0] != "Z":
            pids.append(int(name))
    return pids


class Server:
    """One steward binary on one home, started again and again; each run logs to its own file."""

    def __init__(self, binary, home, logdir, shared):
        self.binary, self.home, self.logdir = binary, home, logdir
        self.shared = shared      # where builds leave their marks (serve --build-bind)
        self.proc = None
        self.port = None
        self.runs = 0

    def admin(self, *args):
        p = subprocess.run([self.binary, "--home", self.home, *args], capture_output=True,
                           text=True, timeout=60 * SLOW)
        if p.returncode != 0:
            raise Failure(f"steward {' '.join(args)} failed: {p.stderr}")
        return p.stdout

    def log_path(self, n):
        return os.path.join(self.logdir, f"server-{n:04d}.log")

    def start(self, wait=True):
        assert self.proc is None
        self.runs += 1
        self.port = None
        path = self.log_path(self.runs)
        with open(path, "w") as log:
            self.proc = subprocess.Popen(
                [self.binary, "--home", self.home, "serve", "--listen", "127.0.0.1:0",
                 "--executors", str(EXECUTORS), "--quiet-period", "0",
                 "--build-bind", self.shared],
                stdout=log, stderr=subprocess.STDOUT)
        if not wait:
            return

        def listening():
            with open(path, errors="replace") as f:
                text = f.read()
            m = re.search(r"listening on \S+ \(port (\d+)\)", text)
            if not m and self.proc.poll() is not None:
                raise Failure(f"server exited with {self.proc.returncode}:\n{text[-4000:]}")
            return bool(m), int(m.group(1)) if m else text[-200:]

        self.port = wait_for(listening, 20, f"the server to listen (log {path})")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        try:
            self.proc.wait(timeout=30 * SLOW)
        except subprocess.TimeoutExpired:
            raise Failure(f"server {self.proc.pid} still there {30 * SLOW}s after SIGKILL: "
                          f"{proc_stat(self.proc.pid)}")
        self.proc = None

    def stop(self):
        """SIGTERM: a clean stop must exit 0."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=60 * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "no exit within the timeout"
        self.proc = None
        if rc != 0:
            raise Failure(f"server exited with {rc} on SIGTERM; see {self.log_path(self.runs)}")

    def logs(self):
        for n in range(1, self.runs + 1):
            with open(self.log_path(n), errors="replace") as f:
                yield n, f.read()


# ---- HTTP ----

def basic(user, secret):
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


class Api:
    """The checker's client: one keep-alive connection, JSON answers."""

    def __init__(self, port, auth):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30 * SLOW)
        self.auth = auth

    def get(self, path):
        for attempt in (1, 2):
            try:
                self.conn.request("GET", path, headers={"Authorization": self.auth})
                r = self.conn.getresponse()
                return r.status, r.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # an idle keep-alive connection the server closed: the request never left
                self.conn.close()
                if attempt == 2:
                    raise

    def json(self, path):
        status, body = self.get(path)
        if status != 200:
            raise Failure(f"GET {path}: {status} {body[:300]!r}")
        return json.loads(body)

    def post(self, path, body=b"", ctype="application/xml"):
        self.conn.request("POST", path, body=body,
                          headers={"Authorization": self.auth, "Content-Type": ctype})
        r = self.conn.getresponse()
        return r.status, r.read()


def params_of(obj):
    return {p["name"]: p.get("value") for a in obj.get("actions", []) if a and "parameters" in a
            for p in a["parameters"]}


def job_xml(token, concurrent, marks):
    # the marker line is appended after the echo: a build with a marker has its echo logged
    script = ('echo "torture-start V=$V"\n'
              f'echo "$JOB_NAME $BUILD_NUMBER" >> "{marks}/$V"\n'
              'sleep "$S"\n'
              'echo "torture-end V=$V"\n')
    params = "".join(
        f"<hudson.model.StringParameterDefinition><name>{n}</name><defaultValue></defaultValue>"
        "</hudson.model.StringParameterDefinition>" for n in ("V", "S"))
    return ("<?xml version='1.1' encoding='UTF-8'?>\n<project><actions/><description/>"
            "<keepDependencies>false</keepDependencies><properties>"
            f"<hudson.model.ParametersDefinitionProperty><parameterDefinitions>{params}"
            "</parameterDefinitions></hudson.model.ParametersDefinitionProperty></properties>"
            '<scm class="hudson.scm.NullSCM"/><canRoam>true</canRoam><disabled>false</disabled>'
            f"<authToken>{token}</authToken><triggers/>"
            f"<concurrentBuild>{'true' if concurrent else 'false'}</concurrentBuild>"
            f"<builders><hudson.tasks.Shell><command>{escape(script)}</command></hudson.tasks.Shell>"
            "</builders><publishers/><buildWrappers/></project>\n")


# ---- the load ----

class Load:
    """Client threads that trigger builds, each with a unique value of V.

    A 201 is acknowledged: its value and queue id are kept. A request without an answer
    (the server died) is not: it may or may not have been queued."""

    def __init__(self, seed, api_token, trigger_tokens):
        self.seed = seed
        self.auth = basic(USER, api_token)
        self.trigger_tokens = trigger_tokens
        self.cond = threading.Condition()
        self.port = None          # None while the server is down
        self.generation = 0       # one per server start
        self.pace = 1.0
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.sent = {}            # value -> (job, S)
        self.acked = {}           # value -> (job, queue id)
        self.unanswered = set()
        self.refused = []         # 503s: said so, so not acknowledged
        self.unexpected = []      # any other answer
        self.threads = []

    def server_up(self, port):
        with self.cond:
            self.port = port
            self.generation += 1
            self.cond.notify_all()

    def server_down(self):
        with self.cond:
            self.port = None

    def start(self):
        for w in range(CLIENTS):
            t = threading.Thread(target=self.client, args=(w,), name=f"client{w}", daemon=True)
            t.start()
            self.threads.append(t)

    def stop(self):
        self.stopping.set()
        with self.cond:
            self.cond.notify_all()
        deadline = time.monotonic() + 60 * SLOW
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in self.threads if t.is_alive()]
        if alive:
            raise Failure(f"client threads did not end within {60 * SLOW}s: {alive}")

    def request(self, w, i, rng, port):
        job = rng.choices(JOB_NAMES, JOB_WEIGHTS)[0]
        value = f"w{w}-{i:06d}"
        s = rng.choice(SLEEPS)
        q = {"V": value, "S": s}
        way = i % 4
        headers = {"Connection": "close"}
        body = None
        if way == 0:    # user API token, parameters in the query
            method, path = "POST", f"/job/{job}/buildWithParameters?" + urllib.parse.urlencode(q)
            headers["Authorization"] = self.auth
        elif way == 1:  # user API token, parameters in a form body
            method, path = "POST", f"/job/{job}/buildWithParameters"
            headers["Authorization"] = self.auth
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urllib.parse.urlencode(q)
        elif way == 2:  # the job's trigger token, by GET
            q["token"] = self.trigger_tokens[job]
            method, path = "GET", f"/job/{job}/buildWithParameters?" + urllib.parse.urlencode(q)
        else:           # the trigger token at /buildByToken
            q.update(job=job, token=self.trigger_tokens[job])
            method, path = "POST", "/buildByToken/buildWithParameters?" + urllib.parse.urlencode(q)
        with self.lock:
            self.sent[value] = (job, s)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30 * SLOW)
        try:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            status, location = r.status, r.getheader("Location")
            try:
                text = r.read()
            except (OSError, http.client.HTTPException):
                text = b""  # the status line and headers came: that is the answer
        except (OSError, http.client.HTTPException):
            with self.lock:
                self.unanswered.add(value)
            return False
        finally:
            conn.close()
        with self.lock:
            m = re.search(r"/queue/item/(\d+)/$", location or "")
            if status == 201 and m:
                self.acked[value] = (job, int(m.group(1)))
            elif status == 503:
                self.refused.append(value)
            else:
                self.unexpected.append((value, method, path, status, location, text[:300]))
        return True

    def client(self, w):
        rng = random.Random(self.seed * 1000 + w)
        i = 0
        while not self.stopping.is_set():
            with self.cond:
                # wait for a server to talk to (bounded, so that a stop is seen)
                self.cond.wait_for(lambda: self.port or self.stopping.is_set(), timeout=1)
                port, gen = self.port, self.generation
            if not port or self.stopping.is_set():
                continue
            i += 1
            if not self.request(w, i, rng, port):
                # the server is going: wait for the next one, or look again shortly
                with self.cond:
                    self.cond.wait_for(lambda: self.generation != gen or self.stopping.is_set(),
                                       timeout=0.2)
                continue
            # about 40 triggers a second from all clients, so that some are on their way
            # at most kills; slower while the queue is long
            self.stopping.wait(rng.uniform(0, 0.2) * self.pace)


# ---- what a crash leaves on disk ----

def db_connect(db_path):
    # read-only: it never checkpoints nor removes the WAL the server will recover from
    return sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)


def snapshot(db_path):
    """Builds, counters and waiting items as the database holds them (the server is down)."""
    c = db_connect(db_path)
    try:
        builds = {(j, n): (r, q) for j, n, r, q in
                  c.execute("SELECT job, number, result, queue_id FROM builds")}
        numbers = dict(c.execute("SELECT job, next_build FROM job_numbers"))
        waiting = c.execute("SELECT count(*) FROM queue WHERE state = 0").fetchone()[0]
        values = dict(c.execute("SELECT q.id, j.value->>2 FROM queue q, json_each(q.params) j "
                                "WHERE j.value->>0 = 'V'"))
    finally:
        c.close()
    return {"builds": builds, "numbers": numbers, "waiting": waiting, "values": values}


def check_acked(load, snap, cycle, problems):
    """Every 201 a client has seen so far is on disk, with its value."""
    with load.lock:
        acked = list(load.acked.items())
    for v, (job, qid) in acked:
        if snap["values"].get(qid) != v:
            problems.append(f"cycle {cycle}: acknowledged V={v} (queue item {qid}) is not in the "
                            f"database after the crash (item {qid} holds "
                            f"{snap['values'].get(qid)!r})")


def check_growth(prev, cur, cycle, problems):
    """What a crash left is still there after the next: numbers only grow, results stay."""
    for key, (result, qid) in prev["builds"].items():
        now = cur["builds"].get(key)
        if now is None:
            problems.append(f"cycle {cycle}: build {key} is gone")
        elif now[1] != qid:
            problems.append(f"cycle {cycle}: build {key} now belongs to queue item {now[1]}, "
                            f"was {qid}: its number was reused")
        elif result is not None and now[0] != result:
            problems.append(f"cycle {cycle}: build {key} changed from {result} to {now[0]}")
        elif result is None and now[0] not in (None, "ABORTED"):
            problems.append(f"cycle {cycle}: build {key} was running at a crash, then {now[0]}")
    for job, nxt in prev["numbers"].items():
        if cur["numbers"].get(job, 0) < nxt:
            problems.append(f"cycle {cycle}: next build number of {job} went from {nxt} to "
                            f"{cur['numbers'].get(job)}")
    # a number is handed out in the transaction that records its build: no gaps, no extras
    per_job = {job: [] for job in cur["numbers"]}
    for job, n in cur["builds"]:
        per_job.setdefault(job, []).append(n)
    for job, have in per_job.items():
        nxt = cur["numbers"].get(job, 1)
        have.sort()
        if have != list(range(1, nxt)):
            problems.append(f"cycle {cycle}: {job} has builds {compact(have)}, its next number "
                            f"is {nxt}")


def compact(numbers):
    """[1, 2, 3, 7] -> '1-3,7'"""
    out, start = [], None
    for i, n in enumerate(numbers):
        if start is None:
            start = n
        if i + 1 == len(numbers) or numbers[i + 1] != n + 1:
            out.append(f"{start}-{n}" if n != start else str(n))
            start = None
    return ",".join(out)


# ---- the run ----

def kill_delay(rng):
    """How long the server runs before the kill: (wait for it to listen?, seconds)."""
    x = rng.random()
    if x < 0.10:
        return False, rng.uniform(0, 0.03)    # during start-up and recovery
    if x < 0.30:
        return True, rng.uniform(0, 0.1)      # at once: recovery's first builds and triggers
    if x < 0.95:
        return True, rng.uniform(0.1, 1.5)
    return True, rng.uniform(1.5, 3)


def setup(server, marks):
    server.admin("user", "add", USER, "--password", PASSWORD, "--admin")
    api_token = server.admin("token", "new", USER, "--name", "torture").strip()
    server.start()
    api = Api(server.port, basic(USER, api_token))
    tokens = {}
    for name, concurrent in JOBS.items():
        tokens[name] = f"trig-{name}-{os.urandom(6).hex()}"
        status, body = api.post(f"/createItem?name={name}",
                                job_xml(tokens[name], concurrent, marks).encode())
        if status != 200:
            raise Failure(f"createItem {name}: {status} {body[:300]!r}")
    api.conn.close()
    return api_token, tokens


def drain(api, db_path):
    """Waits until no item waits and nothing runs (bounded by the backlog)."""
    def state():
        items = api.json("/queue/api/json")["items"]
        busy = api.json("/computer/api/json")["busyExecutors"]
        c = db_connect(db_path)
        try:
            running = c.execute("SELECT count(*) FROM builds WHERE result IS NULL").fetchone()[0]
        finally:
            c.close()
        return (not items and busy == 0 and running == 0,
                f"{len(items)} waiting, {busy} busy executors, {running} builds running")

    backlog = len(api.json("/queue/api/json")["items"])
    wait_for(state, 60 + backlog, "the queue to drain")


def verify(server, api, load, crashes, marks, db_path, problems, stats):
    home = server.home
    c = db_connect(db_path)
    try:
        builds = {(j, n): {"result": r, "qid": q, "reason": a}
                  for j, n, r, q, a in c.execute(
                      "SELECT job, number, result, queue_id, abort_reason FROM builds")}
        queue = {i: {"job": j, "state": s, "number": n} for i, j, s, n in c.execute(
            "SELECT id, job, state, build_number FROM queue")}
        qparams = {}
        for qid, name, value in c.execute("SELECT q.id, j.value->>0, j.value->>2 "
                                          "FROM queue q, json_each(q.params) j"):
            qparams.setdefault(qid, {})[name] = value
        causes = dict(c.execute("SELECT q.id, sum(j.value->>5) FROM queue q, json_each(q.causes) j "
                                "GROUP BY q.id"))
    finally:
        c.close()

    # the queue: everything left for a build; nothing merged
    for qid, q in queue.items():
        if q["state"] != 1:
            problems.append(f"queue item {qid} ({q['job']}) is in state {q['state']} after the "
                            "drain (1: became a build; nothing cancels in this test)")
        elif (q["job"], q["number"]) not in builds:
            problems.append(f"queue item {qid} left for {q['job']} #{q['number']}, which is "
                            "not in the database")
        if causes.get(qid) != 1:
            problems.append(f"queue item {qid} has {causes.get(qid)} causes: distinct values "
                            "never merge")

    # builds: one per queue item, one per value, a value some client sent
    by_value, by_qid = {}, {}
    for (job, n), b in sorted(builds.items()):
        v = qparams.get(b["qid"], {}).get("V")
        by_value.setdefault(v, []).append((job, n))
        by_qid.setdefault(b["qid"], []).append((job, n))
        if v not in load.sent:
            problems.append(f"{job} #{n} ran with V={v!r}, which no client sent")
        elif load.sent[v][0] != job:
            problems.append(f"{job} #{n} ran V={v}, which was sent to {load.sent[v][0]}")
        q = queue.get(b["qid"])
        if not q or q["state"] != 1 or (q["job"], q["number"]) != (job, n):
            problems.append(f"{job} #{n} came from queue item {b['qid']}, which says {q}")
    for v, where in by_value.items():
        if len(where) > 1:
            problems.append(f"V={v} ran {len(where)} times: {where}")
    for qid, where in by_qid.items():
        if len(where) > 1:
            problems.append(f"queue item {qid} ran {len(where)} times: {where}")

    # every acknowledged trigger: its queue item, through the API, ran exactly once
    qids = {}
    for v, (job, qid) in sorted(load.acked.items()):
        qids.setdefault(qid, []).append(v)
        status, body = api.get(f"/queue/item/{qid}/api/json")
        if status != 200:
            problems.append(f"acknowledged V={v} (queue item {qid}): GET says {status} {body[:200]!r}")
            continue
        item = json.loads(body)
        if params_of(item) != {"V": v, "S": load.sent[v][1]} or item["task"]["name"] != job:
            problems.append(f"acknowledged V={v} on {job}: queue item {qid} is "
                            f"{item['task']['name']} with {params_of(item)}")
        elif item.get("cancelled"):
            problems.append(f"acknowledged V={v} (queue item {qid}) was cancelled")
        elif not item.get("executable"):
            problems.append(f"acknowledged V={v} (queue item {qid}) never ran: {item.get('why')}")
        elif by_value.get(v) != [(job, item["executable"]["number"])]:
            problems.append(f"acknowledged V={v} (queue item {qid}) ran as "
                            f"{item['executable']['number']}, builds with V: {by_value.get(v)}")
    for qid, values in qids.items():
        if len(values) > 1:
            problems.append(f"queue item {qid} was the answer to {len(values)} distinct values: "
                            f"{values[:5]}")

    # every build, through the API and on disk
    running_at_crash = set().union(*crashes) if crashes else set()
    for (job, n), b in sorted(builds.items()):
        v = qparams.get(b["qid"], {}).get("V")
        crashed = (job, n) in running_at_crash
        info = api.json(f"/job/{job}/{n}/api/json")
        if info["result"] != b["result"] or info["building"] or info["queueId"] != b["qid"] \
                or params_of(info).get("V") != v:
            problems.append(f"{job} #{n}: the API says {info['result']}, building "
                            f"{info['building']}, queue item {info['queueId']}, "
                            f"{params_of(info)}; the database {b}")
        try:
            with open(os.path.join(home, "jobs", job, "builds", str(n), "log"),
                      errors="replace") as f:
                log = f.read()
        except OSError as e:
            problems.append(f"{job} #{n} ({b['result']}): no log: {e}")
            continue
        try:
            with open(os.path.join(marks, v)) as f:
                ran = f.read().split("\n")[:-1]
        except (OSError, TypeError):
            ran = []
        if len(ran) > 1 or (ran and ran[0] != f"{job} {n}"):
            problems.append(f"V={v}: the build step of {ran} ran, expected at most {job} {n}")
        started = re.findall(r"^torture-start V=(\S+)$", log, re.M)
        if started not in ([v], []) or (ran and not started):
            problems.append(f"{job} #{n} with V={v}: its log shows the step of {started}, "
                            f"the marker {ran}")
        if b["result"] == "ABORTED":
            stats["aborted"] += 1
            if not crashed:
                problems.append(f"{job} #{n} is ABORTED, but it was not running at any crash")
            if "stopped" not in (info.get("abortReason") or "").lower():
                problems.append(f"{job} #{n} is ABORTED with the reason "
                                f"{info.get('abortReason')!r}")
            if not ENDS_ABORTED.search(log):
                problems.append(f"{job} #{n} was aborted by a crash; its log does not end with "
                                f"the notice:\n{log[-600:]}")
            elif ran and log.index(f"torture-start V={v}\n") > log.index(NOTICE):
                problems.append(f"{job} #{n}: the step's echo comes after the notice:\n{log[-600:]}")
            # two "Finished:" lines: the kill came between the engine's line and the
            # result's commit, or interrupted a recovery (whose notice comes again)
            elif log.count(NOTICE) > 1:
                stats["notice_twice"] += 1
            elif re.search(r"^Finished: ", log[:log.index(NOTICE)], re.M):
                stats["finished_then_aborted"] += 1
        elif b["result"] == "SUCCESS":
            stats["success"] += 1
            if crashed:
                problems.append(f"{job} #{n} was running at a crash, and then SUCCESS")
            if started != [v] or f"\ntorture-end V={v}\n" not in log \
                    or not log.endswith("Finished: SUCCESS\n") or log.count("Finished:") != 1:
                problems.append(f"{job} #{n} SUCCESS with a wrong log:\n{log[-600:]}")
        else:
            problems.append(f"{job} #{n} ended {b['result']}:\n{log[-600:]}")

    # no step ran without its build, no directory without its build
    for v in os.listdir(marks):
        if v not in by_value:
            problems.append(f"V={v}: a build step ran, but there is no build with it")
    for job in JOBS:
        d = os.path.join(home, "jobs", job, "builds")
        for name in os.listdir(d) if os.path.isdir(d) else []:
            if name.isdigit() and (job, int(name)) not in builds:
                problems.append(f"{d}/{name} has no build in the database: a lost number")

    stats["builds"] = len(builds)
    stats["queue_items"] = len(queue)


def run(args):
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 30)
    rng = random.Random(seed)
    binary = os.path.abspath(args.bin)
    work = tempfile.mkdtemp(prefix="steward-torture-", dir=args.workdir)
    home = os.path.join(work, "home")
    marks = os.path.join(work, "marks")
    os.makedirs(marks)
    os.chmod(marks, 0o1777)   # the sandbox's build user writes there
    os.makedirs(home)
    home = os.path.realpath(home)
    db_path = os.path.join(home, "steward.db")
    print(f"torture: {args.cycles} cycles, seed {seed}, {binary}, work {work}", flush=True)
    set_child_subreaper()
    t0 = time.monotonic()
    server = Server(binary, home, work, marks)
    load = None
    problems = []
    stats = {"cycles": 0, "early_kills": 0, "aborted": 0, "success": 0, "notice_twice": 0,
             "finished_then_aborted": 0}
    crashes = []   # per crash: the builds it left running
    try:
        api_token, tokens = setup(server, marks)
        load = Load(seed, api_token, tokens)
        load.start()
        load.server_up(server.port)
        prev = None
        for cycle in range(1, args.cycles + 1):
            if server.proc is None:
                wait, delay = kill_delay(rng)
                server.start(wait=wait)
                if wait:
                    load.server_up(server.port)
                else:
                    stats["early_kills"] += 1
            else:
                delay = rng.uniform(0.1, 1.5)
            time.sleep(delay)  # the random moment of the kill: this is the test
            load.server_down()
            server.kill()
            reap_orphans(set())
            snap = snapshot(db_path)
            check_acked(load, snap, cycle, problems)
            if prev:
                check_growth(prev, snap, cycle, problems)
            crashes.append({k for k, (r, _) in snap["builds"].items() if r is None})
            load.pace = 1.0 if snap["waiting"] < 15 else 2.0 if snap["waiting"] < 30 else 5.0
            prev = snap
            stats["cycles"] = cycle
            if problems:
                break
            if cycle % args.report == 0 or cycle == args.cycles:
                with load.lock:
                    print(f"cycle {cycle}: {len(load.acked)} acknowledged, "
                          f"{len(load.unanswered)} unanswered, {len(snap['builds'])} builds, "
                          f"{snap['waiting']} waiting, {time.monotonic() - t0:.0f}s", flush=True)

        # the last start: the load stops, the queue drains
        server.start()
        load.server_up(server.port)
        load.stop()
        reap_orphans({server.proc.pid})
        api = Api(server.port, basic(USER, api_token))
        drain(api, db_path)
        if prev:
            check_growth(prev, snapshot(db_path), "after the drain", problems)
        for value, method, path, status, location, text in load.unexpected[:10]:
            problems.append(f"V={value}: {method} {path} answered {status} {location} {text!r}")
        verify(server, api, load, crashes, marks, db_path, problems, stats)
        api.conn.close()
        server.stop()
        reap_orphans(set())
        left = build_processes(home)
        if left:
            problems.append(f"build processes survived the recoveries: {left}")
        c = sqlite3.connect(db_path)
        try:
            check = c.execute("PRAGMA integrity_check").fetchall()
        finally:
            c.close()
        if check != [("ok",)]:
            problems.append(f"PRAGMA integrity_check: {check[:10]}")
        for n, text in server.logs():
            if any(s in text for s in SANITIZER):
                problems.append(f"server run {n} reported a sanitizer error:\n{text[-3000:]}")
    except Failure as e:
        problems.append(str(e))
    except Exception:
        problems.append(traceback.format_exc())
    finally:
        if load:
            load.stopping.set()
        if server.proc:
            server.proc.kill()
            server.proc.wait()
        for pid in build_processes(home):
            os.kill(pid, signal.SIGKILL)
        reap_orphans(set())

    acked = len(load.acked) if load else 0
    print(f"torture: {stats['cycles']} cycles ({stats['early_kills']} killed during start-up), "
          f"{len(load.sent) if load else 0} triggers sent, {acked} acknowledged, "
          f"{len(load.unanswered) if load else 0} unanswered, "
          f"{len(load.refused) if load else 0} refused (503); "
          f"{stats.get('builds', 0)} builds: {stats['success']} SUCCESS, "
          f"{stats['aborted']} ABORTED by a crash ({stats['finished_then_aborted']} after "
          f"their Finished: line, {stats['notice_twice']} with the notice twice); "
          f"{time.monotonic() - t0:.1f}s, seed {seed}", flush=True)
    if acked < args.cycles // 2:
        problems.append(f"only {acked} triggers were acknowledged in {args.cycles} cycles: "
                        "the load did not reach the server")
    if problems:
        print(f"FAILED: {len(problems)} problems (work directory kept: {work})", file=sys.stderr)
        for p in problems[:40]:
            print(" -", p, file=sys.stderr)
        return 1
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin", default=os.environ.get("STEWARD_BIN")
                   or os.path.join(ROOT, "build", "steward"))
    p.add_argument("--cycles", type=int, default=20)
    p.add_argument("--seed", type=int)
    p.add_argument("--workdir", help="where the temporary directory goes")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--report", type=int, default=50, help="a progress line every N cycles")
    sys.exit(run(p.parse_args()))


if __name__ == "__main__":
    main()
