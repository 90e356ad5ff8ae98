"""The artifact archiver and the timer trigger, from config.xml as Jenkins and JJB write it."""
import os
import pathlib
import sqlite3
import time

import pytest

from conftest import SANITIZED, SLOW, create_job, job_xml
from e2e_helpers import wait_for


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


def timer(spec):
    return f"<hudson.triggers.TimerTrigger><spec>{spec}</spec></hudson.triggers.TimerTrigger>"


def test_timer_spec_time_zones_are_checked(server):
    ok = with_publishers(job_xml(), triggers=timer("# comment first\nTZ=Europe/London\nH 2 * * *"))
    assert server.post("createItem?name=london", data=ok, auth=server.alice,
                       headers={"Content-Type": "application/xml"}).status_code == 200
    for spec, why in (("TZ=Mars/Olympus_Mons\n0 2 * * *", "unknown time zone"),
                      ("TZ=../../etc/passwd\n0 2 * * *", "invalid time zone name"),
                      ("0 2 * * *\nTZ=Europe/London", "must come before")):
        bad = with_publishers(job_xml(), triggers=timer(spec))
        r = server.post("createItem?name=badtz", data=bad, auth=server.alice,
                        headers={"Content-Type": "application/xml"})
        assert r.status_code == 400 and why in r.text, r.text
    assert server.get("job/badtz/api/json", auth=server.alice).status_code == 404


@pytest.mark.skipif(SANITIZED, reason="waits for a minute boundary; the normal run covers it")
def test_timer_trigger_starts_builds_by_the_minute_in_the_spec_time_zone(server):
    from datetime import datetime, timedelta, timezone
    from zoneinfo import ZoneInfo

    xml = with_publishers(job_xml([("string", "P", "from-timer")], script='echo "P=$P"'),
                          triggers=timer("# every minute\n* * * * *"))
    create_job(server, "tick", xml)
    # the next whole minute (with 10 s to spare) in Kathmandu, UTC+05:45: no server zone
    # shares its minutes and hours, so the same spec without TZ= stays quiet
    at = (datetime.now(timezone.utc) + timedelta(seconds=70)).astimezone(ZoneInfo("Asia/Kathmandu"))
    spec = f"{at.minute} {at.hour} * * *"
    create_job(server, "tick-tz", with_publishers(job_xml(), triggers=timer(f"TZ=Asia/Kathmandu\n{spec}")))
    create_job(server, "tick-local", with_publishers(job_xml(), triggers=timer(spec)))
    deadline = time.time() + 140
    build = tz_build = None
    while time.time() < deadline and not (build and tz_build):
        if not build and server.get("job/tick/api/json", auth=server.alice).json()["lastCompletedBuild"]:
            build = server.get("job/tick/lastCompletedBuild/api/json", auth=server.alice).json()
        if not tz_build and server.get("job/tick-tz/api/json",
                                       auth=server.alice).json()["lastCompletedBuild"]:
            tz_build = server.get("job/tick-tz/lastCompletedBuild/api/json", auth=server.alice).json()
        time.sleep(0.5)
    assert build, "no timer build within the time"
    cause = [a for a in build["actions"] if "causes" in a][0]["causes"][0]
    assert cause == {"_class": "hudson.triggers.TimerTrigger$TimerTriggerCause",
                     "shortDescription": "Started by timer"}
    log = server.get(f"job/tick/{build['number']}/consoleText", auth=server.alice).text
    assert log.startswith("Started by timer") and "P=from-timer" in log

    assert tz_build, f"no build of '{spec}' in Asia/Kathmandu"
    started = datetime.fromtimestamp(tz_build["timestamp"] / 1000, ZoneInfo("Asia/Kathmandu"))
    assert (started.hour, started.minute) == (at.hour, at.minute), started
    assert server.get("job/tick-local/api/json", auth=server.alice).json()["builds"] == []


def with_discarder(xml, days=-1, num=-1, artifact_days=-1, artifact_num=-1):
    prop = ("<jenkins.model.BuildDiscarderProperty><strategy class=\"hudson.tasks.LogRotator\">"
            f"<daysToKeep>{days}</daysToKeep><numToKeep>{num}</numToKeep>"
            f"<artifactDaysToKeep>{artifact_days}</artifactDaysToKeep>"
            f"<artifactNumToKeep>{artifact_num}</artifactNumToKeep>"
            "</strategy></jenkins.model.BuildDiscarderProperty>")
    return xml.replace("<properties>", "<properties>" + prop, 1)


def build_numbers(server, name):
    job = server.get(f"job/{name}/api/json?tree=builds[number]", auth=server.alice).json()
    return [b["number"] for b in job["builds"]]


def test_old_builds_are_discarded_but_the_last_successful_one_is_kept(server):
    home = server.home
    # the build's result follows a file the test writes: 0 passes, anything else fails
    flag = os.path.join(server.shared, "exit-code")
    create_job(server, "rotate", with_discarder(job_xml(script=f'exit "$(cat {flag})"'), num=2))

    def build(code):
        with open(flag, "w") as f:
            f.write(code)
        return run(server, "rotate")

    assert build("0")["result"] == "SUCCESS"
    for _ in range(3):
        assert build("1")["result"] == "FAILURE"
    # #1 is past the 2 newest, but it is the last successful (and stable) build
    assert build_numbers(server, "rotate") == [4, 3, 1]
    assert server.get("job/rotate/2/api/json", auth=server.alice).status_code == 404
    assert server.get("job/rotate/2/consoleText", auth=server.alice).status_code == 404
    # the directory moves to the trash just after the commit that deleted the row
    wait_for(lambda: not os.path.exists(os.path.join(home, "jobs", "rotate", "builds", "2")),
             10, "build #2's directory to leave jobs/rotate/builds")
    assert os.path.exists(os.path.join(home, "jobs", "rotate", "builds", "1", "log"))
    assert server.get("job/rotate/lastSuccessfulBuild/api/json",
                      auth=server.alice).json()["number"] == 1

    # a newer success takes over: #1 and #3 go
    assert build("0")["result"] == "SUCCESS"
    assert build_numbers(server, "rotate") == [5, 4]
    wait_for(lambda: not os.path.exists(os.path.join(home, "jobs", "rotate", "builds", "1")),
             10, "build #1's directory to leave jobs/rotate/builds")
    # numbering goes on, and nothing else changed
    job = server.get("job/rotate/api/json", auth=server.alice).json()
    assert job["nextBuildNumber"] == 6 and job["firstBuild"]["number"] == 4
    # the directories went through the trash, which empties in the background
    wait_for(lambda: os.listdir(os.path.join(home, "trash")) == [], 10, "the trash to empty")


def test_artifacts_of_older_builds_are_discarded_and_the_builds_kept(server):
    xml = with_publishers(job_xml(script="echo $BUILD_NUMBER > out.txt"),
                          ARCHIVER.format("out.txt", "false"))
    create_job(server, "arts", with_discarder(xml, artifact_num=1))
    for _ in range(3):
        assert run(server, "arts")["result"] == "SUCCESS"
    arts = {n: server.get(f"job/arts/{n}/api/json", auth=server.alice).json()["artifacts"]
            for n in (1, 2, 3)}
    assert arts[1] == [] and arts[2] == []
    assert [a["relativePath"] for a in arts[3]] == ["out.txt"]
    assert server.get("job/arts/2/artifact/out.txt", auth=server.alice).status_code == 404
    assert server.get("job/arts/3/artifact/out.txt", auth=server.alice).text == "3\n"
    assert build_numbers(server, "arts") == [3, 2, 1]


def test_artifacts_whose_discard_has_committed_are_gone_before_their_files(server):
    # the discard clears the row's mark in the commit of the newer build's
    # result, and moves the files to the trash after it: in between, a
    # reader of that result must not find the old artifacts listed
    xml = with_publishers(job_xml(script="echo kept > out.txt"),
                          ARCHIVER.format("out.txt", "false"))
    create_job(server, "window", xml)
    assert run(server, "window")["result"] == "SUCCESS"
    arts = server.get("job/window/1/api/json", auth=server.alice).json()["artifacts"]
    assert [a["relativePath"] for a in arts] == ["out.txt"]
    db = sqlite3.connect(os.path.join(server.home, "steward.db"), timeout=30)
    with db:
        db.execute("UPDATE builds SET archived = 0 WHERE job = 'window' AND number = 1")
    db.close()
    archive = os.path.join(server.home, "jobs", "window", "builds", "1", "archive", "out.txt")
    assert os.path.exists(archive)
    build = server.get("job/window/1/api/json", auth=server.alice).json()
    assert build["artifacts"] == [] and build["result"] == "SUCCESS"
    tree = server.get("job/window/api/json?tree=builds[number,artifacts[relativePath]]",
                      auth=server.alice).json()
    assert tree["builds"] == [{"_class": "hudson.model.FreeStyleBuild", "number": 1,
                               "artifacts": []}]
    assert server.get("job/window/1/artifact/out.txt", auth=server.alice).status_code == 404


def test_builds_older_than_days_to_keep_are_discarded_after_the_next_build(server):
    home = server.home
    create_job(server, "aged", with_discarder(job_xml(script="true"), days=1))
    for _ in range(3):
        assert run(server, "aged")["result"] == "SUCCESS"
    # builds 1 and 2 started two days ago, as far as the database knows
    db = sqlite3.connect(os.path.join(home, "steward.db"), timeout=30)
    with db:
        db.execute("UPDATE builds SET start_ms = start_ms - 2 * 86400000 "
                   "WHERE job = 'aged' AND number IN (1, 2)")
    db.close()
    assert run(server, "aged")["number"] == 4
    # #3 is the last successful build and new anyway; #1 and #2 are too old
    assert build_numbers(server, "aged") == [4, 3]


def test_the_queue_goes_on_while_a_build_archives_a_large_artifact(server):
    # 256 MiB of zeros to copy: about a second or more of disk writing
    xml = with_publishers(job_xml(script="truncate -s 256M big.bin"),
                          ARCHIVER.format("big.bin", "false"))
    create_job(server, "bigart", xml)
    create_job(server, "quick", job_xml(script="true"))
    r = server.post("job/bigart/build", auth=server.alice)
    n = server.wait_queue_item(r.headers["Location"], server.alice)["executable"]["number"]
    wait_for(lambda: "Archiving artifacts" in server.get(f"job/bigart/{n}/consoleText",
                                                         auth=server.alice).text,
             30, "the archiver to start")
    q = server.post("job/quick/build", auth=server.alice)
    assert q.status_code == 201
    quick = server.wait_queue_item(q.headers["Location"], server.alice)["executable"]["number"]
    qb = server.wait_build("quick", quick, server.alice)
    big = server.wait_build("bigart", n, server.alice, timeout=120)
    try:
        assert big["result"] == "SUCCESS"
        assert big["artifacts"] == [{"displayPath": "big.bin", "fileName": "big.bin",
                                     "relativePath": "big.bin"}]
        # the other job's build started and ended while the copy went on
        assert qb["timestamp"] + qb["duration"] < big["timestamp"] + big["duration"], (qb, big)
    finally:
        server.post("job/bigart/doDelete", auth=server.alice)


def test_a_stop_during_archiving_ends_the_copy_and_aborts_the_build(server):
    # 1 GiB to copy, of which only the first pieces are written before the stop
    xml = with_publishers(job_xml(script="truncate -s 1G huge.bin"),
                          ARCHIVER.format("huge.bin", "false"))
    create_job(server, "huge", xml)
    r = server.post("job/huge/build", auth=server.alice)
    n = server.wait_queue_item(r.headers["Location"], server.alice)["executable"]["number"]
    wait_for(lambda: "Archiving artifacts" in server.get(f"job/huge/{n}/consoleText",
                                                         auth=server.alice).text,
             30, "the archiver to start")
    assert server.post(f"job/huge/{n}/stop", auth=server.alice,
                       allow_redirects=False).status_code == 302
    try:
        b = server.wait_build("huge", n, server.alice)
        assert b["result"] == "ABORTED"
        log = server.get(f"job/huge/{n}/consoleText", auth=server.alice).text
        assert "Aborted by alice\nArchiving stopped after 0 files\nFinished: ABORTED\n" in log, log
    finally:
        server.post("job/huge/doDelete", auth=server.alice)
