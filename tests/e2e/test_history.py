"""A long history and a large log: the answers are right, and the server's memory stays flat.

Histories are rows inserted into a stopped server's steward.db (as bench/history.py
makes them, and as the engine writes them); logs are files placed where a build keeps
its log. Speed is the bench's business: nothing here is timed."""
import hashlib
import json
import os
import pathlib
import re
import sqlite3

from conftest import create_job, job_xml
from e2e_helpers import console, item_path, job_info, restart, wait_for

MIB = 1 << 20
PAGE = MIB   # util/bounds.h BOUND_LOG_PAGE_BYTES: one progressiveText answer
# a queue item's causes as the engine writes them: [kind, user, token, addr, note, count]
BY_ALICE = json.dumps([[0, "alice", None, None, None, 1]], separators=(",", ":"))


def insert_builds(server, job, results, discarded=()):
    """Builds 1..len(results) of `job` with those results (None: running) into the stopped
    server's database, each with the queue item it came from; `discarded` numbers are left
    out. Build N started at N seconds and took N * 10 ms."""
    db = sqlite3.connect(os.path.join(server.home, "steward.db"))
    with db:
        qid = db.execute("SELECT coalesce(max(id), 0) FROM queue").fetchone()[0]
        for n, result in enumerate(results, 1):
            if n in discarded:
                continue
            qid += 1
            db.execute("INSERT INTO queue(id, job, in_queue_since_ms, due_ms, state, left_ms, "
                       "build_number, causes) VALUES(?, ?, ?, ?, 1, ?, ?, ?)",
                       (qid, job, n * 1000 - 5, n * 1000, n * 1000, n, BY_ALICE))
            db.execute("INSERT INTO builds(job, number, queue_id, start_ms, duration_ms, result) "
                       "VALUES(?, ?, ?, ?, ?, ?)", (job, n, qid, n * 1000, n * 10, result))
        db.execute("INSERT INTO job_numbers(job, next_build) VALUES(?, ?) ON CONFLICT(job) "
                   "DO UPDATE SET next_build = excluded.next_build", (job, len(results) + 1))
    db.close()


def place_log(server, job, number, size):
    """A log of `size` bytes of numbered lines (so that a byte out of place shows), as a
    build leaves it; returns its SHA-256."""
    d = os.path.join(server.home, "jobs", job, "builds", str(number))
    os.makedirs(d, exist_ok=True)
    line = b"%09d a line of a long build log, numbered so that an offset shows\n"
    block = b"".join(line % i for i in range(MIB // len(line % 0) + 1))[:MIB]
    h = hashlib.sha256()
    with open(os.path.join(d, "log"), "wb") as f:
        left = size
        while left > 0:
            chunk = block[:min(left, len(block))]
            # each MiB differs from the next
            chunk = b"%08d" % (size - left) + chunk[8:]
            f.write(chunk)
            h.update(chunk)
            left -= len(chunk)
    return h.hexdigest()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^VmRSS:\s+(\d+)", f.read(), re.M).group(1))


def test_a_job_with_a_long_history_names_its_permalinks_and_lists_its_newest_100(server):
    create_job(server, "long", job_xml(script="echo long"))
    server.stop()
    results = ["SUCCESS"] * 5000
    results[0:4] = ["FAILURE", "UNSTABLE", "ABORTED", "NOT_BUILT"]
    results[4989] = "FAILURE"    # #4990
    results[4994] = "UNSTABLE"   # #4995
    insert_builds(server, "long", results, discarded=range(10, 20))
    restart(server)

    info = job_info(server, "long", server.alice)
    links = {k: (v or {}).get("number") for k, v in info.items()
             if k.endswith("Build") and k != "concurrentBuild"}
    assert links == {"firstBuild": 1, "lastBuild": 5000, "lastCompletedBuild": 5000,
                     "lastSuccessfulBuild": 5000, "lastStableBuild": 5000,
                     "lastFailedBuild": 4990, "lastUnstableBuild": 4995,
                     "lastUnsuccessfulBuild": 4995}, links
    assert info["nextBuildNumber"] == 5001
    # Jenkins lists the newest 100, newest first; allBuilds only when tree= asks for it
    assert [b["number"] for b in info["builds"]] == list(range(5000, 4900, -1))
    assert info["builds"][0]["url"] == f"{server.url}job/long/5000/"
    assert "allBuilds" not in info
    every = server.get("job/long/api/json?tree=allBuilds[number]", auth=server.alice).json()
    assert [b["number"] for b in every["allBuilds"]] == \
        [n for n in range(5000, 0, -1) if not 10 <= n < 20]

    # the permalinks as URLs, and a permalink's build in detail
    assert server.get("job/long/lastUnsuccessfulBuild/buildNumber",
                      auth=server.alice).text == "4995"
    b = server.get("job/long/lastFailedBuild/api/json", auth=server.alice).json()
    assert b["number"] == 4990 and b["result"] == "FAILURE"
    detail = server.get("job/long/api/json?tree=lastUnstableBuild[number,result]",
                        auth=server.alice).json()
    assert detail["lastUnstableBuild"] == {"_class": "hudson.model.FreeStyleBuild",
                                           "number": 4995, "result": "UNSTABLE"}

    # the oldest and the newest build, each with the estimate of the newest three successes
    for n in (1, 5000):
        b = server.get(f"job/long/{n}/api/json", auth=server.alice).json()
        assert b["number"] == n and b["duration"] == n * 10 and b["timestamp"] == n * 1000
        assert b["estimatedDuration"] == (4998 + 4999 + 5000) * 10 // 3, b
        assert b["building"] is False and b["result"] == results[n - 1]
    assert server.get("job/long/15/api/json", auth=server.alice).status_code == 404
    # nothing waits, whatever was built before
    assert server.get("queue/api/json", auth=server.alice).json()["items"] == []


def test_a_build_page_links_the_nearest_builds_across_discarded_ones(server):
    create_job(server, "gaps", job_xml())
    server.stop()
    insert_builds(server, "gaps", ["SUCCESS"] * 30, discarded=range(10, 20))
    restart(server)

    def links(n):
        page = server.get(f"job/gaps/{n}/", auth=server.alice, headers={"Accept": "text/html"})
        assert page.status_code == 200, page.text
        found = dict(re.findall(r'rel="(prev|next)" href="[^"]*/job/gaps/(\d+)/"', page.text))
        return found.get("prev"), found.get("next")
    assert links(20) == ("9", "21")
    assert links(9) == ("8", "20")
    assert links(1) == (None, "2")
    assert links(30) == ("29", None)


def test_console_text_of_a_large_log_is_whole_and_leaves_the_server_memory_flat(server):
    size = 64 * MIB + 12345
    create_job(server, "biglog", job_xml())
    server.stop()
    insert_builds(server, "biglog", ["SUCCESS"])
    digest = place_log(server, "biglog", 1, size)
    restart(server)
    pid = server.proc.pid
    # every HTTP thread opens its database connection once: let them, before measuring
    for _ in range(16):
        assert server.get("job/biglog/1/logText/progressiveText?start=0",
                          auth=server.alice).status_code == 200
    before = rss_kib(pid)

    r = server.get("job/biglog/1/consoleText", auth=server.alice, stream=True)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    assert int(r.headers["Content-Length"]) == size
    h, got, peak = hashlib.sha256(), 0, before
    for chunk in r.iter_content(MIB):
        h.update(chunk)
        got += len(chunk)
        peak = max(peak, rss_kib(pid))
    assert got == size and h.hexdigest() == digest
    # the server sends the file from the page cache: a 64 MiB log never sits in its memory
    assert peak - before < 16 * 1024, (before, peak)


def test_progressive_text_answers_from_any_offset_with_its_headers(server):
    size = 5 * MIB + 777
    create_job(server, "prog", job_xml())
    server.stop()
    insert_builds(server, "prog", ["SUCCESS"])
    place_log(server, "prog", 1, size)
    restart(server)
    with open(os.path.join(server.home, "jobs", "prog", "builds", "1", "log"), "rb") as f:
        log = f.read()

    def at(start, method="get"):
        if method == "post":   # the npm client sends start as a form field
            r = server.post("job/prog/1/logText/progressiveText", auth=server.alice,
                            data={"start": str(start)})
        else:
            r = server.get(f"job/prog/1/logText/progressiveText?start={start}", auth=server.alice)
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].startswith("text/plain")
        return r.content, int(r.headers["X-Text-Size"]), r.headers.get("X-More-Data")

    # a page at a time from anywhere: the bytes at that offset, and where the next starts
    for start in (0, 1, 3 * MIB + 12345, size - PAGE, size - 100):
        body, next_start, more = at(start)
        assert body == log[start:start + PAGE], start
        assert next_start == start + len(body)
        assert more == ("true" if next_start < size else None), (start, more)
    # the end of a finished build's log: nothing, and no more to come
    assert at(size) == (b"", size, None)
    # past the end, as Jenkins: from the start again
    body, next_start, more = at(size + 1)
    assert body == log[:PAGE] and next_start == PAGE and more == "true"
    assert at(2 * MIB, "post") == (log[2 * MIB:3 * MIB], 3 * MIB, "true")
    # reading page after page gives the whole log
    text, start = b"", 0
    while True:
        body, start, more = at(start)
        text += body
        if more != "true":
            break
    assert text == log
    for bad in ("-1", "x", "99999999999999999999999"):
        assert server.get(f"job/prog/1/logText/progressiveText?start={bad}",
                          auth=server.alice).status_code == 400, bad


def test_the_console_of_a_running_build_is_what_was_written_so_far(server, tmp_path):
    flag = pathlib.Path(server.shared) / f"{tmp_path.name}-go"
    script = (f"head -c 3000000 /dev/zero | tr '\\0' a; echo; echo written; i=0; "
              f"while [ ! -e '{flag}' ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; "
              f"echo after")
    create_job(server, "growing", job_xml(script=script))
    r = server.post("job/growing/build", auth=server.alice)
    n = server.wait_queue_item(r.headers["Location"], server.alice)["executable"]["number"]

    def written():
        c = server.get(f"job/growing/{n}/consoleText", auth=server.alice).content
        return c if b"written\n" in c else None
    snapshot = wait_for(written, 30, "the build to write its output")
    # what the answer promised is what came, and none of it is the part still to come
    assert b"after" not in snapshot and snapshot.count(b"a" * 1000) >= 2999
    p = server.get(f"job/growing/{n}/logText/progressiveText?start={len(snapshot)}",
                   auth=server.alice)
    assert p.status_code == 200 and p.headers["X-More-Data"] == "true"
    assert int(p.headers["X-Text-Size"]) == len(snapshot) + len(p.content)
    flag.touch()
    assert server.wait_build("growing", n, server.alice)["result"] == "SUCCESS"
    final = console(server, "growing", n, server.alice).encode()
    assert final.startswith(snapshot) and final.rstrip().endswith(b"Finished: SUCCESS")
    p = server.get(f"job/growing/{n}/logText/progressiveText?start={len(final)}",
                   auth=server.alice)
    assert p.content == b"" and "X-More-Data" not in p.headers


def test_a_start_forgets_the_password_values_an_older_version_left(server):
    """Steward empties a password value once its build has it; an item an older version
    (or a crash) left with one has it emptied at the next start, and an item still waiting
    keeps its own for its build. The start reads only the values left to forget."""
    create_job(server, "secret", job_xml([("password", "PW", "")], quiet=3600))
    r = server.post("job/secret/buildWithParameters", auth=server.alice, data={"PW": "keep-me"})
    assert r.status_code == 201
    server.stop()
    db_path = os.path.join(server.home, "steward.db")
    insert_builds(server, "secret", ["SUCCESS"] * 3)
    db = sqlite3.connect(db_path)
    with db:
        db.execute("UPDATE queue SET params = ?, secrets = 1 "
                   "WHERE id = (SELECT max(id) FROM queue WHERE state = 1)",
                   (json.dumps([["PW", 4, "hunter2"]], separators=(",", ":")),))
    db.close()
    restart(server)
    db = sqlite3.connect(db_path)
    values = sorted(db.execute("SELECT j.value->>2, q.secrets FROM queue q, json_each(q.params) j "
                               "WHERE j.value->>0 = 'PW'"))
    db.close()
    assert values == [("", 0), ("keep-me", 1)], values
    item = server.get(item_path(r.headers["Location"]) + "api/json", auth=server.alice).json()
    assert item["_class"] == "hudson.model.Queue$WaitingItem"
    assert server.post(f"queue/cancelItem?id={item['id']}", auth=server.alice,
                       allow_redirects=False).status_code == 302
