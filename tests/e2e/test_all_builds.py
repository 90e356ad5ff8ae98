"""`allBuilds` answers as Jenkins does: every build of the job, with each field that tree= asks
for (python-jenkins' fetch_all_builds asks allBuilds[number,url]; scripts scan a whole history
with allBuilds[number,result,actions[parameters[name,value]]]{m,n}). Checked field by field
against `builds`, which shows the newest 100 with the same fields."""
import json
import os
import sqlite3

import jenkins

from conftest import create_job, job_xml
from e2e_helpers import restart

TREES = [
    "number,url",
    "number,result,actions[parameters[name,value]]",
    "number,description,displayName,fullDisplayName,keepLog,id,queueId,timestamp,duration,"
    "building,inProgress,executor,builtOn,estimatedDuration,url,result,abortReason",
    "actions[causes[shortDescription,userId]],number,artifacts[fileName]",
    "executor[number],number",
    "*",
    "",
]


def job_lists(server, tree, job="all"):
    """(builds, allBuilds) for the same tree."""
    sub = f"[{tree}]" if tree else ""
    b = server.get(f"job/{job}/api/json?tree=builds{sub}", auth=server.alice)
    a = server.get(f"job/{job}/api/json?tree=allBuilds{sub}", auth=server.alice)
    assert b.status_code == 200 and a.status_code == 200, (b.text, a.text)
    return b.json()["builds"], a.json()["allBuilds"]


def assert_same(builds, every):
    assert every == builds
    # the same fields in the same order, as one model makes them
    assert [list(x) for x in every] == [list(x) for x in builds]


def test_all_builds_gives_every_field_builds_gives(server):
    flag = os.path.join(server.shared, "release")
    script = f'echo "B=$BRANCH"; mkdir -p out; echo x > out/a.txt; [ "$BRANCH" != hold ] || ' \
             f'while [ ! -e {flag} ]; do sleep 0.05; done'
    xml = job_xml(params=[("string", "BRANCH", "main"), ("password", "PW", "s3cret"),
                          ("bool", "CLEAN", "false")], script=script)
    xml = xml.replace("<publishers/>", "<publishers><hudson.tasks.ArtifactArchiver>"
                      "<artifacts>out/*</artifacts></hudson.tasks.ArtifactArchiver></publishers>")
    create_job(server, "all", xml)
    for branch in ("main", "feature/x", "release"):
        r = server.post("job/all/buildWithParameters", data={"BRANCH": branch, "CLEAN": "true"},
                        auth=server.alice)
        assert r.status_code == 201, r.text
        item = server.wait_queue_item(r.headers["Location"], server.alice)
        server.wait_build("all", item["executable"]["number"], server.alice)
    server.post("job/all/2/submitDescription", data={"description": 'two "quoted" <b>'},
                auth=server.alice)
    server.post("job/all/3/configSubmit", data={"json": json.dumps({"displayName": "rc-3 ☃"})},
                auth=server.alice)
    server.post("job/all/1/toggleLogKeep", auth=server.alice)
    # one build still running, as a scan may find it
    r = server.post("job/all/buildWithParameters?BRANCH=hold", auth=server.alice)
    item = server.wait_queue_item(r.headers["Location"], server.alice)
    assert item["executable"]["number"] == 4

    try:
        for tree in TREES:
            builds, every = job_lists(server, tree)
            assert len(every) == 4, (tree, every)
            assert_same(builds, every)
        builds, every = job_lists(server, TREES[2])
        assert [(b["number"], b["building"], b["keepLog"], b["displayName"]) for b in every] == \
            [(4, True, False, "#4"), (3, False, False, "rc-3 ☃"), (2, False, False, "#2"),
             (1, False, True, "#1")]
        assert every[2]["description"] == 'two "quoted" <b>'
        assert every[1]["fullDisplayName"] == "all rc-3 ☃"
        # an object named without fields inside shows its _class, as Stapler's tree does
        assert every[0]["executor"] == {"_class": "hudson.model.Executor"}
        assert every[1]["executor"] is None
        _, every = job_lists(server, "executor[number]")
        assert every[0]["executor"]["number"] in (0, 1) and every[1]["executor"] is None
        _, every = job_lists(server, TREES[1])
        # password values are never shown
        assert every[3]["actions"][0]["parameters"] == [
            {"_class": "hudson.model.StringParameterValue", "name": "BRANCH", "value": "main"},
            {"_class": "hudson.model.PasswordParameterValue", "name": "PW"},
            {"_class": "hudson.model.BooleanParameterValue", "name": "CLEAN", "value": True}]

        # ranges as Stapler reads them, the same on both lists
        for rng in ("{1,3}", "{2}", "{,2}", "{3,}", "{0,100}", "{5,9}", "{3,1}"):
            tree = f"[number,result,actions[parameters[name,value]]]{rng}"
            b = server.get(f"job/all/api/json?tree=builds{tree}", auth=server.alice).json()
            a = server.get(f"job/all/api/json?tree=allBuilds{tree}", auth=server.alice).json()
            assert_same(b["builds"], a["allBuilds"])

        # other shapes of the answer: pretty JSON, Python, XML, and beside other fields
        tree = "name,allBuilds[number,result,description]{0,3},nextBuildNumber"
        compact = server.get(f"job/all/api/json?tree={tree}", auth=server.alice)
        pretty = server.get(f"job/all/api/json?tree={tree}&pretty=true", auth=server.alice)
        assert compact.json() == pretty.json() and "\n" in pretty.text
        assert list(compact.json()) == ["_class", "name", "nextBuildNumber", "allBuilds"] or \
            set(compact.json()) == {"_class", "name", "nextBuildNumber", "allBuilds"}
        assert [b["number"] for b in compact.json()["allBuilds"]] == [4, 3, 2]
        py = server.get(f"job/all/api/python?tree={tree}", auth=server.alice).text
        assert "'number': 2" not in py and '"number":2' in py.replace(" ", "")
        xml = server.get(f"job/all/api/xml?tree={tree}", auth=server.alice).text
        assert xml.count("<allBuild") == 3 and "<description>two &quot;quoted&quot; &lt;b&gt;" \
            in xml.replace('"', "&quot;"), xml
        # the root's job list may name allBuilds too
        root = server.get("api/json?tree=jobs[name,allBuilds[number]{0,2}]",
                          auth=server.alice).json()
        assert root["jobs"] == [{"_class": "hudson.model.FreeStyleProject", "name": "all",
                                 "allBuilds": [{"_class": "hudson.model.FreeStyleBuild",
                                                "number": 4},
                                               {"_class": "hudson.model.FreeStyleBuild",
                                                "number": 3}]}]
        # a malformed tree is a 400, as before
        r = server.get("job/all/api/json?tree=allBuilds[number", auth=server.alice)
        assert r.status_code == 400
    finally:
        open(flag, "w").close()
    server.wait_build("all", 4, server.alice)


def insert_history(server, job, n):
    """n finished builds of `job`, each with its queue item, cause and a parameter, into the
    stopped server's database (as bench/history.py makes them); every 7th has a description,
    every 11th a display name, every 13th is kept."""
    db = sqlite3.connect(os.path.join(server.home, "steward.db"))
    with db:
        q0 = db.execute("SELECT coalesce(max(id), 0) FROM queue").fetchone()[0]
        cause = json.dumps([[0, "alice", None, None, None, 1]], separators=(",", ":"))
        db.executemany("INSERT INTO queue(id, job, in_queue_since_ms, due_ms, state, left_ms, "
                       "build_number, params, causes) VALUES(?, ?, ?, ?, 1, ?, ?, ?, ?)",
                       ((q0 + k, job, k * 1000, k * 1000, k * 1000, k,
                         json.dumps([["BRANCH", 0, f"b{k % 97}"]], separators=(",", ":")), cause)
                        for k in range(1, n + 1)))
        db.executemany("INSERT INTO builds(job, number, queue_id, start_ms, duration_ms, result, "
                       "description, display_name, keep_log) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       ((job, k, q0 + k, k * 1000, k, "FAILURE" if k % 5 == 0 else "SUCCESS",
                         f"desc {k}" if k % 7 == 0 else None,
                         f"v{k}" if k % 11 == 0 else None, int(k % 13 == 0))
                        for k in range(1, n + 1)))
        db.execute("INSERT INTO job_numbers(job, next_build) VALUES(?, ?)", (job, n + 1))
    db.close()


def test_all_builds_of_a_long_history_in_one_answer_and_in_ranges(server):
    n = 20000
    create_job(server, "long", job_xml(params=[("string", "BRANCH", "main")]))
    server.stop()
    insert_history(server, "long", n)
    restart(server)

    every = server.get("job/long/api/json?tree=allBuilds[number,url]", auth=server.alice).json()
    assert [b["number"] for b in every["allBuilds"]] == list(range(n, 0, -1))
    assert every["allBuilds"][-1] == {"_class": "hudson.model.FreeStyleBuild", "number": 1,
                                      "url": f"{server.url}job/long/1/"}

    tree = "number,result,description,displayName,keepLog,actions[parameters[name,value]]"
    builds, every = job_lists(server, tree, job="long")
    assert len(builds) == 100 and len(every) == n
    assert_same(builds, every[:100])
    k = 7 * 11 * 13 * 2  # 2002: a description, a display name, kept
    b = every[n - k]
    assert (b["number"], b["result"], b["description"], b["displayName"], b["keepLog"]) == \
        (k, "SUCCESS", f"desc {k}", f"v{k}", True)
    assert b["actions"][0]["parameters"] == [
        {"_class": "hudson.model.StringParameterValue", "name": "BRANCH", "value": f"b{k % 97}"}]
    assert every[n - 5]["result"] == "FAILURE" and every[n - 5]["description"] is None

    # python-jenkins: get_job_info(fetch_all_builds=True) reads allBuilds[number,url] when
    # `builds` (the newest 100) does not reach firstBuild
    client = jenkins.Jenkins(server.url, username=server.alice[0], password=server.alice[1])
    info = client.get_job_info("long", fetch_all_builds=True)
    assert [b["number"] for b in info["builds"]] == list(range(n, 0, -1))
    assert info["builds"][0]["url"] == f"{server.url}job/long/{n}/"

    # a range reads only its builds; the same as slicing the whole list
    for rng, sl in (("{19990,20010}", slice(19990, 20010)), ("{100,103}", slice(100, 103)),
                    ("{0}", slice(0, 1)), ("{25000,}", slice(25000, None))):
        part = server.get(f"job/long/api/json?tree=allBuilds[{tree}]{rng}",
                          auth=server.alice).json()["allBuilds"]
        assert part == every[sl], rng
