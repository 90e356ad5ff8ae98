"""A test report's compact api/json is written as text while its cases are read: it must be
byte for byte what the jansson model gives (the ?pretty answer, which is still built)."""
import json

import jenkins
import pytest

from conftest import create_job, job_xml
from test_junit import heredoc, junit, report
from test_publishers import run, with_publishers

TRACE = "".join(f"\tat pkg.Klass{i}.méthode{i}(Klass{i}.java:{i}) \\ \"q\" 日本\n"
                for i in range(600))

SUITE_A = f"""<testsuite name="suite α" time="1.5">
<testcase classname="pkg.Ünïcode" name="passes 🚀" time="0.25">
<system-out>out "quoted" \\ back
line two</system-out><system-err>err	tab</system-err></testcase>
<testcase classname="pkg.Ünïcode" name="fails" time="0.125">
<failure message="expected &lt;1&gt; but was &lt;2&gt; ü" type="AssertionError">{TRACE}</failure>
</testcase>
<testcase classname="pkg.Ünïcode" name="errs" time="3">
<error message="boom">{TRACE[:5000]}</error></testcase>
<testcase classname="pkg.Ünïcode" name="skipped one"><skipped message="not today, 今日"/></testcase>
<testcase classname="pkg.Ünïcode" name="skipped bare"><skipped/></testcase>
</testsuite>"""

SUITE_B = """<testsuite name="b">
<testcase classname="b.C" name="one" time="0.1"/>
<testcase classname="b.C" name="two" time="0.2"/>
<testcase classname="b.C" name="three" time="1e-7"/>
</testsuite>"""

# the same suite name again in another file: merged into the first, as Jenkins does
SUITE_C = """<testsuite name="suite α">
<testcase classname="c.D" name="again" time="100000000000000000000"/>
<testcase classname="c.D" name="fails too" time="0.3"><failure message="no">x</failure></testcase>
</testsuite>"""

TREES = [None, "suites[cases[name,status]]", "failCount,passCount", "duration,empty,skipCount",
         "suites", "suites[cases]", "*", "suites[*,cases[*]]", "suites[name,duration]",
         "suites[name,duration,cases[errorStackTrace,age,failedSince,className]{1,3}]{0,2}",
         "testActions[x],suites[nodeId[x],name,_class,cases[stdout,stderr,skipped]{2,}]{1,}",
         "suites{7}", "suites[cases{0}]", "suites[cases[name],name]{,1}", "nothing,suites[none]"]


def unindent(text):
    """jansson's pretty answer without its indentation: what it writes compact."""
    out, in_str, escaped = [], False, False
    for ch in text:
        if in_str:
            out.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
            out.append(ch)
        elif ch not in " \n":
            out.append(ch)
    return "".join(out)


def pairs(text):
    return json.loads(text, object_pairs_hook=lambda kv: [list(p) for p in kv])


def get(server, path, tree, extra=""):
    query = "&".join(q for q in (f"tree={tree}" if tree else "", extra) if q)
    r = server.get(path + ("?" + query if query else ""), auth=server.alice)
    assert r.status_code == 200, r.text
    return r


@pytest.fixture
def reported(server):
    script = (heredoc("r/1a.xml", SUITE_A) + heredoc("r/2b.xml", SUITE_B) +
              heredoc("r/3c.xml", SUITE_C))
    create_job(server, "mixed", with_publishers(job_xml(script=script),
                                                junit("r/*.xml", keep_long=True)))
    run(server, "mixed")
    b = run(server, "mixed")
    assert b["result"] == "UNSTABLE"
    return server, b["number"]


def test_compact_report_is_what_the_model_gives_for_every_tree(reported):
    server, number = reported
    path = f"job/mixed/{number}/testReport/api/json"
    whole = report(server, "mixed", number)
    # the report has what the comparison is about
    cases = [c for s in whole["suites"] for c in s["cases"]]
    assert sorted(s["name"] for s in whole["suites"]) == ["b", "suite α"]
    assert whole["failCount"] == 3 and whole["skipCount"] == 2 and whole["passCount"] == 5
    assert any(c["errorStackTrace"] and len(c["errorStackTrace"]) > 20000 for c in cases)
    assert {c["age"] for c in cases} == {0, 2}
    assert any(c["skippedMessage"] == "not today, 今日" for c in cases)
    for tree in TREES:
        text = get(server, path, tree)
        pretty = get(server, path, tree, "pretty=true")
        assert text.headers["Content-Type"] == pretty.headers["Content-Type"]
        assert "\n" in pretty.text and "\n" not in text.text.replace("\\n", "")
        # field by field, in order, then byte for byte
        assert pairs(text.text) == pairs(pretty.text), tree
        assert text.content == unindent(pretty.text).encode(), tree
    assert pairs(get(server, path, "failCount,passCount").text) == [
        ["_class", "hudson.tasks.junit.TestResult"], ["failCount", 3], ["passCount", 5]]
    # python-jenkins reads the same answer (testReport/api/json?depth=0)
    client = jenkins.Jenkins(server.url, username=server.alice[0], password=server.alice[1])
    assert client.get_build_test_report("mixed", number) == whole
    names = get(server, path, "suites[cases[name,status]]").json()
    assert {c["name"] for s in names["suites"] for c in s["cases"]} >= {"passes 🚀", "fails"}
    assert all(list(c) == ["name", "status", "_class"] for s in names["suites"] for c in s["cases"])


def test_other_formats_and_refusals_are_unchanged(reported):
    server, number = reported
    path = f"job/mixed/{number}/testReport/api/"
    py = server.get(path + "python?tree=failCount", auth=server.alice)
    assert py.status_code == 200 and "'failCount':3" in py.text.replace('"', "'")
    xml = server.get(path + "xml?tree=suites[name]", auth=server.alice)
    assert xml.status_code == 200 and "<name>b</name>" in xml.text
    bad = server.get(path + "json?tree=suites[", auth=server.alice)
    assert bad.status_code == 400 and "tree" in bad.text.lower()
    create_job(server, "none", job_xml())
    n = run(server, "none")["number"]
    missing = server.get(f"job/none/{n}/testReport/api/json", auth=server.alice)
    assert missing.status_code == 404 and "recorded none" in missing.text
    # the refusal's own type only, not the JSON answer's as well
    assert "," not in missing.headers["Content-Type"]
    assert server.get(f"job/none/{n}/testReport/api/json?pretty=true",
                      auth=server.alice).text == missing.text
