#!/usr/bin/python3
"""A build's testReport/api/json at 100,000 cases, measured by hand (docs/PERFORMANCE.md).

Starts a server, runs one build of a job, stops the server and puts 100,000 failing
cases into steward.db with sqlite3 (each with a message and a two-line stack trace),
starts it again and asks for the report twice per query, printing each answer's size,
its time and the server's VmHWM/VmRSS after it.

  STEWARD_BIN=build/steward bench/test_report.py [--cases N]
"""
import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from conftest import create_job, job_xml, started_server  # noqa: E402
from test_publishers import run  # noqa: E402

QUERIES = ["", "?tree=suites[cases[name,status]]", "?tree=failCount,passCount"]


def put_cases(db_path, job, number, n):
    db = sqlite3.connect(db_path)
    with db:
        db.execute("INSERT INTO test_results(job, build, total, failed, skipped, duration) "
                   "VALUES(?,?,?,?,?,?)", (job, number, n, n, 0, n * 0.01))
        db.executemany(
            "INSERT INTO test_cases(job, build, pos, suite, class_name, name, status, duration, "
            "failed_since, error_details, error_stack) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
            ((job, number, p, f"suite{p // 1000}", f"pkg.sub.Test{p // 10}",
              f"test_case_number_{p}", "FAILED", 0.01, number, "expected 1, got 2",
              "java.lang.AssertionError: expected 1, got 2\n"
              f"\tat pkg.sub.Test{p // 10}.test_case_number_{p}(Test.java:{p})\n")
             for p in range(n)))
    db.close()


def memory(pid):
    with open(f"/proc/{pid}/status") as f:
        return " ".join(" ".join(line.split()) for line in f
                        if line.startswith(("VmHWM", "VmRSS")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=100000)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="steward-bench-report-")
    home = os.path.join(tmp, "home")
    try:
        s = started_server(home)
        create_job(s, "big", job_xml())
        number = run(s, "big")["number"]
        s.stop()
        put_cases(os.path.join(home, "steward.db"), "big", number, a.cases)
        s.start()
        print(f"started: {memory(s.proc.pid)}")
        for q in QUERIES:
            for _ in range(2):
                t = time.monotonic()
                r = s.get(f"job/big/{number}/testReport/api/json{q}", auth=s.alice)
                took = time.monotonic() - t
                print(f"{q or 'whole'}: {r.status_code} {len(r.content)} bytes {took:.2f} s; "
                      f"{memory(s.proc.pid)}")
        s.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
