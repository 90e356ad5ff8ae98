"""The offline admin commands while the server runs, the first start, and tokens over HTTP."""
import os
import re
import shlex
import stat
import subprocess

import pytest

from conftest import SLOW, Server, create_job, job_xml
from e2e_helpers import console, restart, started_server, wait_for

TOKEN_RE = re.compile(r"11[0-9a-f]{32}")
API = "descriptorByName/jenkins.security.ApiTokenProperty"


def whoami(server, auth):
    return server.get("whoAmI/api/json", auth=auth)


def token_rows(server, user):
    """{name: {"uuid", "created", "last", "uses", "expires", "limits"}} from
    `steward token list USER`."""
    out = server.admin("token", "list", user).stdout.splitlines()
    assert out[0].split() == ["NAME", "UUID", "CREATED", "LAST", "USED", "USES", "EXPIRES",
                              "LIMITS"], out
    rows = {}
    for line in out[1:]:
        name, uuid, created, last, uses, expires, *limits = line.split()
        rows[name] = {"uuid": uuid, "created": created, "last": last, "uses": int(uses),
                      "expires": expires, "limits": " ".join(limits)}
    return rows


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module, as an admin would have one; each test uses names of its own
    and puts back what it toggles."""
    s = started_server(tmp_path_factory.mktemp("admin") / "home")
    yield s
    s.stop()


# ---- offline commands against a running server ----

def test_user_add_while_running(server):
    p = server.admin("user", "add", "carol", "--password", "carol-pw")
    assert p.stdout == ""
    r = whoami(server, ("carol", "carol-pw"))
    assert r.status_code == 200 and r.json()["name"] == "carol"
    assert r.json()["authenticatedBy"] == "password"
    assert whoami(server, ("carol", "wrong")).status_code == 401

    server.admin("user", "add", "dave", "--password-stdin", input="dave secret pw\n")
    r = whoami(server, ("dave", "dave secret pw"))
    assert r.status_code == 200 and r.json()["name"] == "dave"
    # the newline that ends the line on stdin is not part of the password
    assert whoami(server, ("dave", "dave secret pw\n")).status_code == 401

    # a duplicate fails and keeps the old password
    dup = server.admin("user", "add", "carol", "--password", "other-password", check=False)
    assert dup.returncode != 0
    assert "already exists" in dup.stderr
    assert whoami(server, ("carol", "carol-pw")).status_code == 200
    assert whoami(server, ("carol", "other-password")).status_code == 401
    # the new user may work, not only read
    create_job(server, "by-carol", job_xml(), auth=("carol", "carol-pw"))


def test_token_new_list_use_revoke_while_running(server):
    p = server.admin("token", "new", "bob", "--name", "deploy")
    assert TOKEN_RE.fullmatch(p.stdout.rstrip("\n")), repr(p.stdout)
    assert p.stdout.count("\n") == 1 and p.stderr == ""
    token = p.stdout.strip()

    rows = token_rows(server, "bob")
    assert {"laptop", "deploy"} <= set(rows)
    assert rows["deploy"]["uses"] == 0 and rows["deploy"]["last"] == "never"
    assert re.fullmatch(r"[0-9a-f-]{36}", rows["deploy"]["uuid"])
    assert token not in server.admin("token", "list", "bob").stdout

    # the running server accepts the new token at once
    for _ in range(3):
        r = whoami(server, ("bob", token))
        assert r.status_code == 200 and r.json()["name"] == "bob"
        assert r.json()["apiTokenName"] == "deploy"

    # usage is flushed every second
    def used():
        row = token_rows(server, "bob")["deploy"]
        return row if row["uses"] == 3 and row["last"] != "never" else None
    row = wait_for(used, 10, "the token's use count to reach 3", interval=0.2)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["last"]), row
    assert token_rows(server, "bob")["laptop"]["uses"] == 0

    # a second token with the same name is refused
    again = server.admin("token", "new", "bob", "--name", "deploy", check=False)
    assert again.returncode != 0 and again.stdout == ""

    server.admin("token", "revoke", "bob", "deploy")
    r = whoami(server, ("bob", token))
    assert r.status_code == 401, r.text
    assert "deploy" not in token_rows(server, "bob")
    # the other token is untouched
    assert whoami(server, server.bob).status_code == 200
    bad = server.admin("token", "revoke", "bob", "deploy", check=False)
    assert bad.returncode != 0


def test_anonymous_read_toggle_while_running(server):
    create_job(server, "visible", job_xml())
    assert server.get("api/json").status_code == 401
    server.admin("security", "anonymous-read", "on")
    r = server.get("api/json")
    assert r.status_code == 200, r.text
    assert "visible" in [j["name"] for j in r.json()["jobs"]]
    assert server.get("job/visible/api/json").status_code == 200
    # reading is not writing
    assert server.post("job/visible/build").status_code in (401, 403)
    server.admin("security", "anonymous-read", "off")
    assert server.get("api/json").status_code == 401
    assert server.get("job/visible/api/json").status_code == 401
    bad = server.admin("security", "anonymous-read", "maybe", check=False)
    assert bad.returncode != 0
    assert server.get("api/json").status_code == 401


# ---- first start ----

@pytest.fixture
def fresh(tmp_path):
    s = Server(tmp_path / "fresh-home")
    s.start()
    yield s
    s.stop()


def test_first_start(fresh):
    pwfile = os.path.join(fresh.home, "secrets", "initialAdminPassword")
    st = os.stat(pwfile)
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    password = open(pwfile).read().strip()
    assert len(password) >= 16
    log = fresh.read_log()
    assert password in log  # printed once for the operator

    r = whoami(fresh, ("admin", password))
    assert r.status_code == 200 and r.json()["name"] == "admin"
    assert whoami(fresh, ("admin", password + "x")).status_code == 401

    job = fresh.get("job/hello/api/json", auth=("admin", password))
    assert job.status_code == 200 and job.json()["name"] == "hello"
    config = fresh.get("job/hello/config.xml", auth=("admin", password)).text
    m = re.search(r"<authToken>([^<]+)</authToken>", config)
    assert m, config
    trigger = m.group(1)

    cmds = [l.strip() for l in log.splitlines() if l.strip().startswith("curl ")]
    assert len(cmds) == 2, log
    api_token = TOKEN_RE.search(cmds[0])
    assert api_token and "-u admin:" in cmds[0], cmds[0]
    assert f"token={trigger}" in cmds[1] and "-u" not in cmds[1], cmds[1]
    assert fresh.url in cmds[0] and fresh.url in cmds[1]
    # the printed API token is a working token of admin
    r = whoami(fresh, ("admin", api_token.group(0)))
    assert r.status_code == 200 and r.json()["authenticatedBy"] == "apiToken"

    # both commands work as printed (plus: quiet, and show us the answer's headers); the
    # second runs once the first build started, or the identical requests would merge
    admin = ("admin", password)
    for n, cmd in enumerate(cmds, 1):
        argv = shlex.split(cmd) + ["-sS", "-o", "/dev/null", "-D", "-"]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30 * SLOW)
        assert p.returncode == 0, p.stderr
        assert re.match(r"HTTP/1\.1 201 ", p.stdout), p.stdout
        loc = re.search(r"^Location: (\S+)", p.stdout, re.M | re.I)
        assert loc, p.stdout
        item = fresh.wait_queue_item(loc.group(1), admin)
        assert item["executable"]["number"] == n
        b = fresh.wait_build("hello", n, admin)
        assert b["result"] == "SUCCESS"
        out = console(fresh, "hello", n, admin)
        assert "Hello, Steward!" in out, out
        assert f"This is build {n} of hello." in out
    causes = [fresh.get(f"job/hello/{n}/api/json", auth=admin).json()["actions"] for n in (1, 2)]
    descs = sorted(c["shortDescription"] for acts in causes for a in acts if "causes" in a
                   for c in a["causes"])
    assert descs == ["Started by remote host 127.0.0.1", "Started by user admin"]

    # a restart of a home that has users is not a first start again
    fresh.stop()
    restart(fresh)
    assert open(pwfile).read().strip() == password
    later = fresh.read_log()
    assert "listening on" in later
    assert "first start" not in later and "curl " not in later
    assert whoami(fresh, admin).status_code == 200


# ---- API tokens over HTTP ----

def test_generate_use_and_revoke_token_over_http(server):
    r = server.post(f"me/{API}/generateNewToken", data={"newTokenName": "from-http"},
                    auth=server.alice)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert body["status"] == "ok"
    data = body["data"]
    assert data["tokenName"] == "from-http"
    assert TOKEN_RE.fullmatch(data["tokenValue"]), data
    assert re.fullmatch(r"[0-9a-f-]{36}", data["tokenUuid"])
    new = ("alice", data["tokenValue"])

    w = whoami(server, new)
    assert w.status_code == 200 and w.json()["name"] == "alice"
    assert w.json()["apiTokenName"] == "from-http"
    # the token is a full credential: it can create a job, no crumb needed
    create_job(server, "made-with-new-token", job_xml(), auth=new)
    rows = token_rows(server, "alice")
    assert rows["from-http"]["uuid"] == data["tokenUuid"]

    # bob may not touch alice's tokens
    for action, form in (("generateNewToken", {"newTokenName": "evil"}),
                         ("revoke", {"tokenUuid": data["tokenUuid"]})):
        b = server.post(f"user/alice/{API}/{action}", data=form, auth=server.bob)
        assert b.status_code == 403, (action, b.status_code, b.text)
        assert data["tokenValue"] not in b.text
    assert "evil" not in token_rows(server, "alice")
    assert whoami(server, new).status_code == 200

    # alice revokes it by uuid (at her own user URL)
    rv = server.post(f"user/alice/{API}/revoke", data={"tokenUuid": data["tokenUuid"]},
                     auth=server.alice)
    assert rv.status_code == 200, rv.text
    assert rv.json()["status"] == "ok"
    assert whoami(server, new).status_code == 401
    assert "from-http" not in token_rows(server, "alice")
    # her other token still works; revoking again is a 404; no uuid is a 400
    assert whoami(server, server.alice).status_code == 200
    again = server.post(f"me/{API}/revoke", data={"tokenUuid": data["tokenUuid"]},
                        auth=server.alice)
    assert again.status_code == 404
    assert server.post(f"me/{API}/revoke", auth=server.alice).status_code == 400


def test_token_endpoints_need_post_and_a_user(server):
    # anonymous: no user to generate for
    r = server.post(f"me/{API}/generateNewToken", data={"newTokenName": "x"})
    assert r.status_code == 401
    # GET does not generate
    r = server.get(f"me/{API}/generateNewToken?newTokenName=viaget", auth=server.alice)
    assert r.status_code == 405
    assert "viaget" not in token_rows(server, "alice")
    # bob generates his own
    r = server.post(f"me/{API}/generateNewToken", data={"newTokenName": "bobs"}, auth=server.bob)
    assert r.status_code == 200
    tok = r.json()["data"]["tokenValue"]
    assert whoami(server, ("bob", tok)).json()["name"] == "bob"
    # a token of bob is not a token of alice
    assert whoami(server, ("alice", tok)).status_code == 401


def test_offline_user_remove_and_admin_flag(tmp_path):
    """`user admin` and `user remove` work on the home directory while the server runs."""
    from conftest import Server
    import requests
    s = Server(tmp_path / "home2")
    s.add_user("root", "root-password", admin=True)
    s.add_user("carol", "carol-password")
    token = s.new_token("carol", "ci")
    s.start()
    try:
        assert s.admin("user", "admin", "carol", "on").returncode == 0
        assert s.admin("user", "admin", "carol", "maybe", check=False).returncode == 2
        r = requests.get(s.url + "whoAmI/api/json", auth=("carol", token), timeout=30)
        assert r.json()["name"] == "carol"
        p = s.admin("user", "remove", "carol")
        assert "Removed user carol" in p.stderr
        r = requests.get(s.url + "whoAmI/api/json", auth=("carol", token), timeout=30)
        assert r.status_code == 401
        assert s.admin("user", "remove", "carol", check=False).returncode == 1
    finally:
        s.stop()
