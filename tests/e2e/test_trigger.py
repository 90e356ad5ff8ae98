"""The remote-trigger scenario: both secrets, the way scripts really send them."""
import http.client
import os
import urllib.parse

import pytest

from conftest import SLOW, basic, create_job, job_xml
from e2e_helpers import pids_running, restart, wait_for


PARAMS = [("string", "BRANCH", "main"), ("choice", "MODE", ["debug", "release"]),
          ("bool", "CLEAN", "false"), ("text", "NOTES", "none"), ("password", "SECRET", "s3")]
SCRIPT = 'echo "branch=$BRANCH mode=$MODE clean=$CLEAN notes=$NOTES secret=$SECRET num=$BUILD_NUMBER"'


def raw_post(server, path, headers, body=None):
    """A request the way .NET HttpWebRequest sends it: Basic header by hand, form type."""
    u = urllib.parse.urlsplit(server.url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.putrequest("POST", path)
    for k, v in headers.items():
        c.putheader(k, v)
    if body is not None:
        c.putheader("Content-Length", str(len(body)))
    c.endheaders()
    if body:
        c.send(body)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r, data


@pytest.mark.parametrize("with_trigger_token", [False, True])
def test_basic_auth_post_like_csharp_gets_201_and_builds(server, with_trigger_token):
    create_job(server, "csharp", job_xml(PARAMS, token="tr1gger" if with_trigger_token else None,
                                         script=SCRIPT))
    r, body = raw_post(server, "/job/csharp/buildWithParameters?BRANCH=feature%2Fx&MODE=release",
                       {"Authorization": basic(*server.alice),
                        "Content-Type": "application/x-www-form-urlencoded"}, body=b"")
    assert r.status == 201, body
    loc = r.getheader("Location")
    assert loc.startswith(server.url + "queue/item/") and loc.endswith("/")
    item = server.wait_queue_item(loc, server.alice)
    build = server.wait_build("csharp", item["executable"]["number"], server.alice)
    assert build["result"] == "SUCCESS"
    log = server.get(f"job/csharp/{build['number']}/consoleText", auth=server.alice).text
    # a password parameter reaches the build, and is masked in its output
    assert "branch=feature/x mode=release clean=false notes=none secret=**** " in log
    causes = [a for a in build["actions"] if a.get("_class") == "hudson.model.CauseAction"][0]
    assert causes["causes"][0]["shortDescription"] == "Started by user alice"
    assert causes["causes"][0]["apiTokenName"] == "ci"


def test_post_without_content_length_like_mono(server):
    """Mono sends a body-less POST with neither Content-Length nor Transfer-Encoding."""
    create_job(server, "mono", job_xml([("string", "P", "x")], script='echo "P=$P"'))
    r, body = raw_post(server, "/job/mono/buildWithParameters?P=a+b",
                       {"Authorization": basic(*server.alice)})
    assert r.status == 201, body
    item = server.wait_queue_item(r.getheader("Location"), server.alice)
    build = server.wait_build("mono", item["executable"]["number"], server.alice)
    assert "P=a b" in server.get(f"job/mono/{build['number']}/consoleText", auth=server.alice).text


def test_form_body_parameters_and_expect_100_continue(server):
    create_job(server, "form", job_xml([("string", "P", "x")], script='echo "P=$P"'))
    r, body = raw_post(server, "/job/form/buildWithParameters",
                       {"Authorization": basic(*server.alice), "Expect": "100-continue",
                        "Content-Type": "application/x-www-form-urlencoded"},
                       body=b"P=from+the+body&IGNORED=1")
    assert r.status == 201, body
    assert r.getheader("X-Steward-Ignored-Parameters") == "IGNORED"
    item = server.wait_queue_item(r.getheader("Location"), server.alice)
    server.wait_build("form", item["executable"]["number"], server.alice)
    log = server.get(f"job/form/{item['executable']['number']}/consoleText", auth=server.alice).text
    assert "P=from the body" in log


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_anonymous_trigger_token_works_without_anonymous_read(server, method):
    create_job(server, "remote", job_xml([("string", "WHO", "world")], token="s3cret-token",
                                         script='echo "hi $WHO"'))
    # anonymous cannot read anything
    assert server.get("api/json").status_code == 401
    r = server.get if method == "GET" else server.post
    resp = r("job/remote/buildWithParameters?token=s3cret-token&WHO=anon&cause=nightly")
    assert resp.status_code == 201, resp.text
    item = server.wait_queue_item(resp.headers["Location"], server.alice)
    cause = [a for a in item["actions"] if a.get("_class") == "hudson.model.CauseAction"][0]["causes"][0]
    assert cause["_class"] == "hudson.model.Cause$RemoteCause"
    assert cause["shortDescription"] == "Started by remote host 127.0.0.1 with note: nightly"
    build = server.wait_build("remote", item["executable"]["number"], server.alice)
    assert "hi anon" in server.get(f"job/remote/{build['number']}/consoleText", auth=server.alice).text


def test_plain_build_with_trigger_token_by_get(server):
    create_job(server, "plain", job_xml(token="tok"))
    resp = server.get("job/plain/build?token=tok")
    assert resp.status_code == 201
    assert resp.headers["Content-Length"] == "0"


@pytest.mark.parametrize("variant", ["build", "buildWithParameters"])
def test_build_by_token_root(server, variant):
    create_job(server, "bbt", job_xml([("string", "P", "dflt")], token="tok", script='echo "P=$P"'))
    resp = server.get(f"buildByToken/{variant}?job=bbt&token=tok&P=v1")
    assert resp.status_code == 201, resp.text
    item = server.wait_queue_item(resp.headers["Location"], server.alice)
    server.wait_build("bbt", item["executable"]["number"], server.alice)
    log = server.get(f"job/bbt/{item['executable']['number']}/consoleText", auth=server.alice).text
    assert "Started by remote host 127.0.0.1" in log
    # a wrong token and a missing job look the same
    wrong = server.get("buildByToken/build?job=bbt&token=nope")
    missing = server.get("buildByToken/build?job=nosuchjob&token=nope")
    assert wrong.status_code == missing.status_code == 404
    assert wrong.json()["presented"] == missing.json()["presented"]


def test_defaults_and_unknown_parameters(server):
    create_job(server, "dflt", job_xml(PARAMS, script=SCRIPT))
    resp = server.post("job/dflt/buildWithParameters?UNKNOWN=1", auth=server.alice)
    assert resp.status_code == 201
    item = server.wait_queue_item(resp.headers["Location"], server.alice)
    params = {p["name"]: p.get("value") for a in item["actions"] if "parameters" in a
              for p in a["parameters"]}
    assert params == {"BRANCH": "main", "MODE": "debug", "CLEAN": False, "NOTES": "none",
                      "SECRET": None}
    assert "UNKNOWN" not in item["params"]
    assert "SECRET=****" in item["params"]


def test_parameters_never_reach_script_text(server):
    create_job(server, "inject", job_xml([("string", "P", "")], script='echo "[$P]"'))
    evil = "$(touch pwned); `id`; '\"; exit 3"
    resp = server.post("job/inject/buildWithParameters", params={"P": evil}, auth=server.alice)
    assert resp.status_code == 201
    item = server.wait_queue_item(resp.headers["Location"], server.alice)
    build = server.wait_build("inject", item["executable"]["number"], server.alice)
    assert build["result"] == "SUCCESS"
    log = server.get(f"job/inject/{build['number']}/consoleText", auth=server.alice).text
    assert f"[{evil}]" in log


def test_environment_is_jenkins_like(server):
    create_job(server, "env", job_xml([("string", "P", "v")],
                                      script="env | sort | grep -E '^(BUILD_[A-Z_]*|JOB_[A-Z_]*|JENKINS_URL|WORKSPACE|EXECUTOR_NUMBER|NODE_NAME|CI|P)='"))
    resp = server.post("job/env/build", auth=server.alice)
    assert resp.status_code == 201
    item = server.wait_queue_item(resp.headers["Location"], server.alice)
    n = item["executable"]["number"]
    server.wait_build("env", n, server.alice)
    log = server.get(f"job/env/{n}/consoleText", auth=server.alice).text
    for line in [f"BUILD_NUMBER={n}", f"BUILD_ID={n}", f"BUILD_TAG=jenkins-env-{n}",
                 f"BUILD_URL={server.url}job/env/{n}/", "JOB_NAME=env", "JOB_BASE_NAME=env",
                 f"JOB_URL={server.url}job/env/", f"JENKINS_URL={server.url}", "NODE_NAME=built-in",
                 "CI=true", "P=v"]:
        assert line in log.splitlines(), line
    assert any(l.startswith("EXECUTOR_NUMBER=") for l in log.splitlines())
    assert any(l.startswith("WORKSPACE=") and l.endswith("/workspace/env") for l in log.splitlines())


def test_failure_and_multiple_steps(server):
    create_job(server, "steps", job_xml(steps=["echo one", "echo two; exit 4", "echo three"]))
    resp = server.post("job/steps/build", auth=server.alice)
    item = server.wait_queue_item(resp.headers["Location"], server.alice)
    build = server.wait_build("steps", item["executable"]["number"], server.alice)
    assert build["result"] == "FAILURE"
    log = server.get(f"job/steps/{build['number']}/consoleText", auth=server.alice).text
    assert "one" in log and "two" in log and "three" not in log
    assert log.rstrip().endswith("Finished: FAILURE")


@pytest.mark.parametrize("sandbox", [True, False], ids=["sandbox", "no-sandbox"])
def test_processes_a_build_leaves_behind_are_killed(server, sandbox):
    """Even one that left the build's process group (setsid). Without the sandbox it is
    found by its environment; in the sandbox its PID namespace ends with the build, so
    even a double fork that also unsets STEWARD_BUILD_COOKIE does not escape."""
    if not sandbox:
        server.stop()
        restart(server, "--no-sandbox")
    daemon = ("sleep", "300.0419")
    go = os.path.join(server.shared, "go")
    start = (f'(unset STEWARD_BUILD_COOKIE; setsid sh -c "{" ".join(daemon)} &" &)' if sandbox
             else f'setsid {" ".join(daemon)} &')
    create_job(server, "bg", job_xml(script=(
        f'{start}\ni=0; '
        f'while [ ! -e "{go}" ] && [ $i -lt {1200 * SLOW} ]; do sleep 0.05; i=$((i+1)); done')))
    resp = server.post("job/bg/build", auth=server.alice)
    try:
        wait_for(lambda: pids_running(*daemon), 30, "the build's background process to start")
    finally:
        open(go, "w").close()
    item = server.wait_queue_item(resp.headers["Location"], server.alice)
    assert server.wait_build("bg", item["executable"]["number"], server.alice)["result"] == "SUCCESS"
    wait_for(lambda: not pids_running(*daemon), 5, "the background process to be gone",
             seen=lambda: pids_running(*daemon))
