"""Build chains written by jenkins-job-builder: `trigger`, `trigger-parameterized-builds`,
`reverse`, block-upstream/block-downstream, and the cycles they could make."""
import os
import shutil
import signal

import pytest

from e2e_helpers import restart, causes_of, console, item_path, job_info, params_of, wait_for
from test_jjb import JJB, updated_count

pytestmark = pytest.mark.skipif(
    not shutil.which("jenkins-jobs"),
    reason="jenkins-jobs is missing: apt-get install jenkins-job-builder")

# a step that waits (bounded) for the file `go` in its workspace, which the test makes
WAIT_GO = "for i in $(seq 1200); do [ -e go ] && break; sleep 0.05; done; rm -f go"

YAML = r"""
- job:
    name: up
    builders:
      - shell: echo building up
    publishers:
      - trigger:
          project: down-a, down-b
          threshold: SUCCESS
- job:
    name: down-a
    builders:
      - shell: echo "down-a ran"
- job:
    name: down-b
    builders:
      - shell: echo "down-b ran"
- job:
    name: upfail
    builders:
      - shell: exit 1
    publishers:
      - trigger:
          project: down-c
          threshold: SUCCESS
      - trigger:
          project: down-d
          threshold: FAILURE
- job:
    name: down-c
    builders:
      - shell: echo c
- job:
    name: down-d
    builders:
      - shell: echo d

- job:
    name: src
    parameters:
      - bool:
          name: FAIL
          default: false
    builders:
      - shell: '[ "$FAIL" != true ]'
- job:
    name: rev-ok
    triggers:
      - reverse:
          jobs: src
          result: success
    builders:
      - shell: echo rev-ok
- job:
    name: rev-fail
    triggers:
      - reverse:
          jobs: src, nowhere
          result: failure
    builders:
      - shell: echo rev-fail

- job:
    name: up-p
    parameters:
      - string:
          name: COLOR
          default: red
    builders:
      - shell: |
          printf 'VER=1.%s\nESC=caf\\u00e9 \\\n  au lait\n# a comment\n' "$BUILD_NUMBER" > out.properties
          ln -sf /etc/hostname evil.properties
    publishers:
      - trigger-parameterized-builds:
          - project: pdown
            current-parameters: true
            predefined-parameters: |
              FROM=${JOB_NAME}-${BUILD_NUMBER}
              X=y
            property-file: out.properties
            fail-on-missing: true
            condition: SUCCESS
          - project: pdown-evil
            property-file: evil.properties
            condition: ALWAYS
          - project: pdown-none
            condition: ALWAYS
          - project: pdown-missing
            property-file: missing.properties
            fail-on-missing: true
            condition: ALWAYS
      # the Workspace Cleanup publisher runs after the triggers have read their files
      - workspace-cleanup:
          clean-if:
            - failure: false
- job:
    name: pdown
    parameters:
      - string:
          name: COLOR
          default: none
      - string:
          name: FROM
      - string:
          name: VER
      - string:
          name: ESC
      - string:
          name: X
      - string:
          name: KEPT
          default: kept-default
    builders:
      - shell: echo "color=$COLOR from=$FROM ver=$VER x=$X kept=$KEPT"
- job:
    name: pdown-evil
    parameters:
      - string:
          name: HOST
    builders:
      - shell: echo evil
- job:
    name: pdown-none
    builders:
      - shell: echo none
- job:
    name: pdown-missing
    builders:
      - shell: echo missing

- job:
    name: slow-up
    builders:
      - shell: '__WAIT_GO__'
    publishers:
      - trigger:
          project: blocked
- job:
    name: blocked
    block-upstream: true
    builders:
      - shell: echo blocked ran

- job:
    name: bd-up
    block-downstream: true
    builders:
      - shell: echo bd-up
    publishers:
      - trigger:
          project: bd-down
- job:
    name: bd-down
    builders:
      - shell: '__WAIT_GO__'

- job:
    name: cyc-a
    builders:
      - shell: echo a
    publishers:
      - trigger:
          project: cyc-b
- job:
    name: cyc-b
    builders:
      - shell: echo b
    publishers:
      - trigger-parameterized-builds:
          - project: cyc-a
            predefined-parameters: "P=1"
            condition: ALWAYS
- job:
    name: later-up
    builders:
      - shell: echo later-up
    publishers:
      - trigger:
          project: later
- job:
    name: later
    quiet-period: 3600
    builders:
      - shell: echo later

- job:
    name: self
    builders:
      - shell: echo self
    publishers:
      - trigger:
          project: self
""".replace("__WAIT_GO__", WAIT_GO)


@pytest.fixture
def chains(server, tmp_path):
    jjb = JJB(server, tmp_path)
    p = jjb.run("update", jjb.write(YAML))
    assert updated_count(p) == YAML.count("- job:"), p.stderr
    return server


def build(server, job, **params):
    path = f"job/{job}/buildWithParameters" if params else f"job/{job}/build"
    r = server.post(path, data=params, auth=server.alice)
    assert r.status_code == 201, r.text
    return r.headers["Location"]


def finished(server, job, number):
    """The build's JSON once it has ended."""
    def done():
        r = server.get(f"job/{job}/{number}/api/json", auth=server.alice)
        return r.status_code == 200 and not r.json()["building"] and r.json()
    return wait_for(done, timeout=30, what=f"{job} #{number} to finish")


def upstream_causes(b):
    return [c for c in causes_of(b) if c["_class"] == "hudson.model.Cause$UpstreamCause"]


def names(projects):
    return sorted(p["name"] for p in projects)


def test_trigger_starts_downstream_builds_with_upstream_cause(chains):
    s = chains
    build(s, "up")
    assert finished(s, "up", 1)["result"] == "SUCCESS"
    for job in ("down-a", "down-b"):
        b = finished(s, job, 1)
        assert b["result"] == "SUCCESS"
        assert upstream_causes(b) == [{
            "_class": "hudson.model.Cause$UpstreamCause",
            "shortDescription": 'Started by upstream project "up" build number 1',
            "upstreamBuild": 1, "upstreamProject": "up", "upstreamUrl": "job/up/"}]
        text = console(s, job, 1, s.alice)
        assert text.startswith('Started by upstream project "up" build number 1\n'), text
    up_log = console(s, "up", 1, s.alice)
    assert up_log.index("Triggering a new build of down-a\n") < up_log.index("Finished: SUCCESS")
    assert "Triggering a new build of down-b\n" in up_log

    # the graph in the job JSON, both ways
    assert names(job_info(s, "up", s.alice)["downstreamProjects"]) == ["down-a", "down-b"]
    assert job_info(s, "up", s.alice)["upstreamProjects"] == []
    assert names(job_info(s, "down-a", s.alice)["upstreamProjects"]) == ["up"]
    info = job_info(s, "down-a", s.alice)["upstreamProjects"][0]
    assert info["url"] == s.url + "job/up/" and info["color"] == "blue"

    # the job pages list the chain with links
    page = s.get("job/up/", auth=s.alice, headers={"Accept": "text/html"}).text
    assert 'id="downstream">Downstream projects: <a href="/job/down-a/">down-a</a>, ' \
           '<a href="/job/down-b/">down-b</a></p>' in page, page
    page = s.get("job/down-b/", auth=s.alice, headers={"Accept": "text/html"}).text
    assert 'id="upstream">Upstream projects: <a href="/job/up/">up</a></p>' in page, page

    # the build page names the upstream build and links to it
    page = s.get("job/down-a/1/", auth=s.alice, headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert 'href="/job/up/1/"' in page.text or 'job/up/1/"' in page.text, page.text
    assert "upstream project up build #1" in page.text


def test_threshold_decides_on_the_result(chains):
    s = chains
    build(s, "upfail")
    assert finished(s, "upfail", 1)["result"] == "FAILURE"
    d = finished(s, "down-d", 1)
    assert upstream_causes(d)[0]["upstreamProject"] == "upfail"
    # both triggers were decided in the same moment: down-c would be queued by now
    info = job_info(s, "down-c", s.alice)
    assert info["lastBuild"] is None and info["inQueue"] is False, info
    log = console(s, "upfail", 1, s.alice)
    assert "Triggering a new build of down-d" in log and "down-c" not in log, log


def test_reverse_trigger_follows_its_threshold(chains):
    s = chains
    build(s, "src", FAIL="false")
    assert finished(s, "src", 1)["result"] == "SUCCESS"
    for job in ("rev-ok", "rev-fail"):
        b = finished(s, job, 1)
        assert upstream_causes(b)[0]["upstreamProject"] == "src"
    assert names(job_info(s, "src", s.alice)["downstreamProjects"]) == ["rev-fail", "rev-ok"]
    assert names(job_info(s, "rev-fail", s.alice)["upstreamProjects"]) == ["src"]

    build(s, "src", FAIL="true")
    assert finished(s, "src", 2)["result"] == "FAILURE"
    b = finished(s, "rev-fail", 2)
    assert upstream_causes(b)[0]["upstreamBuild"] == 2
    info = job_info(s, "rev-ok", s.alice)
    assert info["lastBuild"]["number"] == 1 and info["inQueue"] is False, info


def test_parameterized_trigger_passes_parameters(chains):
    s = chains
    build(s, "up-p", COLOR="blue")
    assert finished(s, "up-p", 1)["result"] == "SUCCESS"
    b = finished(s, "pdown", 1)
    assert params_of(b) == {"COLOR": "blue", "FROM": "up-p-1", "VER": "1.1",
                            "ESC": "café au lait", "X": "y", "KEPT": "kept-default"}, b
    assert upstream_causes(b)[0]["upstreamProject"] == "up-p"
    assert "color=blue from=up-p-1 ver=1.1 x=y kept=kept-default" in console(s, "pdown", 1, s.alice)

    log = console(s, "up-p", 1, s.alice)
    # a properties file that is a symbolic link is not followed out of the workspace
    assert "Properties file evil.properties cannot be read (a symbolic link" in log, log
    # no parameter at all, and triggerWithNoParameters false (JJB's default): not triggered
    assert "Downstream builds will not be triggered as no parameter is set." in log, log
    assert "Properties file missing.properties did not exist" in log, log
    assert log.index("Triggering a new build of pdown") < log.index("[WS-CLEANUP] done"), log
    assert not os.path.exists(os.path.join(s.home, "workspace", "up-p", "out.properties"))
    for job in ("pdown-evil", "pdown-none", "pdown-missing"):
        info = job_info(s, job, s.alice)
        assert info["lastBuild"] is None and info["inQueue"] is False, (job, info)
    assert names(job_info(s, "up-p", s.alice)["downstreamProjects"]) == [
        "pdown", "pdown-evil", "pdown-missing", "pdown-none"]


def test_block_when_upstream_building_and_identical_requests_merge(chains):
    s = chains
    ws = os.path.join(s.home, "workspace", "slow-up")
    build(s, "slow-up")
    wait_for(lambda: s.get("job/slow-up/1/api/json", auth=s.alice).status_code == 200,
             what="slow-up #1 to start")
    loc = build(s, "blocked")
    item = s.get(item_path(loc) + "api/json", auth=s.alice).json()
    assert item["why"] == "Upstream project slow-up is already building.", item
    assert item["blocked"] is True and item["_class"] == "hudson.model.Queue$BlockedItem"
    # it stays blocked while the upstream builds, though an executor is free
    assert s.get("job/blocked/api/json", auth=s.alice).json()["lastBuild"] is None

    open(os.path.join(ws, "go"), "w").close()
    assert finished(s, "slow-up", 1)["result"] == "SUCCESS"
    b = finished(s, "blocked", 1)
    # the upstream's request merged into the waiting one: one build, both causes
    classes = sorted(c["_class"] for c in causes_of(b))
    assert classes == ["hudson.model.Cause$UpstreamCause", "hudson.model.Cause$UserIdCause"], b
    assert "blocked is already in the queue" in console(s, "slow-up", 1, s.alice)
    assert job_info(s, "blocked", s.alice)["lastBuild"]["number"] == 1


def test_block_when_downstream_building(chains):
    s = chains
    ws = os.path.join(s.home, "workspace", "bd-down")
    build(s, "bd-up")
    assert finished(s, "bd-up", 1)["result"] == "SUCCESS"
    wait_for(lambda: s.get("job/bd-down/1/api/json", auth=s.alice).status_code == 200,
             what="bd-down #1 to start")
    loc = build(s, "bd-up")
    item = s.get(item_path(loc) + "api/json", auth=s.alice).json()
    assert item["why"] == "Downstream project bd-down is already building.", item
    assert item["blocked"] is True

    open(os.path.join(ws, "go"), "w").close()
    assert finished(s, "bd-down", 1)["result"] == "SUCCESS"
    assert finished(s, "bd-up", 2)["result"] == "SUCCESS"
    # bd-up #2 triggers bd-down #2, which waits again: release it too
    wait_for(lambda: s.get("job/bd-down/2/api/json", auth=s.alice).status_code == 200,
             what="bd-down #2 to start")
    open(os.path.join(ws, "go"), "w").close()
    finished(s, "bd-down", 2)


def test_a_cycle_is_cut_with_a_log_line(chains):
    s = chains
    build(s, "cyc-a")
    finished(s, "cyc-a", 1)
    b = finished(s, "cyc-b", 1)
    assert upstream_causes(b)[0]["upstreamProject"] == "cyc-a"
    log = console(s, "cyc-b", 1, s.alice)
    assert ("cyc-a is upstream of this build already: not triggered again, which would make "
            "the chain loop") in log, log
    info = job_info(s, "cyc-a", s.alice)
    assert info["lastBuild"]["number"] == 1 and info["inQueue"] is False, info

    build(s, "self")
    finished(s, "self", 1)
    assert "self is upstream of this build already" in console(s, "self", 1, s.alice)
    info = job_info(s, "self", s.alice)
    assert info["lastBuild"]["number"] == 1 and info["inQueue"] is False, info


def test_a_chain_stops_at_32_jobs(server, tmp_path):
    s = server
    jobs = "\n".join(f"      - 'long-{{n}}':\n          n: {n}\n          next: {n + 1}"
                     for n in range(1, 35))
    yaml = ("- job-template:\n    name: 'long-{n}'\n    publishers:\n      - trigger:\n"
            "          project: 'long-{next}'\n"
            f"- project:\n    name: long\n    jobs:\n{jobs}\n")
    jjb = JJB(s, tmp_path)
    assert updated_count(jjb.run("update", jjb.write(yaml))) == 34
    build(s, "long-1")
    b = finished(s, "long-32", 1)
    assert upstream_causes(b)[0]["upstreamProject"] == "long-31"
    log = console(s, "long-32", 1, s.alice)
    assert ("This build ends a chain of 32 jobs, the most Steward runs: no downstream build is "
            "triggered") in log, log
    assert "Triggering" not in log
    info = job_info(s, "long-33", s.alice)
    assert info["lastBuild"] is None and info["inQueue"] is False, info
    assert "This build ends" not in console(s, "long-31", 1, s.alice)


def test_a_downstream_request_is_on_disk_when_the_upstream_ends(chains):
    """kill -9 right after the upstream build: the downstream item and its cause are kept."""
    s = chains
    build(s, "later-up")
    assert finished(s, "later-up", 1)["result"] == "SUCCESS"
    items = [i for i in s.get("queue/api/json", auth=s.alice).json()["items"]
             if i["task"]["name"] == "later"]
    assert len(items) == 1 and items[0]["why"].startswith("In the quiet period"), items
    s.stop(signal.SIGKILL)
    restart(s)
    item = s.get(f"queue/item/{items[0]['id']}/api/json", auth=s.alice).json()
    assert item["_class"] == "hudson.model.Queue$WaitingItem", item
    assert upstream_causes(item) == [{
        "_class": "hudson.model.Cause$UpstreamCause",
        "shortDescription": 'Started by upstream project "later-up" build number 1',
        "upstreamBuild": 1, "upstreamProject": "later-up", "upstreamUrl": "job/later-up/"}]


def test_a_rename_follows_the_chains(chains):
    """Renaming down-a rewrites up's childProjects; renaming src, rev-fail's upstreamProjects."""
    s = chains
    for old, new in (("down-a", "down-renamed"), ("src", "source")):
        r = s.post(f"job/{old}/doRename", params={"newName": new}, auth=s.alice,
                   allow_redirects=False)
        assert r.status_code == 302, r.text
    xml = s.get("job/up/config.xml", auth=s.alice).text
    assert "<childProjects>down-renamed, down-b</childProjects>" in xml, xml
    xml = s.get("job/rev-fail/config.xml", auth=s.alice).text
    assert "<upstreamProjects>source, nowhere</upstreamProjects>" in xml, xml
    assert names(job_info(s, "up", s.alice)["downstreamProjects"]) == ["down-b", "down-renamed"]
    build(s, "up")
    finished(s, "up", 1)
    b = finished(s, "down-renamed", 1)
    assert upstream_causes(b)[0]["upstreamProject"] == "up"
    build(s, "source", FAIL="true")
    finished(s, "source", 1)
    assert upstream_causes(finished(s, "rev-fail", 1))[0]["upstreamProject"] == "source"
