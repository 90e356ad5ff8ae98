"""An idle server gives back what a burst took: libxml2 and ICU go, and come back when needed."""
from conftest import SLOW, create_job, job_xml
from e2e_helpers import wait_for
from test_junit import action_of, heredoc, junit, report, trigger
from test_publishers import with_publishers

REPORT = """<testsuite name="idle" tests="{n}">{cases}</testsuite>"""


def report_script(failing):
    cases = "".join(f'<testcase classname="c" name="t{i}">'
                    + ('<failure message="no">boom</failure>' if i < failing else "")
                    + "</testcase>" for i in range(3))
    return heredoc("reports/r.xml", REPORT.format(n=3, cases=cases))


def libxml2_mapped(pid):
    with open(f"/proc/{pid}/maps") as f:
        return "libxml2.so" in f.read()


def test_libxml2_is_unloaded_when_idle_and_loaded_again_for_configs_and_reports(server):
    pid = server.proc.pid
    create_job(server, "rep", with_publishers(job_xml(script=report_script(1)),
                                               junit("reports/*.xml")))
    first = trigger(server, "rep")
    assert first["result"] == "UNSTABLE"
    assert action_of(first)["failCount"] == 1

    # a second after its last build, the server has nothing to do and no document open
    wait_for(lambda: not libxml2_mapped(pid), timeout=15 * SLOW,
             what="libxml2 unloaded by the idle server")

    # a new config.xml is parsed (and written back) by a freshly loaded libxml2
    r = server.post("job/rep/config.xml", data=with_publishers(
        job_xml(script=report_script(2), description="second édition"), junit("reports/*.xml")).encode(),
        headers={"Content-Type": "application/xml"}, auth=server.alice)
    assert r.status_code == 200, r.text
    config = server.get("job/rep/config.xml", auth=server.alice).content.decode()
    assert "second édition" in config
    second = trigger(server, "rep")
    assert second["result"] == "UNSTABLE"
    rep = report(server, "rep", second["number"])
    assert (rep["failCount"], rep["passCount"]) == (2, 1)
    assert server.get("job/rep/api/json", auth=server.alice).json()["description"] == \
        "second édition"

    # and again: unloading is not a one-time thing
    wait_for(lambda: not libxml2_mapped(pid), timeout=15 * SLOW,
             what="libxml2 unloaded a second time")
    assert trigger(server, "rep")["result"] == "UNSTABLE"
    bad = server.post("job/rep/config.xml", data="<project><builders>",
                      headers={"Content-Type": "application/xml"}, auth=server.alice)
    assert bad.status_code == 400 and "not well-formed" in bad.text
