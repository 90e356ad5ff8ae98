"""The artifact archiver and the timer trigger, from config.xml as Jenkins and JJB write it."""
import time

import pytest

from conftest import SANITIZED, SLOW, create_job, job_xml


def with_publishers(xml, publishers="", triggers=""):
    xml = xml.replace("<publishers/>", f"<publishers>{publishers}</publishers>")
    return xml.replace("<triggers/>", f'<triggers class="vector">{triggers}</triggers>')


ARCHIVER = ("<hudson.tasks.ArtifactArchiver><artifacts>{}</artifacts>"
            "<allowEmptyArchive>{}</allowEmptyArchive><onlyIfSuccessful>false</onlyIfSuccessful>"
            "<fingerprint>false</fingerprint></hudson.tasks.ArtifactArchiver>")


def run(server, name):
    r = server.post(f"job/{name}/build", auth=server.alice)
    assert r.status_code == 201, r.text
    item = server.wait_queue_item(r.headers["Location"], server.alice)
    return server.wait_build(name, item["executable"]["number"], server.alice)


def test_artifacts_are_archived_listed_and_served(server):
    script = "mkdir -p out/lib && echo app > out/app.jar && echo lib > out/lib/l.jar && echo x > skip.txt"
    create_job(server, "arch", with_publishers(job_xml(script=script),
                                               ARCHIVER.format("out/**", "false")))
    b = run(server, "arch")
    assert b["result"] == "SUCCESS"
    assert [a["relativePath"] for a in b["artifacts"]] == ["out/app.jar", "out/lib/l.jar"]
    assert b["artifacts"][1] == {"displayPath": "l.jar", "fileName": "l.jar",
                                 "relativePath": "out/lib/l.jar"}
    got = server.get(f"job/arch/{b['number']}/artifact/out/lib/l.jar", auth=server.alice)
    assert got.status_code == 200 and got.content == b"lib\n"
    last = server.get("job/arch/lastSuccessfulBuild/artifact/out/app.jar", auth=server.alice)
    assert last.content == b"app\n"
    assert server.get(f"job/arch/{b['number']}/artifact/../config.xml",
                      auth=server.alice).status_code == 404
    assert server.get(f"job/arch/{b['number']}/artifact/out/%2e%2e/%2e%2e/log",
                      auth=server.alice).status_code == 404
    log = server.get(f"job/arch/{b['number']}/consoleText", auth=server.alice).text
    assert "Archiving artifacts" in log


def test_no_matching_artifacts_fails_the_build_unless_allowed(server):
    create_job(server, "strict", with_publishers(job_xml(script="true"),
                                                 ARCHIVER.format("*.zip", "false")))
    create_job(server, "lenient", with_publishers(job_xml(script="true"),
                                                  ARCHIVER.format("*.zip", "true")))
    strict = run(server, "strict")
    assert strict["result"] == "FAILURE"
    log = server.get(f"job/strict/{strict['number']}/consoleText", auth=server.alice).text
    assert 'No artifacts found that match the file pattern "*.zip"' in log
    assert run(server, "lenient")["result"] == "SUCCESS"


def test_bad_timer_spec_is_refused(server):
    xml = with_publishers(job_xml(), triggers="<hudson.triggers.TimerTrigger><spec>61 * * * *"
                                              "</spec></hudson.triggers.TimerTrigger>")
    r = server.post("createItem?name=badcron", data=xml, auth=server.alice,
                    headers={"Content-Type": "application/xml"})
    assert r.status_code == 400
    assert "timer trigger" in r.json()["presented"]
    assert server.get("job/badcron/api/json", auth=server.alice).status_code == 404


@pytest.mark.skipif(SANITIZED, reason="waits for a minute boundary; the normal run covers it")
def test_timer_trigger_starts_builds_by_the_minute(server):
    xml = with_publishers(job_xml([("string", "P", "from-timer")], script='echo "P=$P"'),
                          triggers="<hudson.triggers.TimerTrigger><spec># every minute\n* * * * *"
                                   "</spec></hudson.triggers.TimerTrigger>")
    create_job(server, "tick", xml)
    deadline = time.time() + 75
    build = None
    while time.time() < deadline:
        info = server.get("job/tick/api/json", auth=server.alice).json()
        if info["lastCompletedBuild"]:
            build = server.get("job/tick/lastCompletedBuild/api/json", auth=server.alice).json()
            break
        time.sleep(0.5)
    assert build, "no timer build within 75 s"
    cause = [a for a in build["actions"] if "causes" in a][0]["causes"][0]
    assert cause == {"_class": "hudson.triggers.TimerTrigger$TimerTriggerCause",
                     "shortDescription": "Started by timer"}
    log = server.get(f"job/tick/{build['number']}/consoleText", auth=server.alice).text
    assert log.startswith("Started by timer") and "P=from-timer" in log
