"""The npm `jenkins` client (silas/node-jenkins 1.x, pinned by tests/e2e/npm/package-lock.json),
driven by tests/e2e/npm/drive.js exactly as its README shows, against a fresh server."""
import fcntl
import json
import os
import shutil
import subprocess

import pytest

from conftest import SLOW

NPM_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "npm")
TRIGGER_TOKEN = "npm-trigger-t0ken"


@pytest.fixture(scope="module")
def node_modules():
    if not shutil.which("npm") or not shutil.which("node"):
        pytest.skip("npm (and node) are missing: apt-get install nodejs npm")
    with open(os.path.join(NPM_DIR, "package.json")) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one `npm ci` at a time
        if not os.path.isfile(os.path.join(NPM_DIR, "node_modules", "jenkins", "package.json")):
            p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NPM_DIR,
                               capture_output=True, text=True, timeout=300)
            assert p.returncode == 0, "npm ci failed:\n" + p.stdout + p.stderr
    with open(os.path.join(NPM_DIR, "node_modules", "jenkins", "package.json")) as f:
        assert json.load(f)["version"].startswith("1."), "expected jenkins 1.x from the lock file"


@pytest.fixture
def summary(server, node_modules):
    p = subprocess.run(["node", "drive.js", server.url, *server.alice], cwd=NPM_DIR,
                       capture_output=True, text=True, timeout=150 * SLOW,
                       env={**os.environ, "STEWARD_SLOW": str(SLOW)})
    assert p.stdout.strip(), f"drive.js printed nothing (rc {p.returncode}):\n{p.stderr}"
    s = json.loads(p.stdout)
    assert not s.get("fatal") and not s.get("timedOut"), s
    return s


def test_npm_client_scenario(server, summary):
    s, errors = summary["steps"], summary["errors"]
    assert errors == {}, json.dumps(errors, indent=2)

    info = s["info"]
    assert info["_class"] == "hudson.model.Hudson" and info["mode"] == "NORMAL"
    assert info["jobs"] == []
    assert s["create"] is True
    assert s["exists"] == {"npm-params": True, "no-such-job": False}
    assert s["configGet"]["sameAsCreated"] is True
    assert s["configSet"]["roundTrip"] is True
    assert s["jobGet"] == {"name": "npm-params", "description": "set by job.config & kept",
                           "color": "notbuilt", "buildable": True, "nextBuildNumber": 1,
                           "parameters": ["P", "MODE"]}
    assert s["list"] == ["npm-doomed", "npm-params", "npm-quiet", "npm-slow"]

    # job.build with parameters (a form body), then queue.item polling
    b = s["buildWithParameters"]
    assert b["typeofQueueId"] == "number" and b["queueId"] > 0
    assert b["executable"]["number"] == 1
    assert b["executable"]["url"] == f"{server.url}job/npm-params/1/"
    assert b["params"] == {"P": "from npm & co", "MODE": "release"}

    # build.logStream: progressive text, several pieces, adding up to the whole log
    console = server.get("job/npm-params/1/consoleText", auth=server.alice).text
    stream = s["logStream"]
    assert stream["nonEmptyChunks"] >= 2, stream
    assert stream["text"] == console
    for i in range(1, 7):
        assert f"tick {i} P=[from npm & co] MODE=[release]" in console
    assert s["buildLog"]["text"] == console

    g = s["buildGet"]
    assert g["result"] == "SUCCESS" and g["building"] is False and g["number"] == 1
    assert g["queueId"] == b["queueId"]
    assert g["params"] == {"P": "from npm & co", "MODE": "release"}
    assert g["causes"] == ["Started by user alice"]

    # job.build with the job's token, from a client without credentials
    t = s["buildWithToken"]
    assert t["number"] == 2 and t["result"] == "SUCCESS"
    assert t["causes"] == ["Started by remote host 127.0.0.1"]
    assert "tick 6 P=[via token] MODE=[debug]" in t["log"]
    assert s["tokenClientCannotRead"] == {"refused": True, "statusCode": 401}

    # build.stop
    st = s["stop"]
    assert st["result"] == "ABORTED", st
    assert "slow finished" not in st["log"]
    assert st["stoppedInMs"] < 20000 * SLOW

    # queue.cancel
    c = s["cancel"]
    assert c["before"]["executable"] is None and c["before"]["why"], c
    assert c["listed"] is True
    assert c["after"] == {"cancelled": True, "executable": None,
                          "_class": "hudson.model.Queue$LeftItem"}
    assert c["listedAfter"] is False

    # job.disable / job.enable
    assert s["disable"] == {"disabled": True, "color": "disabled", "buildable": False,
                            "buildWhileDisabled": {"refused": True, "statusCode": 409}}
    assert s["enable"] == {"disabled": False, "color": "blue", "buildable": True}

    # job.destroy
    assert s["destroy"] == {"exists": False, "destroyAgain": {"refused": True, "notFound": True}}


def test_server_state_after_the_scenario(server, summary):
    assert summary["errors"] == {}, json.dumps(summary["errors"], indent=2)
    auth = server.alice
    root = server.get("api/json?tree=jobs[name]", auth=auth).json()
    assert sorted(j["name"] for j in root["jobs"]) == ["npm-params", "npm-quiet", "npm-slow"]
    assert server.get("job/npm-doomed/api/json", auth=auth).status_code == 404

    config = server.get("job/npm-params/config.xml", auth=auth).text
    assert "<description>set by job.config &amp; kept</description>" in config
    assert f"<authToken>{TRIGGER_TOKEN}</authToken>" in config
    assert "<disabled>false</disabled>" in config

    job = server.get("job/npm-params/api/json", auth=auth).json()
    assert [b["number"] for b in job["builds"]] == [2, 1]
    assert job["nextBuildNumber"] == 3, "the build tried while disabled must not exist"
    assert job["color"] == "blue" and job["disabled"] is False
    for n, p in ((1, "from npm & co"), (2, "via token")):
        build = server.get(f"job/npm-params/{n}/api/json", auth=auth).json()
        assert build["result"] == "SUCCESS"
        values = {x["name"]: x["value"] for a in build["actions"] if "parameters" in a
                  for x in a["parameters"]}
        assert values["P"] == p

    slow = server.get("job/npm-slow/1/api/json", auth=auth).json()
    assert slow["result"] == "ABORTED" and slow["building"] is False

    cancelled = server.get(f"queue/item/{summary['steps']['cancel']['queueId']}/api/json",
                           auth=auth).json()
    assert cancelled["cancelled"] is True and cancelled["executable"] is None
    quiet = server.get("job/npm-quiet/api/json", auth=auth).json()
    assert quiet["lastBuild"] is None and quiet["inQueue"] is False
    assert server.get("queue/api/json", auth=auth).json()["items"] == []
