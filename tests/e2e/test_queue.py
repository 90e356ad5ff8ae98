"""The queue: merging, cancelling, listing, blocking, concurrency, stop, progressive logs."""
import json
import pathlib
import time

import pytest

from conftest import SLOW, create_job, job_xml
from e2e_helpers import (assert_nothing_queued_or_built, causes_of, console, item_id, item_path, job_info,
                         params_of, queue_items, started_server, wait_for)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server (2 executors) for the module; each test uses its own jobs and leaves no
    build running and no item waiting."""
    s = started_server(tmp_path_factory.mktemp("queue") / "home")
    yield s
    s.stop()


def job_items(server, *jobs):
    return [i for i in queue_items(server, server.alice) if i["task"]["name"] in jobs]


def cancel_all(server, *jobs):
    for i in job_items(server, *jobs):
        r = server.post(f"queue/cancelItem?id={i['id']}", auth=server.alice, allow_redirects=False)
        assert r.status_code == 302, r.text
    assert job_items(server, *jobs) == []


def item_json(server, location, auth):
    r = server.get(item_path(location) + "api/json", auth=auth)
    assert r.status_code == 200, r.text
    return r.json()


def gated_script(flag, name="build"):
    """A script that says it started, then waits (bounded) until the test creates flag."""
    return (f'echo "{name} $BUILD_NUMBER started"; i=0; '
            f'while [ ! -e "{flag}" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; '
            f'echo "{name} $BUILD_NUMBER done"')


def running(server, job, number, auth):
    r = server.get(f"job/{job}/{number}/api/json", auth=auth)
    return r.status_code == 200 and r.json()["building"] and \
        "started" in console(server, job, number, auth)


def test_identical_requests_merge_into_one_item(server):
    create_job(server, "merge", job_xml([("string", "P", "x")], token="trig", quiet=30))
    a = server.post("job/merge/buildWithParameters?P=same", auth=server.alice)
    assert a.status_code == 201, a.text
    b = server.get("job/merge/buildWithParameters?token=trig&P=same&cause=second")
    assert b.status_code == 201, b.text
    assert b.headers["Location"] == a.headers["Location"]

    item = item_json(server, a.headers["Location"], server.alice)
    assert params_of(item) == {"P": "same"}
    causes = causes_of(item)
    assert len(causes) == 2, causes
    kinds = sorted(c["_class"] for c in causes)
    assert kinds == ["hudson.model.Cause$RemoteCause", "hudson.model.Cause$UserIdCause"]
    descs = {c["shortDescription"] for c in causes}
    assert descs == {"Started by user alice",
                     "Started by remote host 127.0.0.1 with note: second"}

    # a different value is a different request: a new item
    c = server.post("job/merge/buildWithParameters?P=other", auth=server.alice)
    assert c.status_code == 201
    assert c.headers["Location"] != a.headers["Location"]
    assert len(job_items(server, "merge")) == 2

    # a job without parameters always merges, also with delay=
    create_job(server, "noparams", job_xml(token="t2"))
    d = server.post("job/noparams/build?delay=10sec", auth=server.alice)
    e = server.get("job/noparams/build?token=t2&delay=10sec")
    assert d.status_code == e.status_code == 201
    assert d.headers["Location"] == e.headers["Location"]
    assert len(causes_of(item_json(server, d.headers["Location"], server.alice))) == 2
    assert len(job_items(server, "merge", "noparams")) == 3
    cancel_all(server, "merge", "noparams")


def test_merge_keeps_the_earlier_due_time(server):
    """Jenkins moves a merged item's due time to the earlier of the two."""
    create_job(server, "soonest", job_xml())
    late = server.post("job/soonest/build?delay=600sec", auth=server.alice)
    assert late.status_code == 201
    item = item_json(server, late.headers["Location"], server.alice)
    assert item["timestamp"] > item["inQueueSince"] + 590000
    now = server.post("job/soonest/build?delay=0sec", auth=server.alice)
    assert now.status_code == 201
    assert now.headers["Location"] == late.headers["Location"]
    item = server.wait_queue_item(late.headers["Location"], server.alice, timeout=10)
    assert item["executable"]["number"] == 1
    assert len(causes_of(item)) == 2
    assert server.wait_build("soonest", 1, server.alice)["result"] == "SUCCESS"


def test_cancel_item_by_id(server):
    create_job(server, "cancelme", job_xml([("string", "P", "x")]))
    t0 = time.time()
    r = server.post("job/cancelme/buildWithParameters?P=1&delay=2sec", auth=server.alice)
    assert r.status_code == 201
    loc = r.headers["Location"]
    qid = int(loc.rstrip("/").rsplit("/", 1)[1])
    assert item_json(server, loc, server.alice)["why"].startswith("In the quiet period")

    c = server.post(f"queue/cancelItem?id={qid}", auth=server.alice, allow_redirects=False)
    assert c.status_code == 302, c.text
    assert c.headers.get("Content-Length") == "0"
    item = item_json(server, loc, server.alice)
    assert item["cancelled"] is True
    assert item["executable"] is None
    assert item["_class"] == "hudson.model.Queue$LeftItem"
    # cancelling it again: it is not waiting any more
    again = server.post(f"queue/cancelItem?id={qid}", auth=server.alice, allow_redirects=False)
    assert again.status_code == 404

    # a witness queued after it, with the same delay, is due later: once the witness
    # has built, the cancelled item's time has passed, and it never built
    assert_nothing_queued_or_built(server, "cancelme", server.alice)
    w = server.post("job/cancelme/buildWithParameters?P=2&delay=2sec", auth=server.alice)
    assert w.status_code == 201 and w.headers["Location"] != loc
    n = server.wait_queue_item(w.headers["Location"], server.alice, timeout=20)["executable"]["number"]
    assert n == 1
    assert server.wait_build("cancelme", n, server.alice)["result"] == "SUCCESS"
    assert time.time() >= t0 + 2
    info = server.get("job/cancelme/api/json", auth=server.alice).json()
    assert [b["number"] for b in info["builds"]] == [1], info
    assert info["inQueue"] is False
    assert item_json(server, loc, server.alice)["cancelled"] is True


def test_queue_lists_waiting_items(server):
    create_job(server, "waits", job_xml([("string", "P", "x")], quiet=30))
    locs = [server.post(f"job/waits/buildWithParameters?P={v}", auth=server.alice)
            .headers["Location"] for v in ("a", "b")]
    r = server.get("queue/api/json", auth=server.alice)
    assert r.status_code == 200
    q = r.json()
    assert q["_class"] == "hudson.model.Queue"
    items = [i for i in q["items"] if i["task"]["name"] == "waits"]
    assert sorted(i["url"] for i in items) == sorted(item_path(l) for l in locs)
    for i in items:
        assert i["_class"] == "hudson.model.Queue$WaitingItem"
        assert i["why"].startswith("In the quiet period"), i["why"]
        assert i["task"]["name"] == "waits"
        assert i["buildable"] is False and i["blocked"] is False
        assert i["timestamp"] > i["inQueueSince"] + 25000
    assert sorted(params_of(i)["P"] for i in items) == ["a", "b"]
    # anonymous (no read access) sees nothing
    assert server.get("queue/api/json").status_code == 401
    cancel_all(server, "waits")


def test_non_concurrent_job_runs_one_build_at_a_time(server, tmp_path):
    flag = pathlib.Path(server.shared) / f"{tmp_path.name}-go"
    create_job(server, "serial", job_xml([("string", "P", "x")], script=gated_script(flag)))
    first = server.post("job/serial/buildWithParameters?P=1", auth=server.alice)
    n1 = server.wait_queue_item(first.headers["Location"], server.alice)["executable"]["number"]
    wait_for(lambda: running(server, "serial", n1, server.alice), 15, "build 1 to run")

    second = server.post("job/serial/buildWithParameters?P=2", auth=server.alice)
    assert second.status_code == 201
    assert second.headers["Location"] != first.headers["Location"]

    def blocked():
        it = item_json(server, second.headers["Location"], server.alice)
        return it if it.get("why") and "already in progress" in it["why"] else None
    item = wait_for(blocked, 10, "the second item to wait for the first build")
    assert f"#{n1}" in item["why"], item["why"]
    assert item["_class"] == "hudson.model.Queue$BlockedItem"
    assert item["blocked"] is True and item["buildable"] is False
    assert item.get("executable") is None
    # it keeps waiting while the first build runs: another job's build, queued after it,
    # goes through the scheduler on the free executor and ends meanwhile
    create_job(server, "serial-witness", job_xml())
    w = server.post("job/serial-witness/build", auth=server.alice)
    wn = server.wait_queue_item(w.headers["Location"], server.alice)["executable"]["number"]
    assert server.wait_build("serial-witness", wn, server.alice)["result"] == "SUCCESS"
    assert item_json(server, second.headers["Location"], server.alice).get("executable") is None
    assert server.get(f"job/serial/{n1 + 1}/api/json", auth=server.alice).status_code == 404

    flag.touch()
    n2 = server.wait_queue_item(second.headers["Location"], server.alice)["executable"]["number"]
    assert n2 == n1 + 1
    b1 = server.wait_build("serial", n1, server.alice)
    b2 = server.wait_build("serial", n2, server.alice)
    assert b1["result"] == b2["result"] == "SUCCESS"
    assert b2["timestamp"] >= b1["timestamp"] + b1["duration"]


def test_concurrent_job_runs_two_builds_at_once(server, tmp_path):
    flag = pathlib.Path(server.shared) / f"{tmp_path.name}-go"
    create_job(server, "parallel", job_xml([("string", "P", "x")], concurrent=True,
                                           script=gated_script(flag)))
    locs = [server.post(f"job/parallel/buildWithParameters?P={v}", auth=server.alice)
            .headers["Location"] for v in ("1", "2")]
    assert locs[0] != locs[1]
    numbers = sorted(server.wait_queue_item(l, server.alice)["executable"]["number"] for l in locs)
    assert numbers == [1, 2]
    wait_for(lambda: all(running(server, "parallel", n, server.alice) for n in numbers), 15,
             "both builds to run at once")
    builds = [server.get(f"job/parallel/{n}/api/json", auth=server.alice).json() for n in numbers]
    assert sorted(b["executor"]["number"] for b in builds) == [0, 1]
    flag.touch()
    for n in numbers:
        assert server.wait_build("parallel", n, server.alice)["result"] == "SUCCESS"


def test_stop_running_build(server):
    create_job(server, "stopme", job_xml(script="echo started; sleep 30; echo not-reached"))
    r = server.post("job/stopme/build", auth=server.alice)
    n = server.wait_queue_item(r.headers["Location"], server.alice)["executable"]["number"]
    wait_for(lambda: running(server, "stopme", n, server.alice), 15, "the build to run")
    t0 = time.time()
    s = server.post(f"job/stopme/{n}/stop", auth=server.alice, allow_redirects=False)
    assert s.status_code == 302
    assert s.headers["Location"] == f"{server.url}job/stopme/{n}/"
    b = server.wait_build("stopme", n, server.alice, timeout=10)
    assert time.time() - t0 < 10 * SLOW
    assert b["result"] == "ABORTED"
    log = console(server, "stopme", n, server.alice)
    assert "not-reached" not in log and log.rstrip().endswith("Finished: ABORTED")
    # GET is not a stop, and anonymous may not stop builds
    assert server.get(f"job/stopme/{n}/stop", auth=server.alice,
                      allow_redirects=False).status_code == 405
    assert server.post(f"job/stopme/{n}/stop", allow_redirects=False).status_code == 401


def test_progressive_log(server):
    create_job(server, "prog", job_xml(
        script='for i in $(seq 1 10); do echo "line $i of ten"; sleep 0.2; done'))
    r = server.post("job/prog/build", auth=server.alice)
    n = server.wait_queue_item(r.headers["Location"], server.alice)["executable"]["number"]

    text, start, pages, more_seen = b"", 0, 0, 0
    deadline = time.time() + 30 * SLOW
    while True:
        assert time.time() < deadline, "progressiveText never ended"
        p = server.get(f"job/prog/{n}/logText/progressiveText?start={start}", auth=server.alice)
        assert p.status_code == 200
        assert p.headers["Content-Type"].startswith("text/plain")
        size = int(p.headers["X-Text-Size"])
        assert size == start + len(p.content), (start, size, len(p.content))
        text += p.content
        start = size
        pages += 1
        if p.headers.get("X-More-Data") != "true":
            break
        more_seen += 1
        time.sleep(0.1)
    assert more_seen >= 3, f"the log should have been read while it grew ({more_seen})"
    full = server.get(f"job/prog/{n}/consoleText", auth=server.alice).content
    assert text == full
    assert b"line 1 of ten" in full and b"line 10 of ten" in full
    assert full.rstrip().endswith(b"Finished: SUCCESS")
    assert server.get(f"job/prog/{n}/api/json", auth=server.alice).json()["building"] is False

    # a start past the end restarts from 0
    p = server.get(f"job/prog/{n}/logText/progressiveText?start={len(full) + 1000}",
                   auth=server.alice)
    assert p.status_code == 200 and p.content == full
    assert int(p.headers["X-Text-Size"]) == len(full) and "X-More-Data" not in p.headers
    # reading from the end: nothing new, and finished
    p = server.get(f"job/prog/{n}/logText/progressiveText?start={len(full)}", auth=server.alice)
    assert p.content == b"" and int(p.headers["X-Text-Size"]) == len(full)
    assert "X-More-Data" not in p.headers


def test_queue_item_urls(server):
    create_job(server, "items", job_xml())
    r = server.post("job/items/build", auth=server.alice)
    loc = r.headers["Location"]
    qid = int(loc.rstrip("/").rsplit("/", 1)[1])
    item = server.wait_queue_item(loc, server.alice)
    server.wait_build("items", item["executable"]["number"], server.alice)

    # a left item stays readable, with its build
    left = item_json(server, loc, server.alice)
    assert left["_class"] == "hudson.model.Queue$LeftItem"
    assert left["id"] == qid and left["url"] == f"queue/item/{qid}/"
    assert left["cancelled"] is False
    assert left["executable"]["number"] == item["executable"]["number"]
    assert left["executable"]["url"] == f"{server.url}job/items/{item['executable']['number']}/"
    assert job_info(server, "items", server.alice)["lastBuild"]["number"] == 1

    # the item's page without api/: 200 text
    page = server.get(f"queue/item/{qid}/", auth=server.alice)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/plain")
    assert page.text.startswith("Queue item exists")

    # an unknown id: 404, also for the page and the XML API
    for path in (f"queue/item/{qid + 1000}/api/json", f"queue/item/{qid + 1000}/",
                 f"queue/item/{qid + 1000}/api/xml"):
        assert server.get(path, auth=server.alice).status_code == 404, path
    # the build knows its queue id
    b = server.get("job/items/1/api/json", auth=server.alice).json()
    assert b["queueId"] == qid


def test_a_full_queue_answers_503_with_retry_after_and_queues_nothing(tmp_path):
    from conftest import Server
    s = Server(tmp_path / "home")
    s.add_user("alice", "alice-password", admin=True)
    token = s.new_token("alice", "ci")
    s.start("--queue-limit", "2")
    try:
        auth = ("alice", token)
        create = s.post("createItem?name=full", data=job_xml([("string", "P", "")], quiet=600),
                        headers={"Content-Type": "application/xml"}, auth=auth)
        assert create.status_code == 200
        assert [s.post(f"job/full/buildWithParameters?P={i}", auth=auth).status_code
                for i in range(2)] == [201, 201]
        r = s.post("job/full/buildWithParameters?P=2", auth=auth)
        assert r.status_code == 503 and r.headers["Retry-After"] == "5"
        assert "2 items" in r.json()["presented"] and "nothing was queued" in r.json()["fix"]
        # an identical request still merges into a waiting item
        assert s.post("job/full/buildWithParameters?P=1", auth=auth).status_code == 201
        assert len(s.get("queue/api/json", auth=auth).json()["items"]) == 2
        for item in s.get("queue/api/json", auth=auth).json()["items"]:
            s.post(f"queue/cancelItem?id={item['id']}", auth=auth)
    finally:
        s.stop()


def test_an_item_starts_when_its_quiet_period_ends(server):
    """Nothing else happens on the server: the end of the quiet period alone starts the build."""
    create_job(server, "onTime", job_xml())
    r = server.post("job/onTime/build?delay=1sec", auth=server.alice)
    assert r.status_code == 201
    item = server.wait_queue_item(r.headers["Location"], server.alice, timeout=5)
    build = server.wait_build("onTime", item["executable"]["number"], server.alice)
    waited = build["timestamp"] - item["inQueueSince"]
    # well before the next once-a-minute look at the timers
    assert 1000 <= waited < 5000 * SLOW, waited


def test_items_wait_for_a_free_executor_and_start_when_one_frees(tmp_path):
    from conftest import Server
    s = Server(tmp_path / "home", executors=1)
    s.add_user("alice", "alice-password", admin=True)
    s.alice = ("alice", s.new_token("alice", "ci"))
    s.start()
    try:
        flag = pathlib.Path(s.shared) / f"{tmp_path.name}-go"
        create_job(s, "busy", job_xml(script=gated_script(flag)))
        create_job(s, "next", job_xml())
        first = s.post("job/busy/build", auth=s.alice)
        n1 = s.wait_queue_item(first.headers["Location"], s.alice)["executable"]["number"]
        second = s.post("job/next/build", auth=s.alice)
        assert second.status_code == 201

        def waiting():
            it = item_json(s, second.headers["Location"], s.alice)
            return it if it.get("why") == "Waiting for next available executor" else None
        item = wait_for(waiting, 10, "the item to wait for the only executor")
        assert item["buildable"] is True and item.get("executable") is None
        # a cancel of a third item goes through the engine's loop: after its answer the
        # scheduler has had turns, and the item still waits
        create_job(s, "later", job_xml())
        third = s.post("job/later/build?delay=600sec", auth=s.alice)
        assert third.status_code == 201
        c = s.post(f"queue/cancelItem?id={item_id(third.headers['Location'])}", auth=s.alice,
                   allow_redirects=False)
        assert c.status_code == 302
        assert item_json(s, second.headers["Location"], s.alice).get("executable") is None

        flag.touch()
        n2 = s.wait_queue_item(second.headers["Location"], s.alice)["executable"]["number"]
        assert s.wait_build("busy", n1, s.alice)["result"] == "SUCCESS"
        assert s.wait_build("next", n2, s.alice)["result"] == "SUCCESS"
    finally:
        s.stop()


def test_a_long_queue_lists_the_same_written_in_turn_and_built_whole(server, tmp_path):
    """Past 64 items the list reads every job's state at once, and compact api/json writes
    each item in turn; ?pretty builds the whole list. Both must say the same."""
    flag = pathlib.Path(server.shared) / f"{tmp_path.name}-go"
    create_job(server, "long-serial", job_xml([("string", "P", "x")], script=gated_script(flag)))
    create_job(server, "long-wait", job_xml([("string", "N", "0"), ("password", "S", "")],
                                            quiet=3600))
    first = server.post("job/long-serial/buildWithParameters?P=1", auth=server.alice)
    n1 = server.wait_queue_item(first.headers["Location"], server.alice)["executable"]["number"]
    wait_for(lambda: running(server, "long-serial", n1, server.alice), 15, "build 1 to run")
    second = server.post("job/long-serial/buildWithParameters?P=2", auth=server.alice)
    for i in range(70):
        r = server.post(f"job/long-wait/buildWithParameters?N={i}&S=hush-{i}", auth=server.alice)
        assert r.status_code == 201, r.text
    try:
        def ours(text):
            items = [i for i in json.loads(text)["items"]
                     if i["task"]["name"] in ("long-serial", "long-wait")]
            for i in items:   # the quiet period's countdown moves between two requests
                if i["why"].startswith("In the quiet period"):
                    i["why"] = "In the quiet period"
            return items

        compact = server.get("queue/api/json", auth=server.alice)
        pretty = server.get("queue/api/json?pretty=true", auth=server.alice)
        assert compact.status_code == pretty.status_code == 200
        assert "\n" not in compact.text and "\n" in pretty.text
        assert "hush-" not in compact.text
        a, b = ours(compact.text), ours(pretty.text)
        assert len(a) == 71 and a == b
        blocked = [i for i in a if i["task"]["name"] == "long-serial"]
        assert blocked[0]["why"] == f"Build #{n1} is already in progress (ETA: N/A)", blocked
        assert blocked[0]["_class"] == "hudson.model.Queue$BlockedItem"
        assert blocked[0]["task"]["color"] == "notbuilt_anime"
        assert item_id(second.headers["Location"]) == blocked[0]["id"]
        assert sorted(params_of(i)["N"] for i in a if i["task"]["name"] == "long-wait") == \
            sorted(str(i) for i in range(70))
    finally:
        cancel_all(server, "long-wait", "long-serial")
        flag.touch()
        assert server.wait_build("long-serial", n1, server.alice)["result"] == "SUCCESS"


@pytest.mark.parametrize("how", ["api", "disk"])
def test_an_item_waiting_for_a_label_starts_when_its_job_no_longer_asks_for_it(server, how):
    """Nothing else happens on the server: the job saved without the label, through the API or
    by hand on disk, starts the build."""
    name = f"pinned-{how}"
    pinned = job_xml().replace("<canRoam>true</canRoam>",
                               "<canRoam>false</canRoam><assignedNode>nowhere</assignedNode>")
    create_job(server, name, pinned)
    r = server.post(f"job/{name}/build?delay=0sec", auth=server.alice)
    assert r.status_code == 201
    loc = r.headers["Location"]
    wait_for(lambda: "nowhere" in (server.get(f"{item_path(loc)}api/json", auth=server.alice)
                                   .json().get("why") or ""), timeout=10 * SLOW,
             what="the item waiting for the label")
    if how == "api":
        r = server.post(f"job/{name}/config.xml", data=job_xml(),
                        headers={"Content-Type": "application/xml"}, auth=server.alice)
        assert r.status_code == 200, r.text
    else:
        path = pathlib.Path(server.home) / "jobs" / name / "config.xml"
        tmp = path.with_name("config.xml.new")
        tmp.write_text(job_xml())
        tmp.replace(path)
    item = server.wait_queue_item(loc, server.alice, timeout=10 * SLOW)
    build = server.wait_build(name, item["executable"]["number"], server.alice)
    assert build["result"] == "SUCCESS"
