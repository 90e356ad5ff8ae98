"""Builds on nodes over OpenSSH: real sshd nodes (each its own host in a network namespace,
or on loopback), chosen by label expression, with aborts, timeouts, a node cut off in the
middle of a build, and a wrong host key."""
import glob
import hashlib
import os
import pathlib
import shutil
import tempfile
import uuid
import xml.sax.saxutils as sax

import jenkins
import pytest
import requests

from conftest import Server, create_job
from e2e_helpers import wait_for
from sshnode import can_run_sshd, keygen, new_host_key, sshnode  # noqa: F401 (a fixture)

SSH = "hudson.plugins.sshslaves.SSHLauncher"
MANUAL = "hudson.plugins.sshslaves.verifiers.ManuallyProvidedKeyVerificationStrategy"

pytestmark = pytest.mark.skipif(bool(can_run_sshd()), reason=str(can_run_sshd()))


def job_xml(script, label=None, params=(), concurrent=False):
    node = (f"<assignedNode>{sax.escape(label)}</assignedNode><canRoam>false</canRoam>"
            if label else "<canRoam>true</canRoam>")
    props = ""
    if params:
        defs = "".join("<hudson.model.StringParameterDefinition>"
                       f"<name>{p}</name><defaultValue></defaultValue>"
                       "</hudson.model.StringParameterDefinition>" for p in params)
        props = ("<hudson.model.ParametersDefinitionProperty><parameterDefinitions>"
                 f"{defs}</parameterDefinitions></hudson.model.ParametersDefinitionProperty>")
    return ("<?xml version='1.1' encoding='UTF-8'?>\n<project><description/>"
            f"<properties>{props}</properties>{node}<disabled>false</disabled>"
            f"<concurrentBuild>{'true' if concurrent else 'false'}</concurrentBuild>"
            "<builders><hudson.tasks.Shell><command>"
            f"{sax.escape(script)}</command></hudson.tasks.Shell></builders>"
            "<publishers/><buildWrappers/></project>\n")


@pytest.fixture
def keys(tmp_path):
    d = tmp_path / "keys"
    d.mkdir()
    return keygen(d / "login")


def start_server(tmp_path, *extra):
    s = Server(tmp_path / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.alice = ("alice", s.new_token("alice", "ci"))
    s.start("--node-keepalive", "2", "--node-connect-timeout", "5", *extra)
    return s


@pytest.fixture
def server(tmp_path, keys):
    s = start_server(tmp_path)
    s.admin("credentials", "add", "--id", "node-key", "--kind", "ssh-key", "--username", "root",
            "--secret-file", "-", input=keys[0])
    yield s
    s.stop()


def add_node(server, name, node, root, labels, executors=1, key_line=None, exclusive=False):
    server.admin("node", "add", name, "--host", node.host, "--port", str(node.port),
                 "--credentials", "node-key", "--remote-fs", str(root), "--executors",
                 str(executors), "--labels", labels, "--host-key",
                 key_line or node.host_key_line, *(["--exclusive"] if exclusive else []))


def computer(server, name):
    return server.get(f"computer/{name}/api/json", auth=server.alice).json()


def online(server, name):
    c = computer(server, name)
    return not c["offline"] and c


def trigger(server, job, **params):
    path = f"job/{job}/buildWithParameters" if params else f"job/{job}/build"
    r = server.post(path, params=params, auth=server.alice)
    assert r.status_code == 201, r.text
    return r.headers["Location"]


def console(server, job, number):
    return server.get(f"job/{job}/{number}/consoleText", auth=server.alice).text


def queue_why(server, location):
    r = requests.get(location.rstrip("/") + "/api/json", auth=server.alice, timeout=30)
    return r.json().get("why")


def test_a_label_expression_picks_between_two_nodes(server, sshnode, keys, tmp_path):
    n1, n2 = sshnode([keys[1]]), sshnode([keys[1]])
    root1, root2 = tmp_path / "root1", tmp_path / "root2"
    add_node(server, "alpha1", n1, root1, "linux alpha")
    # the second through python-jenkins' create_node, as a script would add it
    j = jenkins.Jenkins(server.url, username="alice", password=server.alice[1], timeout=30)
    j.create_node("beta1", numExecutors=2, remoteFS=str(root2), labels="linux beta",
                  launcher=jenkins.LAUNCHER_SSH,
                  launcher_params={"host": n2.host, "port": str(n2.port),
                                   "credentialsId": "node-key",
                                   "sshHostKeyVerificationStrategy": {
                                       "stapler-class": MANUAL, "key": n2.host_key_line}})
    wait_for(lambda: online(server, "alpha1") and online(server, "beta1"), timeout=30,
             what="both nodes online",
             seen=lambda: (computer(server, "alpha1"), computer(server, "beta1")))
    script = 'echo "on $NODE_NAME in $WORKSPACE"; printf %s "$V" > value; pwd > where'
    create_job(server, "pick", job_xml(script, "linux && beta", params=["V"]))
    create_job(server, "other", job_xml(script, "alpha || windows", params=["V"]))
    hostile = "it's \"quoted\" $(touch /tmp/pwned) `id`\nsecond line; rm -rf /"
    trigger(server, "pick", V=hostile)
    trigger(server, "other", V="plain")
    b = server.wait_build("pick", 1, server.alice, timeout=60)
    assert b["result"] == "SUCCESS", console(server, "pick", 1)
    assert b["builtOn"] == "beta1"
    log = console(server, "pick", 1)
    assert "Building remotely on beta1" in log
    assert f"on beta1 in {root2}/workspace/pick" in log
    assert (root2 / "workspace" / "pick" / "value").read_text() == hostile
    assert not os.path.exists("/tmp/pwned")
    b = server.wait_build("other", 1, server.alice, timeout=60)
    assert b["result"] == "SUCCESS", console(server, "other", 1)
    assert b["builtOn"] == "alpha1"
    assert (root1 / "workspace" / "other" / "where").read_text().strip() == \
        f"{root1}/workspace/other"
    # the build's page says where it ran
    page = server.get("job/pick/1/", auth=server.alice, headers={"Accept": "text/html"}).text
    assert 'id="built-on"><a href="' in page and 'computer/beta1/">beta1</a>' in page, page
    # the built-in node does not take jobs of a label it lacks
    assert not (tmp_path / "home" / "workspace" / "pick").exists()
    # the nodes' private files (their key) live while the server does, and go with it
    home_hash = hashlib.sha256(os.path.abspath(server.home).encode()).hexdigest()[:12]
    private = glob.glob(f"/run/steward/{home_hash}-*/key")
    assert len(private) == 2, private
    server.stop()
    assert not glob.glob(f"/run/steward/{home_hash}-*"), "a node's key outlived the server"


def test_the_queue_says_what_a_label_waits_for(server, sshnode, keys, tmp_path):
    create_job(server, "win", job_xml("true", "windows"))
    loc = trigger(server, "win")
    wait_for(lambda: queue_why(server, loc) == "There are no nodes with the label \u2018windows\u2019",
             what="the why of a label no node has", seen=lambda: queue_why(server, loc))
    # a node that has the label but is taken offline
    n1 = sshnode([keys[1]])
    add_node(server, "win1", n1, tmp_path / "r", "windows")
    wait_for(lambda: online(server, "win1"), timeout=30, what="win1 online",
             seen=lambda: computer(server, "win1"))
    r = server.post("computer/win1/toggleOffline", params={"offlineMessage": "patching"},
                    auth=server.alice)
    assert r.status_code in (200, 302), r.text
    create_job(server, "on-win1", job_xml("true", "win1"))
    loc2 = trigger(server, "on-win1")
    wait_for(lambda: queue_why(server, loc2) == "\u2018win1\u2019 is offline",
             what="the why of an offline node", seen=lambda: queue_why(server, loc2))
    # back online: both start there
    r = server.post("computer/win1/toggleOffline", auth=server.alice)
    assert r.status_code in (200, 302), r.text
    for job, where in (("win", loc), ("on-win1", loc2)):
        server.wait_queue_item(where, server.alice, timeout=60)
        b = server.wait_build(job, 1, server.alice, timeout=60)
        assert b["result"] == "SUCCESS" and b["builtOn"] == "win1", console(server, job, 1)


def test_a_node_cut_off_mid_build_fails_it_and_comes_back(server, sshnode, keys, tmp_path):
    node = sshnode([keys[1]])
    root = tmp_path / "root"
    add_node(server, "n1", node, root, "linux")
    wait_for(lambda: online(server, "n1"), timeout=30, what="n1 online",
             seen=lambda: computer(server, "n1"))
    create_job(server, "long", job_xml("touch started; while :; do sleep 1; done", "linux"))
    trigger(server, "long")
    wait_for(lambda: (root / "workspace" / "long" / "started").exists(), timeout=60,
             what="the step running on the node")
    node.cut()
    b = server.wait_build("long", 1, server.alice, timeout=60)
    log = console(server, "long", 1)
    assert b["result"] == "FAILURE", log
    assert "ERROR: the connection to node 'n1' was lost" in log, log
    c = wait_for(lambda: computer(server, "n1")["offline"] and computer(server, "n1"),
                 what="n1 offline")
    assert c["offlineCauseReason"], c
    # a build queued meanwhile waits, and runs once the node is back
    create_job(server, "after", job_xml("echo fine", "linux"))
    loc = trigger(server, "after")
    wait_for(lambda: "offline" in (queue_why(server, loc) or ""), what="the item waits",
             seen=lambda: queue_why(server, loc))
    node.restore()
    server.wait_queue_item(loc, server.alice, timeout=90)
    b = server.wait_build("after", 1, server.alice, timeout=90)
    assert b["result"] == "SUCCESS", console(server, "after", 1)
    assert not computer(server, "n1")["offline"]


def test_a_wrong_host_key_refuses_to_connect(server, sshnode, keys, tmp_path):
    node = sshnode([keys[1]])
    other = new_host_key(tmp_path / "other-host-key")
    add_node(server, "n1", node, tmp_path / "root", "linux", key_line=other)
    c = wait_for(lambda: "host key" in computer(server, "n1")["offlineCauseReason"] and
                 computer(server, "n1"), timeout=30, what="n1 refused for its host key",
                 seen=lambda: computer(server, "n1"))
    assert c["offline"] and "does not match" in c["offlineCauseReason"], c
    create_job(server, "j", job_xml("true", "n1"))
    loc = trigger(server, "j")
    wait_for(lambda: queue_why(server, loc) == "\u2018n1\u2019 is offline",
             what="the item waits for n1", seen=lambda: queue_why(server, loc))
    # no session was ever opened on the node
    assert "Accepted publickey" not in node.sshd_log()


def remote_pids(marker):
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    pids.append(int(p))
        except OSError:
            pass
    return pids


def test_an_abort_reaches_the_whole_remote_process_group(server, sshnode, keys, tmp_path):
    node = sshnode([keys[1]])
    root = tmp_path / "root"
    add_node(server, "n1", node, root, "linux")
    wait_for(lambda: online(server, "n1"), timeout=30, what="n1 online",
             seen=lambda: computer(server, "n1"))
    marker = "9" + str(uuid.uuid4().int)[:12]
    create_job(server, "stopme", job_xml(f"sleep {marker}1 & sleep {marker}2 & touch started; "
                                         f"sleep {marker}3", "n1"))
    trigger(server, "stopme")
    wait_for(lambda: len(remote_pids(marker)) >= 3, timeout=60,
             what="the step and its children running on the node",
             seen=lambda: remote_pids(marker))
    r = server.post("job/stopme/1/stop", auth=server.alice)
    assert r.status_code in (200, 302), r.text
    b = server.wait_build("stopme", 1, server.alice, timeout=60)
    assert b["result"] == "ABORTED", console(server, "stopme", 1)
    wait_for(lambda: not remote_pids(marker), timeout=30,
             what="every process of the step gone", seen=lambda: remote_pids(marker))
    # the node stays online and takes the next build
    create_job(server, "next", job_xml("echo next", "n1"))
    trigger(server, "next")
    assert server.wait_build("next", 1, server.alice, timeout=60)["result"] == "SUCCESS"


def test_a_timeout_on_a_node(sshnode, keys, tmp_path):
    s = start_server(tmp_path, "--build-timeout", "3s", "--build-timeout-minimum", "0s")
    try:
        s.admin("credentials", "add", "--id", "node-key", "--kind", "ssh-key", "--username",
                "root", "--secret-file", "-", input=keys[0])
        node = sshnode([keys[1]])
        add_node(s, "n1", node, tmp_path / "root", "linux")
        wait_for(lambda: online(s, "n1"), timeout=30, what="n1 online",
                 seen=lambda: computer(s, "n1"))
        create_job(s, "slow", job_xml("while :; do sleep 1; done", "linux"))
        trigger(s, "slow")
        b = s.wait_build("slow", 1, s.alice, timeout=60)
        log = console(s, "slow", 1)
        assert b["result"] == "ABORTED", log
        assert "Build timed out" in log, log
    finally:
        s.stop()


def test_parts_that_do_not_run_on_a_node_fail_the_build(server, sshnode, keys, tmp_path):
    node = sshnode([keys[1]])
    add_node(server, "n1", node, tmp_path / "root", "linux")
    wait_for(lambda: online(server, "n1"), timeout=30, what="n1 online",
             seen=lambda: computer(server, "n1"))
    xml = job_xml("touch a.txt", "n1").replace(
        "<buildWrappers/>", "<buildWrappers><hudson.plugins.ws__cleanup.PreBuildCleanup>"
        "<deleteDirs>false</deleteDirs><cleanupParameter/><externalDelete/>"
        "</hudson.plugins.ws__cleanup.PreBuildCleanup></buildWrappers>")
    create_job(server, "clean", xml)
    trigger(server, "clean")
    b = server.wait_build("clean", 1, server.alice, timeout=60)
    log = console(server, "clean", 1)
    assert b["result"] == "FAILURE", log
    assert "Workspace Cleanup does not run on a node yet" in log, log
    assert not (tmp_path / "root" / "workspace" / "clean" / "a.txt").exists()


JUNIT_XML = ("<testsuite name='s' tests='2' failures='1'><testcase classname='c' name='ok'/>"
             "<testcase classname='c' name='bad'><failure message='no'>boom</failure>"
             "</testcase></testsuite>")


def test_artifacts_and_test_reports_come_back_from_a_node(server, sshnode, keys, tmp_path):
    node = sshnode([keys[1]])
    root = tmp_path / "root"
    add_node(server, "n1", node, root, "linux")
    wait_for(lambda: online(server, "n1"), timeout=30, what="n1 online",
             seen=lambda: computer(server, "n1"))
    script = (f"mkdir -p out reports && echo made-on-$NODE_NAME > out/a.txt && "
              f"echo \"{JUNIT_XML}\" > reports/r.xml && ln -s /etc/shadow out/leak.txt && "
              "mkdir -p .git && echo secret > .git/config")
    xml = job_xml(script, "n1").replace(
        "<publishers/>", "<publishers><hudson.tasks.ArtifactArchiver><artifacts>out/**"
        "</artifacts></hudson.tasks.ArtifactArchiver>"
        "<hudson.tasks.junit.JUnitResultArchiver plugin=\"junit\"><testResults>reports/*.xml"
        "</testResults></hudson.tasks.junit.JUnitResultArchiver></publishers>")
    create_job(server, "pub", xml)
    trigger(server, "pub")
    b = server.wait_build("pub", 1, server.alice, timeout=60)
    log = console(server, "pub", 1)
    assert b["result"] == "UNSTABLE", log
    assert "Fetching the workspace back from node 'n1'" in log, log
    r = server.get("job/pub/1/artifact/out/a.txt", auth=server.alice)
    assert r.status_code == 200 and r.text == "made-on-n1\n", r.text
    # a link is never followed into the server's own files
    r = server.get("job/pub/1/artifact/out/leak.txt", auth=server.alice)
    assert "root:" not in r.text
    report = server.get("job/pub/1/testReport/api/json", auth=server.alice).json()
    assert (report["passCount"], report["failCount"]) == (1, 1), report
    # the copy goes once the publishers have read it
    build_dir = tmp_path / "home" / "jobs" / "pub" / "builds" / "1"
    wait_for(lambda: not (build_dir / "node-workspace").exists(), what="the copy removed")


def test_a_label_expression_that_does_not_parse_is_refused_at_save(server):
    r = server.post("createItem?name=bad", data=job_xml("true", "linux &&").encode(),
                    headers={"Content-Type": "application/xml"}, auth=server.alice)
    assert r.status_code == 400, r.text
    assert "is not a label expression" in r.text and "Invalid boolean expression" in r.text
    assert server.get("job/bad/api/json", auth=server.alice).status_code == 404


TRUSTED = "hudson.plugins.sshslaves.verifiers.ManuallyTrustedKeyVerificationStrategy"


def test_a_host_key_trusted_on_first_connection_is_kept(server, sshnode, keys, tmp_path):
    node = sshnode([keys[1]])
    j = jenkins.Jenkins(server.url, username="alice", password=server.alice[1], timeout=30)
    j.create_node("t1", numExecutors=1, remoteFS=str(tmp_path / "root"), labels="linux",
                  launcher=jenkins.LAUNCHER_SSH,
                  launcher_params={"host": node.host, "port": str(node.port),
                                   "credentialsId": "node-key",
                                   "sshHostKeyVerificationStrategy": {
                                       "stapler-class": TRUSTED,
                                       "requireInitialManualTrust": False}})
    wait_for(lambda: online(server, "t1"), timeout=30, what="t1 online",
             seen=lambda: computer(server, "t1"))
    kept = tmp_path / "home" / "nodes" / "t1" / "trusted_host_key"
    wait_for(kept.exists, what="the trusted key kept")
    assert node.host_key_line.split()[1] in kept.read_text()
    # after a restart the kept key is the one ssh checks: another key is refused
    other = new_host_key(tmp_path / "impostor")
    kept.write_text(kept.read_text().replace(node.host_key_line.split()[1], other.split()[1]))
    server.stop()
    server.start("--node-keepalive", "2", "--node-connect-timeout", "5")
    c = wait_for(lambda: "host key" in computer(server, "t1")["offlineCauseReason"] and
                 computer(server, "t1"), timeout=30, what="t1 refused after the restart",
                 seen=lambda: computer(server, "t1"))
    assert c["offline"], c


def test_a_bound_secret_reaches_a_node_step_and_is_masked(server, sshnode, keys, tmp_path):
    server.admin("credentials", "add", "--id", "tok", "--kind", "secret-text", "--secret-file",
                 "-", input="s3cr3t-for-the-node")
    node = sshnode([keys[1]])
    root = tmp_path / "root"
    add_node(server, "n1", node, root, "linux")
    wait_for(lambda: online(server, "n1"), timeout=30, what="n1 online",
             seen=lambda: computer(server, "n1"))
    binding = ("<buildWrappers><org.jenkinsci.plugins.credentialsbinding.impl.SecretBuildWrapper>"
               "<bindings><org.jenkinsci.plugins.credentialsbinding.impl.StringBinding>"
               "<credentialsId>tok</credentialsId><variable>TOKEN</variable>"
               "</org.jenkinsci.plugins.credentialsbinding.impl.StringBinding></bindings>"
               "</org.jenkinsci.plugins.credentialsbinding.impl.SecretBuildWrapper>"
               "</buildWrappers>")
    xml = job_xml('echo "token is $TOKEN"; printf %s "$TOKEN" > got', "n1").replace(
        "<buildWrappers/>", binding)
    create_job(server, "bound", xml)
    trigger(server, "bound")
    b = server.wait_build("bound", 1, server.alice, timeout=60)
    log = console(server, "bound", 1)
    assert b["result"] == "SUCCESS", log
    assert "token is ****" in log and "s3cr3t-for-the-node" not in log, log
    assert (root / "workspace" / "bound" / "got").read_text() == "s3cr3t-for-the-node"


def test_a_git_checkout_runs_on_the_node(server, sshnode, keys, tmp_path, request):
    from test_git import jjb_xml
    import subprocess
    env = {**os.environ, "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.org",
           "GIT_COMMITTER_NAME": "C", "GIT_COMMITTER_EMAIL": "c@example.org"}

    def git(*args, cwd=tmp_path):
        p = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 0, p.stderr
        return p.stdout.strip()

    # outside /tmp: the node's sandbox gives its steps a /tmp of their own
    shared = pathlib.Path(tempfile.mkdtemp(prefix="steward-agents-", dir="/var/tmp"))
    request.addfinalizer(lambda: shutil.rmtree(shared, ignore_errors=True))
    bare, work = shared / "origin.git", tmp_path / "work"
    git("init", "-q", "--bare", "-b", "main", str(bare))
    git("clone", "-q", str(bare), str(work))
    (work / "README").write_text("from the repository\n")
    git("add", "README", cwd=work)
    git("commit", "-q", "-m", "first", cwd=work)
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    sha = git("rev-parse", "HEAD", cwd=work)
    node = sshnode([keys[1]])
    root = tmp_path / "root"
    add_node(server, "n1", node, root, "linux")
    wait_for(lambda: online(server, "n1"), timeout=30, what="n1 online",
             seen=lambda: computer(server, "n1"))
    yaml = f"""
- job:
    name: app
    project-type: freestyle
    node: n1
    scm:
      - git:
          url: file://{bare}
          branches:
            - main
    builders:
      - shell: 'echo "built $GIT_COMMIT on $NODE_NAME"; cat README'
"""
    create_job(server, "app", jjb_xml(tmp_path, yaml, "app"))
    trigger(server, "app")
    b = server.wait_build("app", 1, server.alice, timeout=90)
    log = console(server, "app", 1)
    assert b["result"] == "SUCCESS", log
    assert f"Checking out Revision {sha} (origin/main)" in log, log
    assert f"built {sha} on n1" in log and "from the repository" in log, log
    assert (root / "workspace" / "app" / ".git").is_dir()
    data = next(a for a in b["actions"] if a.get("_class") == "hudson.plugins.git.util.BuildData")
    assert data["lastBuiltRevision"]["SHA1"] == sha
    # the report came back and went; nothing private is left on the node
    assert not list((root / ".steward").glob("*.d"))


def test_a_node_without_bubblewrap_says_so_and_its_steps_still_stop(server, sshnode, keys,
                                                                     tmp_path):
    node = sshnode([keys[1]], no_bwrap=True)
    root = tmp_path / "root"
    add_node(server, "bare", node, root, "linux")
    c = wait_for(lambda: online(server, "bare"), timeout=30, what="the node online",
                 seen=lambda: computer(server, "bare"))
    assert c["sandboxed"] is False, c
    page = server.get("computer/bare/", auth=server.alice, headers={"Accept": "text/html"}).text
    assert 'id="node-sandbox"' in page and "No sandbox" in page
    # an abort stops the step's whole group, with no bubblewrap to end it
    marker = "8" + str(uuid.uuid4().int)[:12]
    create_job(server, "stopme", job_xml(f"sleep {marker}1 & sleep {marker}2", "bare"))
    trigger(server, "stopme")
    wait_for(lambda: len(remote_pids(marker)) >= 2, timeout=60, what="the step running",
             seen=lambda: remote_pids(marker))
    assert server.post("job/stopme/1/stop", auth=server.alice).status_code in (200, 302)
    assert server.wait_build("stopme", 1, server.alice, timeout=60)["result"] == "ABORTED"
    wait_for(lambda: not remote_pids(marker), timeout=30, what="the step's group gone",
             seen=lambda: remote_pids(marker))
    if node.mode != "netns":
        return   # on loopback, cut() stops sshd's sessions: nothing would be left to stop
    # a step whose connection was lost is stopped once the node is back
    marker2 = "7" + str(uuid.uuid4().int)[:12]
    create_job(server, "lost", job_xml(f"touch started; sleep {marker2}", "bare"))
    trigger(server, "lost")
    wait_for(lambda: remote_pids(marker2), timeout=60, what="the step running",
             seen=lambda: remote_pids(marker2))
    node.cut()
    assert server.wait_build("lost", 1, server.alice, timeout=60)["result"] == "FAILURE"
    assert remote_pids(marker2), "the step lives on while the node is cut off"
    node.restore()
    wait_for(lambda: online(server, "bare"), timeout=60, what="the node back",
             seen=lambda: computer(server, "bare"))
    wait_for(lambda: not remote_pids(marker2), timeout=30, what="the lost step stopped",
             seen=lambda: remote_pids(marker2))
