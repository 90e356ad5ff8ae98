"""A build's description, display name and keep-forever flag (Jenkins' Run.doSubmitDescription,
Run.doConfigSubmit, Run.doToggleLogKeep, Run.doDoDelete), set the way scripts and browsers set
them, shown in the JSON and on the pages, and honoured by "Discard old builds"."""
import json
import os

from conftest import create_job, job_xml
from e2e_helpers import page_crumb, signed_in, wait_for


def run(server, name, auth=None):
    auth = auth or server.alice
    r = server.post(f"job/{name}/build", auth=auth)
    assert r.status_code == 201, r.text
    item = server.wait_queue_item(r.headers["Location"], auth)
    return server.wait_build(name, item["executable"]["number"], auth)


def with_discarder(xml, num=-1, artifact_num=-1):
    prop = ("<jenkins.model.BuildDiscarderProperty><strategy class=\"hudson.tasks.LogRotator\">"
            f"<daysToKeep>-1</daysToKeep><numToKeep>{num}</numToKeep>"
            f"<artifactDaysToKeep>-1</artifactDaysToKeep><artifactNumToKeep>{artifact_num}"
            "</artifactNumToKeep></strategy></jenkins.model.BuildDiscarderProperty>")
    return xml.replace("<properties>", "<properties>" + prop, 1)


def build_json(server, job, n, auth=None):
    r = server.get(f"job/{job}/{n}/api/json", auth=auth or server.alice)
    assert r.status_code == 200, r.text
    return r.json()


def numbers(server, job):
    info = server.get(f"job/{job}/api/json?tree=builds[number]", auth=server.alice).json()
    return [b["number"] for b in info["builds"]]


def test_description_and_display_name_are_set_shown_and_cleared(server):
    create_job(server, "meta", job_xml())
    b = run(server, "meta")
    # Jenkins' defaults
    assert (b["description"], b["displayName"], b["fullDisplayName"], b["keepLog"]) == \
        (None, "#1", "meta #1", False)

    # submitDescription: a form field, answered with a redirect to the build (as Jenkins)
    text = 'Deployed <b>v1.2</b> & "tagged"\nsecond line\tand a tab; ünïcode'
    r = server.post("job/meta/1/submitDescription", data={"description": text},
                    auth=server.alice, allow_redirects=False)
    assert r.status_code == 302, r.text
    assert r.headers["Location"] == f"{server.url}job/meta/1/"
    b = build_json(server, "meta", 1)
    assert b["description"] == text and b["displayName"] == "#1"

    # configSubmit: Jenkins' form sends json=; the display name is trimmed
    r = server.post("job/meta/lastBuild/configSubmit", auth=server.alice, allow_redirects=False,
                    data={"json": json.dumps({"displayName": "  release 1.2  ",
                                              "description": "from configSubmit"})})
    assert r.status_code == 302, r.text
    b = build_json(server, "meta", 1)
    assert (b["displayName"], b["fullDisplayName"], b["description"]) == \
        ("release 1.2", "meta release 1.2", "from configSubmit")
    # the same in the job's lists, and in XML and Python
    info = server.get("job/meta/api/json?tree=builds[number,displayName,description],"
                      "allBuilds[number,displayName,fullDisplayName,description,keepLog]",
                      auth=server.alice).json()
    assert info["builds"] == [{"_class": "hudson.model.FreeStyleBuild", "number": 1,
                               "displayName": "release 1.2", "description": "from configSubmit"}]
    assert info["allBuilds"] == [{"_class": "hudson.model.FreeStyleBuild", "number": 1,
                                  "displayName": "release 1.2",
                                  "fullDisplayName": "meta release 1.2",
                                  "description": "from configSubmit", "keepLog": False}]
    xml = server.get("job/meta/1/api/xml", auth=server.alice).text
    assert "<displayName>release 1.2</displayName>" in xml
    assert "<description>from configSubmit</description>" in xml

    # plain form fields work too; a field not sent is left as it is
    r = server.post("job/meta/1/configSubmit", data={"description": "plain"}, auth=server.alice)
    assert r.status_code == 200  # the redirect, followed to the build's JSON
    b = build_json(server, "meta", 1)
    assert (b["displayName"], b["description"]) == ("release 1.2", "plain")
    # an empty display name is the default again
    r = server.post("job/meta/1/configSubmit", data={"json": '{"displayName": "   "}'},
                    auth=server.alice, allow_redirects=False)
    assert r.status_code == 302
    assert build_json(server, "meta", 1)["displayName"] == "#1"
    # submitDescription without the field clears it, as Jenkins' setDescription(null)
    assert server.post("job/meta/1/submitDescription", auth=server.alice,
                       allow_redirects=False).status_code == 302
    assert build_json(server, "meta", 1)["description"] is None

    # the audit log names who changed what
    audit = server.get("manage/audit/api/json?job=meta", auth=server.alice).json()
    actions = [e["action"] for e in audit["entries"]]
    assert "build-describe" in actions and "build-configure" in actions, audit


def test_bad_text_and_bad_forms_are_refused_and_change_nothing(server):
    create_job(server, "strict", job_xml())
    run(server, "strict")
    assert server.post("job/strict/1/submitDescription", data={"description": "kept"},
                       auth=server.alice, allow_redirects=False).status_code == 302

    def refused(path, status, word, **kw):
        r = server.post(path, auth=server.alice, allow_redirects=False, **kw)
        assert r.status_code == status, (path, r.status_code, r.text)
        assert word in r.text, r.text
        b = build_json(server, "strict", 1)
        assert (b["description"], b["displayName"]) == ("kept", "#1"), b

    refused("job/strict/1/submitDescription", 413, "16384 bytes",
            data={"description": "x" * 16385})
    refused("job/strict/1/submitDescription", 400, "control character",
            data={"description": "bell \x07"})
    refused("job/strict/1/submitDescription", 400, "not UTF-8",
            data=b"description=%FF%FE", headers={"Content-Type": "application/x-www-form-urlencoded"})
    refused("job/strict/1/configSubmit", 400, "one line",
            data={"json": json.dumps({"displayName": "two\nlines"})})
    refused("job/strict/1/configSubmit", 413, "256 bytes",
            data={"json": json.dumps({"displayName": "n" * 257})})
    refused("job/strict/1/configSubmit", 400, "not a JSON object", data={"json": "[1,"})
    refused("job/strict/1/configSubmit", 400, "displayName is not a string",
            data={"json": '{"displayName": 7}'})
    # a description at the bound is fine
    r = server.post("job/strict/1/submitDescription", data={"description": "y" * 16384},
                    auth=server.alice, allow_redirects=False)
    assert r.status_code == 302
    assert build_json(server, "strict", 1)["description"] == "y" * 16384
    # builds that do not exist, and reads
    for path in ("job/strict/9/submitDescription", "job/strict/lastFailedBuild/toggleLogKeep",
                 "job/nope/1/configSubmit"):
        assert server.post(path, data={"description": "x"}, auth=server.alice).status_code == 404
    r = server.get("job/strict/1/submitDescription", auth=server.alice)
    assert r.status_code == 405 and r.headers["Allow"] == "POST"
    # a browser's session needs the crumb, as every POST of Steward
    http = signed_in(server, "alice", "alice-password")
    r = http.post(f"{server.url}job/strict/1/submitDescription", data={"description": "csrf"},
                  allow_redirects=False)
    assert r.status_code == 403 and "rumb" in r.text, r.text
    assert build_json(server, "strict", 1)["description"] == "y" * 16384


def test_rights_run_update_to_describe_and_keep_and_run_delete_to_unkeep_or_delete(server):
    server.admin("security", "authorization", "matrix")
    for perm in ("Overall/Read", "Job/Read", "Job/Build", "Run/Update"):
        server.admin("security", "matrix", "grant", "bob", perm)
    create_job(server, "rights", job_xml())
    run(server, "rights")

    r = server.post("job/rights/1/submitDescription", data={"description": "by bob"},
                    auth=server.bob, allow_redirects=False)
    assert r.status_code == 302, r.text
    r = server.post("job/rights/1/toggleLogKeep", auth=server.bob, allow_redirects=False)
    assert r.status_code == 302, r.text
    assert build_json(server, "rights", 1)["keepLog"] is True
    # no longer keeping it lets it go: Run/Delete, which bob lacks
    r = server.post("job/rights/1/toggleLogKeep", auth=server.bob, allow_redirects=False)
    assert r.status_code == 403 and "Run/Delete" in r.text, r.text
    r = server.post("job/rights/1/doDelete", auth=server.bob, allow_redirects=False)
    assert r.status_code == 403 and "Run/Delete" in r.text, r.text
    assert build_json(server, "rights", 1)["keepLog"] is True

    # without Run/Update nothing changes
    server.admin("security", "matrix", "revoke", "bob", "Run/Update")
    r = server.post("job/rights/1/configSubmit", data={"description": "no"}, auth=server.bob)
    assert r.status_code == 403 and "Run/Update" in r.text, r.text
    b = build_json(server, "rights", 1)
    assert (b["description"], b["keepLog"]) == ("by bob", True)
    # anonymous callers are asked who they are
    assert server.post("job/rights/1/submitDescription",
                       data={"description": "anon"}).status_code in (401, 404)


def test_a_kept_build_outlives_discarding_and_cannot_be_deleted_until_unkept(server):
    create_job(server, "keeper", with_discarder(job_xml(), num=1))
    assert run(server, "keeper")["number"] == 1
    r = server.post("job/keeper/1/toggleLogKeep", auth=server.alice, allow_redirects=False,
                    headers={"Referer": f"{server.url}job/keeper/"})
    # back to the page it came from, when it is one of this server's
    assert r.status_code == 302 and r.headers["Location"] == f"{server.url}job/keeper/"
    assert build_json(server, "keeper", 1)["keepLog"] is True
    run(server, "keeper")
    run(server, "keeper")
    # #2 is past the newest one and not the last successful build: it went; #1 is kept
    assert numbers(server, "keeper") == [3, 1]
    assert server.get("job/keeper/2/api/json", auth=server.alice).status_code == 404
    assert os.path.exists(os.path.join(server.home, "jobs", "keeper", "builds", "1", "log"))

    # Jenkins refuses to delete a kept build, and says why
    r = server.post("job/keeper/1/doDelete", auth=server.alice, allow_redirects=False)
    assert r.status_code == 409, r.text
    assert "keeper #1" in r.text and "kept forever" in r.text and "toggleLogKeep" in r.text
    assert numbers(server, "keeper") == [3, 1]
    # a foreign Referer is not followed
    r = server.post("job/keeper/1/toggleLogKeep", auth=server.alice, allow_redirects=False,
                    headers={"Referer": "http://elsewhere.example/job/keeper/"})
    assert r.status_code == 302 and r.headers["Location"] == f"{server.url}job/keeper/1/"
    assert build_json(server, "keeper", 1)["keepLog"] is False
    # no longer kept: the next build's discarding takes it
    run(server, "keeper")
    assert numbers(server, "keeper") == [4]
    wait_for(lambda: not os.path.exists(os.path.join(server.home, "jobs", "keeper", "builds", "1")),
             10, "build #1's directory to go")


def test_a_build_is_deleted_by_hand_but_not_while_it_runs(server):
    flag = os.path.join(server.shared, "go")
    create_job(server, "del", job_xml(script=f"while [ ! -e {flag} ]; do sleep 0.05; done"))
    r = server.post("job/del/build", auth=server.alice)
    item = server.wait_queue_item(r.headers["Location"], server.alice)
    assert item["executable"]["number"] == 1
    r = server.post("job/del/1/doDelete", auth=server.alice, allow_redirects=False)
    assert r.status_code == 409 and "has not finished" in r.text, r.text
    open(flag, "w").close()
    server.wait_build("del", 1, server.alice)
    r = server.post("job/del/1/doDelete", auth=server.alice, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == f"{server.url}job/del/"
    assert server.get("job/del/1/api/json", auth=server.alice).status_code == 404
    assert numbers(server, "del") == []
    wait_for(lambda: not os.path.exists(os.path.join(server.home, "jobs", "del", "builds", "1")),
             10, "build #1's directory to go")
    # numbering goes on
    assert run(server, "del")["number"] == 2


def test_the_build_page_shows_them_as_text_and_edits_them_with_the_crumb(server):
    create_job(server, "page", job_xml())
    run(server, "page")
    run(server, "page")
    server.post("job/page/1/submitDescription", auth=server.alice,
                data={"description": "<script>alert(1)</script> & done\nline two"})
    http = signed_in(server, "alice", "alice-password")
    html = {"Accept": "text/html"}
    page = http.get(f"{server.url}job/page/1/", headers=html)
    assert page.status_code == 200
    # text, never HTML
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; done\nline two" in page.text
    assert "Keep this build forever" in page.text and 'name="displayName"' in page.text
    crumb = page_crumb(page.text)

    # the page's form: plain fields and the crumb, answered with the build's page
    r = http.post(f"{server.url}job/page/1/configSubmit", headers=html, allow_redirects=False,
                  data={"Jenkins-Crumb": crumb, "displayName": "nightly <1>",
                        "description": "checked"})
    assert r.status_code == 302 and r.headers["Location"] == f"{server.url}job/page/1/"
    page = http.get(f"{server.url}job/page/1/", headers=html)
    assert "<h1>page nightly &lt;1&gt;" in page.text
    assert 'value="nightly &lt;1&gt;"' in page.text
    # the keep button, back to the page it was pressed on
    r = http.post(f"{server.url}job/page/1/toggleLogKeep", headers={
        **html, "Referer": f"{server.url}job/page/1/"}, data={"Jenkins-Crumb": crumb},
        allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == f"{server.url}job/page/1/"
    page = http.get(f"{server.url}job/page/1/", headers=html)
    assert "Kept forever" in page.text and "Don&rsquo;t keep this build forever" in page.text

    # the job's history shows the name, the mark and the description
    job = http.get(f"{server.url}job/page/", headers=html).text
    assert "nightly &lt;1&gt;</a><span class=\"kept\"" in job
    assert "checked</div>" in job
    # a bad value from the form gets a readable page and changes nothing
    r = http.post(f"{server.url}job/page/1/configSubmit", headers=html,
                  data={"Jenkins-Crumb": crumb, "displayName": "x" * 300})
    assert r.status_code == 413 and "256 bytes" in r.text
    assert build_json(server, "page", 1)["displayName"] == "nightly <1>"


def test_who_may_not_change_a_build_sees_no_form(server):
    server.admin("security", "authorization", "matrix")
    for perm in ("Overall/Read", "Job/Read"):
        server.admin("security", "matrix", "grant", "bob", perm)
    create_job(server, "ro", job_xml())
    run(server, "ro")
    http = signed_in(server, "bob", "bob-password")
    page = http.get(f"{server.url}job/ro/1/", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "<h1>ro #1" in page.text
    assert "configSubmit" not in page.text and "toggleLogKeep" not in page.text


def test_a_renamed_job_keeps_its_builds_descriptions_names_and_marks(server):
    create_job(server, "before", job_xml())
    run(server, "before")
    server.post("job/before/1/configSubmit", auth=server.alice,
                data={"json": json.dumps({"displayName": "first", "description": "kept text"})})
    server.post("job/before/1/toggleLogKeep", auth=server.alice)
    r = server.post("job/before/doRename?newName=after", auth=server.alice, allow_redirects=False)
    assert r.status_code == 302, r.text
    b = build_json(server, "after", 1)
    assert (b["displayName"], b["fullDisplayName"], b["description"], b["keepLog"]) == \
        ("first", "after first", "kept text", True)
