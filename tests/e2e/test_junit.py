"""The JUnit publisher: jobs from jenkins-job-builder, reports from real producers."""
import pathlib
import shutil
import textwrap

import jenkins
import pytest

import os
import re

from conftest import SANITIZED, create_job, job_xml
from test_jjb import JJB
from test_publishers import run, with_publishers

SAMPLES = pathlib.Path(__file__).parent / "junit_samples"


def junit(results, allow_empty=False, keep_long=False, scale="1.0"):
    return ("<hudson.tasks.junit.JUnitResultArchiver plugin=\"junit\">"
            f"<testResults>{results}</testResults><keepLongStdio>{str(keep_long).lower()}"
            f"</keepLongStdio><healthScaleFactor>{scale}</healthScaleFactor>"
            f"<allowEmptyResults>{str(allow_empty).lower()}</allowEmptyResults>"
            "</hudson.tasks.junit.JUnitResultArchiver>")


def heredoc(path, text):
    """A shell line that writes text to path in the workspace."""
    return f"mkdir -p \"$(dirname {path})\"\ncat > {path} <<'STEWARD_EOF'\n{text}\nSTEWARD_EOF\n"


def report(server, job, number="lastCompletedBuild", query=""):
    r = server.get(f"job/{job}/{number}/testReport/api/json{query}", auth=server.alice)
    assert r.status_code == 200, r.text
    return r.json()


def log_of(server, job, number):
    return server.get(f"job/{job}/{number}/consoleText", auth=server.alice).text


def cases_by_name(rep):
    return {c["name"]: c for s in rep["suites"] for c in s["cases"]}


def action_of(build):
    return next(a for a in build["actions"]
                if a.get("_class") == "hudson.tasks.junit.TestResultAction")


PYTEST_FILE = textwrap.dedent("""\
    import os
    import pytest

    def test_passes():
        assert 1 + 1 == 2

    def test_fails():
        print("output of the failing test")
        assert os.environ.get("FIXED") == "yes", "not fixed yet"

    @pytest.mark.skip(reason="not today")
    def test_skipped():
        pass
    """)

PYTEST_YAML = """\
- job:
    name: junit-py
    parameters:
      - string:
          name: FIXED
          default: "no"
    builders:
      - shell: |
          cat > test_sample.py <<'EOF'
{test}
          EOF
          /usr/bin/python3 -m pytest -p no:cacheprovider -o junit_logging=all --junitxml=reports/pytest.xml test_sample.py || true
    publishers:
      - junit:
          results: reports/*.xml
"""


def pytest_yaml():
    test = textwrap.indent(PYTEST_FILE, " " * 10)
    return PYTEST_YAML.format(test=test.rstrip("\n"))


def trigger(server, job, **params):
    if params:
        r = server.post(f"job/{job}/buildWithParameters", data=params, auth=server.alice)
    else:
        r = server.post(f"job/{job}/build", auth=server.alice)
    assert r.status_code == 201, r.text
    item = server.wait_queue_item(r.headers["Location"], server.alice)
    return server.wait_build(job, item["executable"]["number"], server.alice)


def test_pytest_report_written_in_the_build_makes_it_unstable(server, tmp_path):
    """pytest runs inside the build sandbox and writes its own --junitxml report."""
    jjb = JJB(server, tmp_path)
    jjb.run("update", jjb.write(pytest_yaml()))
    config = server.get("job/junit-py/config.xml", auth=server.alice).text
    assert "<hudson.tasks.junit.JUnitResultArchiver" in config

    first = trigger(server, "junit-py", FIXED="no")
    log = log_of(server, "junit-py", first["number"])
    assert first["result"] == "UNSTABLE", log
    assert "Recording test results" in log
    assert "Test results: 3 tests, 1 failed, 1 skipped" in log
    assert "changed build result to UNSTABLE" in log
    assert action_of(first) == {"_class": "hudson.tasks.junit.TestResultAction",
                                  "failCount": 1, "skipCount": 1, "totalCount": 3,
                                  "urlName": "testReport"}

    second = trigger(server, "junit-py", FIXED="no")
    rep = report(server, "junit-py", second["number"])
    assert (rep["failCount"], rep["passCount"], rep["skipCount"]) == (1, 1, 1)
    assert rep["_class"] == "hudson.tasks.junit.TestResult"
    cases = cases_by_name(rep)
    failing = cases["test_fails"]
    assert failing["className"] == "test_sample"
    assert failing["status"] == "FAILED"
    assert failing["age"] == 2 and failing["failedSince"] == first["number"]
    assert "not fixed yet" in failing["errorDetails"]
    assert "AssertionError" in failing["errorStackTrace"]
    assert "output of the failing test" in (failing["stdout"] or "")
    assert cases["test_passes"]["status"] == "PASSED" and cases["test_passes"]["age"] == 0
    assert cases["test_skipped"]["skipped"] is True
    assert cases["test_skipped"]["status"] == "SKIPPED"
    assert isinstance(failing["duration"], float)

    fixed = trigger(server, "junit-py", FIXED="yes")
    assert fixed["result"] == "SUCCESS"
    assert action_of(fixed)["failCount"] == 0
    assert cases_by_name(report(server, "junit-py"))["test_fails"]["status"] == "FIXED"

    again = trigger(server, "junit-py", FIXED="no")
    assert again["result"] == "UNSTABLE"
    regressed = cases_by_name(report(server, "junit-py"))["test_fails"]
    assert regressed["status"] == "REGRESSION"
    assert regressed["age"] == 1 and regressed["failedSince"] == again["number"]

    # tree= works on the report as on every other answer
    rep = report(server, "junit-py", query="?tree=failCount,suites[cases[name,status]]")
    assert set(rep) == {"_class", "failCount", "suites"}
    assert all(set(c) <= {"_class", "name", "status"} for c in rep["suites"][0]["cases"])

    # python-jenkins: the report, and None for a build without one
    client = jenkins.Jenkins(server.url, username="alice", password=server.alice_token)
    got = client.get_build_test_report("junit-py", again["number"])
    assert got["failCount"] == 1 and got["suites"][0]["cases"]
    create_job(server, "no-tests", job_xml(script="true"))
    plain = run(server, "no-tests")
    assert client.get_build_test_report("no-tests", plain["number"]) is None
    assert not [a for a in plain["actions"] if "TestResultAction" in a.get("_class", "")]

    xml = server.get("job/junit-py/lastCompletedBuild/testReport/api/xml", auth=server.alice)
    assert xml.status_code == 200 and "<failCount>1</failCount>" in xml.text, xml.text[:300]
    assert "<testResult _class='hudson.tasks.junit.TestResult'>" in xml.text, xml.text[:300]
    assert "<suite _class='hudson.tasks.junit.SuiteResult'><case _class='hudson.tasks.junit.CaseResult'>" in xml.text

    job = server.get("job/junit-py/api/json", auth=server.alice).json()
    tests = [h for h in job["healthReport"] if h["description"].startswith("Test Result")]
    assert tests == [{"description": "Test Result: 1 test failing out of a total of 3 tests.",
                      "iconClassName": "icon-health-60to79", "iconUrl": "health-60to79.png",
                      "score": 66}]


def test_surefire_go_junit_report_and_jest_junit_samples(server):
    script = "".join(heredoc(f"out/{p.name}", p.read_text().rstrip("\n"))
                     for p in sorted(SAMPLES.glob("*.xml")))
    create_job(server, "samples", with_publishers(job_xml(script=script), junit("out/*.xml")))
    b = run(server, "samples")
    assert b["result"] == "UNSTABLE", log_of(server, "samples", b["number"])
    assert action_of(b)["totalCount"] == 10
    rep = report(server, "samples", b["number"])
    assert (rep["failCount"], rep["passCount"], rep["skipCount"]) == (4, 3, 3)
    suites = {s["name"]: s for s in rep["suites"]}
    assert set(suites) == {"com.example.CalculatorTest", "example.com/calc", "sum"}
    cases = cases_by_name(rep)
    # Surefire: a <failure> and an <error> both fail; the message and the text
    assert cases["dividesByZero"]["errorDetails"] == "expected: <0> but was: <1>"
    assert "CalculatorTest.java:21" in cases["dividesByZero"]["errorStackTrace"]
    assert cases["parsesInput"]["status"] == "FAILED"
    assert cases["slowPath"]["skippedMessage"] == "not on CI"
    # go-junit-report
    assert cases["TestSub"]["errorStackTrace"].strip() == "calc_test.go:14: got -1, want 1"
    assert cases["TestMul"]["skipped"] is True
    # jest-junit: a <failure> without a message
    neg = cases["sum handles negatives"]
    assert neg["errorDetails"] is None and "Expected: -3" in neg["errorStackTrace"]
    assert cases["sum todo later"]["status"] == "SKIPPED"


@pytest.mark.skipif(not shutil.which("cmake") or not shutil.which("ctest"),
                    reason="cmake is not installed")
def test_ctest_output_junit(server):
    cmake = textwrap.dedent("""\
        cmake_minimum_required(VERSION 3.21)
        project(demo NONE)
        enable_testing()
        add_test(NAME passes COMMAND true)
        add_test(NAME fails COMMAND false)
        add_test(NAME not_run COMMAND /nonexistent/program)
        """)
    script = (heredoc("src/CMakeLists.txt", cmake) +
              "cmake -S src -B bin >/dev/null\n"
              "cd bin && (ctest --output-junit ../ctest.xml || true)\n")
    create_job(server, "ctest", with_publishers(job_xml(script=script), junit("ctest.xml")))
    b = run(server, "ctest")
    log = log_of(server, "ctest", b["number"])
    assert b["result"] == "UNSTABLE", log
    cases = cases_by_name(report(server, "ctest", b["number"]))
    assert cases["passes"]["status"] == "PASSED"
    assert cases["fails"]["status"] == "FAILED"
    assert cases["not_run"]["status"] in ("FAILED", "SKIPPED")


def test_no_reports_fails_the_build_unless_empty_results_are_allowed(server):
    create_job(server, "none", with_publishers(job_xml(script="true"), junit("reports/*.xml")))
    create_job(server, "none-ok", with_publishers(job_xml(script="true"),
                                                  junit("reports/*.xml", allow_empty=True)))
    b = run(server, "none")
    assert b["result"] == "FAILURE"
    assert "No test report files were found. Configuration error?" in log_of(server, "none", b["number"])
    assert run(server, "none-ok")["result"] == "SUCCESS"
    assert server.get("job/none-ok/lastBuild/testReport/api/json",
                      auth=server.alice).status_code == 404


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<testsuite name="s"><testcase classname="c" name="&lol4;"/></testsuite>"""

EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<testsuite name="s"><testcase classname="c" name="t"><failure>&x;</failure></testcase></testsuite>"""


@pytest.mark.parametrize("body, why", [
    (BILLION_LAUGHS, "must not contain a DOCTYPE"),
    (EXTERNAL, "must not contain a DOCTYPE"),
    ("<testsuite><testcase name='a'></testsuite>", "not well-formed XML"),
    ("<project><builders/></project>", "the root element is <project>"),
    ("<testsuite>" + "<x>" * 100 + "</x>" * 100 + "</testsuite>", "deeper than"),
])
def test_hostile_and_malformed_reports_fail_the_build_clearly(server, body, why):
    good = '<testsuite name="g"><testcase classname="c" name="good"/></testsuite>'
    script = heredoc("r/bad.xml", body) + heredoc("r/good.xml", good)
    create_job(server, "bad", with_publishers(job_xml(script=script), junit("r/*.xml")))
    b = run(server, "bad")
    log = log_of(server, "bad", b["number"])
    assert b["result"] == "FAILURE", log
    assert "ERROR: test report r/bad.xml: " in log and why in log, log
    assert "root:" not in log and "lollol" not in log
    # the good report is read all the same; nothing of the bad one is kept
    rep = report(server, "bad", b["number"])
    assert [c["name"] for s in rep["suites"] for c in s["cases"]] == ["good"]
    # the server is well and goes on building
    assert server.get("job/bad/api/json", auth=server.alice).json()["color"] == "red"


def test_symlinks_out_of_the_workspace_are_not_followed(server):
    script = "mkdir -p r && ln -s /etc/passwd r/passwd.xml && ln -s / r/root"
    create_job(server, "links", with_publishers(job_xml(script=script), junit("r/**/*.xml")))
    b = run(server, "links")
    assert b["result"] == "FAILURE"
    assert "No test report files were found" in log_of(server, "links", b["number"])


def test_huge_reports_are_bounded(server):
    many = ("{ echo '<testsuite name=\"big\">'; yes '<testcase classname=\"c\" name=\"t\"/>' "
            "| head -n 100005; echo '</testsuite>'; } > r/many.xml\n")
    long_message = "x" * 10000
    script = ("mkdir -p r\n" + many +
              heredoc("r/long.xml", f'<testsuite name="l"><testcase classname="c" name="long">'
                                    f'<failure message="{long_message}">trace</failure>'
                                    '</testcase></testsuite>'))
    create_job(server, "huge", with_publishers(job_xml(script=script), junit("r/*.xml")))
    b = run(server, "huge")
    log = log_of(server, "huge", b["number"])
    assert "WARNING: only the first 100000 test cases were recorded" in log
    assert action_of(b)["totalCount"] == 100000
    assert b["result"] in ("SUCCESS", "UNSTABLE")

    create_job(server, "toolong", with_publishers(job_xml(script=heredoc(
        "r/long.xml", f'<testsuite name="l"><testcase classname="c" name="long">'
                      f'<failure message="{long_message}">trace</failure></testcase></testsuite>')),
        junit("r/*.xml")))
    b = run(server, "toolong")
    assert b["result"] == "UNSTABLE"
    details = report(server, "toolong")["suites"][0]["cases"][0]["errorDetails"]
    assert details.startswith("x" * 4096) and details.endswith("...[5904 bytes left out]")

    big = "head -c 34000000 /dev/zero | tr '\\0' ' ' > r/big.xml"
    create_job(server, "toobig", with_publishers(job_xml(script="mkdir -p r\n" + big),
                                                 junit("r/*.xml")))
    b = run(server, "toobig")
    log = log_of(server, "toobig", b["number"])
    assert b["result"] == "FAILURE"
    assert "ERROR: test report r/big.xml: the report is larger than 32 MiB" in log


def vm_kib(server, field):
    for line in pathlib.Path(f"/proc/{server.proc.pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


def test_one_builds_reports_have_one_budget(server):
    # empty cases of a suite with a 1 KiB name: 12 bytes read, 2 KiB kept each
    suite = "s" * 1024
    many = (f"{{ echo '<testsuite name=\"{suite}\">'; yes '<testcase/>' | head -n 40000; "
            "echo '</testsuite>'; } > r/many.xml\n")
    create_job(server, "kept", with_publishers(job_xml(script="mkdir -p r\n" + many),
                                               junit("r/*.xml")))
    b = run(server, "kept")
    log = log_of(server, "kept", b["number"])
    m = re.search(r"WARNING: (\d+) test case\(s\) were left out: the test cases of one build "
                  r"are kept up to 64 MiB of names, messages and output in all", log)
    assert m, log
    total = action_of(b)["totalCount"]
    assert 20000 < total < 40000 and total + int(m.group(1)) == 40000, log
    assert b["result"] == "SUCCESS", log

    # three reports of 25 MB (comments of 1 MB): two are read, the third is not
    pad = ("{ printf '<testsuite name=\"s%s\"><testcase classname=\"c\" name=\"t%s\"/>\\n' $i $i; "
           "for j in $(seq 25); do printf '<!--'; head -c 1000000 /dev/zero | tr '\\0' x; "
           "printf -- '-->\\n'; done; echo '</testsuite>'; } > r/r$i.xml")
    script = f"mkdir -p r\nfor i in 1 2 3; do {pad}; done\n"
    create_job(server, "read", with_publishers(job_xml(script=script), junit("r/*.xml")))
    b = run(server, "read")
    log = log_of(server, "read", b["number"])
    assert re.search(r"WARNING: 1 test report\(s\) were not read, from r/r[123]\.xml on: one "
                     r"build's test reports are read up to 64 MiB in all", log), log
    assert b["result"] == "SUCCESS", log
    assert action_of(b)["totalCount"] == 2
    if not SANITIZED:
        assert vm_kib(server, "VmHWM") < 512 * 1024


def test_directories_too_deep_to_walk_leave_no_fd_open(server):
    deep = "/".join(["d"] * 64)  # the x directories are at depth 65
    script = f"mkdir -p {deep}\ncd {deep}\nfor i in $(seq 500); do mkdir x$i; done\n"
    create_job(server, "deep", with_publishers(job_xml(script=script), junit("**/*.xml", True)))
    fds = lambda: len(os.listdir(f"/proc/{server.proc.pid}/fd"))  # noqa: E731
    before = fds()
    b = run(server, "deep")
    assert b["result"] == "SUCCESS", log_of(server, "deep", b["number"])
    assert fds() < before + 50


def html(server, path):
    r = server.get(path, auth=server.alice, headers={"Accept": "text/html"})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/html")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    return r.text


def test_pages_show_failures_first_and_the_trend(server):
    script = heredoc("r/t.xml", '<testsuite name="s">'
                                '<testcase classname="c" name="a_passes"/>'
                                '<testcase classname="c" name="z_fails"><failure message="boom &lt;b&gt;">'
                                'trace line</failure><system-out>said &lt;hi&gt;</system-out></testcase>'
                                '<testcase classname="c" name="m_skipped"><skipped/></testcase>'
                                '</testsuite>')
    create_job(server, "pages", with_publishers(job_xml(script=script), junit("r/*.xml")))
    run(server, "pages")
    b = run(server, "pages")
    assert b["result"] == "UNSTABLE"

    page = html(server, f"job/pages/{b['number']}/testReport/")
    assert "3 tests, 1 failure, 1 skipped" in page
    failures = page.index('id="failures"')
    assert failures < page.index('id="all-tests"')
    assert page.index("z_fails", failures) < page.index('id="all-tests"')
    assert "failing since" in page and f">#{b['number'] - 1}</a> (2 builds)" in page
    # what the report said is text, never markup
    assert "boom &lt;b&gt;" in page and "said &lt;hi&gt;" in page and "<b>" not in page
    assert "trace line" in page
    assert html(server, "job/pages/lastCompletedBuild/testReport/").count("z_fails") >= 2
    assert "test-report-link" in html(server, f"job/pages/{b['number']}")

    for path in ("job/pages", "job/pages/buildTimeTrend"):
        page = html(server, path)
        assert 'id="trend-duration"' in page and 'id="trend-tests"' in page
        assert page.count("<rect") >= 2 + 2 * 3
        # each bar leads to its build, the tests' to its test page
        assert f'<a href="/job/pages/{b["number"]}/testReport/"><rect' in page
        assert f'<a href="/job/pages/{b["number"]}/"><rect' in page
        assert "http://" not in page.split('id="trend-duration"')[1].split("</svg>")[0].replace(
            "http://www.w3.org/2000/svg", "")
    trend = html(server, "job/pages/buildTimeTrend")
    assert 'id="trend-table"' in trend and "3 tests, 1 failed, 1 skipped" in trend
    dash = html(server, "")
    assert 'class="weather"' in dash and "Test Result: 1 test failing out of a total of 3 tests." in dash


def test_reports_an_earlier_build_left_in_the_workspace_are_not_read_again(server):
    """The workspace outlives a build: a report not written by this build is an old one."""
    script = ('if [ ! -e r/t.xml ]; then\n' + heredoc("r/t.xml", '<testsuite name="s">'
              '<testcase classname="c" name="t"/></testsuite>') +
              "touch -d '1 hour ago' r/t.xml\nfi\n")
    create_job(server, "stale", with_publishers(job_xml(script=script), junit("r/*.xml")))
    first = run(server, "stale")
    assert first["result"] == "FAILURE"
    log = log_of(server, "stale", first["number"])
    assert "Test reports were found but none of them are new. Did tests run?" in log, log
    assert "r/t.xml is 3" in log  # some 3,600 s old
    assert server.get("job/stale/lastBuild/testReport/api/json",
                      auth=server.alice).status_code == 404


def test_a_failed_build_without_reports_says_nothing_more(server):
    create_job(server, "failed", with_publishers(job_xml(script="exit 3"), junit("r/*.xml")))
    b = run(server, "failed")
    assert b["result"] == "FAILURE"
    log = log_of(server, "failed", b["number"])
    assert "Recording test results" in log and "No test report files" not in log


def test_health_scale_factor_weighs_failures_and_zero_turns_test_health_off(server):
    script = heredoc("r/t.xml", '<testsuite name="s"><testcase classname="c" name="a"/>'
                                '<testcase classname="c" name="b"/><testcase classname="c" name="c"/>'
                                '<testcase classname="c" name="d"><failure/></testcase></testsuite>')
    for name, scale in (("weighted", "2.0"), ("unweighted", "0")):
        create_job(server, name, with_publishers(job_xml(script=script), junit("r/*.xml", scale=scale)))
        assert run(server, name)["result"] == "UNSTABLE"
    health = server.get("job/weighted/api/json", auth=server.alice).json()["healthReport"]
    assert health[0] == {"description": "Test Result: 1 test failing out of a total of 4 tests.",
                         "iconClassName": "icon-health-40to59", "iconUrl": "health-40to59.png",
                         "score": 50}
    health = server.get("job/unweighted/api/json", auth=server.alice).json()["healthReport"]
    assert [h["description"] for h in health] == ["Build stability: No recent builds failed."]

    r = server.post("createItem?name=badscale", auth=server.alice,
                    data=with_publishers(job_xml(), junit("r/*.xml", scale="lots")).encode(),
                    headers={"Content-Type": "application/xml"})
    assert r.status_code == 400 and "healthScaleFactor" in r.text


def test_test_results_pattern_takes_the_builds_variables(server):
    script = heredoc("r/unit.xml", '<testsuite name="u"><testcase classname="c" name="unit"/></testsuite>')
    script += heredoc("r/slow.xml", '<testsuite name="s"><testcase classname="c" name="slow"/></testsuite>')
    xml = with_publishers(job_xml(params=[("string", "SUITE", "unit")], script=script),
                          junit("r/${SUITE}.xml"))
    create_job(server, "vars", xml)
    b = trigger(server, "vars", SUITE="slow")
    assert b["result"] == "SUCCESS", log_of(server, "vars", b["number"])
    rep = report(server, "vars", b["number"])
    assert [c["name"] for s in rep["suites"] for c in s["cases"]] == ["slow"]


LENIENT_YAML = """\
- job:
    name: junit-lenient
    builders:
      - shell: |
          mkdir -p out
          echo '<testsuite name="s"><testcase classname="c" name="f"><failure/></testcase></testsuite>' > out/r.xml
    publishers:
      - junit:
          results: out/r.xml
          skip-marking-build-unstable: true
          health-scale-factor: 0.5
"""


def test_jjb_skip_marking_build_unstable(server, tmp_path):
    jjb = JJB(server, tmp_path)
    jjb.run("update", jjb.write(LENIENT_YAML))
    config = server.get("job/junit-lenient/config.xml", auth=server.alice).text
    assert "<skipMarkingBuildUnstable>true</skipMarkingBuildUnstable>" in config
    b = trigger(server, "junit-lenient")
    assert b["result"] == "SUCCESS", log_of(server, "junit-lenient", b["number"])
    assert action_of(b)["failCount"] == 1
    health = server.get("job/junit-lenient/api/json", auth=server.alice).json()["healthReport"]
    assert health[0]["score"] == 50 and health[0]["description"].startswith("Test Result")
