"""curl, exactly as the Jenkins documentation and its help texts write the recipes."""
import json
import re
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from conftest import SLOW, create_job, job_xml

pytestmark = pytest.mark.skipif(not shutil.which("curl"), reason="curl is missing")

PARAMS = [("string", "P", "dflt"), ("choice", "MODE", ["debug", "release"])]
SCRIPT = 'echo "curl P=[$P] MODE=[$MODE] build=$BUILD_NUMBER"'
TOKEN = "curl-trigger-t0ken"
CRUMB_XPATH = 'concat(//crumbRequestField,":",//crumb)'


def curl(*args, check=True):
    """Runs curl; returns (status, headers{lower: value}, body) for -i, else (rc, {}, stdout)."""
    p = subprocess.run(["curl", "-sS", "--max-time", str(30 * SLOW), *args], capture_output=True,
                       timeout=40 * SLOW)
    if check:
        assert p.returncode == 0, (args, p.stderr)
    out = p.stdout
    if "-i" not in args:
        return p.returncode, {}, out.decode()
    head, _, body = out.partition(b"\r\n\r\n")
    while head.startswith(b"HTTP/1.1 100"):  # a 100 Continue before the answer
        head, _, body = body.partition(b"\r\n\r\n")
    lines = head.decode("iso-8859-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body.decode()


def base(server):
    return server.url.rstrip("/")


def u(server):
    """-u alice:APITOKEN"""
    return f"{server.alice[0]}:{server.alice[1]}"


def poll_executable(server, location):
    """The documented loop: curl the queue item's api/json until executable.url appears."""
    deadline = time.time() + 30 * SLOW
    while time.time() < deadline:
        _, _, body = curl("-u", u(server), location + "api/json")
        item = json.loads(body)
        if item.get("executable"):
            return item["executable"]["url"]
        assert not item.get("cancelled"), item
        time.sleep(0.05)
    raise AssertionError(f"{location} never became a build")


def finished_console(server, build_url):
    """Polls build api/json for result, then reads consoleText, both with curl."""
    deadline = time.time() + 30 * SLOW
    while time.time() < deadline:
        _, _, body = curl("-u", u(server), build_url + "api/json")
        build = json.loads(body)
        if build["result"]:
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"{build_url} did not finish")
    _, _, log = curl("-u", u(server), build_url + "consoleText")
    return build, log


def triggered(server, status, headers, body, job="cj"):
    assert status == 201, body
    loc = headers["location"]
    assert re.fullmatch(re.escape(server.url) + r"queue/item/\d+/", loc), loc
    build_url = poll_executable(server, loc)
    assert build_url.startswith(f"{server.url}job/{job}/") and build_url.endswith("/")
    build, log = finished_console(server, build_url)
    assert build["result"] == "SUCCESS", build
    return build, log


@pytest.fixture
def cj(server):
    create_job(server, "cj", job_xml(PARAMS, token=TOKEN, script=SCRIPT))
    create_job(server, "plain", job_xml(token=TOKEN, script='echo "plain build=$BUILD_NUMBER"'))
    return server


def test_post_build_with_api_token(cj):
    """curl -X POST -u user:apitoken JENKINS/job/J/build"""
    st, h, body = curl("-i", "-X", "POST", "-u", u(cj), f"{base(cj)}/job/plain/build")
    assert h["content-length"] == "0"
    build, log = triggered(cj, st, h, body, job="plain")
    assert f"plain build={build['number']}" in log
    assert "Started by user alice" in log


def test_build_with_parameters_in_query(cj):
    """curl -X POST -u user:apitoken 'JENKINS/job/J/buildWithParameters?P=v'"""
    st, h, body = curl("-i", "-X", "POST", "-u", u(cj),
                       f"{base(cj)}/job/cj/buildWithParameters?P=from%20query&MODE=release")
    build, log = triggered(cj, st, h, body)
    assert "curl P=[from query] MODE=[release]" in log


def test_build_with_parameters_data_urlencode(cj):
    """curl -X POST -u user:apitoken JENKINS/job/J/buildWithParameters --data-urlencode P=v"""
    value = "a b&c=d/é+%"
    st, h, body = curl("-i", "-X", "POST", "-u", u(cj), f"{base(cj)}/job/cj/buildWithParameters",
                       "--data-urlencode", f"P={value}", "--data-urlencode", "MODE=release")
    build, log = triggered(cj, st, h, body)
    assert f"curl P=[{value}] MODE=[release]" in log


def test_build_with_json_form(cj):
    """curl -X POST -u user:apitoken JENKINS/job/J/build --data-urlencode json='{...}'"""
    payload = json.dumps({"parameter": [{"name": "P", "value": "via json"},
                                        {"name": "MODE", "value": "release"}]})
    st, h, body = curl("-i", "-X", "POST", "-u", u(cj), f"{base(cj)}/job/cj/build",
                       "--data-urlencode", f"json={payload}")
    build, log = triggered(cj, st, h, body)
    assert "curl P=[via json] MODE=[release]" in log


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_trigger_token_urls(cj, method):
    """curl 'JENKINS/job/J/build?token=T' (no user at all), by GET and by POST."""
    x = ["-X", "POST"] if method == "POST" else []
    st, h, body = curl("-i", *x, f"{base(cj)}/job/plain/build?token={TOKEN}")
    build, log = triggered(cj, st, h, body, job="plain")
    assert "Started by remote host 127.0.0.1" in log

    st, h, body = curl("-i", *x, f"{base(cj)}/job/cj/buildWithParameters?token={TOKEN}&P=tok")
    build, log = triggered(cj, st, h, body)
    assert "curl P=[tok] MODE=[debug]" in log
    assert "Started by remote host 127.0.0.1" in log

    st, h, body = curl("-i", *x,
                       f"{base(cj)}/buildByToken/buildWithParameters?job=cj&token={TOKEN}&P=bbt")
    build, log = triggered(cj, st, h, body)
    assert "curl P=[bbt] MODE=[debug]" in log


def test_wrong_trigger_token_is_refused_and_explained(cj):
    st, h, body = curl("-i", "-u", u(cj), f"{base(cj)}/job/plain/build?token=nope")
    assert st == 403, body
    assert "token" in h["x-error"].lower()
    info = json.loads(curl("-u", u(cj), f"{base(cj)}/job/plain/api/json")[2])
    assert info["lastBuild"] is None and info["inQueue"] is False


def test_crumb_recipe_with_password_and_cookie_jar(cj, tmp_path):
    """The documented CSRF recipe:
        CRUMB=$(curl -s --cookie-jar JAR -u user:password \
            'JENKINS/crumbIssuer/api/xml?xpath=concat(//crumbRequestField,":",//crumb)')
        curl -X POST --cookie JAR -H "$CRUMB" -u user:password JENKINS/job/J/build
    works as written. Unlike Jenkins, the Basic request starts no web session (a script
    must not be able to fill the session table), so the jar stays empty and the crumb,
    which a Basic POST does not need, is accepted and ignored.
    """
    jar = str(tmp_path / "cookies.txt")
    pw = "alice:alice-password"
    _, _, crumb = curl("-s", "--cookie-jar", jar, "-u", pw,
                       f"{base(cj)}/crumbIssuer/api/xml?xpath={CRUMB_XPATH}")
    assert re.fullmatch(r"Jenkins-Crumb:[0-9a-f]{32,}", crumb), crumb
    with open(jar) as f:
        assert not any(line.strip() and not line.startswith("# ") for line in f), "a session cookie"

    # the recipe as the docs write it: cookie jar, crumb header and the password
    st, h, body = curl("-i", "-X", "POST", "--cookie", jar, "-H", crumb, "-u", pw,
                       f"{base(cj)}/job/plain/build")
    triggered(cj, st, h, body, job="plain")

    # without the password there is no session to act for
    st, h, body = curl("-i", "-X", "POST", "--cookie", jar, "-H", crumb,
                       f"{base(cj)}/job/cj/buildWithParameters?P=session")
    assert st == 401, body


def test_session_cookie_post_needs_the_sessions_crumb(cj, tmp_path):
    """A web session comes from the login form; its POSTs need its crumb."""
    jar = str(tmp_path / "cookies.txt")
    _, _, page = curl("-s", "--cookie-jar", jar, f"{base(cj)}/login")
    login_crumb = re.search(r'name="Jenkins-Crumb" value="([0-9a-f]+)"', page).group(1)
    _, _, code = curl("-s", "-o", "/dev/null", "-w", "%{http_code}", "--cookie", jar,
                      "--cookie-jar", jar, "-d", "j_username=alice",
                      "-d", "j_password=alice-password", "-d", f"Jenkins-Crumb={login_crumb}",
                      f"{base(cj)}/j_spring_security_check")
    assert code.startswith("30"), code
    for extra in ([], ["-H", "Jenkins-Crumb:" + "0" * 64]):
        st, h, body = curl("-i", "-X", "POST", "--cookie", jar, *extra,
                           f"{base(cj)}/job/plain/build")
        assert st == 403, body
        assert "crumb" in h["x-error"].lower(), h
        assert "crumb" in body.lower(), body
    info = json.loads(curl("-u", u(cj), f"{base(cj)}/job/plain/api/json")[2])
    assert info["lastBuild"] is None and info["inQueue"] is False, info
    # with the session's crumb it goes through
    _, _, crumb = curl("-s", "--cookie", jar, f"{base(cj)}/crumbIssuer/api/xml?xpath={CRUMB_XPATH}")
    st, h, body = curl("-i", "-X", "POST", "--cookie", jar, "-H", crumb,
                       f"{base(cj)}/job/cj/buildWithParameters?P=session")
    build, log = triggered(cj, st, h, body)
    assert "curl P=[session]" in log and "Started by user alice" in log


@pytest.mark.parametrize("secret", ["password", "apitoken"])
def test_basic_auth_post_needs_no_crumb(cj, secret):
    cred = "alice:alice-password" if secret == "password" else u(cj)
    st, h, body = curl("-i", "-X", "POST", "-u", cred, f"{base(cj)}/job/plain/build")
    triggered(cj, st, h, body, job="plain")


def test_tree_query(cj):
    """curl -g -u user:apitoken 'JENKINS/api/json?tree=jobs[name,color]' (-g: curl would
    otherwise read the brackets as its own URL globbing) and the percent-encoded form."""
    for args in (["-g", f"{base(cj)}/api/json?tree=jobs[name,color]"],
                 [f"{base(cj)}/api/json?tree=jobs%5Bname,color%5D"]):
        _, _, body = curl("-u", u(cj), *args)
        root = json.loads(body)
        assert set(root) == {"_class", "jobs"}, root
        assert sorted(root["jobs"], key=lambda j: j["name"]) == [
            {"_class": "hudson.model.FreeStyleProject", "name": "cj", "color": "notbuilt"},
            {"_class": "hudson.model.FreeStyleProject", "name": "plain", "color": "notbuilt"}]


def test_job_api_xml(cj):
    _, _, body = curl("-u", u(cj), f"{base(cj)}/job/cj/api/xml")
    root = ET.fromstring(body)
    assert root.tag == "freeStyleProject"
    assert root.get("_class") == "hudson.model.FreeStyleProject"
    assert root.findtext("name") == "cj"
    assert root.findtext("color") == "notbuilt"
    assert root.findtext("url") == f"{cj.url}job/cj/"
    names = [e.text for e in root.iter("parameterDefinition") for e in e.findall("name")]
    assert "P" in names and "MODE" in names

    st, h, body = curl("-i", "-u", u(cj), f"{base(cj)}/job/cj/api/xml?xpath=/*/name")
    assert st == 200 and h["content-type"].startswith("application/xml"), (st, h)
    assert ET.fromstring(body).text == "cj"

    st, h, body = curl("-i", "-u", u(cj),
                       f"{base(cj)}/api/xml?xpath=/*/job/name&wrapper=names")
    assert st == 200, body
    assert sorted(e.text for e in ET.fromstring(body)) == ["cj", "plain"]


def test_console_text_and_build_number(cj):
    st, h, body = curl("-i", "-X", "POST", "-u", u(cj), f"{base(cj)}/job/plain/build")
    build, log = triggered(cj, st, h, body, job="plain")
    n = build["number"]
    st, h, text = curl("-i", "-u", u(cj), f"{base(cj)}/job/plain/{n}/consoleText")
    assert st == 200 and h["content-type"].startswith("text/plain"), h
    assert f"plain build={n}" in text and text == log
    _, _, last = curl("-u", u(cj), f"{base(cj)}/job/plain/lastSuccessfulBuild/buildNumber")
    assert last.strip() == str(n)


def test_anonymous_read_is_challenged(cj):
    """Without -u, a protected URL answers 401 with a Basic challenge (COMPAT 2), so
    curl --anyauth finds out it should send the credentials."""
    st, h, body = curl("-i", f"{base(cj)}/api/json")
    assert st == 401 and h["www-authenticate"].startswith("Basic"), (st, h)
    _, _, body = curl("--anyauth", "-u", u(cj), f"{base(cj)}/api/json?tree=jobs[name]", "-g")
    assert {j["name"] for j in json.loads(body)["jobs"]} == {"cj", "plain"}
