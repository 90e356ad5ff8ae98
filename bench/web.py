#!/usr/bin/python3
"""Web UI pages for a job with 10,000 builds, against a baseline in the same run.

Creates a job `big` (three parameters, one of them a password) and nine
smaller jobs through the API, stops the server, inserts 10,000 builds of
`big` and 100 of each other job straight into the stopped server's
steward.db with sqlite3 (each with its queue item, parameters and cause,
as the engine writes them; a few hundred are failures, aborts or unstable),
each build of `big` with a JUnit summary of 120 tests and the newest with
its cases (so the job page's trend chart and the test page have data),
starts it again, signs in through the login form, and asks for each page
as a browser does (session cookie, Accept: text/html), one keep-alive
client, requests back to back.

For each page it prints the server's own time (the Server-Timing header
the web layer sets: from routing to the finished body) and the time seen
by the client, as median and 95th percentile, and the client time as a
ratio of nginx serving a static page of about the same size with the same
client (Debian nginx-light; skipped when missing).

  bench/web.py [--requests N] [--bin build/steward] [--tsv FILE]

--tsv FILE also writes the figures to FILE, one a row (bench/figures.py): each
page's client median against nginx's, and the slowest page's server p95 with its
goal; bench/run.sh gathers them into `make bench`'s table.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from figures import Figures  # noqa: E402
from trigger import start_nginx, start_steward  # noqa: E402

BUILDS = 10_000
SMALL_JOBS = 9
SMALL_BUILDS = 100
TEST_CASES = 120

JOB = """<?xml version='1.1' encoding='UTF-8'?>
<project><description>A job with a long history.</description><properties>
<hudson.model.ParametersDefinitionProperty><parameterDefinitions>
<hudson.model.StringParameterDefinition><name>BRANCH</name><defaultValue>main</defaultValue>
</hudson.model.StringParameterDefinition>
<hudson.model.ChoiceParameterDefinition><name>TARGET</name><choices class="java.util.Arrays$ArrayList">
<a class="string-array"><string>staging</string><string>production</string></a></choices>
</hudson.model.ChoiceParameterDefinition>
<hudson.model.PasswordParameterDefinition><name>SECRET</name><defaultValue>s3cret</defaultValue>
</hudson.model.PasswordParameterDefinition>
</parameterDefinitions></hudson.model.ParametersDefinitionProperty></properties>
<authToken>bench-trigger-token</authToken><concurrentBuild>false</concurrentBuild>
<builders><hudson.tasks.Shell><command>echo "$BRANCH to $TARGET"</command></hudson.tasks.Shell></builders>
</project>"""


def request(port, method, path, headers=None, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r, data


def insert_builds(db_path, job, n, params, start_queue_id):
    """Rows as the engine writes them: a queue item that left, its params and cause, a build."""
    db = sqlite3.connect(db_path)
    now = int(time.time() * 1000)
    results = ["SUCCESS"] * 17 + ["FAILURE", "ABORTED", "UNSTABLE"]
    # causes: [kind, user, token, addr, note, count]; a token's trigger, or a remote one
    by_token = json.dumps([[0, "bench", "ci", None, None, 1]], separators=(",", ":"))
    remote = json.dumps([[1, None, None, "10.0.0.7", "nightly", 1]], separators=(",", ":"))
    qid = start_queue_id
    with db:
        for number in range(1, n + 1):
            start = now - (n - number + 1) * 60_000
            qid += 1
            p = params(number)   # [name, type, value] in position order; type 4: a password
            db.execute("INSERT INTO queue(id, job, in_queue_since_ms, due_ms, state, left_ms, "
                       "build_number, params, causes, secrets) VALUES(?,?,?,?,1,?,?,?,?,?)",
                       (qid, job, start - 50, start, start, number,
                        json.dumps(p, separators=(",", ":")),
                        by_token if number % 3 else remote,
                        int(any(typ == 4 and value for _, typ, value in p))))
            db.execute("INSERT INTO builds(job, number, queue_id, start_ms, duration_ms, result, executor) "
                       "VALUES(?,?,?,?,?,?,0)", (job, number, qid, start, 1000 + number % 5000,
                                                 results[number % len(results)]))
        db.execute("INSERT INTO job_numbers(job, next_build) VALUES(?, ?) "
                   "ON CONFLICT(job) DO UPDATE SET next_build = excluded.next_build", (job, n + 1))
    db.close()
    return qid


def insert_test_results(db_path, job, n, cases=TEST_CASES):
    """Each build's JUnit summary, as the publisher stores it (an unstable build has failures),
    and the newest build's cases, so that the trend chart and the test page have their data."""
    db = sqlite3.connect(db_path)
    with db:
        for number in range(1, n + 1):
            failed = 3 if number % 20 == 19 else 0
            db.execute("INSERT INTO test_results(job, build, total, failed, skipped, duration) "
                       "VALUES(?,?,?,?,?,?)", (job, number, cases, failed, number % 4, 12.5))
        for pos in range(cases):
            failed = pos < 3 and n % 20 == 19
            db.execute("INSERT INTO test_cases(job, build, pos, suite, class_name, name, status, "
                       "duration, failed_since, error_details) VALUES(?,?,?,?,?,?,?,?,?,?)",
                       (job, n, pos, "suite", f"pkg.Test{pos // 10}", f"test_{pos}",
                        "FAILED" if failed else "PASSED", 0.01, n if failed else 0,
                        "expected 1, got 2" if failed else None))
    db.close()


def sign_in(port):
    # the login page's cookie and the form's crumb, as a browser has them
    page, html = request(port, "GET", "/login")
    nonce = re.search(r"STEWARD_LOGIN=([0-9a-f]{64})", page.getheader("Set-Cookie") or "")
    crumb = re.search(r'name="Jenkins-Crumb" value="([0-9a-f]+)"', html.decode())
    if not nonce or not crumb:
        raise SystemExit("the login page has no crumb")
    body = urllib.parse.urlencode({"j_username": "bench", "j_password": "bench-password",
                                   "from": "/", "Jenkins-Crumb": crumb.group(1)})
    r, _ = request(port, "POST", "/j_spring_security_check", body=body,
                   headers={"Content-Type": "application/x-www-form-urlencoded",
                            "Cookie": f"STEWARD_LOGIN={nonce.group(1)}"})
    m = re.search(r"STEWARD_SESSION=([0-9a-f]{64})", r.getheader("Set-Cookie") or "")
    if r.status != 302 or not m:
        raise SystemExit(f"sign-in failed: {r.status}")
    return m.group(1)


def timed(port, path, headers, n):
    """n GETs on one keep-alive connection: (server ms list, client ms list, status, size)."""
    c = http.client.HTTPConnection("127.0.0.1", port)
    server, client, status, size = [], [], None, 0
    for i in range(n + 3):
        t0 = time.perf_counter()
        c.request("GET", path, headers=headers)
        r = c.getresponse()
        body = r.read()
        t1 = time.perf_counter()
        status, size = r.status, len(body)
        if i < 3:
            continue   # warm-up: prepared statements, page cache
        client.append((t1 - t0) * 1000)
        m = re.search(r"dur=([\d.]+)", r.getheader("Server-Timing") or "")
        if m:
            server.append(float(m.group(1)))
    c.close()
    return server, client, status, size


def p95(v):
    return sorted(v)[max(0, int(len(v) * 0.95) - 1)] if v else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "steward"))
    ap.add_argument("--tsv", help="also write the figures to this file, one a row")
    a = ap.parse_args()
    # a TERM (bench/run.sh's time limit) stops the servers and removes the temporary home
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    fig = Figures()

    tmp = tempfile.mkdtemp(prefix="steward-bench-web-")
    home = os.path.join(tmp, "home")
    steward, port, token = start_steward(a.bin, home)
    nginx = None
    try:
        auth = {"Authorization": "Basic " + __import__("base64").b64encode(
            f"bench:{token}".encode()).decode()}
        for name, xml in [("big", JOB)] + [(f"job{i}", JOB) for i in range(SMALL_JOBS)]:
            r, _ = request(port, "POST", f"/createItem?name={name}", body=xml,
                           headers={**auth, "Content-Type": "application/xml"})
            assert r.status == 200, r.status
        steward.send_signal(signal.SIGTERM)
        steward.wait(timeout=30)

        t0 = time.time()
        db_path = os.path.join(home, "steward.db")
        qid = insert_builds(db_path, "big", BUILDS, lambda n: [
            ("BRANCH", 0, f"feature/{n}"), ("TARGET", 3, "staging" if n % 2 else "production"),
            ("SECRET", 4, "s3cret")], 0)
        for i in range(SMALL_JOBS):
            qid = insert_builds(db_path, f"job{i}", SMALL_BUILDS, lambda n: [
                ("BRANCH", 0, "main"), ("TARGET", 3, "staging"), ("SECRET", 4, "x")], qid)
        insert_test_results(db_path, "big", BUILDS)
        with sqlite3.connect(db_path) as db:   # the users page is for administrators
            db.execute("UPDATE users SET is_admin = 1 WHERE name = 'bench'")
        logdir = os.path.join(home, "jobs", "big", "builds", str(BUILDS))
        os.makedirs(logdir, exist_ok=True)
        with open(os.path.join(logdir, "log"), "w") as f:
            f.write("line of output\n" * 70_000 + "Finished: SUCCESS\n")
        print(f"inserted {BUILDS} builds of 'big' (each with a test report) and {SMALL_JOBS} x {SMALL_BUILDS} others "
              f"in {time.time() - t0:.1f} s")

        # start again on the same home (the user and token exist already)
        log = open(os.path.join(home, "log2"), "w")
        steward = subprocess.Popen([a.bin, "--home", home, "serve", "--listen", "127.0.0.1:0",
                                    "--executors", "2"], stdout=log, stderr=subprocess.STDOUT)
        for _ in range(500):
            m = re.search(r"\(port (\d+)\)", open(os.path.join(home, "log2")).read())
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.01)
        sid = sign_in(port)
        browser = {"Cookie": f"STEWARD_SESSION={sid}", "Accept": "text/html,*/*;q=0.8"}
        pages = [
            ("dashboard", "/"),
            ("dashboard live part", "/?part=live"),
            ("job page (history page 1)", "/job/big/"),
            ("job page, history page 200", "/job/big/?page=200"),
            ("job page, oldest history page", "/job/big/?page=400"),
            ("job live part", "/job/big/?part=live"),
            ("build time trend", "/job/big/buildTimeTrend"),
            (f"test report ({TEST_CASES} cases)", f"/job/big/{BUILDS}/testReport/"),
            ("build page, newest", f"/job/big/{BUILDS}/"),
            ("build page, first", "/job/big/1/"),
            ("build summary part", f"/job/big/{BUILDS}/console?part=summary"),
            ("job configuration", "/job/big/configure"),
            ("delete confirmation", "/job/big/delete"),
            ("new job", "/newJob"),
            ("user page", "/me/configure"),
            ("users (admin)", "/manage/users"),
            ("sign-in page", "/login"),
        ]

        tmpn = os.path.join(tmp, "nginx")
        os.makedirs(tmpn)
        nginx, nport = start_nginx(tmpn)
        base = None
        if nginx:
            # a static page of dashboard size, served by nginx to the same client
            _, page = request(port, "GET", "/", headers=browser)
            conf = os.path.join(tmpn, "nginx.conf")
            with open(os.path.join(tmpn, "page.html"), "wb") as f:
                f.write(page)
            # nginx's workers run as another user: let them read the page
            for p in (tmp, tmpn):
                os.chmod(p, 0o755)
            os.chmod(os.path.join(tmpn, "page.html"), 0o644)
            text = open(conf).read().replace(
                "add_header Location http://127.0.0.1/queue/item/1/; return 201;",
                f"root {tmpn}; try_files /page.html =404;")
            nginx.terminate()
            nginx.wait()
            with open(conf, "w") as f:
                f.write(text)
            nginx = subprocess.Popen(["nginx", "-c", conf, "-p", tmpn], stderr=subprocess.DEVNULL)
            time.sleep(0.3)
            _, bc, st, size = timed(nport, "/", {}, a.requests)
            if st == 200:
                base = statistics.median(bc)
                print(f"\nbaseline: nginx static page ({size} bytes), one keep-alive client: "
                      f"median {base:.3f} ms, p95 {p95(bc):.3f} ms")
        print(f"\n{'page':34} {'status':>6} {'bytes':>7}  {'server median':>13} {'p95':>7}  "
              f"{'client median':>13} {'p95':>7} {'x nginx':>8}")
        worst, worst_page = 0.0, ""
        for name, path in pages:
            sv, cl, st, size = timed(port, path, browser, a.requests)
            med = statistics.median(sv) if sv else float("nan")
            if p95(sv) > worst:
                worst, worst_page = p95(sv), name
            fig.add(f"page: {name}, client median", "ms", statistics.median(cl), None,
                    "nginx static page" if base else "", base,
                    f"{path}: HTTP {st}, {size} bytes; server (Server-Timing) median {med:.3f} ms, "
                    f"p95 {p95(sv):.3f} ms; {a.requests} requests")
            ratio = f"{statistics.median(cl) / base:8.1f}" if base else "       -"
            print(f"{name:34} {st:6} {size:7}  {med:10.3f} ms {p95(sv):7.3f}  "
                  f"{statistics.median(cl):10.3f} ms {p95(cl):7.3f} {ratio}")
        print(f"\nslowest page, server p95: {worst:.3f} ms (goal: under 10 ms)")
        fig.add("slowest page, server p95", "ms", worst,
                ("lt", 10, "< 10 ms"), "", None, f"{worst_page}; a job of {BUILDS:,} builds; Server-Timing, {a.requests} requests a page")
        fig.write(a.tsv)
    finally:
        steward.send_signal(signal.SIGTERM)
        steward.wait(timeout=30)
        if nginx:
            nginx.terminate()
            nginx.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
