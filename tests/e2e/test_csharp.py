"""C#: the StackOverflow-style HttpWebRequest trigger (tests/e2e/csharp/Trigger.cs), compiled
with mcs and run under Mono, the way a Windows shop's build script calls Jenkins."""
import http.server
import os
import shutil
import subprocess
import threading

import pytest
import requests

from conftest import SLOW, create_job, job_xml

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "csharp", "Trigger.cs")
SCRIPT = 'echo "csharp P=[$P] MODE=[$MODE] build=$BUILD_NUMBER"'
PARAMS = [("string", "P", "default-p"), ("choice", "MODE", ["debug", "release"])]

pytestmark = pytest.mark.skipif(not (shutil.which("mcs") and shutil.which("mono")),
                                reason="mcs and mono are missing: apt-get install mono-mcs")


@pytest.fixture(scope="module")
def trigger_exe(tmp_path_factory):
    out = tmp_path_factory.mktemp("csharp") / "Trigger.exe"
    p = subprocess.run(["mcs", f"-out:{out}", SOURCE], capture_output=True, text=True,
                       timeout=120 * SLOW)
    assert p.returncode == 0, p.stdout + p.stderr
    return str(out)


def run(exe, url, user, secret, variant, form=None):
    args = ["mono", exe, url, user, secret, variant] + ([form] if form is not None else [])
    p = subprocess.run(args, capture_output=True, text=True, timeout=90 * SLOW,
                       env={**os.environ, "STEWARD_SLOW": str(SLOW)})
    lines = dict(line.split(" ", 1) for line in p.stdout.splitlines() if " " in line)
    return p, lines


def check_build(server, exe_out, job, expect_log):
    p, lines = exe_out
    assert p.returncode == 0, p.stdout + p.stderr
    assert lines["STATUS"] == "201", p.stdout
    loc = lines["LOCATION"]
    assert loc.startswith(server.url + "queue/item/") and loc.endswith("/"), loc
    build_url = lines["BUILD"]
    assert build_url.startswith(f"{server.url}job/{job}/") and build_url.endswith("/"), build_url
    number = int(build_url.rstrip("/").rsplit("/", 1)[1])
    item = requests.get(loc + "api/json", auth=server.alice, timeout=30 * SLOW).json()
    assert item["executable"]["number"] == number
    build = server.wait_build(job, number, server.alice)
    assert build["result"] == "SUCCESS", build
    log = server.get(f"job/{job}/{number}/consoleText", auth=server.alice).text
    assert expect_log in log, log
    assert "Started by user alice" in log, log
    return number


@pytest.mark.parametrize("trigger_token", [None, "cs-trigger-t0ken"],
                         ids=["job-without-trigger-token", "job-with-trigger-token"])
def test_post_without_body(server, trigger_exe, trigger_token):
    """Parameters in the query, no body: Mono sends no Content-Length, no Transfer-Encoding."""
    create_job(server, "cs", job_xml(PARAMS, token=trigger_token, script=SCRIPT))
    out = run(trigger_exe, server.url + "job/cs/buildWithParameters?P=from+the+query&MODE=release",
              *server.alice, "nobody")
    check_build(server, out, "cs", "csharp P=[from the query] MODE=[release]")


@pytest.mark.parametrize("trigger_token", [None, "cs-trigger-t0ken"],
                         ids=["job-without-trigger-token", "job-with-trigger-token"])
def test_post_with_form_body(server, trigger_exe, trigger_token):
    """Parameters as a form body: Mono sends Expect: 100-continue and waits for the server."""
    create_job(server, "cs", job_xml(PARAMS, token=trigger_token, script=SCRIPT))
    out = run(trigger_exe, server.url + "job/cs/buildWithParameters", *server.alice, "form",
              "P=from+the+body+%26+more&MODE=release")
    check_build(server, out, "cs", "csharp P=[from the body & more] MODE=[release]")


def test_trigger_token_in_query_with_basic_header(server, trigger_exe):
    """The variant of the question that also puts the job's token= in the URL."""
    create_job(server, "cs", job_xml(PARAMS, token="cs-trigger-t0ken", script=SCRIPT))
    out = run(trigger_exe,
              server.url + "job/cs/buildWithParameters?token=cs-trigger-t0ken&P=tok", *server.alice,
              "nobody")
    p, lines = out
    assert p.returncode == 0, p.stdout + p.stderr
    assert lines["STATUS"] == "201", p.stdout
    number = int(lines["BUILD"].rstrip("/").rsplit("/", 1)[1])
    server.wait_build("cs", number, server.alice)
    log = server.get(f"job/cs/{number}/consoleText", auth=server.alice).text
    assert "csharp P=[tok] MODE=[debug]" in log, log


def test_wrong_api_token_is_refused_with_401(server, trigger_exe):
    create_job(server, "cs", job_xml(PARAMS, script=SCRIPT))
    p, lines = run(trigger_exe, server.url + "job/cs/buildWithParameters", "alice",
                   "11" + "0" * 32, "nobody")
    assert p.returncode == 1
    assert lines["STATUS"] == "401", p.stdout
    assert server.get("job/cs/api/json", auth=server.alice).json()["lastBuild"] is None


class _Capture(http.server.BaseHTTPRequestHandler):
    """Records what Mono puts on the wire; answers like Steward would."""
    protocol_version = "HTTP/1.1"
    seen = []

    def do_POST(self):
        length = self.headers.get("Content-Length")
        body = self.rfile.read(int(length)) if length else b""
        self.seen.append((dict(self.headers.items()), body))
        host = self.headers["Host"]
        self.send_response(201)
        self.send_header("Location", f"http://{host}/queue/item/7/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        host = self.headers["Host"]
        body = ('{"cancelled":false,"executable":{"number":3,"url":"http://%s/job/cs/3/"}}'
                % host).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_the_program_sends_what_these_tests_claim(trigger_exe):
    """Guards the premise of the tests above: under this Mono, a body-less POST has neither
    Content-Length nor Transfer-Encoding, and a form POST asks for 100-continue, and both
    carry the hand-made Basic header."""
    _Capture.seen = []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/job/cs/buildWithParameters"
        p1, l1 = run(trigger_exe, url + "?P=x", "alice", "secret", "nobody")
        p2, l2 = run(trigger_exe, url, "alice", "secret", "form", "P=y")
    finally:
        srv.shutdown()
        srv.server_close()
    assert p1.returncode == 0 and p2.returncode == 0, p1.stdout + p2.stdout
    (h1, b1), (h2, b2) = _Capture.seen
    lower1 = {k.lower(): v for k, v in h1.items()}
    lower2 = {k.lower(): v for k, v in h2.items()}
    assert "content-length" not in lower1 and "transfer-encoding" not in lower1, h1
    assert b1 == b""
    assert lower2.get("expect", "").lower() == "100-continue", h2
    assert b2 == b"P=y"
    for h in (lower1, lower2):
        assert h["authorization"] == "Basic YWxpY2U6c2VjcmV0"
        assert h["content-type"] == "application/x-www-form-urlencoded"
