"""JSON shapes clients read: tree= into nested objects, depth=, api/xml and api/python."""
from conftest import create_job, job_xml


def build_once(server, name):
    r = server.post(f"job/{name}/build", auth=server.alice)
    item = server.wait_queue_item(r.headers["Location"], server.alice)
    return server.wait_build(name, item["executable"]["number"], server.alice)


def test_tree_selects_fields_inside_nested_builds(server):
    create_job(server, "t1", job_xml(script="true"))
    create_job(server, "t2", job_xml(script="false"))
    b1, b2 = build_once(server, "t1"), build_once(server, "t2")
    root = server.get("api/json?tree=jobs[name,lastBuild[number,result]]", auth=server.alice).json()
    assert root["jobs"] == [
        {"_class": "hudson.model.FreeStyleProject", "name": "t1",
         "lastBuild": {"_class": "hudson.model.FreeStyleBuild", "number": b1["number"], "result": "SUCCESS"}},
        {"_class": "hudson.model.FreeStyleProject", "name": "t2",
         "lastBuild": {"_class": "hudson.model.FreeStyleBuild", "number": b2["number"], "result": "FAILURE"}},
    ]
    job = server.get("job/t1/api/json?tree=lastBuild[result,timestamp],builds[number,result]{0,1}",
                     auth=server.alice).json()
    assert job["lastBuild"]["result"] == "SUCCESS" and job["lastBuild"]["timestamp"] > 0
    assert job["builds"] == [{"_class": "hudson.model.FreeStyleBuild", "number": 1, "result": "SUCCESS"}]
    # without a sub-selection the summary stays a summary
    plain = server.get("job/t1/api/json", auth=server.alice).json()
    assert set(plain["lastBuild"]) == {"_class", "number", "url"}


def leaf(v):
    """What tree= keeps of a value it names without a sub-selection."""
    if isinstance(v, dict):
        return {k: v[k] for k in v if k == "_class"}
    if isinstance(v, list):
        return [leaf(x) for x in v]
    return v


def test_a_jobs_tree_answer_is_its_whole_answer_filtered(server):
    """A job's JSON leaves out what tree= does not keep without reading it: what it keeps
    is what the whole answer has, field by field and in the clients' usual selections."""
    create_job(server, "down", job_xml(script="true"))
    xml = job_xml([("string", "P", "x")], script='test "$P" = x')
    xml = xml.replace("<publishers/>", "<publishers><hudson.tasks.BuildTrigger>"
                      "<childProjects>down</childProjects><threshold><name>SUCCESS</name>"
                      "</threshold></hudson.tasks.BuildTrigger></publishers>")
    create_job(server, "up", xml)
    build_once(server, "up")
    r = server.post("job/up/buildWithParameters?P=y", auth=server.alice)
    server.wait_build("up", server.wait_queue_item(r.headers["Location"], server.alice)
                      ["executable"]["number"], server.alice)
    # one waits in its quiet period: queueItem and inQueue have something to say
    assert server.post("job/up/buildWithParameters?P=x&delay=600sec",
                       auth=server.alice).status_code == 201
    whole = server.get("job/up/api/json", auth=server.alice).json()
    assert whole["inQueue"] is True and whole["lastFailedBuild"] and whole["downstreamProjects"]
    for key in whole:
        got = server.get(f"job/up/api/json?tree={key}", auth=server.alice).json()
        want = {"_class": whole["_class"], key: leaf(whole[key])}
        assert got == want, key
    star = server.get("job/up/api/json?tree=*", auth=server.alice).json()
    assert star == {k: leaf(v) for k, v in whole.items()}
    assert list(star) == list(whole)   # the keys in the whole answer's order
    got = server.get("job/up/api/json?tree=lastCompletedBuild[number],nextBuildNumber,"
                     "healthReport[score],color,builds[number]{0,1}", auth=server.alice).json()
    assert got == {"_class": whole["_class"],
                   "lastCompletedBuild": {"_class": "hudson.model.FreeStyleBuild",
                                          "number": whole["lastCompletedBuild"]["number"]},
                   "nextBuildNumber": whole["nextBuildNumber"],
                   "healthReport": [{"score": h["score"]} for h in whole["healthReport"]],
                   "color": whole["color"],
                   "builds": [{"_class": "hudson.model.FreeStyleBuild",
                               "number": whole["builds"][0]["number"]}]}


def test_depth_one_expands_jobs_and_builds(server):
    create_job(server, "d", job_xml(script="true"))
    build_once(server, "d")
    root = server.get("api/json?depth=1", auth=server.alice).json()
    assert root["jobs"][0]["nextBuildNumber"] == 2
    assert root["jobs"][0]["lastBuild"] == {
        "_class": "hudson.model.FreeStyleBuild", "number": 1,
        "url": server.url + "job/d/1/"}
    job = server.get("job/d/api/json?depth=1", auth=server.alice).json()
    assert job["builds"][0]["result"] == "SUCCESS"
    assert job["lastBuild"]["result"] == "SUCCESS"


def test_xml_and_python_forms(server):
    create_job(server, "x", job_xml(description="a <b> & c"))
    xml = server.get("job/x/api/xml", auth=server.alice)
    assert xml.headers["Content-Type"].startswith("application/xml")
    assert xml.text.startswith("<freeStyleProject") and "<description>a &lt;b&gt; &amp; c</description>" in xml.text
    wrapped = server.get("api/xml?xpath=//job/name&wrapper=names", auth=server.alice)
    assert wrapped.text == "<names><name>x</name></names>"
    bare = server.get("job/x/api/xml?xpath=/*/name/text()", auth=server.alice)
    assert bare.status_code == 403
    crumb = server.get('crumbIssuer/api/xml?xpath=concat(//crumbRequestField,":",//crumb)',
                       auth=server.alice)
    assert crumb.status_code == 200 and crumb.text.startswith("Jenkins-Crumb:")
    py = server.get("job/x/api/python", auth=server.alice).text
    assert eval(py, {"__builtins__": {}})["buildable"] is True  # True/False/None, as Python
    missing_view = server.get("view/nope/api/json", auth=server.alice)
    assert missing_view.status_code == 404
    view = server.get("view/all/api/json", auth=server.alice).json()
    assert [j["name"] for j in view["jobs"]] == ["x"]


def test_token_list_by_get_and_cancel_wording(server):
    r = server.get("me/descriptorByName/jenkins.security.ApiTokenProperty/list", auth=server.alice)
    assert r.status_code == 200 and r.json()["data"]["tokens"][0]["name"] == "ci"
    r = server.post("queue/cancelItem?id=999", auth=server.alice)
    assert r.status_code == 404
    assert "not a waiting queue item" in r.json()["presented"]
    assert r.json()["presented"].count("does not exist") == 1
