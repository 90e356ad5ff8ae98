"""Dry runs (X-Steward-Dry-Run: 1): a trigger that changes nothing and says what the real
request would get. Every refusal is compared with the real request's, after checking that
the dry run left the queue, the builds and the audit log as they were."""
import json
import subprocess

import pytest

from conftest import BIN, Server, create_job, job_xml
from e2e_helpers import item_id
from test_authz import with_matrix

TOKEN = "the-trigger-token"
DRY = {"X-Steward-Dry-Run": "1"}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    """project-matrix: alice administers; bob may read and build 'p'; erin may only read it."""
    s = Server(tmp_path_factory.mktemp("dry") / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.add_user("bob", "bob-password")
    s.add_user("erin", "erin-password")
    s.alice = ("alice", s.new_token("alice", "ci"))
    s.bob_token = s.new_token("bob", "laptop")
    s.bob = ("bob", s.bob_token)
    s.erin = ("erin", s.new_token("erin", "t"))
    s.admin("security", "authorization", "project-matrix")
    s.admin("security", "matrix", "grant", "authenticated", "Overall/Read")
    s.start()
    params = [("string", "BRANCH", "main"), ("choice", "MODE", ["fast", "slow"]),
              ("password", "PW", "hunter2")]
    create_job(s, "p", with_matrix(job_xml(params=params, token=TOKEN, quiet=3600),
                                   "USER:hudson.model.Item.Read:bob",
                                   "USER:hudson.model.Item.Build:bob",
                                   "USER:hudson.model.Item.Read:erin"))
    create_job(s, "plain", job_xml(quiet=3600))
    yield s
    s.stop()


def state(srv):
    """What a dry run must not change: the queue, the builds, the audit log."""
    # (not `why`, whose "expires in" changes by itself)
    queue = srv.get("queue/api/json?tree=items[id,params,task[name],actions[causes[userId,count]]]",
                    auth=srv.alice).json()["items"]
    builds = {j: srv.get(f"job/{j}/api/json?tree=builds[number],nextBuildNumber",
                         auth=srv.alice).json() for j in ("p", "plain")}
    # the audit log's newest entry (one page holds the newest only), but for failed logins:
    # wrong credentials are recorded before any handler looks at the request, dry run or
    # not, so that a dry run is no way to guess a password unseen
    entries = srv.get("manage/audit/api/json", auth=srv.alice).json()["entries"]
    audit = max((e["id"] for e in entries if e["action"] != "login-failed"), default=0)
    return queue, builds, audit


def compare(srv, method, path, **kw):
    """The dry run first, then the real request: the same status and reason."""
    before = state(srv)
    headers = dict(kw.pop("headers", {}))
    dry = getattr(srv, method)(path, headers={**headers, **DRY}, **kw)
    assert dry.status_code == 200, dry.text
    assert dry.headers["X-Steward-Dry-Run"] == "1"
    report = dry.json()
    assert report["dryRun"] is True
    assert state(srv) == before, "the dry run changed something"
    real = getattr(srv, method)(path, headers=headers, **kw)
    answer = report["answer"]
    assert answer["status"] == real.status_code, (report, real.text)
    if real.status_code >= 400:
        assert answer["reason"] == real.headers["X-Error"]
        assert answer["body"] == real.json()
    return report, real


def test_unknown_job(srv):
    report, real = compare(srv, "post", "job/nosuch/build", auth=srv.alice)
    assert real.status_code == 404
    assert report["job"] == {"name": "nosuch"}
    assert report["parameters"] is None and report["merge"] is None


def test_api_token_sent_as_trigger_token(srv):
    report, real = compare(srv, "post", "job/p/buildWithParameters?token=" + srv.bob_token,
                           auth=srv.alice)
    assert real.status_code == 403
    assert "user API token of user 'bob'" in report["answer"]["body"]["presented"]
    assert srv.bob_token not in str(report)
    assert any("shaped like a user API token" in p for p in report["presented"])
    # anonymous, who may not see the job: the same 404 as a missing job, in both
    report, real = compare(srv, "get", "job/p/buildWithParameters?token=" + srv.bob_token)
    assert real.status_code == 404
    assert report["identity"]["anonymous"] is True
    assert "url" not in report["job"]


def test_wrong_trigger_token(srv):
    report, real = compare(srv, "post", "job/p/build?token=wrong", auth=srv.alice)
    assert real.status_code == 403
    assert "wrong" not in str(report["presented"])


def test_missing_credentials(srv):
    report, real = compare(srv, "post", "job/p/buildWithParameters")
    assert real.status_code == 401
    assert report["identity"]["via"] == "nothing"
    assert report["secret"] is None


def test_missing_token_on_build_by_token(srv):
    _, real = compare(srv, "get", "buildByToken/buildWithParameters?job=p")
    assert real.status_code == 400


def test_bad_parameter_value(srv):
    report, real = compare(srv, "post", f"job/p/buildWithParameters?token={TOKEN}&MODE=turbo")
    assert real.status_code == 400
    assert "Illegal choice" in real.headers["X-Error"]


def test_permission(srv):
    report, real = compare(srv, "post", "job/p/buildWithParameters", auth=srv.erin)
    assert real.status_code == 403
    assert "Job/Build" in report["answer"]["reason"]
    assert report["identity"] == {"user": "erin", "anonymous": False, "via": "apiToken",
                                  "apiToken": "t"}


def test_wrong_basic_credentials(srv):
    report, real = compare(srv, "post", "job/p/build", auth=("bob", "not-the-token"))
    assert real.status_code == 401
    assert report["identity"]["via"] == "refused Basic credentials"


def test_get_with_user_credentials(srv):
    _, real = compare(srv, "get", "job/p/build", auth=srv.bob)
    assert real.status_code == 405


def test_accepted_then_merged(srv):
    path = "job/p/buildWithParameters?BRANCH=dev&MODE=slow&EXTRA=1"
    report, real = compare(srv, "post", path, auth=srv.bob)
    assert real.status_code == 201
    assert report["identity"] == {"user": "bob", "anonymous": False, "via": "apiToken",
                                  "apiToken": "laptop"}
    assert "API token 'laptop' of user 'bob'" in report["secret"]
    assert report["job"]["name"] == "p" and report["job"]["url"].endswith("/job/p/")
    values = {p["name"]: p["value"] for p in report["parameters"]}
    assert values == {"BRANCH": "dev", "MODE": "slow", "PW": "(a password: not shown)"}
    assert "hunter2" not in str(report)
    assert report["ignoredParameters"] == ["EXTRA"]
    assert report["merge"] == {"wouldMerge": False}
    assert real.headers["X-Steward-Ignored-Parameters"] == "EXTRA"
    first = item_id(real.headers["Location"])

    # the same again merges into that item, and the dry run says so first
    report, again = compare(srv, "post", path, auth=srv.bob)
    assert again.status_code == 201 and again.headers["X-Steward-Merged"] == "true"
    assert report["merge"]["wouldMerge"] is True and report["merge"]["queueItem"] == first
    assert report["answer"]["headers"]["Location"] == again.headers["Location"]
    assert report["merge"]["url"] == again.headers["Location"]

    # by the trigger token, with the defaults filled in
    report, real = compare(srv, "get", f"buildByToken/buildWithParameters?job=p&token={TOKEN}")
    assert real.status_code == 201
    assert report["secret"].startswith("The job's trigger token")
    # anonymous, with the trigger token alone (no Job/Read): the job's defaults stay unseen,
    # as in the real answer; what the caller sent it sees
    params = {p["name"]: p for p in report["parameters"]}
    assert "value" not in params["BRANCH"] and "Job/Read" in params["BRANCH"]["note"]
    assert "main" not in json.dumps(report["parameters"])
    assert TOKEN not in str(report)
    report, real = compare(srv, "get",
                           f"buildByToken/buildWithParameters?job=p&token={TOKEN}&MODE=slow")
    params = {p["name"]: p for p in report["parameters"]}
    assert params["MODE"]["value"] == "slow" and "value" not in params["BRANCH"], params
    srv.post(f"queue/cancelItem?id={item_id(real.headers['Location'])}", auth=srv.alice)
    srv.post(f"queue/cancelItem?id={first}", auth=srv.alice)
    srv.post(f"queue/cancelItem?id={item_id(real.headers['Location'])}", auth=srv.alice)


def cli(srv, *args):
    return subprocess.run([BIN, *args, "--url", srv.url], capture_output=True, text=True,
                          timeout=60)


def test_cli_dry_run(srv):
    before = state(srv)
    p = cli(srv, "build", "p", "--dry-run", "-p", "MODE=slow", "-p", "NOPE=1", "--user", "bob",
            "--token", srv.bob_token)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert out.startswith("Dry run: nothing was queued."), out
    assert "Identity:   bob (apiToken laptop)" in out
    assert "MODE=slow" in out and "BRANCH=main" in out and "hunter2" not in out
    assert "Ignored:    NOPE" in out
    assert "would queue a new item" in out and "Answer:     201 Created" in out, out
    # a refusal: the exit code of a refused trigger, and the reason
    p = cli(srv, "build", "p", "--dry-run", "--user", "erin", "--token", srv.erin[1])
    assert p.returncode == 6, (p.stdout, p.stderr)
    assert "Answer:     403" in p.stdout and "Job/Build" in p.stdout
    # --json: the server's report as it is
    p = cli(srv, "build", "p", "--dry-run", "--json", "--trigger-token", TOKEN)
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    assert report["answer"]["status"] == 201 and report["secret"].startswith("The job's trigger")
    assert state(srv) == before


def test_cli_dry_run_refuses_a_server_that_is_not_steward(tmp_path):
    """A Jenkins would run the build for real: the client asks first, and sends nothing."""
    import http.server
    import threading

    seen = []

    class Jenkins(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(("GET", self.path))
            self.send_response(200)
            self.send_header("X-Jenkins", "2.440")
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def do_POST(self):
            seen.append(("POST", self.path))
            self.send_response(201)
            self.send_header("Location", "/queue/item/1/")
            self.end_headers()

        def log_message(self, *a):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Jenkins)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        p = subprocess.run([BIN, "build", "x", "--dry-run", "--url",
                            f"http://127.0.0.1:{httpd.server_port}/", "--user", "a", "--token",
                            "11" + "0" * 32], capture_output=True, text=True, timeout=60)
    finally:
        httpd.shutdown()
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert "needs a Steward server" in p.stderr
    assert [m for m, _ in seen] == ["GET"]
