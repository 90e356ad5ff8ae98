"""Least-privilege API tokens: scopes, a job list and an expiry; refusals that name them."""
import sqlite3
import time

import jenkins
import pytest

from conftest import Server, create_job, job_xml
from e2e_helpers import wait_for

GEN = "me/descriptorByName/jenkins.security.ApiTokenProperty/generateNewToken"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("scoped") / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.add_user("bob", "bob-password")
    s.alice = ("alice", s.new_token("alice", "t"))
    s.bob = ("bob", s.new_token("bob", "full"))
    s.start()
    for name in ("deploy-web", "deploy-db", "web"):
        create_job(s, name, job_xml(quiet=3600))
    yield s
    s.stop()


def new_token(srv, auth, **limits):
    r = srv.post(GEN, data={"newTokenName": f"t{time.monotonic_ns()}", **limits}, auth=auth)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def test_a_build_token_for_some_jobs_does_that_and_nothing_else(srv):
    data = new_token(srv, srv.bob, scopes="build", jobs="deploy-*", expires="30d")
    assert data["scopes"] == "build" and data["jobs"] == "deploy-*"
    assert data["expirationDate"].endswith("Z")
    tok = ("bob", data["tokenValue"])
    assert srv.post("job/deploy-web/build", auth=tok).status_code == 201
    # other jobs do not exist for it, and the answer says why
    r = srv.post("job/web/build", auth=tok)
    assert r.status_code == 404 and "limited to the jobs deploy-*" in r.json()["presented"]
    names = {j["name"] for j in srv.get("api/json", auth=tok).json()["jobs"]}
    assert names == {"deploy-web", "deploy-db"}
    # what bob may do and the token may not: 403 naming the scope
    r = srv.post("job/deploy-web/config.xml", data=job_xml().encode(), auth=tok,
                 headers={"Content-Type": "application/xml"})
    assert r.status_code == 403 and r.headers["X-Required-Permission"] == "hudson.model.Item.Configure"
    assert "scope configure" in r.json()["accepts"] and "'build'" not in r.json()["presented"]
    assert "limited to the scopes build" in r.json()["presented"]
    assert srv.post("job/deploy-web/doDelete", auth=tok).status_code == 403
    # and it cannot make itself a bigger token
    r = srv.post(GEN, data={"newTokenName": "bigger"}, auth=tok)
    assert r.status_code == 403 and "manage tokens" in r.json()["error"]
    # bob's own full token still does all of it
    assert srv.post("job/web/build", auth=srv.bob).status_code == 201


def test_a_read_token_reads_and_does_not_build(srv):
    tok = ("bob", new_token(srv, srv.bob, scopes="read")["tokenValue"])
    assert srv.get("job/web/config.xml", auth=tok).status_code == 200
    r = srv.post("job/web/build", auth=tok)
    assert r.status_code == 403 and "scope build" in r.json()["accepts"]
    j = jenkins.Jenkins(srv.url, username="bob", password=tok[1])
    assert {x["name"] for x in j.get_jobs()} == {"deploy-web", "deploy-db", "web"}
    with pytest.raises(jenkins.JenkinsException):
        j.build_job("web")


def test_an_expired_token_is_refused_by_name(srv):
    out = srv.admin("token", "new", "bob", "--name", "short", "--expires", "1h")
    tok = ("bob", out.stdout.strip())
    assert srv.get("api/json", auth=tok).status_code == 200
    with sqlite3.connect(srv.home + "/steward.db") as db:
        db.execute("UPDATE api_tokens SET expires_ms = ? WHERE name = 'short'",
                   (int(time.time() * 1000) - 1000,))
    # an edit behind Steward's back (no Steward command made it) is seen within a second
    def refused():
        r = srv.get("api/json", auth=tok)
        return [r] if r.status_code == 401 else None
    [r] = wait_for(refused, 10, "the hand-expired token to be refused")
    assert "expired" in r.json()["error"]
    listing = srv.admin("token", "list", "bob").stdout
    assert "short" in listing and "LIMITS" in listing


def test_the_listing_shows_the_limits_and_bad_limits_are_refused(srv):
    new_token(srv, srv.bob, scopes="cancel,build", jobs="web")
    r = srv.get("me/descriptorByName/jenkins.security.ApiTokenProperty/list", auth=srv.bob)
    tokens = r.json()["data"]["tokens"]
    assert any(t["scopes"] == "cancel,build" and t["jobs"] == "web" and
               t["expirationDate"] == "never" for t in tokens)
    assert any(t["name"] == "full" and t["scopes"] is None and t["jobs"] is None for t in tokens)
    for bad in ({"scopes": "fly"}, {"scopes": "read,"}, {"expires": "yesterday"},
                {"expires": "2001-01-01"}, {"jobs": "a,,b"}):
        r = srv.post(GEN, data={"newTokenName": "bad", **bad}, auth=srv.bob)
        assert r.status_code == 400, bad
    p = srv.admin("token", "new", "bob", "--name", "x", "--scopes", "everything", check=False)
    assert p.returncode != 0 and "read, build" in p.stderr


def test_the_server_can_require_scopes_on_new_tokens(tmp_path):
    s = Server(tmp_path / "home")
    s.add_user("bob", "bob-password")
    bob = ("bob", s.new_token("bob", "before"))   # made before: keeps every right
    s.admin("security", "token-scopes", "required")
    p = s.admin("token", "new", "bob", "--name", "plain", check=False)
    assert p.returncode != 0 and "requires scopes" in p.stderr
    s.admin("token", "new", "bob", "--name", "scoped", "--scopes", "read")
    s.start()
    try:
        r = s.post(GEN, data={"newTokenName": "plain"}, auth=("bob", "bob-password"))
        assert r.status_code == 400 and "requires scopes" in r.json()["presented"]
        assert s.get("api/json", auth=bob).status_code == 200
    finally:
        s.stop()
