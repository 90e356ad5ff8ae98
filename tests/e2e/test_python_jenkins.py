"""The python-jenkins lifecycle (Debian's python3-jenkins 1.4), the way scripts use it."""
import re
import time

import jenkins
import pytest

from conftest import SLOW, job_xml
from e2e_helpers import causes_of, params_of, started_server, wait_for


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module, as a team's scripts share one Jenkins; jobs per test."""
    s = started_server(tmp_path_factory.mktemp("pyjenkins") / "home")
    yield s
    s.stop()


def client(server, auth=True):
    if auth:
        return jenkins.Jenkins(server.url, username="alice", password=server.alice_token)
    return jenkins.Jenkins(server.url)


def wait_executable(j, queue_id, timeout=30):
    """python-jenkins' documented loop: poll get_queue_item until 'executable'."""
    def started():
        item = j.get_queue_item(queue_id)
        assert not item.get("cancelled"), item
        return item if item.get("executable") else None
    return wait_for(started, timeout, f"queue item {queue_id} to start")


def wait_finished(j, name, number, timeout=30):
    def done():
        b = j.get_build_info(name, number)
        return b if not b["building"] else None
    return wait_for(done, timeout, f"{name} #{number} to finish")


UNICODE_VALUE = "two words & more: ünïcödé ✓ 日本"


def test_lifecycle_with_parameters(server):
    j = client(server)
    # python-jenkins' documented order: get_whoami first (it resolves the auth; get_version
    # alone goes out without credentials, which Jenkins refuses too when anonymous may not read)
    me = j.get_whoami()
    assert me["id"] == "alice" and me["_class"] == "hudson.model.User"
    version = j.get_version()
    assert re.fullmatch(r"\d+(\.\d+)+", version), version

    xml = job_xml([("string", "MSG", "default msg"), ("choice", "MODE", ["debug", "release"]),
                   ("bool", "CLEAN", "false")],
                  script='echo "msg=[$MSG] mode=$MODE clean=$CLEAN"')
    assert not j.job_exists("pj")
    j.create_job("pj", xml)
    assert j.job_exists("pj")
    info = j.get_job_info("pj")
    assert info["name"] == "pj" and info["buildable"] is True and info["lastBuild"] is None
    defs = [d for p in info["property"] if "parameterDefinitions" in p
            for d in p["parameterDefinitions"]]
    assert [d["name"] for d in defs] == ["MSG", "MODE", "CLEAN"]
    assert [d for d in defs if d["name"] == "MODE"][0]["choices"] == ["debug", "release"]

    qid = j.build_job("pj", {"MSG": UNICODE_VALUE, "MODE": "release", "CLEAN": "true"})
    assert isinstance(qid, int) and qid > 0
    item = wait_executable(j, qid)
    assert item["id"] == qid and item["task"]["name"] == "pj"
    number = item["executable"]["number"]
    assert number == 1
    assert item["executable"]["url"] == f"{server.url}job/pj/1/"

    build = wait_finished(j, "pj", number)
    assert build["result"] == "SUCCESS"
    assert build["number"] == 1 and build["queueId"] == qid
    assert params_of(build) == {"MSG": UNICODE_VALUE, "MODE": "release", "CLEAN": True}
    causes = causes_of(build)
    assert len(causes) == 1
    assert causes[0]["_class"] == "hudson.model.Cause$UserIdCause"
    assert causes[0]["shortDescription"] == "Started by user alice"
    assert causes[0]["userId"] == "alice"

    out = j.get_build_console_output("pj", number)
    assert f"msg=[{UNICODE_VALUE}] mode=release clean=true" in out
    assert out.rstrip().endswith("Finished: SUCCESS")

    info = j.get_job_info("pj")
    assert info["lastBuild"]["number"] == 1 and info["nextBuildNumber"] == 2

    # python-jenkins fetched a crumb before its first request and sent it on every
    # request since; nothing above broke because of it
    assert j.crumb and j.crumb["crumbRequestField"] == "Jenkins-Crumb"
    assert re.fullmatch(r"[0-9a-f]{64}", j.crumb["crumb"]), j.crumb

    j.delete_job("pj")
    assert not j.job_exists("pj")
    with pytest.raises(jenkins.JenkinsException, match=r"job\[pj\] does not exist"):
        j.get_job_info("pj")


def test_stop_build_aborts_quickly(server):
    j = client(server)
    j.create_job("long", job_xml(script="echo started; sleep 30; echo not-reached"))
    qid = j.build_job("long")
    number = wait_executable(j, qid)["executable"]["number"]
    # the script is running once it printed its first line
    wait_for(lambda: "started" in j.get_build_console_output("long", number), 15,
             "the script to start")
    assert j.get_build_info("long", number)["building"] is True

    t0 = time.time()
    j.stop_build("long", number)
    build = wait_finished(j, "long", number, timeout=10)
    took = time.time() - t0
    assert took < 10 * SLOW, took
    assert build["result"] == "ABORTED"
    assert build["duration"] < 25000, build["duration"]
    out = j.get_build_console_output("long", number)
    assert "not-reached" not in out
    assert "Aborted by alice" in out, out
    assert out.rstrip().endswith("Finished: ABORTED"), out


def test_queue_info_and_cancel_queue(server):
    j = client(server)
    j.create_job("quiet", job_xml([("string", "P", "x")], quiet=30))
    qid = j.build_job("quiet", {"P": "waiting"})
    queued = [i for i in j.get_queue_info() if i["id"] == qid]
    assert len(queued) == 1, j.get_queue_info()
    assert queued[0]["task"]["name"] == "quiet"
    assert queued[0]["why"].startswith("In the quiet period"), queued[0]["why"]
    item = j.get_queue_item(qid)
    assert "executable" not in item or item["executable"] is None
    assert params_of(item) == {"P": "waiting"}

    j.cancel_queue(qid)
    item = j.get_queue_item(qid)
    assert item["cancelled"] is True and item["executable"] is None
    assert not [i for i in j.get_queue_info() if i["id"] == qid]
    info = j.get_job_info("quiet")
    assert info["inQueue"] is False and info["lastBuild"] is None


def test_build_job_with_trigger_token_and_no_credentials(server):
    admin = client(server)
    admin.create_job("tokened", job_xml([("string", "WHO", "nobody")], token="trig-tok",
                                        script='echo "hello $WHO"'))
    admin.create_job("plain-tokened", job_xml(token="trig-tok2", script="echo plain"))

    anon = client(server, auth=False)
    # with parameters: POST buildWithParameters?WHO=...&token=..., no user at all
    qid = anon.build_job("tokened", {"WHO": "the anonymous & co"}, token="trig-tok")
    assert anon.crumb, "python-jenkins should have fetched a crumb first"
    item = wait_executable(admin, qid)
    cause = causes_of(item)[0]
    assert cause["_class"] == "hudson.model.Cause$RemoteCause"
    assert cause["shortDescription"].startswith("Started by remote host 127.0.0.1")
    number = item["executable"]["number"]
    assert wait_finished(admin, "tokened", number)["result"] == "SUCCESS"
    assert "hello the anonymous & co" in admin.get_build_console_output("tokened", number)

    # without parameters: POST build?token=...
    qid2 = anon.build_job("plain-tokened", token="trig-tok2")
    assert qid2 != qid
    n2 = wait_executable(admin, qid2)["executable"]["number"]
    assert wait_finished(admin, "plain-tokened", n2)["result"] == "SUCCESS"

    # the anonymous client cannot read anything, and a wrong token is refused
    with pytest.raises(jenkins.JenkinsException):
        anon.get_job_info("tokened")
    with pytest.raises(jenkins.JenkinsException):
        anon.build_job("tokened", {"WHO": "x"}, token="wrong")
    assert admin.get_job_info("tokened")["nextBuildNumber"] == 2


def test_password_client_with_crumb(server):
    """A script that logs in with a password instead of a token: python-jenkins fetches a
    crumb (and keeps any session cookie), and its POSTs go through."""
    j = jenkins.Jenkins(server.url, username="bob", password="bob-password")
    assert j.get_whoami()["id"] == "bob"
    assert j.crumb and j.crumb["crumbRequestField"] == "Jenkins-Crumb"
    j.create_job("bobs", job_xml([("string", "P", "x")], script='echo "P=$P"'))
    qid = j.build_job("bobs", {"P": "by password"})
    number = wait_executable(j, qid)["executable"]["number"]
    b = wait_finished(j, "bobs", number)
    assert b["result"] == "SUCCESS"
    assert causes_of(b)[0]["shortDescription"] == "Started by user bob"
    assert "P=by password" in j.get_build_console_output("bobs", number)
    j.delete_job("bobs")
    assert not j.job_exists("bobs")
