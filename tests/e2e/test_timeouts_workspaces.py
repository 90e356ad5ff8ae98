"""Build timeouts (build-timeout plugin) and workspaces (WorkspaceList, customWorkspace,
/ws/ browsing, doWipeOutWorkspace, the Workspace Cleanup plugin), with jobs written by
jenkins-job-builder and the clients that talk to Jenkins."""
import http.client
import os
import shutil
import time
import urllib.parse

import jenkins
import pytest

from conftest import SLOW, Server, create_job, job_xml
from e2e_helpers import console, wait_for
from test_jjb import JJB

needs_jjb = pytest.mark.skipif(not shutil.which("jenkins-jobs"),
                               reason="jenkins-jobs is missing: apt-get install jenkins-job-builder")


@pytest.fixture
def srv(tmp_path):
    """A server whose timeouts have no 3-minute floor (the plugin's MINIMUM_TIMEOUT_MILLISECONDS
    set to 0, as its own tests do), so that a 1-minute timeout fires after 1 minute."""
    s = Server(tmp_path / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.alice = ("alice", s.new_token("alice", "t"))
    s.alice_token = s.alice[1]
    s.start("--build-timeout-minimum", "0")
    yield s
    s.stop()


def jjb_update(server, tmp_path, yaml):
    j = JJB(server, tmp_path)
    j.run("update", j.write(yaml))
    return j


def start(server, name, **params):
    path = f"job/{name}/buildWithParameters" if params else f"job/{name}/build"
    r = server.post(path, params=params, auth=server.alice)
    assert r.status_code == 201, r.text
    item = server.wait_queue_item(r.headers["Location"], server.alice)
    return item["executable"]["number"]


def run(server, name, timeout=30, **params):
    return server.wait_build(name, start(server, name, **params), server.alice, timeout=timeout)


def log_of(server, name, number):
    return console(server, name, number, server.alice)


def workspace_dir(server, name):
    return os.path.join(server.home, "workspace", name)


# ---- timeouts ----

@needs_jjb
def test_jjb_absolute_timeout_fails_the_build_and_writes_the_description(srv, tmp_path):
    jjb_update(srv, tmp_path, """
- job:
    name: t-absolute
    wrappers:
      - timeout:
          type: absolute
          timeout: 1
          fail: true
          write-description: "Timed out after {0} minutes"
          timeout-var: BUILD_TIMEOUT
    builders:
      - shell: |
          echo "timeout=$BUILD_TIMEOUT"
          sleep 600
""")
    started = time.monotonic()
    b = run(srv, "t-absolute", timeout=150)
    took = time.monotonic() - started
    assert b["result"] == "FAILURE"
    assert took >= 59, took
    text = log_of(srv, "t-absolute", b["number"])
    assert "timeout=60000" in text
    assert "Build timed out (after 1 minutes). Marking the build as failed." in text
    assert "Build description: Timed out after 1 minutes" in text
    assert b["description"] == "Timed out after 1 minutes"
    assert "Marking the build as aborted" not in text
    assert text.rstrip().endswith("Finished: FAILURE")


@needs_jjb
def test_jjb_no_activity_timeout_aborts_a_silent_build(srv, tmp_path):
    jjb_update(srv, tmp_path, """
- job:
    name: t-silent
    wrappers:
      - timeout:
          type: no-activity
          timeout: 1
    builders:
      - shell: |
          echo "about to hang"
          sleep 600
""")
    b = run(srv, "t-silent", timeout=150)
    assert b["result"] == "ABORTED"
    text = log_of(srv, "t-silent", b["number"])
    assert "Build timed out (after 1 minutes). Marking the build as aborted." in text
    assert text.rstrip().endswith("Finished: ABORTED")


def with_wrappers(xml, wrappers="", publishers=""):
    xml = xml.replace("<buildWrappers/>", f"<buildWrappers>{wrappers}</buildWrappers>")
    return xml.replace("<publishers/>", f"<publishers>{publishers}</publishers>")


def no_activity(seconds, ops="<hudson.plugins.build__timeout.operations.AbortOperation/>"):
    """The wrapper as the plugin saves it, with seconds JJB cannot write (it writes minutes)."""
    return ('<hudson.plugins.build__timeout.BuildTimeoutWrapper plugin="build-timeout@1.33">'
            '<strategy class="hudson.plugins.build_timeout.impl.NoActivityTimeOutStrategy">'
            f"<timeoutSecondsString>{seconds}</timeoutSecondsString></strategy>"
            f"<operationList>{ops}</operationList>"
            "</hudson.plugins.build__timeout.BuildTimeoutWrapper>")


def test_output_keeps_a_no_activity_timeout_from_firing(srv):
    # 10 s of output, a line a second, under a 6 s no-activity timeout
    create_job(srv, "t-chatty", with_wrappers(
        job_xml(script="for i in 1 2 3 4 5 6 7 8 9 10; do echo tick $i; sleep 1; done"),
        no_activity(6)))
    b = run(srv, "t-chatty", timeout=60)
    assert b["result"] == "SUCCESS", log_of(srv, "t-chatty", b["number"])
    assert "timed out" not in log_of(srv, "t-chatty", b["number"])
    # the same timeout, then silence: aborted about 6 s after the last line
    create_job(srv, "t-quiet", with_wrappers(
        job_xml(script="echo one; sleep 1; echo two; sleep 300"), no_activity(6)))
    started = time.monotonic()
    b = run(srv, "t-quiet", timeout=60)
    assert b["result"] == "ABORTED"
    assert time.monotonic() - started < 60
    assert "Build timed out (after 6 seconds). Marking the build as aborted." in \
        log_of(srv, "t-quiet", b["number"])


def test_a_timeout_from_a_parameter_is_read_when_the_build_starts(srv):
    xml = with_wrappers(job_xml(script="echo start; sleep 300", params=[("string", "SECS", "3")]),
                        no_activity("${SECS}"))
    create_job(srv, "t-param", xml)
    b = run(srv, "t-param", timeout=60)
    assert b["result"] == "ABORTED"
    assert "(after 3 seconds)" in log_of(srv, "t-param", b["number"])
    b = run(srv, "t-param", SECS="soon")
    assert b["result"] == "FAILURE"
    text = log_of(srv, "t-param", b["number"])
    assert "the build timeout ${SECS} is 'soon', not a whole number above 0" in text
    assert "\nstart\n" not in text


def test_server_default_timeout_applies_to_jobs_without_their_own(tmp_path):
    s = Server(tmp_path / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.alice = ("alice", s.new_token("alice", "t"))
    s.start("--build-timeout", "3s", "--build-timeout-minimum", "0s")
    try:
        create_job(s, "plain", job_xml(script="echo start; sleep 300"))
        b = run(s, "plain", timeout=60)
        assert b["result"] == "ABORTED"
        text = log_of(s, "plain", b["number"])
        assert "Build timed out (after 3 seconds). Marking the build as aborted." in text
        # a job's own timeout wins over the server's: 6 s of output, a line a second
        create_job(s, "own", with_wrappers(
            job_xml(script="for i in 1 2 3 4 5 6; do echo $i; sleep 1; done"), no_activity(6)))
        b = run(s, "own", timeout=60)
        assert b["result"] == "SUCCESS", log_of(s, "own", b["number"])
    finally:
        s.stop()


def test_bad_server_timeouts_are_refused(tmp_path):
    s = Server(tmp_path / "home")
    for arg in (["--build-timeout", "0"], ["--build-timeout", "-5"], ["--build-timeout", "x"],
                ["--build-timeout-minimum", "soon"]):
        p = s.admin("serve", "--listen", "127.0.0.1:0", *arg, check=False)
        assert p.returncode != 0
        assert "--build-timeout" in p.stderr, p.stderr


@needs_jjb
@pytest.mark.parametrize("kind,value", [("absolute", 0), ("absolute", -5), ("no-activity", 0)])
def test_a_timeout_of_zero_or_less_is_refused(srv, tmp_path, kind, value):
    j = JJB(srv, tmp_path)
    p = j.run("update", j.write(f"""
- job:
    name: t-zero
    wrappers:
      - timeout:
          type: {kind}
          timeout: {value}
"""), check=False)
    assert p.returncode != 0
    assert "400 Client Error" in p.stderr, p.stdout + p.stderr
    assert srv.get("job/t-zero/api/json", auth=srv.alice).status_code == 404
    # the same as plain XML: 400, saying why and what to do
    xml = j.expected_xml(j.write(f"""
- job:
    name: t-zero
    wrappers:
      - timeout:
          type: {kind}
          timeout: {value}
""", "zero.yaml"), "t-zero")
    r = srv.post("createItem?name=t-zero", data=xml.encode(), auth=srv.alice,
                 headers={"Content-Type": "application/xml"})
    assert r.status_code == 400
    assert "a timeout of 0 or less never ends a build" in r.text, r.text


def test_a_strategy_steward_does_not_run_fails_the_build_saying_so(srv):
    create_job(srv, "t-elastic", with_wrappers(job_xml(script="echo should-not-run"), (
        '<hudson.plugins.build__timeout.BuildTimeoutWrapper>'
        '<strategy class="hudson.plugins.build_timeout.impl.ElasticTimeOutStrategy">'
        "<timeoutPercentage>150</timeoutPercentage></strategy><operationList/>"
        "</hudson.plugins.build__timeout.BuildTimeoutWrapper>")))
    b = run(srv, "t-elastic")
    assert b["result"] == "FAILURE"
    text = log_of(srv, "t-elastic", b["number"])
    assert "ElasticTimeOutStrategy is not run by Steward" in text
    assert "should-not-run" not in text.replace("echo should-not-run", "")


# ---- workspaces ----

@needs_jjb
def test_concurrent_builds_get_numbered_workspaces(srv, tmp_path):
    jjb_update(srv, tmp_path, f"""
- job:
    name: w-conc
    concurrent: true
    builders:
      - shell: |
          echo "ws=[$WORKSPACE]"
          pwd > "{srv.shared}/pwd-$BUILD_NUMBER"
          while [ ! -e "{srv.shared}/go" ]; do sleep 0.05; done
""")
    a, b = start(srv, "w-conc"), start(srv, "w-conc")
    wait_for(lambda: all(os.path.exists(f"{srv.shared}/pwd-{n}") for n in (a, b)), 30,
             "both builds running")
    open(f"{srv.shared}/go", "w").close()
    base = workspace_dir(srv, "w-conc")
    seen = set()
    for n in (a, b):
        assert srv.wait_build("w-conc", n, srv.alice)["result"] == "SUCCESS"
        text = log_of(srv, "w-conc", n)
        ws = text.split("ws=[", 1)[1].split("]", 1)[0]
        assert f"Building in workspace {ws}\n" in text
        seen.add(ws)
    assert seen == {base, base + "@2"}
    assert os.path.isdir(base + "@2")
    # alone again, a build takes the job's own workspace
    c = run(srv, "w-conc")
    assert f"ws=[{base}]" in log_of(srv, "w-conc", c["number"])


@needs_jjb
def test_custom_workspace_is_used_and_browsed(srv, tmp_path):
    jjb_update(srv, tmp_path, """
- job:
    name: w-custom
    workspace: shared-place
    builders:
      - shell: |
          echo "ws=[$WORKSPACE]"
          echo "hello from the workspace" > hello.txt
          mkdir -p sub/dir && printf 'deep & <b>' > "sub/dir/f i&le.txt"
""")
    b = run(srv, "w-custom")
    assert b["result"] == "SUCCESS"
    ws = os.path.join(srv.home, "workspace", "shared-place")
    assert f"ws=[{ws}]" in log_of(srv, "w-custom", b["number"])
    r = srv.get("job/w-custom/ws/", auth=srv.alice)
    assert r.status_code == 200
    assert 'href="hello.txt"' in r.text and 'href="sub/"' in r.text
    r = srv.get("job/w-custom/ws/hello.txt", auth=srv.alice)
    assert r.status_code == 200 and r.text == "hello from the workspace\n"
    r = srv.get("job/w-custom/ws/sub/dir/", auth=srv.alice)
    assert 'href="f%20i%26le.txt"' in r.text and "f i&amp;le.txt" in r.text
    r = srv.get("job/w-custom/ws/sub/dir/f%20i%26le.txt", auth=srv.alice)
    assert r.content == b"deep & <b>"
    # a directory without its slash is sent to it, as Jenkins does
    r = srv.get("job/w-custom/ws/sub", auth=srv.alice, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].endswith("/job/w-custom/ws/sub/")
    assert srv.get("job/w-custom/ws/nope.txt", auth=srv.alice).status_code == 404
    # the job's page links to it
    page = srv.get("job/w-custom/", auth=srv.alice, headers={"Accept": "text/html"}).text
    assert 'href="/job/w-custom/ws/"' in page


@pytest.mark.parametrize("custom", ["/etc", "..", "../secrets", "a/b", "x@2", "$HOME",
                                    "workspace/../jobs", "/var/lib/other/ws"])
def test_custom_workspace_outside_the_workspaces_is_refused(srv, custom):
    xml = job_xml().replace("<builders>", f"<customWorkspace>{custom}</customWorkspace><builders>")
    r = srv.post("createItem?name=w-bad", data=xml.encode(), auth=srv.alice,
                 headers={"Content-Type": "application/xml"})
    assert r.status_code == 400, r.text
    assert "customWorkspace" in r.text
    assert srv.get("job/w-bad/api/json", auth=srv.alice).status_code == 404


def test_absolute_custom_workspace_of_another_home_fails_the_build(srv):
    xml = job_xml(script="echo should-not-run > /dev/null; echo ran").replace(
        "<builders>", "<customWorkspace>/srv/old-jenkins/workspace/x</customWorkspace><builders>")
    create_job(srv, "w-elsewhere", xml)
    b = run(srv, "w-elsewhere")
    assert b["result"] == "FAILURE"
    text = log_of(srv, "w-elsewhere", b["number"])
    assert "must be in this server's HOME/workspace" in text
    assert "\nran\n" not in text
    assert not os.path.exists("/srv/old-jenkins/workspace/x")
    # the same name in this server's workspaces is fine
    xml = job_xml(script="echo \"ws=[$WORKSPACE]\"").replace(
        "<builders>", f"<customWorkspace>{srv.home}/workspace/x</customWorkspace><builders>")
    create_job(srv, "w-here", xml)
    b = run(srv, "w-here")
    assert b["result"] == "SUCCESS"
    assert f"ws=[{srv.home}/workspace/x]" in log_of(srv, "w-here", b["number"])


def test_a_custom_workspace_never_is_another_jobs_workspace(srv):
    """A job configured with another job's name as its custom workspace would reach that
    job's files from its builds, its workspace page and its wipe: all three refuse."""
    create_job(srv, "w-victim", job_xml(script="echo secret > data.txt"))
    assert run(srv, "w-victim")["result"] == "SUCCESS"
    xml = job_xml(script="cat data.txt; echo ran").replace(
        "<builders>", "<customWorkspace>w-victim</customWorkspace><builders>")
    create_job(srv, "w-thief", xml)
    b = run(srv, "w-thief")
    assert b["result"] == "FAILURE"
    text = log_of(srv, "w-thief", b["number"])
    assert "it is the workspace of another job" in text, text
    assert "secret" not in text and "\nran\n" not in text
    r = srv.get("job/w-thief/ws/data.txt", auth=srv.alice)
    assert r.status_code == 409 and "it is the workspace of another job" in r.text, r.text
    r = srv.post("job/w-thief/doWipeOutWorkspace", auth=srv.alice)
    assert r.status_code >= 400, r.text
    with open(os.path.join(workspace_dir(srv, "w-victim"), "data.txt")) as f:
        assert f.read() == "secret\n"


def raw_get(server, path, auth):
    """A GET with the path sent exactly as given (no client-side '..' clean-up)."""
    u = urllib.parse.urlsplit(server.url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30 * SLOW)
    import base64
    token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    c.request("GET", path, headers={"Authorization": "Basic " + token})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def test_ws_browsing_never_leaves_the_workspace(srv):
    outside = os.path.join(srv.shared, "outside")
    create_job(srv, "w-trav", job_xml(script=f"""
echo inside > a.txt
mkdir -p d && echo deep > d/b.txt
mkdir -p "{outside}" && echo OUTSIDE-SECRET > "{outside}/s.txt"
ln -sf "{outside}" dirlink
ln -sf "{outside}/s.txt" filelink
ln -sf / rootlink
ln -sf .. up
mkfifo fifo
"""))
    assert run(srv, "w-trav")["result"] == "SUCCESS"
    assert srv.get("job/w-trav/ws/d/b.txt", auth=srv.alice).text == "deep\n"
    listing = srv.get("job/w-trav/ws/", auth=srv.alice).text
    assert "dirlink" in listing and 'href="dirlink' not in listing  # listed, not linked
    for path in ["dirlink/s.txt", "filelink", "rootlink/etc/passwd", "up/w-trav/a.txt",
                 "up/../jobs/w-trav/config.xml", "../../jobs/w-trav/config.xml",
                 "%2e%2e/%2e%2e/jobs/w-trav/config.xml", "%2E%2E/%2E%2E/jobs/w-trav/config.xml",
                 "d/%2e%2e/%2e%2e/%2e%2e/jobs/w-trav/config.xml",
                 "%2e%2e%2f%2e%2e%2fjobs%2fw-trav%2fconfig.xml", "..%2f..%2fsecrets",
                 "fifo", "d/%2e/b.txt/../../a.txt"]:
        status, body = raw_get(srv, "/job/w-trav/ws/" + path, srv.alice)
        assert status in (302, 400, 403, 404), (path, status)
        assert b"OUTSIDE-SECRET" not in body and b"<project" not in body, path
        assert b"root:" not in body, path
    # a link is refused as such, with what to do
    r = srv.get("job/w-trav/ws/dirlink/s.txt", auth=srv.alice)
    assert r.status_code == 403 and "symbolic link" in r.text


def test_ws_needs_job_workspace_and_wipe_needs_job_wipeout(tmp_path):
    s = Server(tmp_path / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.add_user("bob", "bob-password")
    s.add_user("carol", "carol-password")
    s.alice = ("alice", s.new_token("alice", "t"))
    bob = ("bob", s.new_token("bob", "t"))
    carol = ("carol", s.new_token("carol", "t"))
    s.admin("security", "authorization", "matrix")
    for who in ("bob", "carol"):
        s.admin("security", "matrix", "grant", who, "Overall/Read")
        s.admin("security", "matrix", "grant", who, "Job/Read")
    s.admin("security", "matrix", "grant", "carol", "hudson.model.Item.Workspace")
    s.admin("security", "matrix", "grant", "carol", "hudson.model.Item.WipeOut")
    s.start()
    try:
        create_job(s, "w-perm", job_xml(script="echo x > f.txt"))
        assert run(s, "w-perm")["result"] == "SUCCESS"
        r = s.get("job/w-perm/ws/f.txt", auth=bob)
        assert r.status_code == 403 and "Job/Workspace" in r.text
        r = s.post("job/w-perm/doWipeOutWorkspace", auth=bob)
        assert r.status_code == 403 and "Job/WipeOut" in r.text
        assert os.path.exists(os.path.join(workspace_dir(s, "w-perm"), "f.txt"))
        assert s.get("job/w-perm/ws/f.txt", auth=carol).text == "x\n"
        r = s.post("job/w-perm/doWipeOutWorkspace", auth=carol, allow_redirects=False)
        assert r.status_code == 302
        assert not os.path.exists(workspace_dir(s, "w-perm"))
    finally:
        s.stop()


def test_wipe_out_workspace_with_python_jenkins(srv):
    outside = os.path.join(srv.shared, "keep")
    create_job(srv, "w-wipe", job_xml(concurrent=True, script=f"""
mkdir -p "{outside}" && echo KEEP > "{outside}/k.txt"
echo data > f.txt && mkdir -p sub && echo more > sub/g.txt
ln -sf "{outside}" link && ln -sf "{outside}/k.txt" filelink
if [ "$HOLD" = yes ]; then touch "{srv.shared}/holding"; \
while [ ! -e "{srv.shared}/release" ]; do sleep 0.05; done; fi
""", params=[("string", "HOLD", "no")]))
    assert run(srv, "w-wipe")["result"] == "SUCCESS"
    ws = workspace_dir(srv, "w-wipe")
    assert os.path.exists(os.path.join(ws, "f.txt"))
    j = jenkins.Jenkins(srv.url, username="alice", password=srv.alice[1])
    # python-jenkins' wipeout_job_workspace() passes its empty body where the headers go, so it
    # breaks on adding a crumb (with Jenkins too); Basic-auth requests need none (COMPAT.md #6)
    j.crumb = False
    j.wipeout_job_workspace("w-wipe")
    assert not os.path.exists(ws)
    # links were deleted as links: what they pointed at is still there
    assert open(os.path.join(outside, "k.txt")).read() == "KEEP\n"
    r = srv.get("job/w-wipe/ws/", auth=srv.alice)
    assert r.status_code == 404 and "no workspace" in r.text
    # not while a build works in it: 409, and nothing deleted
    n = start(srv, "w-wipe", HOLD="yes")
    wait_for(lambda: os.path.exists(f"{srv.shared}/holding"), 30, "the build to hold")
    r = srv.post("job/w-wipe/doWipeOutWorkspace", auth=srv.alice)
    assert r.status_code == 409, r.text
    assert "running" in r.json()["presented"] and "stop it" in r.json()["fix"]
    assert os.path.exists(os.path.join(ws, "f.txt"))
    open(f"{srv.shared}/release", "w").close()
    assert srv.wait_build("w-wipe", n, srv.alice)["result"] == "SUCCESS"
    assert srv.post("job/w-wipe/doWipeOutWorkspace", auth=srv.alice,
                    allow_redirects=False).status_code == 302
    assert not os.path.exists(ws)
    assert srv.post("job/nope/doWipeOutWorkspace", auth=srv.alice).status_code == 404


@needs_jjb
def test_jjb_workspace_cleanup_wrapper_and_publisher(srv, tmp_path):
    outside = os.path.join(srv.shared, "precious")
    jjb_update(srv, tmp_path, f"""
- job:
    name: w-pre
    wrappers:
      - workspace-cleanup:
          include:
            - "*.log"
            - "tmp/"
          exclude:
            - "keep.log"
          dirmatch: true
    builders:
      - shell: |
          ls -a > "{srv.shared}/seen-$BUILD_NUMBER"
          echo x > a.log; echo y > keep.log; echo z > src.c; mkdir -p tmp/t; echo t > tmp/t/f
- job:
    name: w-post
    builders:
      - shell: |
          mkdir -p "{outside}" && echo PRECIOUS > "{outside}/p.txt"
          echo built > out.txt && ln -sf "{outside}" link
          exit $CODE
    parameters:
      - string:
          name: CODE
          default: "0"
    publishers:
      - workspace-cleanup:
          clean-if:
            - failure: false
""")
    assert run(srv, "w-pre")["result"] == "SUCCESS"
    b = run(srv, "w-pre")
    assert b["result"] == "SUCCESS"
    text = log_of(srv, "w-pre", b["number"])
    assert "[WS-CLEANUP] Deleting project workspace..." in text and "[WS-CLEANUP] done" in text
    seen = open(f"{srv.shared}/seen-{b['number']}").read().split()
    assert "a.log" not in seen and "tmp" not in seen
    assert "keep.log" in seen and "src.c" in seen

    # the publisher: the whole workspace goes after a success, never what a link points at
    b = run(srv, "w-post")
    assert b["result"] == "SUCCESS"
    assert "[WS-CLEANUP] Deleting project workspace..." in log_of(srv, "w-post", b["number"])
    assert not os.path.exists(workspace_dir(srv, "w-post"))
    assert open(os.path.join(outside, "p.txt")).read() == "PRECIOUS\n"
    # clean-if failure: false keeps a failed build's workspace for a look
    b = run(srv, "w-post", CODE="3")
    assert b["result"] == "FAILURE"
    assert "[WS-CLEANUP] Skipped based on build state FAILURE" in log_of(srv, "w-post",
                                                                          b["number"])
    assert srv.get("job/w-post/ws/out.txt", auth=srv.alice).text == "built\n"


def test_cleanup_of_a_shared_custom_workspace_keeps_it_under_a_running_build(srv):
    shared = os.path.join(srv.home, "workspace", "common")
    create_job(srv, "w-hold", job_xml(script=f"""
echo mine > mine.txt
touch "{srv.shared}/holding"
while [ ! -e "{srv.shared}/release" ]; do sleep 0.05; done
echo after > after.txt
""").replace("<builders>", "<customWorkspace>common</customWorkspace><builders>"))
    create_job(srv, "w-clean", with_wrappers(
        job_xml(script="ls -A; echo cleaner > cleaner.txt").replace(
            "<builders>", "<customWorkspace>common</customWorkspace><builders>"),
        '<hudson.plugins.ws__cleanup.PreBuildCleanup plugin="ws-cleanup"><deleteDirs>false'
        "</deleteDirs><cleanupParameter></cleanupParameter><externalDelete></externalDelete>"
        "</hudson.plugins.ws__cleanup.PreBuildCleanup>"))
    n = start(srv, "w-hold")
    wait_for(lambda: os.path.exists(f"{srv.shared}/holding"), 30, "the build to hold")
    b = run(srv, "w-clean")
    assert b["result"] == "SUCCESS"
    assert "mine.txt" not in log_of(srv, "w-clean", b["number"])  # cleaned before the step
    open(f"{srv.shared}/release", "w").close()
    assert srv.wait_build("w-hold", n, srv.alice)["result"] == "SUCCESS"
    # the running build kept writing into the one shared directory
    assert sorted(os.listdir(shared)) == ["after.txt", "cleaner.txt"]


def test_a_long_directory_path_redirects_to_itself_with_a_slash(srv):
    # over a kilobyte of path: the Location is whole, not cut where a scratch string ends
    deep = "/".join(["d%d" % i + "x" * 200 for i in range(8)])
    create_job(srv, "w-deep", job_xml(script=f'mkdir -p "{deep}" && echo here > "{deep}/f.txt"'))
    assert run(srv, "w-deep")["result"] == "SUCCESS"
    r = srv.get("job/w-deep/ws/" + deep, auth=srv.alice, allow_redirects=False)
    assert r.status_code == 302, r.text
    assert r.headers["Location"].endswith("/job/w-deep/ws/" + deep + "/"), r.headers["Location"]
    r = srv.get("job/w-deep/ws/" + deep, auth=srv.alice)
    assert r.status_code == 200 and "f.txt" in r.text
