"""Honest about what it does not run: a job moved from Jenkins with plugins' elements
is accepted, named everywhere, and never built green by skipping its work."""
import re
import shutil

import pytest

from conftest import create_job, job_xml
from test_git import build

# The job of a Jenkins user moving over, as jenkins-job-builder writes it: Git, a Maven
# builder beside a shell step, a Mailer, polling and a timestamper. (Its node label runs:
# tests/e2e/test_agents.py.)
MOVED_YAML = r"""
- job:
    name: moved
    project-type: freestyle
    scm:
      - git:
          url: https://example.com/r.git
          branches: ['main']
    triggers:
      - pollscm:
          cron: "H/5 * * * *"
    wrappers:
      - timestamps
    builders:
      - shell: echo THE-SHELL-STEP-RAN
      - maven-target:
          goals: clean verify
    publishers:
      - email:
          recipients: team@example.org
"""

MOVED_FAILS = ["builders/hudson.tasks.Maven"]
MOVED_SKIPPED = ["publishers/hudson.tasks.Mailer"]


def with_parts(xml, project="", triggers="", builders="", publishers="", wrappers=""):
    """job_xml() with elements added to <project> and its slots."""
    xml = xml.replace("<triggers/>", f"<triggers>{triggers}</triggers>")
    xml = xml.replace("</builders>", f"{builders}</builders>")
    xml = xml.replace("<publishers/>", f"<publishers>{publishers}</publishers>")
    xml = xml.replace("<buildWrappers/>", f"<buildWrappers>{wrappers}</buildWrappers>")
    return xml.replace("</project>", f"{project}</project>")


def unsupported_header(r):
    """X-Steward-Unsupported as {element: effect}."""
    h = r.headers.get("X-Steward-Unsupported")
    if h is None:
        return {}
    return {m.group(1): m.group(2) for m in re.finditer(r"(?:^|, )(.+?) \((\w+)\)", h)}


@pytest.fixture
def moved_xml(server, tmp_path):
    """What jenkins-job-builder generates for MOVED_YAML."""
    if not shutil.which("jenkins-jobs"):
        pytest.skip("jenkins-jobs is missing: apt-get install jenkins-job-builder")
    from test_jjb import JJB
    jjb = JJB(server, tmp_path)
    return jjb.expected_xml(jjb.write(MOVED_YAML), "moved")


def test_a_moved_job_is_accepted_and_named_in_the_answer(server, moved_xml):
    r = server.post("createItem?name=moved", data=moved_xml.encode(),
                    headers={"Content-Type": "application/xml"}, auth=server.alice)
    assert r.status_code == 200, r.text
    named = unsupported_header(r)
    assert named == {**{e: "fails" for e in MOVED_FAILS},
                     **{e: "skipped" for e in MOVED_SKIPPED}}, r.headers
    # the harmless timestamper is not named; the document is kept as it was sent
    assert "Timestamper" not in r.headers["X-Steward-Unsupported"]
    assert server.get("job/moved/config.xml", auth=server.alice).text == moved_xml


def test_the_api_says_the_job_is_not_buildable_and_why(server, moved_xml):
    create_job(server, "moved", moved_xml)
    info = server.get("job/moved/api/json", auth=server.alice).json()
    assert info["buildable"] is False
    got = {u["element"]: u["effect"] for u in info["unsupported"]}
    assert got == {**{e: "fails" for e in MOVED_FAILS}, **{e: "skipped" for e in MOVED_SKIPPED}}
    maven = next(u for u in info["unsupported"] if u["element"] == "builders/hudson.tasks.Maven")
    assert "mvn" in maven["note"]
    # tree= reaches the field, as any other
    t = server.get("api/json?tree=jobs[name,buildable,unsupported[element]]",
                   auth=server.alice).json()
    assert t["jobs"] == [{"_class": "hudson.model.FreeStyleProject", "name": "moved",
                          "buildable": False,
                          "unsupported": [{"element": e} for e in
                                          ["builders/hudson.tasks.Maven",
                                           "publishers/hudson.tasks.Mailer"]]}]


def test_a_build_of_it_fails_early_and_its_console_says_what_to_do(server, moved_xml):
    create_job(server, "moved", moved_xml)
    b, log = build(server, "moved")
    assert b["result"] == "FAILURE", log
    assert "THE-SHELL-STEP-RAN" not in log
    assert "Steward does not run these parts of the job" in log
    for element in MOVED_FAILS:
        assert f"  {element}: " in log, log
    assert "mvn" in log and "Cloning" not in log
    # the skipped publisher is still named, after the failure
    assert "skipped: hudson.tasks.Mailer (not supported by Steward)\nFinished: FAILURE" in log


def test_a_skipped_publisher_leaves_the_result_and_says_so(server):
    xml = with_parts(job_xml(script="echo step-ran"),
                     triggers="<org.example.NightlyTrigger><spec/><upstreamProjects>"
                              "up</upstreamProjects></org.example.NightlyTrigger>",
                     publishers="<hudson.tasks.Mailer plugin=\"mailer\"><recipients>a@b"
                                "</recipients></hudson.tasks.Mailer>"
                                "<org.example.Notify/>",
                     wrappers="<hudson.plugins.ansicolor.AnsiColorBuildWrapper/>")
    r = server.post("createItem?name=mail", data=xml.encode(),
                    headers={"Content-Type": "application/xml"}, auth=server.alice)
    assert r.status_code == 200, r.text
    assert unsupported_header(r) == {"triggers/org.example.NightlyTrigger": "skipped",
                                     "publishers/hudson.tasks.Mailer": "skipped",
                                     "publishers/org.example.Notify": "skipped"}
    info = server.get("job/mail/api/json", auth=server.alice).json()
    assert info["buildable"] is True
    b, log = build(server, "mail")
    assert b["result"] == "SUCCESS", log
    assert "step-ran" in log
    assert "note: triggers/org.example.NightlyTrigger is not run by Steward" in log
    assert log.endswith("skipped: hudson.tasks.Mailer (not supported by Steward)\n"
                        "skipped: org.example.Notify (not supported by Steward)\n"
                        "Finished: SUCCESS\n"), log


def test_the_pages_warn_and_a_fixed_job_is_buildable_again(server, moved_xml):
    create_job(server, "moved", moved_xml)
    html = {"Accept": "text/html"}
    page = server.get("job/moved/", auth=server.alice, headers=html).text
    assert 'id="unsupported"' in page and "Builds of this job fail" in page
    for element in MOVED_FAILS + MOVED_SKIPPED:
        assert f"<code>{element}</code>" in page, element
    conf = server.get("job/moved/configure", auth=server.alice, headers=html).text
    assert 'id="unsupported"' in conf and "<code>builders/hudson.tasks.Maven</code>" in conf

    # the user replaces the Maven step (and the unreachable repository): the job builds, the
    # Mailer is skipped
    fixed = re.sub(r"<hudson.tasks.Maven>.*?</hudson.tasks.Maven>", "", moved_xml, flags=re.S)
    fixed = re.sub(r'<scm class="hudson.plugins.git.GitSCM">.*?</scm>',
                   '<scm class="hudson.scm.NullSCM"/>', fixed, flags=re.S)
    r = server.post("job/moved/config.xml", data=fixed.encode(),
                    headers={"Content-Type": "application/xml"}, auth=server.alice)
    assert r.status_code == 200, r.text
    assert unsupported_header(r) == {e: "skipped" for e in MOVED_SKIPPED}
    info = server.get("job/moved/api/json", auth=server.alice).json()
    assert info["buildable"] is True
    b, log = build(server, "moved")
    assert b["result"] == "SUCCESS", log
    assert "THE-SHELL-STEP-RAN" in log
    page = server.get("job/moved/", auth=server.alice, headers=html).text
    assert "Builds of this job fail" not in page and "Not run:" in page

    # and a job Steward runs entirely says nothing
    r = server.post("job/moved/config.xml", data=job_xml().encode(),
                    headers={"Content-Type": "application/xml"}, auth=server.alice)
    assert r.status_code == 200 and "X-Steward-Unsupported" not in r.headers
    assert server.get("job/moved/api/json", auth=server.alice).json()["unsupported"] == []
    assert 'id="unsupported"' not in server.get("job/moved/", auth=server.alice,
                                                 headers=html).text


def test_hostile_element_names_stay_out_of_the_header_and_the_list_is_bounded(server):
    many = "".join(f"<org.example.P{i}/>" for i in range(200))
    xml = with_parts(job_xml(), publishers="<pub.\u00e9t\u00e9/>" + many,
                     wrappers="<org.example.Last/>")
    r = server.post("createItem?name=hostile", data=xml.encode(),
                    headers={"Content-Type": "application/xml"}, auth=server.alice)
    assert r.status_code == 200, r.text
    h = r.headers["X-Steward-Unsupported"]
    assert h.isascii() and "publishers/pub.??t??" in h and len(h) < 5000
    info = server.get("job/hostile/api/json", auth=server.alice).json()
    assert len(info["unsupported"]) == 65
    assert info["unsupported"][0]["element"] == "publishers/pub.\u00e9t\u00e9"
    # the build wrapper past the bound still fails the job
    assert info["unsupported"][-1] == {**info["unsupported"][-1], "element": "(138 more)",
                                       "effect": "fails"}
    assert info["buildable"] is False
    b, log = build(server, "hostile")
    assert b["result"] == "FAILURE" and "(138 more)" in log
