"""The npm `jenkins-api` client (jansepar/node-jenkins-api 0.3.1, pinned by
tests/e2e/npm-jenkins-api/package-lock.json), driven by its drive.js as its README shows.
Its `build` posts to /job/NAME/build/api/json?token=..., which Jenkins' dispatch takes as
/job/NAME/build; its `all_builds` reads tree=allBuilds[...]; `delete_build` posts doDelete."""
import fcntl
import json
import os
import shutil
import subprocess

import pytest

from conftest import SLOW, create_job, job_xml

NPM_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "npm-jenkins-api")
TRIGGER_TOKEN = "npm-api-trigger-t0ken"


@pytest.fixture(scope="module")
def node_modules():
    if not shutil.which("npm") or not shutil.which("node"):
        pytest.skip("npm (and node) are missing: apt-get install nodejs npm")
    with open(os.path.join(NPM_DIR, "package.json")) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one `npm ci` at a time
        if not os.path.isfile(os.path.join(NPM_DIR, "node_modules", "jenkins-api", "package.json")):
            p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NPM_DIR,
                               capture_output=True, text=True, timeout=300)
            assert p.returncode == 0, "npm ci failed:\n" + p.stdout + p.stderr


def test_jenkins_api_client_triggers_reads_all_builds_and_deletes(server, node_modules):
    create_job(server, "npm-api", job_xml(params=[("string", "BRANCH", "main")],
                                          token=TRIGGER_TOKEN, script='echo "B=$BRANCH"'))
    p = subprocess.run(["node", "drive.js", server.url, *server.alice, TRIGGER_TOKEN],
                       cwd=NPM_DIR, capture_output=True, text=True, timeout=150 * SLOW,
                       env={**os.environ, "STEWARD_SLOW": str(SLOW)})
    assert p.stdout.strip(), f"drive.js printed nothing (rc {p.returncode}):\n{p.stderr}"
    s = json.loads(p.stdout)
    assert not s.get("fatal") and not s.get("timedOut"), s
    steps, errors = s["steps"], s["errors"]
    assert errors == {}, json.dumps(errors, indent=2)

    assert steps["build"] == {"statusCode": 201, "number": 1, "result": "SUCCESS"}
    assert steps["anonymousBuild"] == {"statusCode": 201, "number": 2, "result": "SUCCESS"}
    assert steps["buildWithParams"]["number"] == 3
    assert steps["buildWithParams"]["params"] == [
        {"_class": "hudson.model.StringParameterValue", "name": "BRANCH", "value": "feature/npm"}]
    # all_builds' default fields, for every build
    every = steps["allBuilds"]
    assert [(b["id"], b["result"]) for b in every] == [("3", "SUCCESS"), ("2", "SUCCESS"),
                                                       ("1", "SUCCESS")]
    assert all(set(b) == {"_class", "id", "timestamp", "result", "duration"} for b in every)
    assert [b["actions"][0]["parameters"][0]["value"] for b in steps["allBuildsFields"]] == \
        ["feature/npm", "main", "main"]
    assert steps["deleteBuild"] == {"body": "Build 1 deleted."}
    assert steps["afterDelete"] == [3, 2]
    # the triggers went through the trigger token, which the audit log names
    audit = server.get("manage/audit/api/json?action=trigger", auth=server.alice).json()
    assert len([e for e in audit["entries"] if e["job"] == "npm-api"]) == 3


def test_api_tails_after_trigger_actions_are_ignored_as_jenkins_does(server):
    create_job(server, "tails", job_xml(params=[("string", "P", "d")], token=TRIGGER_TOKEN))
    # what the npm client sends, and the same for the other actions
    for path in ("job/tails/build/api/json", "job/tails/buildWithParameters/api/json",
                 "job/tails/build/api/xml"):
        r = server.post(f"{path}?token={TRIGGER_TOKEN}&P=x", allow_redirects=False)
        assert r.status_code == 201, (path, r.text)
        assert "/queue/item/" in r.headers["Location"]
    # a wrong token is refused there as on the action itself
    r = server.post("job/tails/build/api/json?token=wrong")
    assert r.status_code in (403, 404) and "token" in r.text.lower(), r.text
    # and polling a job without Git says so rather than "build polling does not exist"
    r = server.post("job/tails/polling/api/json", auth=server.alice)
    assert r.status_code == 400 and "Git" in r.text, r.text
