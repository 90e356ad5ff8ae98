"""jenkins-job-builder (Debian's jenkins-jobs 3.x) managing Steward's jobs from YAML."""
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
import requests

from conftest import SLOW, create_job, job_xml

pytestmark = pytest.mark.skipif(
    not shutil.which("jenkins-jobs"),
    reason="jenkins-jobs is missing: apt-get install jenkins-job-builder")

MARKER = "<!-- Managed by Jenkins Job Builder -->"
TOKEN = "jjb-trigger-s3cret"

# Every element the issue names, a build discarder (applied, and kept as written), and
# elements of plugins Steward does not know (pollscm, timestamps, raw XML of a made-up plugin).
JOBS_YAML = r"""
- defaults:
    name: global
    project-type: freestyle

- job:
    name: jjb-params
    description: |
      Builds "things" & <stuff>
      second line: ünïcode
    auth-token: jjb-trigger-s3cret
    concurrent: false
    parameters:
      - string:
          name: BRANCH
          default: main
          description: Branch to build
      - text:
          name: NOTES
          default: "line one\nline two"
      - choice:
          name: MODE
          choices:
            - debug
            - release
      - bool:
          name: CLEAN
          default: true
      - password:
          name: DEPLOY_PW
          default: hunter2
    properties:
      - build-discarder:
          num-to-keep: 10
      - raw:
          xml: |
            <com.example.UnknownProperty plugin="unknown@0.1">
              <flag>true</flag><list><item a="1">x &amp; y</item></list>
            </com.example.UnknownProperty>
    triggers:
      - timed: "H 2 * * *"
      - pollscm:
          cron: "H/15 * * * *"
    wrappers:
      - timestamps
    builders:
      - shell: |
          echo "branch=[$BRANCH] mode=[$MODE] clean=[$CLEAN] pw=[$DEPLOY_PW]"
          printf 'notes=[%s]\n' "$NOTES"
          mkdir -p out/sub && echo "artifact of $BUILD_NUMBER" > out/sub/a.txt
      - shell: echo "second step ran"
    publishers:
      - archive:
          artifacts: 'out/**'
      - raw:
          xml: |
            <org.example.plugins.Notifier plugin="example@1.2.3">
              <recipients>team@example.org</recipients>
              <nested a="1"><deep>x &amp; y</deep></nested>
            </org.example.plugins.Notifier>

- job:
    name: jjb-simple
    description: The second job
    builders:
      - shell: echo simple
"""

UNKNOWN_TAGS = ["jenkins.model.BuildDiscarderProperty", "com.example.UnknownProperty",
                "hudson.triggers.TimerTrigger", "hudson.triggers.SCMTrigger",
                "hudson.plugins.timestamper.TimestamperBuildWrapper",
                "hudson.tasks.ArtifactArchiver", "org.example.plugins.Notifier"]


def fragment(xml, tag):
    """The exact text of the element <tag ...>...</tag> (or <tag/>) in xml."""
    m = re.search(r"<%s(?:\s[^>]*)?(?:/>|>.*?</%s>)" % (re.escape(tag), re.escape(tag)), xml, re.S)
    assert m, f"<{tag}> not in\n{xml}"
    return m.group(0)


class JJB:
    def __init__(self, server, tmp_path):
        self.server = server
        self.dir = tmp_path / "jjb"
        self.dir.mkdir()
        self.ini = self.dir / "jenkins_jobs.ini"
        self.ini.write_text("[job_builder]\nignore_cache=False\n\n"
                            f"[jenkins]\nurl={server.url}\nuser=alice\n"
                            f"password={server.alice_token}\nquery_plugins_info=False\n")
        (self.dir / "home").mkdir()
        self.env = {**os.environ, "HOME": str(self.dir / "home"),
                    "XDG_CACHE_HOME": str(self.dir / "cache")}
        self.env.pop("JENKINS_API_EXTRA_HEADERS", None)

    def write(self, text, name="jobs.yaml"):
        path = self.dir / name
        path.write_text(text)
        return str(path)

    def run(self, *args, check=True):
        p = subprocess.run(["jenkins-jobs", "--conf", str(self.ini), *args], cwd=self.dir,
                           env=self.env, capture_output=True, text=True, timeout=60 * SLOW)
        if check:
            assert p.returncode == 0, f"jenkins-jobs {args} failed:\n{p.stdout}\n{p.stderr}"
        return p

    def expected_xml(self, yaml_path, job):
        """What JJB generates (and posts) for job, from `jenkins-jobs test`."""
        with open(yaml_path, encoding="utf-8") as f:
            key = (f.read(), job)
        if key not in _generated:
            out = self.dir / "out"
            shutil.rmtree(out, ignore_errors=True)
            self.run("test", "--config-xml", "-o", str(out), yaml_path)
            _generated[key] = (out / job / "config.xml").read_bytes().decode("utf-8")
        return _generated[key]


_generated = {}  # (YAML text, job) -> the XML `jenkins-jobs test` made of it


def updated_count(p):
    m = re.search(r"Number of jobs updated: (\d+)", p.stderr + p.stdout)
    assert m, p.stderr
    return int(m.group(1))


def config_xml(server, job):
    r = server.get(f"job/{job}/config.xml", auth=server.alice)
    assert r.status_code == 200, r.text
    return r.content.decode("utf-8")


def config_stat(server, job):
    """The on-disk config.xml of the job: every write replaces the file (new inode)."""
    st = os.stat(os.path.join(server.home, "jobs", job, "config.xml"))
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def snapshot(server, jobs=("jjb-params", "jjb-simple")):
    return {j: (config_xml(server, j), config_stat(server, j)) for j in jobs}


def job_names(server):
    r = server.get("api/json?tree=jobs[name]", auth=server.alice)
    assert r.status_code == 200, r.text
    return {j["name"] for j in r.json()["jobs"]}


@pytest.fixture
def jjb(server, tmp_path):
    return JJB(server, tmp_path)


@pytest.fixture
def managed(server, jjb):
    """Both YAML jobs created by `jenkins-jobs update`."""
    path = jjb.write(JOBS_YAML)
    p = jjb.run("update", path)
    assert updated_count(p) == 2, p.stderr
    assert "Creating jenkins job jjb-params" in p.stderr, p.stderr
    return path


def test_update_creates_jobs_exactly_as_generated(server, jjb, managed):
    assert job_names(server) == {"jjb-params", "jjb-simple"}
    for job in ("jjb-params", "jjb-simple"):
        assert config_xml(server, job) == jjb.expected_xml(managed, job)


def test_parameters_as_the_api_shows_them(server, managed):
    info = server.get("job/jjb-params/api/json", auth=server.alice).json()
    prop = [p for p in info["property"] if p.get("_class") ==
            "hudson.model.ParametersDefinitionProperty"]
    assert len(prop) == 1, info["property"]
    defs = {d["name"]: d for d in prop[0]["parameterDefinitions"]}
    assert list(defs) == ["BRANCH", "NOTES", "MODE", "CLEAN", "DEPLOY_PW"]
    assert defs["BRANCH"]["type"] == "StringParameterDefinition"
    assert defs["BRANCH"]["description"] == "Branch to build"
    assert defs["BRANCH"]["defaultParameterValue"]["value"] == "main"
    assert defs["NOTES"]["type"] == "TextParameterDefinition"
    assert defs["NOTES"]["defaultParameterValue"]["value"] == "line one\nline two"
    assert defs["MODE"]["type"] == "ChoiceParameterDefinition"
    assert defs["MODE"]["choices"] == ["debug", "release"]
    assert defs["MODE"]["defaultParameterValue"]["value"] == "debug"
    assert defs["CLEAN"]["type"] == "BooleanParameterDefinition"
    assert defs["CLEAN"]["defaultParameterValue"]["value"] is True
    assert defs["DEPLOY_PW"]["type"] == "PasswordParameterDefinition"
    assert "value" not in defs["DEPLOY_PW"]["defaultParameterValue"]
    assert info["concurrentBuild"] is False and info["disabled"] is False
    assert info["description"] == 'Builds "things" & <stuff>\nsecond line: ünïcode\n' + MARKER


def test_auth_token_triggers_and_shell_steps_run(server, managed):
    # anonymous, with nothing but the job's auth-token, as the trigger URL is used
    r = requests.get(server.url + "job/jjb-params/buildWithParameters",
                     params={"token": TOKEN, "BRANCH": "feature/x y", "MODE": "release"},
                     timeout=30 * SLOW)
    assert r.status_code == 201, r.text
    item = server.wait_queue_item(r.headers["Location"], server.alice)
    n = item["executable"]["number"]
    build = server.wait_build("jjb-params", n, server.alice)
    assert build["result"] == "SUCCESS", build
    log = server.get(f"job/jjb-params/{n}/consoleText", auth=server.alice).text
    # the password parameter reaches the step, and its value is masked in the console
    assert "branch=[feature/x y] mode=[release] clean=[true] pw=[****]" in log, log
    assert "hunter2" not in log
    assert "notes=[line one\nline two]" in log, log
    assert "second step ran" in log, log
    assert "Started by remote host 127.0.0.1" in log
    # a wrong token does not build
    r = requests.get(server.url + "job/jjb-params/build", params={"token": "wrong"},
                     timeout=30 * SLOW)
    assert r.status_code in (403, 404), r.text
    info = server.get("job/jjb-params/api/json", auth=server.alice).json()
    assert info["nextBuildNumber"] == n + 1 and info["inQueue"] is False


def test_archive_publisher_archives_artifacts(server, managed):
    """The YAML's `archive: artifacts: 'out/**'` keeps out/sub/a.txt with the build."""
    r = server.post("job/jjb-params/buildWithParameters", auth=server.alice)
    assert r.status_code == 201, r.text
    n = server.wait_queue_item(r.headers["Location"], server.alice)["executable"]["number"]
    build = server.wait_build("jjb-params", n, server.alice)
    assert build["result"] == "SUCCESS"
    assert build["artifacts"] == [{"displayPath": "a.txt", "fileName": "a.txt",
                                   "relativePath": "out/sub/a.txt"}], build["artifacts"]
    a = server.get(f"job/jjb-params/{n}/artifact/out/sub/a.txt", auth=server.alice)
    assert a.status_code == 200 and a.text == f"artifact of {n}\n", (a.status_code, a.text)


def test_second_update_without_change_is_a_noop(server, jjb, managed):
    before = snapshot(server)
    p = jjb.run("update", managed)
    assert updated_count(p) == 0, p.stderr
    assert "Reconfiguring" not in p.stderr and "Creating" not in p.stderr, p.stderr
    assert snapshot(server) == before, "a no-op update rewrote a job's config.xml"


def test_update_with_flushed_cache_reposts_the_same_config(server, jjb, managed):
    before = snapshot(server)
    p = jjb.run("--flush-cache", "update", managed)
    assert updated_count(p) == 2, p.stderr
    assert "Reconfiguring jenkins job jjb-params" in p.stderr, p.stderr
    for job in ("jjb-params", "jjb-simple"):
        xml, st = config_xml(server, job), config_stat(server, job)
        assert st[0] != before[job][1][0], f"{job}: config.xml was not re-posted"
        assert xml == before[job][0] == jjb.expected_xml(managed, job)
    # and the cache is warm again: the next update is a no-op
    assert updated_count(jjb.run("update", managed)) == 0


def test_changed_yaml_reconfigures_only_that_job(server, jjb, managed):
    simple_before = config_stat(server, "jjb-simple")
    changed = JOBS_YAML.replace("default: main", "default: develop")
    path = jjb.write(changed)
    p = jjb.run("update", path)
    assert updated_count(p) == 1, p.stderr
    assert "Reconfiguring jenkins job jjb-params" in p.stderr, p.stderr
    assert config_stat(server, "jjb-simple") == simple_before
    assert config_xml(server, "jjb-params") == jjb.expected_xml(path, "jjb-params")
    info = server.get("job/jjb-params/api/json", auth=server.alice).json()
    defs = [d for p in info["property"] if "parameterDefinitions" in p
            for d in p["parameterDefinitions"]]
    assert defs[0]["defaultParameterValue"]["value"] == "develop"


def test_description_marker_survives_byte_for_byte(server, jjb, managed):
    want = jjb.expected_xml(managed, "jjb-params")
    got = config_xml(server, "jjb-params")
    assert fragment(got, "description") == fragment(want, "description")
    assert fragment(got, "description").endswith(
        "&lt;!-- Managed by Jenkins Job Builder --&gt;</description>")
    text = ET.fromstring(got.encode()).find("description").text
    assert text.endswith(MARKER)
    r = server.get("job/jjb-params/description", auth=server.alice)
    assert r.status_code == 200 and r.text == text, r.text
    assert server.get("job/jjb-params/api/json", auth=server.alice).json()["description"] == text


def test_unknown_elements_are_preserved_exactly(server, jjb, managed):
    want = jjb.expected_xml(managed, "jjb-params")
    got = config_xml(server, "jjb-params")
    for tag in UNKNOWN_TAGS:
        assert fragment(got, tag) == fragment(want, tag), tag
    # Steward rewrites config.xml itself when a job is disabled and enabled again: the
    # elements it does not manage stay exactly as JJB wrote them, and so does the marker
    for action in ("disable", "enable"):
        r = server.post(f"job/jjb-params/{action}", auth=server.alice, allow_redirects=False)
        assert r.status_code == 302, r.text
    got = config_xml(server, "jjb-params")
    assert "<disabled>false</disabled>" in got
    for tag in UNKNOWN_TAGS:
        assert fragment(got, tag) == fragment(want, tag), tag
    desc = ET.fromstring(got.encode()).find("description").text
    assert desc == 'Builds "things" & <stuff>\nsecond line: ünïcode\n' + MARKER


def test_delete_removes_the_job(server, jjb, managed):
    """`jenkins-jobs delete NAME` deletes the job NAME and then the view NAME, if any: it asks
    GET view/NAME/api/json?tree=name and needs a 404 for "no such view"."""
    p = jjb.run("delete", "jjb-simple")
    assert "Deleting jenkins job jjb-simple" in p.stderr, p.stderr
    assert server.get("job/jjb-simple/api/json", auth=server.alice).status_code == 404
    assert job_names(server) == {"jjb-params"}
    assert not os.path.exists(os.path.join(server.home, "jobs", "jjb-simple"))


def test_delete_jobs_only_and_update_recreates(server, jjb, managed):
    p = jjb.run("delete", "--jobs-only", "jjb-simple", "jjb-params")
    assert "Deleting jenkins job jjb-simple" in p.stderr, p.stderr
    assert "Deleting jenkins job jjb-params" in p.stderr, p.stderr
    assert job_names(server) == set()
    assert server.get("job/jjb-simple/api/json", auth=server.alice).status_code == 404
    # JJB forgets deleted jobs in its cache, so the next update creates them again
    p = jjb.run("update", managed)
    assert updated_count(p) == 2 and "Creating jenkins job jjb-simple" in p.stderr, p.stderr
    for job in ("jjb-params", "jjb-simple"):
        assert config_xml(server, job) == jjb.expected_xml(managed, job)


def test_delete_old_removes_managed_jobs_that_left_the_yaml(server, jjb, managed):
    # a job made by hand (no marker) and one whose description only mentions the marker
    create_job(server, "hand-made", job_xml(description="made by hand"))
    create_job(server, "mentions", job_xml(description=MARKER + " (not at the end)"))
    only_params = JOBS_YAML.split("- job:\n    name: jjb-simple")[0]
    path = jjb.write(only_params, "fewer.yaml")
    p = jjb.run("update", "--delete-old", path)
    assert "Removing obsolete jenkins job jjb-simple" in p.stderr, p.stderr
    assert re.search(r"Number of jobs deleted: 1\b", p.stderr), p.stderr
    assert job_names(server) == {"jjb-params", "hand-made", "mentions"}
    assert server.get("job/jjb-simple/api/json", auth=server.alice).status_code == 404
    # the job that stayed in the YAML is untouched
    assert config_xml(server, "jjb-params") == jjb.expected_xml(path, "jjb-params")
