"""The audit log: what is recorded (who, how, from where), reading it over HTTP, on a page
and offline, and how long it is kept."""
import sqlite3
import time
import urllib.parse

import pytest
import requests

from conftest import Server, create_job, job_xml
from e2e_helpers import web_sign_in


def entries(srv, auth=None, **filters):
    r = srv.get("manage/audit/api/json?" + urllib.parse.urlencode(filters),
                auth=auth or srv.alice)
    assert r.status_code == 200, r.text
    return r.json()


def find(log, action, **match):
    return [e for e in log["entries"] if e["action"] == action and
            all(e.get(k) == v for k, v in match.items())]


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("audit") / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.add_user("bob", "bob-password")
    s.alice_token = s.new_token("alice", "ci")
    s.alice = ("alice", s.alice_token)
    s.bob = ("bob", s.new_token("bob", "laptop"))
    s.start()
    create_job(s, "j", job_xml(token="tok", quiet=3600))
    yield s
    s.stop()


def test_triggers_are_recorded_with_who_how_and_from_where(srv):
    assert srv.post("job/j/build?token=tok&cause=nightly").status_code == 201
    assert srv.post("job/j/build", auth=srv.bob).status_code == 201
    log = entries(srv, job="j", action="trigger")
    by_token = find(log, "trigger", via="triggerToken")
    assert by_token and by_token[0]["user"] == "anonymous" and by_token[0]["address"] == "127.0.0.1"
    by_bob = find(log, "trigger", user="bob")
    assert by_bob and by_bob[0]["via"] == "apiToken" and by_bob[0]["tokenName"] == "laptop"
    assert by_bob[0]["address"] == "127.0.0.1" and "queue item" in by_bob[0]["detail"]


def test_logins_and_their_failures_are_recorded(srv):
    assert srv.get("api/json", auth=("bob", "wrong-password")).status_code == 401
    assert web_sign_in(srv.url, "bob", "not-it").status_code == 401
    assert web_sign_in(srv.url, "bob", "bob-password").status_code == 302
    log = entries(srv)
    failed = find(log, "login-failed")
    assert any("HTTP Basic" in e["detail"] and "'bob'" in e["detail"] for e in failed)
    assert any("login page" in e["detail"] for e in failed)
    ok = find(log, "login", user="bob")
    assert ok and ok[0]["via"] == "password"


def test_job_token_and_permission_changes_are_recorded(srv):
    create_job(srv, "k", job_xml())
    assert srv.post("job/k/config.xml", data=job_xml(description="new").encode(),
                    headers={"Content-Type": "application/xml"}, auth=srv.alice).status_code == 200
    assert srv.post("job/k/doRename?newName=k2", auth=srv.alice,
                    allow_redirects=False).status_code == 302
    assert srv.post("job/k2/doDelete", auth=srv.alice, allow_redirects=False).status_code == 302
    r = srv.post("me/descriptorByName/jenkins.security.ApiTokenProperty/generateNewToken",
                 data={"newTokenName": "extra"}, auth=srv.bob)
    assert r.status_code == 200
    srv.admin("security", "matrix", "grant", "bob", "Job/Read")
    log = entries(srv, user="alice")
    assert [e["action"] for e in log["entries"] if e["job"] in ("k", "k2")][:4] == [
        "job-delete", "job-rename", "job-configure", "job-create"]
    assert find(log, "job-rename")[0]["detail"] == "to 'k2'"
    assert find(entries(srv, user="bob"), "token-new")[0]["detail"] == \
        "API token 'extra' of user 'bob'"
    offline = find(entries(srv, action="grant"), "grant")
    assert offline and offline[0]["via"] == "offline" and "Job/Read to bob" in offline[0]["detail"]


def test_stops_and_cancels_are_recorded(srv):
    r = srv.post("job/j/build?token=tok&delay=3600sec&cause=to-cancel")
    qid = r.headers["Location"].rstrip("/").rsplit("/", 1)[1]
    assert srv.post(f"queue/cancelItem?id={qid}", auth=srv.alice,
                    allow_redirects=False).status_code == 302
    assert find(entries(srv, action="queue-cancel"), "queue-cancel",
                detail=f"queue item {qid}", user="alice")


def test_paging_filters_and_who_may_read(srv):
    # entries of its own: pytest-xdist may run this test on another server than the others
    assert srv.post("job/j/build?token=tok").status_code == 201
    assert srv.post("job/j/build", auth=srv.bob).status_code == 201
    first = entries(srv, limit=2)
    assert len(first["entries"]) == 2 and first["next"]
    second = requests.get(first["next"], auth=srv.alice, timeout=30).json()
    ids = [e["id"] for e in first["entries"]] + [e["id"] for e in second["entries"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    everything = entries(srv, limit=1000)["entries"]
    assert all(e["timestamp"] >= everything[-1]["timestamp"] for e in everything)
    assert entries(srv, since="1m", user="nobody")["entries"] == []
    r = srv.get("manage/audit/api/json?since=yesterday", auth=srv.alice)
    assert r.status_code == 400 and "since=" in r.json()["presented"]
    r = srv.get("manage/audit/api/json", auth=srv.bob)
    assert r.status_code == 403 and "Overall/Administer" in r.json()["message"]
    page = srv.get("manage/audit?action=trigger", auth=srv.alice, headers={"Accept": "text/html"})
    assert page.status_code == 200 and 'id="audit"' in page.text and "triggerToken" in page.text
    out = srv.admin("audit", "--user", "bob", "--action", "trigger").stdout.splitlines()
    assert out[0].startswith("TIME\tUSER") and len(out) >= 2
    assert all("\tbob\t" in line for line in out[1:])


def test_entries_are_kept_for_the_configured_age(tmp_path):
    s = Server(tmp_path / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.alice = ("alice", s.new_token("alice", "t"))
    old = int((time.time() - 3 * 86400) * 1000)
    # first in the log, as an entry written three days ago is: the start drops the old
    # entries from the oldest on, without reading the rest (the hourly pass reads all)
    with sqlite3.connect(s.home + "/steward.db") as db:
        db.execute("INSERT INTO audit(id, time_ms, actor, via, action) SELECT min(id) - 1, ?, "
                   "'x', 'offline', 'ancient' FROM audit", (old,))
    s.start("--audit-days", "2")
    try:
        log = entries(s, limit=1000)["entries"]
        assert not [e for e in log if e["action"] == "ancient"]
        assert [e for e in log if e["action"] == "token-new"]   # the day's own entries stay
    finally:
        s.stop()
