"""The Credentials Binding plugin's build wrapper (SecretBuildWrapper), with jobs written by
jenkins-job-builder's `credentials-binding`: every kind of binding reaches the shell steps as
variables and files, the console shows each secret as ****, the real values arrive (read back
through archived artifacts), and the bound files are gone after the build. A binding whose
credential cannot be used fails the build before its first step, naming it."""
import os
import shutil

import pytest

from conftest import create_job
from test_git import build, jjb_xml

pytestmark = pytest.mark.skipif(not shutil.which("jenkins-jobs"),
                                reason="needs jenkins-job-builder")

KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAbm9uZQ-not-a-real-key\n"
       "-----END OPENSSH PRIVATE KEY-----")
BLOB = b"\x00\x01binary\nsecret file\xff"

BOUND = """
- job:
    name: bound
    project-type: freestyle
    wrappers:
      - credentials-binding:
          - username-password-separated:
              credential-id: up
              username: B_USER
              password: B_PASS
          - username-password:
              credential-id: up
              variable: B_UP
          - text:
              credential-id: tok
              variable: B_TOK
          - file:
              credential-id: blob
              variable: B_FILE
          - ssh-user-private-key:
              credential-id: key
              key-file-variable: B_KEY
              username-variable: B_KUSER
              passphrase-variable: B_KPASS
    builders:
      - shell: |
          echo "user=$B_USER pass=$B_PASS up=$B_UP tok=$B_TOK kuser=$B_KUSER kpass=$B_KPASS"
          mkdir -p out
          printf '%s\\n' "$B_USER" "$B_PASS" "$B_UP" "$B_TOK" "$B_KUSER" "$B_KPASS" > out/values.txt
          cp "$B_FILE" out/file.bin
          cp "$B_KEY" out/key.txt
          echo "MODES $(stat -c '%a %U' "$B_FILE") $(stat -c '%a %U' "$B_KEY")"
          echo "PATHS $B_FILE $B_KEY"
    publishers:
      - archive:
          artifacts: 'out/*'
"""


def add(server, cid, kind, secret, *extra):
    server.admin("credentials", "add", "--id", cid, "--kind", kind, *extra, "--secret-file", "-",
                 input=secret)


def test_every_binding_reaches_the_steps_masked_and_its_files_go(server, tmp_path):
    add(server, "up", "username-password", "pa55-word\n", "--username", "deployer")
    add(server, "tok", "secret-text", "t0ken-value\n")
    (tmp_path / "blob").write_bytes(BLOB)
    server.admin("credentials", "add", "--id", "blob", "--kind", "file", "--file-name",
                 "settings.bin", "--secret-file", str(tmp_path / "blob"))
    (tmp_path / "pass").write_text("key-pass-phrase")
    server.admin("credentials", "add", "--id", "key", "--kind", "ssh-key", "--username", "git",
                 "--passphrase-file", str(tmp_path / "pass"), "--secret-file", "-", input=KEY)
    create_job(server, "bound", jjb_xml(tmp_path, BOUND, "bound"))
    assert server.get("job/bound/api/json", auth=server.alice).json()["unsupported"] == []

    b, log = build(server, "bound")
    assert b["result"] == "SUCCESS", log
    # the console: every secret masked, the usernames (not secret) shown
    assert "user=deployer pass=**** up=**** tok=**** kuser=git kpass=****" in log, log
    for secret in ("pa55-word", "t0ken-value", "key-pass-phrase", "deployer:pa55"):
        assert secret not in log
    # the real values arrived
    art = f"job/bound/{b['number']}/artifact/out/"
    values = server.get(art + "values.txt", auth=server.alice).text.splitlines()
    assert values == ["deployer", "pa55-word", "deployer:pa55-word", "t0ken-value", "git",
                      "key-pass-phrase"]
    assert server.get(art + "file.bin", auth=server.alice).content == BLOB
    assert server.get(art + "key.txt", auth=server.alice).text == KEY + "\n"
    # the files: the build user's alone while the build ran, gone after it
    assert "MODES 600 steward-build 600 steward-build" in log, log
    paths = next(l for l in log.splitlines() if l.startswith("PATHS ")).split()[1:]
    assert paths[0].endswith("/settings.bin") and "@tmp/secretFiles-" in paths[0], paths
    for p in paths:
        assert not os.path.exists(p), p
    tmp = os.path.join(server.home, "workspace", "bound@tmp")
    assert not [f for f in os.listdir(tmp) if f.startswith("secretFiles")], os.listdir(tmp)


def binding_job(name, kind, cid, var="V"):
    return f"""
- job:
    name: {name}
    project-type: freestyle
    wrappers:
      - credentials-binding:
          - {kind}:
              credential-id: {cid}
              variable: {var}
    builders:
      - shell: echo STEP-RAN
"""


def test_a_binding_that_cannot_be_used_fails_the_build_before_its_first_step(server, tmp_path):
    add(server, "internal", "secret-text", "sys-secret", "--scope", "SYSTEM")
    add(server, "up", "username-password", "pw", "--username", "u")
    cases = {
        "missing": ("text", "nope", "ERROR: the credential 'nope' of the credentials binding does "
                    "not exist. An administrator adds it (steward credentials add --id nope"),
        "system": ("text", "internal", "ERROR: the credential 'internal' of the credentials "
                   "binding has scope SYSTEM"),
        "kind": ("text", "up", "ERROR: the credential 'up' is a \"Username with password\" "
                 "credential, and the secret text binding takes \"Secret text\" credentials."),
        "zip": ("zip-file", "up", "ERROR: the credentials binding "
                "org.jenkinsci.plugins.credentialsbinding.impl.ZipFileBinding is not run by "
                "Steward"),
    }
    for name, (kind, cid, said) in cases.items():
        create_job(server, name, jjb_xml(tmp_path, binding_job(name, kind, cid), name))
        b, log = build(server, name)
        assert b["result"] == "FAILURE", log
        assert said in log and "No build step runs." in log, log
        assert "STEP-RAN" not in log and "sys-secret" not in log, log


def test_a_binding_whose_variable_is_not_a_name_is_refused_and_nothing_changes(server):
    xml = ("<?xml version='1.1' encoding='UTF-8'?>\n<project><builders/><publishers/>"
           "<buildWrappers><org.jenkinsci.plugins.credentialsbinding.impl.SecretBuildWrapper>"
           "<bindings><org.jenkinsci.plugins.credentialsbinding.impl.StringBinding>"
           "<credentialsId>tok</credentialsId><variable>NOT A NAME</variable>"
           "</org.jenkinsci.plugins.credentialsbinding.impl.StringBinding></bindings>"
           "</org.jenkinsci.plugins.credentialsbinding.impl.SecretBuildWrapper></buildWrappers>"
           "</project>")
    r = server.post("createItem?name=bad", data=xml.encode(), auth=server.alice,
                    headers={"Content-Type": "application/xml"})
    assert r.status_code == 400, r.text
    assert "must be a variable name" in r.text
    assert server.get("job/bad/api/json", auth=server.alice).status_code == 404
