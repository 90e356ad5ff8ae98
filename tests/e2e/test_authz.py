"""Authorization: Jenkins' permissions, the matrix strategies, per-job grants in config.xml
(as jenkins-job-builder writes them), and the answers a caller gets without a right."""
import shutil
import xml.etree.ElementTree as ET

import jenkins
import pytest

from conftest import SLOW, Server, create_job, job_xml
from e2e_helpers import item_id, wait_for

TOKEN = "secret-trigger-token"


def with_matrix(xml, *entries, inherit=True):
    strategy = ("InheritParentStrategy" if inherit else "NonInheritingStrategy")
    prop = ("<hudson.security.AuthorizationMatrixProperty><inheritanceStrategy class=\""
            f"org.jenkinsci.plugins.matrixauth.inheritance.{strategy}\"/>"
            + "".join(f"<permission>{e}</permission>" for e in entries)
            + "</hudson.security.AuthorizationMatrixProperty>")
    return xml.replace("<properties>", "<properties>" + prop, 1)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    """project-matrix, set up offline before the first start:
    - everyone signed in may read the server; bob may create jobs;
    - 'open': bob may read and build it (JJB's form, without USER:), everyone signed in
      may read it (matrix-auth 3's GROUP: form);
    - 'closed': only carol (configure) and dave (extended read), and it does not inherit;
    - 'ghost': a job only administrators may see."""
    s = Server(tmp_path_factory.mktemp("authz") / "home")
    s.add_user("alice", "alice-password", admin=True)
    for u in ("bob", "carol", "dave", "erin"):
        s.add_user(u, f"{u}-password")
    s.alice_token = s.new_token("alice", "t")
    s.alice = ("alice", s.alice_token)
    s.bob = ("bob", s.new_token("bob", "t"))
    s.carol = ("carol", s.new_token("carol", "t"))
    s.dave = ("dave", s.new_token("dave", "t"))
    s.erin = ("erin", s.new_token("erin", "t"))
    s.admin("security", "authorization", "project-matrix")
    s.admin("security", "matrix", "grant", "authenticated", "Overall/Read")
    s.admin("security", "matrix", "grant", "bob", "hudson.model.Item.Create")
    s.start()
    create_job(s, "open", with_matrix(job_xml(), "hudson.model.Item.Read:bob",
                                      "hudson.model.Item.Build:bob",
                                      "GROUP:hudson.model.Item.Read:authenticated"))
    create_job(s, "closed", with_matrix(job_xml(token=TOKEN, quiet=3600),
                                        "USER:hudson.model.Item.Read:carol",
                                        "USER:hudson.model.Item.Configure:carol",
                                        "USER:hudson.model.Item.Read:dave",
                                        "USER:hudson.model.Item.ExtendedRead:dave",
                                        inherit=False))
    create_job(s, "ghost", job_xml())
    yield s
    s.stop()


def names(srv, auth):
    r = srv.get("api/json?tree=jobs[name]", auth=auth)
    assert r.status_code == 200, r.text
    return {j["name"] for j in r.json()["jobs"]}


def test_each_user_sees_only_the_jobs_granted_to_them(srv):
    assert names(srv, srv.alice) == {"open", "closed", "ghost"}
    assert names(srv, srv.bob) == {"open"}
    assert names(srv, srv.carol) == {"open", "closed"}
    assert names(srv, srv.erin) == {"open"}
    view = srv.get("view/all/api/json", auth=srv.bob).json()
    assert {j["name"] for j in view["jobs"]} == {"open"}
    # a range counts only the jobs the user may see
    for who, tree, want in ((srv.carol, "jobs[name]{1,}", ["open"]),
                            (srv.alice, "jobs[name]{1,2}", ["ghost"]),
                            (srv.bob, "jobs[name,color]{0}", ["open"])):
        r = srv.get(f"api/json?tree={tree}", auth=who)
        assert [j["name"] for j in r.json()["jobs"]] == want, (who, tree, r.text)


def test_a_hidden_job_answers_exactly_like_a_missing_one(srv):
    hidden = srv.get("job/closed/api/json", auth=srv.bob)
    missing = srv.get("job/nothere/api/json", auth=srv.bob)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["message"] == missing.json()["message"].replace("nothere", "closed")
    for path in ("job/closed/config.xml", "job/closed/1/console", "job/closed/lastBuild/api/json"):
        assert srv.get(path, auth=srv.bob).status_code == 404, path
    # and for actions too: a POST learns nothing either
    assert srv.post("job/closed/doDelete", auth=srv.bob).status_code == 404
    assert srv.post("job/closed/build", auth=srv.bob).status_code == 404


def test_a_readable_job_without_the_right_is_403_naming_the_permission_and_the_fix(srv):
    r = srv.post("job/open/build", auth=srv.carol)
    assert r.status_code == 403, r.text
    assert r.headers["X-Required-Permission"] == "hudson.model.Item.Build"
    assert r.headers["X-You-Are-Authenticated-As"] == "carol"
    body = r.json()
    assert "Job/Build" in body["message"] and "'open'" in body["message"]
    assert "security matrix grant carol Job/Build 'open'" in body["fix"]
    r = srv.post("job/open/doDelete", auth=srv.bob)
    assert r.status_code == 403 and r.headers["X-Required-Permission"] == "hudson.model.Item.Delete"
    assert srv.get("job/open/api/json", auth=srv.bob).status_code == 200
    # a global permission
    r = srv.post("createItem?name=x", data=job_xml(), auth=srv.carol,
                 headers={"Content-Type": "application/xml"})
    assert r.status_code == 403 and "Job/Create" in r.json()["message"]
    r = srv.post("quietDown", auth=srv.bob)
    assert r.status_code == 403 and "Overall/Administer" in r.json()["message"]


def test_granted_rights_work_through_python_jenkins(srv):
    bob = jenkins.Jenkins(srv.url, username=srv.bob[0], password=srv.bob[1])
    assert [j["name"] for j in bob.get_jobs()] == ["open"]
    n = bob.get_job_info("open")["nextBuildNumber"]
    bob.build_job("open")
    wait_for(lambda: bob.get_job_info("open")["lastCompletedBuild"] is not None and
             bob.get_job_info("open")["lastCompletedBuild"]["number"] >= n,
             timeout=30 * SLOW, what="bob's build of open")
    with pytest.raises(jenkins.JenkinsException, match="does not exist"):
        bob.get_job_info("closed")
    with pytest.raises(jenkins.JenkinsException):
        bob.build_job("closed")
    # bob may create jobs (a global grant), and without Job/Read not see them: python-jenkins,
    # which reads the job back, says the creation failed, as it would against Jenkins
    with pytest.raises(jenkins.JenkinsException, match="create.*failed"):
        bob.create_job("bobs", job_xml())
    assert "bobs" in names(srv, srv.alice)


def test_config_xml_hides_the_trigger_token_from_extended_read_alone(srv):
    full = srv.get("job/closed/config.xml", auth=srv.carol)
    assert full.status_code == 200 and f"<authToken>{TOKEN}</authToken>" in full.text
    masked = srv.get("job/closed/config.xml", auth=srv.dave)
    assert masked.status_code == 200
    assert TOKEN not in masked.text and "<authToken>********</authToken>" in masked.text
    # the rest is the same document
    assert ET.fromstring(masked.content).find("builders") is not None
    # dave may read it but not change it
    r = srv.post("job/closed/config.xml", data=full.content, auth=srv.dave,
                 headers={"Content-Type": "application/xml"})
    assert r.status_code == 403 and r.headers["X-Required-Permission"] == "hudson.model.Item.Configure"


def test_non_inheriting_job_ignores_global_grants_but_not_overall_read(srv):
    # erin holds only the global grants: nothing on 'closed'
    assert srv.get("job/closed/api/json", auth=srv.erin).status_code == 404
    srv.admin("security", "matrix", "grant", "erin", "Job/Read")
    try:
        assert "ghost" in names(srv, srv.erin)
        assert "closed" not in names(srv, srv.erin)
    finally:
        srv.admin("security", "matrix", "revoke", "erin", "Job/Read")
    assert "ghost" not in names(srv, srv.erin)


def test_the_queue_shows_and_cancels_only_what_the_caller_may(srv):
    r = srv.post(f"job/closed/build?token={TOKEN}")   # the trigger token needs no user
    assert r.status_code == 201, r.text
    qid = item_id(r.headers["Location"])
    try:
        ids = lambda auth: {i["id"] for i in srv.get("queue/api/json", auth=auth).json()["items"]}
        assert qid in ids(srv.carol) and qid not in ids(srv.bob)
        assert srv.get(f"queue/item/{qid}/api/json", auth=srv.bob).status_code == 404
        assert srv.post(f"queue/cancelItem?id={qid}", auth=srv.bob).status_code == 404
        # dave sees it, and lacks Job/Cancel
        r = srv.post(f"queue/cancelItem?id={qid}", auth=srv.dave)
        assert r.status_code == 403 and r.headers["X-Required-Permission"] == "hudson.model.Item.Cancel"
        assert qid in ids(srv.alice)
    finally:
        assert srv.post(f"queue/cancelItem?id={qid}", auth=srv.alice,
                        allow_redirects=False).status_code == 302


def test_anonymous_callers_are_asked_to_sign_in(srv):
    for path in ("api/json", "job/open/api/json", "queue/api/json"):
        r = srv.get(path)
        assert r.status_code == 401, path
        assert "WWW-Authenticate" in r.headers
    # a browser goes to the login page
    r = srv.get("job/closed/", headers={"Accept": "text/html"}, allow_redirects=False)
    assert r.status_code == 302 and "/login?from=" in r.headers["Location"]
    srv.admin("security", "matrix", "grant", "anonymous", "Overall/Read")
    try:
        assert names(srv, None) == set()
        assert srv.get("job/open/api/json").status_code == 404
    finally:
        srv.admin("security", "matrix", "revoke", "anonymous", "Overall/Read")


def test_jenkins_job_builder_authorization_is_applied(srv, tmp_path):
    if not shutil.which("jenkins-jobs"):
        pytest.skip("jenkins-jobs is missing")
    from test_jjb import JJB
    jjb = JJB(srv, tmp_path)   # as alice, with her API token
    path = jjb.write("""
- job:
    name: jjb-authz
    builders:
      - shell: "true"
    properties:
      - authorization:
          carol:
            - job-read
            - job-build
            - job-discover
          authenticated:
            - job-read
""")
    jjb.run("update", path)
    assert "jjb-authz" in names(srv, srv.carol)
    assert srv.post("job/jjb-authz/build", auth=srv.carol).status_code == 201
    r = srv.post("job/jjb-authz/build", auth=srv.erin)
    assert r.status_code == 403
    # the job-discover entry Steward does not use is kept as written
    assert "hudson.model.Item.Discover:carol" in srv.get("job/jjb-authz/config.xml",
                                                         auth=srv.alice).text


def test_the_offline_commands_grant_and_revoke_on_a_job_and_refuse_nonsense(srv):
    srv.admin("security", "matrix", "grant", "erin", "Job/Build", "open")
    try:
        # the server sees the edited config.xml when its watch fires
        wait_for(lambda: srv.post("job/open/build", auth=srv.erin).status_code == 201,
                 timeout=10 * SLOW, what="the job's config.xml read again")
        out = srv.admin("security", "matrix", "show", "open").stdout
        assert "erin" in out and "Job/Build" in out and "strategy: project-matrix" in out
    finally:
        srv.admin("security", "matrix", "revoke", "erin", "Job/Build", "open")
    wait_for(lambda: srv.post("job/open/build", auth=srv.erin).status_code == 403,
             timeout=10 * SLOW, what="the job's config.xml read again")
    out = srv.admin("security", "matrix", "show").stdout
    assert "authenticated" in out and "Overall/Read" in out and "Job/Create" in out
    for bad in (["grant", "erin", "Job/Fly"], ["grant", "erin", "Overall/Administer", "open"],
                ["grant", "", "Job/Read"], ["revoke", "erin", "Job/Read"], ["frob"]):
        p = srv.admin("security", "matrix", *bad, check=False)
        assert p.returncode != 0, bad
        assert p.stderr.strip(), bad
    p = srv.admin("security", "authorization", "everyone", check=False)
    assert p.returncode != 0
    p = srv.admin("user", "add", "authenticated", "--password", "long-enough", check=False)
    assert p.returncode != 0 and "authenticated" in p.stderr


def test_the_security_page_switches_the_strategy_and_edits_the_matrix(srv):
    html = {"Accept": "text/html"}
    assert srv.get("manage/security", auth=srv.bob, headers=html).status_code == 403
    page = srv.get("manage/security", auth=srv.alice, headers=html)
    assert page.status_code == 200 and "project-matrix" in page.text
    r = srv.post("manage/security", auth=srv.alice, headers=html, allow_redirects=False,
                 data={"action": "grant", "sid": "erin", "permission": "Job/Read"})
    assert r.status_code == 303, r.text
    try:
        assert "ghost" in names(srv, srv.erin)
    finally:
        entry = "USER:hudson.model.Item.Read:erin"
        r = srv.post("manage/security", auth=srv.alice, headers=html, allow_redirects=False,
                     data={"action": "revoke", "entry": entry})
        assert r.status_code == 303, r.text
    assert "ghost" not in names(srv, srv.erin)
    # a per-job grant through the job's configure page: the form keeps what is there
    form = srv.get("job/open/configure", auth=srv.alice, headers=html).text
    assert 'value="hudson.model.Item.Build:bob"' in form
    r = srv.post("job/open/configure", auth=srv.alice, headers=html, allow_redirects=False,
                 data={"matrix": "1", "matrix_inherit": "on", "g0": "hudson.model.Item.Read:bob",
                       "g1": "hudson.model.Item.Build:bob",
                       "g2": "GROUP:hudson.model.Item.Read:authenticated",
                       "g_sid": "erin", "g_perm": "Job/Build", "then": "stay",
                       "authToken": "", "quiet": ""})
    assert r.status_code == 303, r.text
    try:
        assert srv.post("job/open/build", auth=srv.erin).status_code == 201
    finally:
        srv.admin("security", "matrix", "revoke", "erin", "Job/Build", "open")
    # a grant the form cannot store is said, not dropped
    r = srv.post("job/open/configure", auth=srv.alice, headers=html, allow_redirects=False,
                 data={"matrix": "1", "matrix_inherit": "on", "g0": "USER:hudson.model.Item.Read: bob",
                       "then": "stay", "authToken": "", "quiet": ""})
    assert r.status_code == 400 and "blanks at either end" in r.text


def test_the_logged_in_strategy_is_the_default_and_keeps_todays_rights(tmp_path):
    s = Server(tmp_path / "home")
    s.add_user("bob", "bob-password")
    bob = ("bob", s.new_token("bob", "t"))
    s.start()
    try:
        # a job whose matrix would hide it: the matrix does not apply under logged-in
        create_job(s, "j", with_matrix(job_xml(), "USER:hudson.model.Item.Read:nobody",
                                       inherit=False), auth=bob)
        assert s.get("job/j/api/json", auth=bob).status_code == 200
        assert s.post("job/j/build", auth=bob).status_code == 201
        r = s.post("quietDown", auth=bob)
        assert r.status_code == 403 and "user admin bob on" in r.json()["fix"]
        assert s.get("api/json").status_code == 401
    finally:
        s.stop()


def test_the_metrics_name_only_the_jobs_the_user_may_read(srv):
    r = srv.post("job/ghost/build?delay=0sec", auth=srv.alice)
    assert r.status_code == 201
    srv.wait_queue_item(r.headers["Location"], srv.alice)
    wait_for(lambda: srv.get("job/ghost/api/json", auth=srv.alice).json()["lastCompletedBuild"],
             timeout=30 * SLOW, what="ghost's build")
    wait_for(lambda: 'jenkins_job="ghost"' in srv.get("prometheus/", auth=srv.alice).text,
             timeout=10 * SLOW, what="ghost in alice's metrics")
    bobs = srv.get("prometheus/", auth=srv.bob)
    assert bobs.status_code == 200 and 'jenkins_job="ghost"' not in bobs.text
    assert "default_jenkins_executors_available" in bobs.text
