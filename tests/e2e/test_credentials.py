"""The credentials store: offline commands, the credentials plugin's REST forms, refusals,
limits, the key file and the backup, and that no answer ever carries a secret."""
import base64
import json
import os
import sqlite3
import stat
import subprocess

import pytest
import requests

from conftest import BIN, Server
from e2e_helpers import page_crumb, signed_in

DOMAIN = "credentials/store/system/domain/_/"
UP = "com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl"
SSH = "com.cloudbees.jenkins.plugins.sshcredentials.impl.BasicSSHUserPrivateKey"
TEXT = "org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl"
FILE = "org.jenkinsci.plugins.plaincredentials.impl.FileCredentialsImpl"
XML = {"Content-Type": "application/xml"}

SSH_KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-not-a-real-key\n"
           "-----END OPENSSH PRIVATE KEY-----\n")


def up_xml(cid, user="deploy", password="s3cret-pw", description="the deploy account"):
    return (f"<{UP}><scope>GLOBAL</scope><id>{cid}</id><description>{description}</description>"
            f"<username>{user}</username><password>{password}</password></{UP}>")


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("cred") / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.add_user("bob", "bob-password")
    s.alice = ("alice", s.new_token("alice", "ci"))
    s.bob = ("bob", s.new_token("bob", "laptop"))
    s.start()
    yield s
    s.stop()


def listing(srv, auth=None):
    r = srv.get(DOMAIN + "api/json", auth=auth or srv.alice)
    assert r.status_code == 200, r.text
    return {c["id"]: c for c in r.json()["credentials"]}


def secrets_of(srv, cid):
    """The sealed box the database holds for a credential (its row, read directly)."""
    db = sqlite3.connect(os.path.join(srv.home, "steward.db"))
    try:
        return db.execute("SELECT box FROM credentials WHERE id = ?", (cid,)).fetchone()
    finally:
        db.close()


def test_create_by_xml_lists_without_the_secret_and_is_encrypted_at_rest(srv):
    r = srv.post(DOMAIN + "createCredentials", data=up_xml("deploy-up"), headers=XML,
                 auth=srv.alice)
    assert r.status_code == 200 and r.text == "", r.text
    creds = listing(srv)
    c = creds["deploy-up"]
    assert c["typeName"] == "Username with password"
    assert c["description"] == "the deploy account"
    assert c["displayName"] == "deploy/****** (the deploy account)"
    assert c["fullName"] == "system/_/deploy-up"
    assert c["_class"].endswith("CredentialsStoreAction$CredentialsWrapper")
    root = srv.get(DOMAIN + "api/json", auth=srv.alice).json()
    assert root["_class"].endswith("CredentialsStoreAction$DomainWrapper")
    assert root["urlName"] == "_" and root["global"] is True and root["fullName"] == "system/_"
    # python-jenkins' list_credentials asks for tree=credentials[id]
    r = srv.get(DOMAIN + "api/json?tree=credentials[id]", auth=srv.alice)
    assert "deploy-up" in [c["id"] for c in r.json()["credentials"]]
    assert all(set(c) <= {"_class", "id"} for c in r.json()["credentials"])
    (box,) = secrets_of(srv, "deploy-up")
    assert b"s3cret-pw" not in bytes(box)
    key = os.path.join(srv.home, "secrets", "credentials.key")
    st = os.stat(key)
    assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_size == 32
    with open(os.path.join(srv.home, "steward.db"), "rb") as f:
        assert b"s3cret-pw" not in f.read()


def test_config_xml_redacts_every_secret(srv):
    r = srv.post(DOMAIN + "createCredentials", auth=srv.alice, headers=XML, data=(
        f"<{SSH}><scope>GLOBAL</scope><id>ssh-1</id><description>git</description>"
        f"<username>git</username><privateKeySource class=\"{SSH}$DirectEntryPrivateKeySource\">"
        f"<privateKey>{SSH_KEY}</privateKey></privateKeySource>"
        f"<passphrase>pass-phrase-1</passphrase></{SSH}>"))
    assert r.status_code == 200, r.text
    r = srv.get(DOMAIN + "credential/ssh-1/config.xml", auth=srv.alice)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/xml")
    assert "<secret-redacted/>" in r.text and "<username>git</username>" in r.text
    assert "OPENSSH" not in r.text and "pass-phrase-1" not in r.text
    r = srv.get(DOMAIN + "credential/ssh-1/api/json", auth=srv.alice)
    assert r.json()["typeName"] == "SSH Username with private key"
    assert "OPENSSH" not in r.text


def test_update_keeps_a_redacted_secret_and_replaces_a_given_one(srv, tmp_path):
    assert srv.post(DOMAIN + "createCredentials", data=up_xml("upd"), headers=XML,
                    auth=srv.alice).status_code == 200
    redacted = srv.get(DOMAIN + "credential/upd/config.xml", auth=srv.alice).text
    changed = redacted.replace("the deploy account", "renamed")
    r = srv.post(DOMAIN + "credential/upd/config.xml", data=changed, headers=XML, auth=srv.alice)
    assert r.status_code == 200, r.text
    assert listing(srv)["upd"]["description"] == "renamed"
    # the secret survived: the offline store still opens it (a wrong one would not be this)
    (box1,) = secrets_of(srv, "upd")
    r = srv.post(DOMAIN + "credential/upd/config.xml", data=up_xml("upd", password="new-pw"),
                 headers=XML, auth=srv.alice)
    assert r.status_code == 200
    (box2,) = secrets_of(srv, "upd")
    assert bytes(box1) != bytes(box2)
    # an id that is not the URL's is refused, and nothing changes
    r = srv.post(DOMAIN + "credential/upd/config.xml", data=up_xml("other"), headers=XML,
                 auth=srv.alice)
    assert r.status_code == 400 and "does not change a credential's id" in r.json()["message"]
    assert "other" not in listing(srv)


def test_existing_id_is_409_and_the_form_answers_the_plugins_json(srv):
    assert srv.post(DOMAIN + "createCredentials", data=up_xml("dup"), headers=XML,
                    auth=srv.alice).status_code == 200
    r = srv.post(DOMAIN + "createCredentials", data=up_xml("dup", password="other"), headers=XML,
                 auth=srv.alice)
    assert r.status_code == 409
    form = {"json": json.dumps({"credentials": {
        "scope": "GLOBAL", "id": "form-1", "secret": "tok-123", "description": "a token",
        "$class": TEXT}})}
    r = srv.post(DOMAIN + "createCredentials", data=form, auth=srv.alice,
                 headers={"Accept": "application/json"})
    assert r.status_code == 200
    assert r.json() == {"message": "Credentials created", "notificationType": "SUCCESS"}
    r = srv.post(DOMAIN + "createCredentials", data=form, auth=srv.alice,
                 headers={"Accept": "application/json"})
    assert r.json() == {"message": "Credentials with specified ID already exist",
                        "notificationType": "ERROR"}
    # without Accept: application/json, a redirect to the domain, as the plugin answers
    form2 = {"json": json.dumps({"credentials": {
        "id": "form-file", "fileName": "kubeconfig", "$class": FILE,
        "secretBytes": base64.b64encode(b"\x00\x01binary").decode()}})}
    r = srv.post(DOMAIN + "createCredentials", data=form2, auth=srv.alice, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].endswith(DOMAIN)
    assert listing(srv)["form-file"]["typeName"] == "Secret file"


def test_no_content_type_is_400_with_the_plugins_words(srv):
    for headers in ({}, {"Content-Type": ""}):
        r = requests.post(srv.url + DOMAIN + "createCredentials", data=up_xml("noct").encode(),
                          auth=srv.alice, headers=headers, timeout=30)
        assert r.status_code == 400 and "No Content-Type header set" in r.headers["X-Error"]
    assert "noct" not in listing(srv)


def test_delete_by_method_and_by_dodelete(srv):
    for cid in ("del-1", "del-2"):
        assert srv.post(DOMAIN + "createCredentials", data=up_xml(cid), headers=XML,
                        auth=srv.alice).status_code == 200
    r = requests.delete(srv.url + DOMAIN + "credential/del-1/config.xml", auth=srv.alice,
                        timeout=30)
    assert r.status_code == 200
    r = srv.post(DOMAIN + "credential/del-2/doDelete", auth=srv.alice,
                 headers={"Accept": "application/json"})
    assert r.json() == {"message": "Credentials deleted", "notificationType": "SUCCESS"}
    assert "del-1" not in listing(srv) and "del-2" not in listing(srv)
    r = requests.delete(srv.url + DOMAIN + "credential/del-1/config.xml", auth=srv.alice,
                        timeout=30)
    assert r.status_code == 404 and "No such credential" in r.headers["X-Error"]
    assert srv.post(DOMAIN + "createCredentials", data=up_xml("put-1"), headers=XML,
                    auth=srv.alice).status_code == 200
    r = requests.put(srv.url + DOMAIN + "credential/put-1/config.xml", auth=srv.alice, timeout=30)
    assert r.status_code == 400


def test_refusals_name_the_permission_and_change_nothing(srv):
    assert srv.post(DOMAIN + "createCredentials", data=up_xml("ref-1"), headers=XML,
                    auth=srv.alice).status_code == 200
    # bob (logged-in strategy) may list, never create, change or remove
    assert "ref-1" in listing(srv, auth=srv.bob)
    r = srv.post(DOMAIN + "createCredentials", data=up_xml("bobs"), headers=XML, auth=srv.bob)
    assert r.status_code == 403
    assert r.headers["X-Required-Permission"] == \
        "com.cloudbees.plugins.credentials.CredentialsProvider.Create"
    assert "Credentials/Create" in r.json()["message"] and "'bob'" in r.json()["message"]
    r = requests.delete(srv.url + DOMAIN + "credential/ref-1/config.xml", auth=srv.bob,
                        timeout=30)
    assert r.status_code == 403 and "Credentials/Delete" in r.json()["message"]
    r = srv.post(DOMAIN + "credential/ref-1/config.xml", data=up_xml("ref-1"),
                 headers=XML, auth=srv.bob)
    assert r.status_code == 403 and "Credentials/Update" in r.json()["message"]
    assert "bobs" not in listing(srv) and "ref-1" in listing(srv)
    # anonymous: asked for credentials
    r = srv.get(DOMAIN + "api/json")
    assert r.status_code == 401 and "WWW-Authenticate" in r.headers
    # a token limited to reading lists, and may not create
    t = srv.admin("token", "new", "alice", "--name", "ro", "--scopes", "read").stdout.strip()
    assert srv.get(DOMAIN + "api/json", auth=("alice", t)).status_code == 200
    r = srv.post(DOMAIN + "createCredentials", data=up_xml("ro"), headers=XML, auth=("alice", t))
    assert r.status_code == 403 and "scope" in r.json()["message"]


def test_bad_input_is_a_clear_400_and_changes_nothing(srv):
    before = listing(srv)
    cases = [
        (up_xml("bad id"), "only letters, digits"),
        (up_xml("x" * 129), "longer than 128"),
        (up_xml(".."), "only dots"),
        (f"<{UP}><id>nouser</id><password>p</password></{UP}>", "needs a username"),
        (f"<{UP}><id>nopw</id><username>u</username></{UP}>", "needs its password"),
        ("<hudson.Foo><id>x</id></hudson.Foo>", "four kinds"),
        (f"<{UP}><id>broken</id>", "not well-formed"),
        ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
         f'<{UP}><id>dt</id><username>&a;</username><password>p</password></{UP}>', "DOCTYPE"),
        (up_xml("enc", password="{AQAAABAAAAAQ0123456789abcdefABCDEF==}"), "encrypted by a Jenkins"),
        (up_xml("longdesc", description="d" * 1025), "longer than 1024"),
        (f"<{FILE}><id>f</id><fileName>../x</fileName><secretBytes>eA==</secretBytes></{FILE}>",
         "plain name"),
        (f"<{FILE}><id>f</id><fileName>x</fileName><secretBytes>!!!</secretBytes></{FILE}>",
         "not base64"),
        (f"<{TEXT}><id>ctl</id><description>a\x01b</description><secret>s</secret></{TEXT}>",
         "well-formed"),
    ]
    for body, words in cases:
        r = srv.post(DOMAIN + "createCredentials", data=body.encode(), headers=XML,
                     auth=srv.alice)
        assert r.status_code == 400, (body[:80], r.status_code, r.text)
        assert words in r.json()["message"], (words, r.json()["message"])
    # a body past the server's limit
    big = up_xml("big", password="p" * (1024 * 1024 + 10))
    r = srv.post(DOMAIN + "createCredentials", data=big, headers=XML, auth=srv.alice)
    assert r.status_code == 413
    # a secret past its own limit
    r = srv.post(DOMAIN + "createCredentials", data=up_xml("big2", password="p" * (70 * 1024)),
                 headers=XML, auth=srv.alice)
    assert r.status_code == 400 and "longer than Steward keeps" in r.json()["message"]
    r = srv.post(DOMAIN + "createCredentials", data={"json": "{not json"}, auth=srv.alice)
    assert r.status_code == 400 and "not JSON" in r.json()["message"]
    r = srv.post(DOMAIN + "createCredentials", data={"nojson": "1"}, auth=srv.alice)
    assert r.status_code == 400
    assert listing(srv) == before


def test_creations_updates_and_removals_are_audited(srv):
    assert srv.post(DOMAIN + "createCredentials", data=up_xml("aud"), headers=XML,
                    auth=srv.alice).status_code == 200
    assert srv.post(DOMAIN + "credential/aud/config.xml", data=up_xml("aud", password="p2"),
                    headers=XML, auth=srv.alice).status_code == 200
    assert srv.post(DOMAIN + "credential/aud/doDelete", auth=srv.alice,
                    allow_redirects=False).status_code == 302
    log = srv.get("manage/audit/api/json?limit=1000", auth=srv.alice).json()["entries"]
    mine = [(e["action"], e["user"]) for e in log if "'aud'" in (e.get("detail") or "")]
    assert ("credential-add", "alice") in mine
    assert ("credential-update", "alice") in mine
    assert ("credential-remove", "alice") in mine
    assert not any("s3cret-pw" in (e.get("detail") or "") or "p2" == e.get("detail")
                   for e in log)


# ---- offline ----

def run(home, *args, input=None):
    return subprocess.run([BIN, "--home", str(home), *args], input=input, capture_output=True,
                          timeout=60)


def test_offline_add_list_remove_and_the_secret_never_on_argv(tmp_path):
    home = tmp_path / "home"
    p = run(home, "credentials", "add", "--id", "gh", "--kind", "username-password",
            "--username", "bot", "--description", "GitHub", input=b"pw-from-stdin\n")
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().strip() == "gh"
    keyfile = tmp_path / "key.pem"
    keyfile.write_text(SSH_KEY)
    p = run(home, "credentials", "add", "--id", "deploy-key", "--kind", "ssh-key",
            "--username", "git", "--secret-file", str(keyfile))
    assert p.returncode == 0, p.stderr
    blob = tmp_path / "settings.xml"
    blob.write_bytes(b"<settings>\x00binary</settings>")
    p = run(home, "credentials", "add", "--id", "mvn", "--kind", "file", "--secret-file", str(blob))
    assert p.returncode == 0, p.stderr
    p = run(home, "credentials", "add", "--kind", "secret-text", input=b"tok\n")
    assert p.returncode == 0
    generated = p.stdout.decode().strip()
    assert len(generated) == 36 and generated.count("-") == 4
    out = run(home, "credentials", "list").stdout.decode()
    assert "gh" in out and "username-password" in out and "bot" in out and "GitHub" in out
    assert "settings.xml" in out and generated in out
    assert "pw-from-stdin" not in out and "OPENSSH" not in out
    # a secret on the command line is refused: there is no option that takes one
    p = run(home, "credentials", "add", "--id", "x", "--kind", "secret-text", "hunter2")
    assert p.returncode == 2 and b"a secret goes in a file or on stdin" in p.stderr
    p = run(home, "credentials", "add", "--id", "gh", "--kind", "secret-text", input=b"x")
    assert p.returncode == 1 and b"already exists" in p.stderr
    p = run(home, "credentials", "add", "--id", "bad/id", "--kind", "secret-text", input=b"x")
    assert p.returncode == 2 and b"only letters" in p.stderr
    p = run(home, "credentials", "add", "--id", "nouser", "--kind", "ssh-key",
            "--secret-file", str(keyfile))
    assert p.returncode == 2 and b"needs a username" in p.stderr
    assert run(home, "credentials", "remove", "gh").returncode == 0
    p = run(home, "credentials", "remove", "gh")
    assert p.returncode == 1 and b"no credential" in p.stderr
    assert "gh " not in run(home, "credentials", "list").stdout.decode()
    audit = run(home, "audit").stdout.decode()
    assert "credential-add" in audit and "credential-remove" in audit
    # the offline store and the server agree
    s = Server(home)
    s.add_user("alice", "alice-password", admin=True)
    s.start()
    try:
        r = s.get(DOMAIN + "api/json", auth=("alice", "alice-password"))
        ids = {c["id"] for c in r.json()["credentials"]}
        assert ids == {"deploy-key", "mvn", generated}
    finally:
        s.stop()


def test_a_lost_or_wrong_key_is_a_clear_error_and_backup_keeps_the_key(tmp_path):
    home = tmp_path / "home"
    assert run(home, "credentials", "add", "--id", "a", "--kind", "secret-text",
               input=b"x").returncode == 0
    dest = tmp_path / "backup"
    p = run(home, "backup", str(dest))
    assert p.returncode == 0, p.stderr
    with open(home / "secrets" / "credentials.key", "rb") as a, \
            open(dest / "secrets" / "credentials.key", "rb") as b:
        assert a.read() == b.read()
    os.unlink(home / "secrets" / "credentials.key")
    # no new key while credentials exist: that would orphan them for good
    p = run(home, "credentials", "add", "--id", "b", "--kind", "secret-text", input=b"y")
    assert p.returncode == 1 and b"credentials.key" in p.stderr and b"Restore" in p.stderr
    assert not os.path.exists(home / "secrets" / "credentials.key")
    # a key of the wrong size is not a key
    with open(home / "secrets" / "credentials.key", "wb") as f:
        f.write(b"short")
    p = run(home, "credentials", "add", "--id", "b", "--kind", "secret-text", input=b"y")
    assert p.returncode == 1 and b"is not a key" in p.stderr
    # listing needs no key
    assert b"secret-text" in run(home, "credentials", "list").stdout


# ---- the page ----

def test_the_page_lists_adds_and_removes_and_never_shows_a_secret(srv):
    http = signed_in(srv, "alice", "alice-password")
    page = http.get(srv.url + "manage/credentials", timeout=30)
    assert page.status_code == 200 and "Add a credential" in page.text
    crumb = page_crumb(page.text)
    # without the crumb, nothing happens
    r = http.post(srv.url + "manage/credentials", allow_redirects=False, timeout=30,
                  data={"action": "add", "kind": "secret-text", "id": "web-1", "secret": "x"})
    assert r.status_code == 403 and "crumb" in r.text
    r = http.post(srv.url + "manage/credentials", allow_redirects=False, timeout=30,
                  data={"Jenkins-Crumb": crumb, "action": "add", "kind": "ssh-key",
                        "id": "web-key", "username": "git", "description": "from the page",
                        "secret": SSH_KEY.replace("\n", "\r\n"), "passphrase": "pp-web"})
    assert r.status_code == 303, r.text
    page = http.get(srv.url + "manage/credentials?msg=added", timeout=30)
    assert "web-key" in page.text and "from the page" in page.text
    assert "SSH Username with private key" in page.text
    assert "OPENSSH" not in page.text and "pp-web" not in page.text
    # bad input: the form comes back with the reason, nothing added
    r = http.post(srv.url + "manage/credentials", allow_redirects=False, timeout=30,
                  data={"Jenkins-Crumb": crumb, "action": "add", "kind": "username-password",
                        "id": "web-2", "secret": "pw"})
    assert r.status_code == 400 and "needs a username" in r.text
    assert "web-2" not in listing(srv)
    r = http.post(srv.url + "manage/credentials", allow_redirects=False, timeout=30,
                  data={"Jenkins-Crumb": crumb, "action": "remove", "id": "web-key"})
    assert r.status_code == 303
    assert "web-key" not in listing(srv)
    log = srv.get("manage/audit/api/json?limit=1000", auth=srv.alice).json()["entries"]
    web = [e for e in log if "'web-key'" in (e.get("detail") or "")]
    assert {e["action"] for e in web} == {"credential-add", "credential-remove"}
    assert all(e["via"] == "session" for e in web)


def test_the_page_shows_bob_the_list_and_no_form(srv):
    assert srv.post(DOMAIN + "createCredentials", data=up_xml("for-bob"), headers=XML,
                    auth=srv.alice).status_code == 200
    http = signed_in(srv, "bob", "bob-password")
    page = http.get(srv.url + "manage/credentials", timeout=30)
    assert page.status_code == 200 and "for-bob" in page.text
    assert "Add a credential" not in page.text and "s3cret-pw" not in page.text
    r = http.post(srv.url + "manage/credentials", allow_redirects=False, timeout=30,
                  data={"Jenkins-Crumb": page_crumb(page.text), "action": "remove",
                        "id": "for-bob"})
    assert r.status_code == 403 and "Credentials/Delete" in r.text
    assert "for-bob" in listing(srv)
    # the plugin's page of the domain leads people to it
    r = http.get(srv.url + "credentials/store/system/domain/_/", allow_redirects=False,
                 timeout=30)
    assert r.status_code == 302 and r.headers["Location"].endswith("manage/credentials")
