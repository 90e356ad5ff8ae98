"""python-jenkins 1.4 (Debian): the methods a script calls against a freestyle setup."""
import time

import jenkins
import pytest

from conftest import SLOW, create_job, job_xml


def client(server, user="alice"):
    token = server.alice_token if user == "alice" else server.bob_token
    return jenkins.Jenkins(server.url, username=user, password=token, timeout=30 * SLOW)


def wait(pred, timeout=30):
    deadline = time.time() + timeout * SLOW
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out")


def run_build(j, name, params=None):
    qid = j.build_job(name, params) if params else j.build_job(name)
    item = wait(lambda: j.get_queue_item(qid).get("executable") and j.get_queue_item(qid))
    number = item["executable"]["number"]
    return wait(lambda: (lambda b: b if not b["building"] else None)(j.get_build_info(name, number)))


def test_version_comes_first_without_credentials(server):
    j = client(server)
    assert j.get_version() == "2.462.3"


def test_info_jobs_and_names(server):
    j = client(server)
    create_job(server, "alpha", job_xml())
    create_job(server, "beta", job_xml(disabled=True))
    info = j.get_info()
    assert info["_class"] == "hudson.model.Hudson" and info["mode"] == "NORMAL"
    assert [v["name"] for v in info["views"]] == ["all"]
    names = [(x["name"], x["color"]) for x in j.get_jobs()]
    assert names == [("alpha", "notbuilt"), ("beta", "disabled")]
    assert [x["fullname"] for x in j.get_all_jobs()] == ["alpha", "beta"]
    assert j.get_job_name("alpha") == "alpha"
    assert j.get_job_name("nope") is None
    assert j.job_exists("beta") and not j.job_exists("gamma")
    assert j.jobs_count() == 2
    assert j.wait_for_normal_op(60 * SLOW)


def test_config_copy_rename_reconfig(server):
    j = client(server)
    xml = job_xml([("string", "P", "one")], token="t0k", description="first & <only>")
    j.create_job("orig", xml)
    assert j.get_job_config("orig") == xml
    j.copy_job("orig", "copy")
    assert j.get_job_config("copy") == xml
    j.rename_job("copy", "renamed")
    assert not j.job_exists("copy") and j.job_exists("renamed")
    new = job_xml([("string", "P", "two")], description="second")
    j.reconfig_job("renamed", new)
    assert j.get_job_config("renamed") == new
    info = j.get_job_info("renamed")
    assert info["description"] == "second"
    defs = info["property"][0]["parameterDefinitions"]
    assert defs[0]["defaultParameterValue"]["value"] == "two"
    with pytest.raises(jenkins.JenkinsException):
        j.create_job("orig", xml)  # exists
    j.delete_job("renamed")
    assert not j.job_exists("renamed")


def test_job_info_depth_and_all_builds(server):
    j = client(server)
    j.create_job("many", job_xml(concurrent=True, script="true"))
    numbers = [run_build(j, "many")["number"] for _ in range(3)]
    assert numbers == [1, 2, 3]
    info = j.get_job_info("many")
    assert [b["number"] for b in info["builds"]] == [3, 2, 1]
    assert info["lastSuccessfulBuild"]["number"] == 3 and info["firstBuild"]["number"] == 1
    assert info["nextBuildNumber"] == 4 and info["color"] == "blue"
    assert info["healthReport"][0]["score"] == 100
    deep = j.get_job_info("many", depth=1)
    assert deep["builds"][0]["result"] == "SUCCESS"
    full = j.get_job_info("many", fetch_all_builds=True)
    assert [b["number"] for b in full["builds"]] == [3, 2, 1]


def test_enable_disable(server):
    j = client(server)
    j.create_job("toggle", job_xml())
    j.disable_job("toggle")
    assert j.get_job_info("toggle")["color"] == "disabled"
    assert "<disabled>true</disabled>" in j.get_job_config("toggle")
    with pytest.raises(Exception) as e:
        j.build_job("toggle")
    assert "409" in str(e.value)  # not buildable, as Jenkins answers
    j.enable_job("toggle")
    assert j.get_job_info("toggle")["buildable"] is True
    assert run_build(j, "toggle")["result"] == "SUCCESS"


def test_running_builds_nodes_and_stop(server):
    j = client(server)
    j.create_job("slow", job_xml(script="sleep 30"))
    qid = j.build_job("slow")
    number = wait(lambda: j.get_queue_item(qid).get("executable"))["number"]
    running = wait(lambda: j.get_running_builds())
    assert running[0]["name"] == "slow" and running[0]["number"] == number
    nodes = j.get_nodes()
    assert len(nodes) == 1 and nodes[0]["offline"] is False
    node = j.get_node_info(nodes[0]["name"])
    assert len(node["executors"]) == 2
    assert j.get_job_info("slow")["color"] == "notbuilt_anime"
    j.stop_build("slow", number)
    b = wait(lambda: (lambda b: b if not b["building"] else None)(j.get_build_info("slow", number)),
             timeout=15)
    assert b["result"] == "ABORTED"
    assert j.get_running_builds() == []


def test_queue_info_and_cancel(server):
    j = client(server)
    j.create_job("later", job_xml([("string", "P", "x")], quiet=60))
    qid = j.build_job("later", {"P": "1"})
    queue = j.get_queue_info()
    assert [q["id"] for q in queue] == [qid]
    assert queue[0]["why"].startswith("In the quiet period")
    assert queue[0]["task"]["name"] == "later"
    j.cancel_queue(qid)
    assert j.get_queue_info() == []
    item = j.get_queue_item(qid)
    assert item["cancelled"] is True and item["executable"] is None
    j.cancel_queue(qid)  # a second cancel: 404, swallowed by python-jenkins


def test_build_env_vars_and_console(server):
    j = client(server)
    j.create_job("envs", job_xml([("string", "P", "x")], script='echo "P is $P"'))
    b = run_build(j, "envs", {"P": "a b&c"})
    assert "P is a b&c" in j.get_build_console_output("envs", b["number"])
    assert b["fullDisplayName"] == f"envs #{b['number']}" and b["id"] == str(b["number"])
    assert b["queueId"] > 0 and b["estimatedDuration"] >= 0 and b["duration"] >= 0
    assert b["changeSet"]["items"] == [] and b["culprits"] == [] and b["artifacts"] == []
    # the EnvInject plugin's page is not there; python-jenkins then returns None
    assert j.get_build_env_vars("envs", b["number"]) is None


def test_whoami_and_crumb_then_posts(server):
    j = client(server, "bob")
    assert j.get_whoami()["id"] == "bob"
    # the crumb python-jenkins fetched first goes out on every later request
    j.create_job("bobs", job_xml())
    assert run_build(j, "bobs")["result"] == "SUCCESS"
    assert j.crumb and j.crumb["crumbRequestField"] == "Jenkins-Crumb"


def test_wrong_token_raises_with_explanation(server):
    j = jenkins.Jenkins(server.url, username="alice", password="not-a-token")
    with pytest.raises(jenkins.JenkinsException) as e:
        j.get_whoami()
    assert "401" in str(e.value)
