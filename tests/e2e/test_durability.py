"""kill -9 at a bad moment: running builds end ABORTED, waiting items run, every 201 is kept."""
import os
import signal
import sqlite3
import threading

import pytest
import requests

from conftest import SLOW, create_job, job_xml
from e2e_helpers import causes_of, console, item_path, params_of, pids_running, restart, wait_for


@pytest.fixture
def orphans():
    """Build processes a kill -9 may leave behind: the test records their command lines,
    and what still runs with one is ended."""
    argvs = []
    yield argvs
    for argv in argvs:
        for pid in pids_running(*argv):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


@pytest.mark.parametrize("sandbox", [True, False], ids=["sandbox", "no-sandbox"])
def test_kill_9_with_a_running_build_and_a_waiting_item(server, orphans, sandbox):
    # in the sandbox, the build's processes end with the server; without it, the next
    # start finds them by their environment and kills them
    extra = () if sandbox else ("--no-sandbox",)
    if not sandbox:
        server.stop()
        restart(server, *extra)
    sleeper = ("sleep", "60.0731")
    orphans.append(sleeper)
    create_job(server, "long", job_xml(
        script=f'echo "long started"; exec {" ".join(sleeper)}'))
    create_job(server, "waiter", job_xml([("string", "P", "x")], script='echo "waiter P=$P"'))

    # waiter builds once before the kill, so its waiting item must become #2
    r = server.post("job/waiter/buildWithParameters?P=before", auth=server.alice)
    n = server.wait_queue_item(r.headers["Location"], server.alice)["executable"]["number"]
    assert server.wait_build("waiter", n, server.alice)["result"] == "SUCCESS"

    r = server.post("job/long/build", auth=server.alice)
    assert r.status_code == 201
    long_n = server.wait_queue_item(r.headers["Location"], server.alice)["executable"]["number"]
    assert long_n == 1
    wait_for(lambda: pids_running(*sleeper), 15, "the long build to run")
    assert "long started" in console(server, "long", 1, server.alice)

    w = server.post("job/waiter/buildWithParameters?P=after&delay=2sec", auth=server.alice)
    assert w.status_code == 201
    waiting = item_path(w.headers["Location"])
    item = server.get(waiting + "api/json", auth=server.alice).json()
    assert item["why"].startswith("In the quiet period")

    server.stop(signal.SIGKILL)
    restart(server, *extra)

    # the running build: ABORTED, with a note in its log and an abortReason
    b = server.get("job/long/1/api/json", auth=server.alice).json()
    assert b["building"] is False
    assert b["result"] == "ABORTED"
    assert b.get("abortReason"), b
    assert "stopped" in b["abortReason"].lower() or "restart" in b["abortReason"].lower()
    log = console(server, "long", 1, server.alice)
    assert "long started" in log
    assert "Steward stopped while this build was running" in log, log
    assert log.rstrip().endswith("Finished: ABORTED")
    # what the build left running is gone, so it cannot race the next build
    wait_for(lambda: not pids_running(*sleeper), 5, "the orphaned build process to be gone",
             seen=lambda: pids_running(*sleeper))
    if not sandbox:
        assert "Killed 1 process the build left running." in log
    job = server.get("job/long/api/json", auth=server.alice).json()
    assert job["color"] == "aborted" and job["lastBuild"]["number"] == 1

    # the waiting item runs after the restart, with its parameter and cause
    item = server.wait_queue_item(server.url + waiting, server.alice, timeout=20)
    assert item["cancelled"] is False
    assert item["executable"]["number"] == 2
    assert params_of(item) == {"P": "after"}
    assert [c["shortDescription"] for c in causes_of(item)] == ["Started by user alice"]
    wb = server.wait_build("waiter", 2, server.alice)
    assert wb["result"] == "SUCCESS"
    assert "waiter P=after" in console(server, "waiter", 2, server.alice)

    # build numbers and queue ids continue
    r = server.post("job/long/config.xml", data=job_xml(script="echo quick"), auth=server.alice,
                    headers={"Content-Type": "application/xml"})
    assert r.status_code == 200
    r = server.post("job/long/build", auth=server.alice)
    assert r.status_code == 201
    assert int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1]) > \
        int(waiting.rstrip("/").rsplit("/", 1)[1])
    item = server.wait_queue_item(r.headers["Location"], server.alice)
    assert item["executable"]["number"] == 2
    assert server.wait_build("long", 2, server.alice)["result"] == "SUCCESS"
    r = server.post("job/waiter/buildWithParameters?P=third", auth=server.alice)
    assert server.wait_queue_item(r.headers["Location"], server.alice)["executable"]["number"] == 3


def test_every_201_before_kill_9_is_on_disk(server):
    # a long quiet period keeps every item waiting: the test is about the queue, not builds
    create_job(server, "flood", job_xml([("string", "N", "")], quiet=600, token="flood-tok"))
    acked = []            # (location, value) of every 201
    lock = threading.Lock()
    stop = threading.Event()
    errors = []
    target = 200

    def fire(worker):
        s = requests.Session()
        i = 0
        while not stop.is_set():
            value = f"w{worker}-{i}"
            i += 1
            try:
                if i % 2:
                    r = s.post(server.url + "job/flood/buildWithParameters", params={"N": value},
                               auth=server.alice, timeout=10 * SLOW)
                else:
                    r = s.get(server.url + "job/flood/buildWithParameters",
                              params={"N": value, "token": "flood-tok"}, timeout=10 * SLOW)
            except requests.RequestException:
                if stop.is_set() or server.proc is None:
                    return
                continue  # the server is being killed
            if r.status_code == 201:
                with lock:
                    acked.append((r.headers["Location"], value))
            elif not stop.is_set():
                errors.append((r.status_code, r.text[:200]))

    threads = [threading.Thread(target=fire, args=(w,), daemon=True) for w in range(4)]
    for t in threads:
        t.start()
    wait_for(lambda: len(acked) >= target or errors, 60, f"{target} triggers to be answered",
             interval=0.01)
    assert not errors, errors[:5]
    # kill while the triggers keep coming
    server.stop(signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join(timeout=30 * SLOW)
    with lock:
        answered = list(acked)
    assert len(answered) >= target
    locations = [l for l, _ in answered]
    assert len(set(locations)) == len(locations), "two different requests got the same item"

    restart(server)
    s = requests.Session()
    s.auth = server.alice
    missing, wrong = [], []
    for loc, value in answered:
        r = s.get(server.url + item_path(loc) + "api/json", timeout=10 * SLOW)
        if r.status_code != 200:
            missing.append((loc, r.status_code))
            continue
        item = r.json()
        if params_of(item) != {"N": value} or item.get("cancelled"):
            wrong.append((loc, value, item))
    assert not missing, f"{len(missing)} of {len(answered)} acknowledged items are gone: {missing[:5]}"
    assert not wrong, wrong[:3]
    # the queue lists at least every acknowledged item (unanswered ones may be there too)
    listed = {i["url"] for i in s.get(server.url + "queue/api/json").json()["items"]}
    assert {item_path(l) for l in locations} <= listed
    # and an id never handed out is still a 404
    top = max(int(l.rstrip("/").rsplit("/", 1)[1]) for l in locations)
    assert s.get(server.url + f"queue/item/{top + 100000}/api/json").status_code == 404


def test_kill_9_before_the_build_log_exists(server):
    """The crash came after a build's row was committed, before its directory and log were
    made (found by tests/torture): recovery still gives it a log that ends with the notice."""
    create_job(server, "early", job_xml(script="echo never"))
    server.stop(signal.SIGKILL)
    db = sqlite3.connect(os.path.join(server.home, "steward.db"))
    with db:
        qid = db.execute("INSERT INTO queue(job, in_queue_since_ms, due_ms, state, left_ms, "
                         "build_number) VALUES('early', 1000, 1000, 1, 2000, 1)").lastrowid
        db.execute("INSERT INTO job_numbers(job, next_build) VALUES('early', 2)")
        db.execute("INSERT INTO builds(job, number, queue_id, start_ms, executor) "
                   "VALUES('early', 1, ?, 2000, 0)", (qid,))
    db.close()
    assert not os.path.exists(os.path.join(server.home, "jobs", "early", "builds", "1"))

    restart(server)
    b = server.get("job/early/1/api/json", auth=server.alice).json()
    assert b["result"] == "ABORTED" and "stopped" in b["abortReason"].lower(), b
    log = console(server, "early", 1, server.alice)
    assert "Steward stopped while this build was running" in log, log
    assert log.rstrip().endswith("Finished: ABORTED"), log
    # the number stays taken
    r = server.post("job/early/build", auth=server.alice)
    assert server.wait_queue_item(r.headers["Location"], server.alice)["executable"]["number"] == 2
