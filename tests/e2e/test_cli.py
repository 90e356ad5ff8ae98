"""The steward client commands (issue 5) against a real server on loopback.

One server for the module; each test uses its own jobs or leaves none of its builds running
and none of its items waiting. The client runs with a clean environment whose HOME is the
test's own directory, so no config file or netrc leaks in from outside.
"""
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest
import requests

from conftest import BIN, SLOW, create_job, job_xml
from e2e_helpers import started_server, wait_for

PARAMS = [("string", "BRANCH", "main"), ("choice", "MODE", ["debug", "release"])]
PARAM_SCRIPT = 'echo "branch=$BRANCH mode=$MODE"'
TRIGGER = "trig-s3cret"
# a build that prints slowly for several seconds
SLOW_SCRIPT = 'for i in 1 2 3 4 5 6 7 8; do echo "line $i of the slow build"; sleep 0.4; done'
LONG_SCRIPT = "echo started; sleep 60"
API_TOKEN_SHAPE = re.compile(r"^11[0-9a-f]{32}$")

# users whose names say which place of the settings they are given in
PLACES = ["flag", "steward", "jenkins", "config", "netrc"]


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = started_server(tmp_path_factory.mktemp("cli") / "home")
    s.tokens = {}
    for place in PLACES:
        s.add_user(f"u-{place}", "password-" + place)
        s.tokens[place] = s.new_token(f"u-{place}", "t")
    create_job(s, "params", job_xml(PARAMS, token=TRIGGER, script=PARAM_SCRIPT))
    create_job(s, "noop", job_xml(script="true"))
    create_job(s, "fail", job_xml(script="echo failing; exit 3"))
    create_job(s, "slow", job_xml(script=SLOW_SCRIPT))
    create_job(s, "long", job_xml(script=LONG_SCRIPT, concurrent=True))
    create_job(s, "quiet", job_xml([("string", "N", "0")], quiet=30, concurrent=True))
    yield s
    s.stop()


@pytest.fixture
def home(tmp_path):
    d = tmp_path / "userhome"
    d.mkdir()
    return d


def clean_env(home, **extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("STEWARD_", "JENKINS_", "XDG_CONFIG_HOME", "NETRC"))}
    env["HOME"] = str(home)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def as_alice(srv):
    return ["--url", srv.url, "--user", "alice", "--token", srv.alice_token]


def cli(home, *args, env=None, input=None, timeout=60):
    return subprocess.run([BIN, *args], capture_output=True, text=True, input=input,
                          env=env or clean_env(home), timeout=timeout * SLOW)


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def last_build(srv, job):
    r = srv.get(f"job/{job}/lastBuild/api/json", auth=srv.alice)
    assert r.status_code == 200, r.text
    return r.json()


def console_text(srv, job, number):
    r = srv.get(f"job/{job}/{number}/consoleText", auth=srv.alice)
    assert r.status_code == 200, r.text
    return r.text



class Pumped:
    """A child's stdout and stderr, read by threads, so a test can wait for a line."""

    def __init__(self, proc):
        self.proc = proc
        self.out, self.err = [], []
        self.threads = [threading.Thread(target=self._pump, args=(f, buf), daemon=True)
                        for f, buf in ((proc.stdout, self.out), (proc.stderr, self.err))]
        for t in self.threads:
            t.start()

    @staticmethod
    def _pump(f, buf):
        for line in f:
            buf.append(line)

    def wait_err(self, text, timeout=20):
        return wait_for(lambda: any(text in line for line in self.err), timeout,
                        f"{text!r} on stderr", seen=lambda: "".join(self.err)[-500:])

    def finish(self, timeout=30):
        self.proc.wait(timeout=timeout * SLOW)
        for t in self.threads:
            t.join(timeout=10 * SLOW)
        return "".join(self.out), "".join(self.err)


def running_build(srv, job):
    """Waits until job has a running build that printed its first line; returns its number."""
    def started():
        r = srv.get(f"job/{job}/lastBuild/api/json", auth=srv.alice)
        if r.status_code != 200 or not r.json()["building"]:
            return None
        n = r.json()["number"]
        return n if "started" in console_text(srv, job, n) else None
    return wait_for(started, timeout=20, what=f"a running build of {job}")


def stop_build(srv, job, number):
    srv.post(f"job/{job}/{number}/stop", auth=srv.alice, allow_redirects=False)
    srv.wait_build(job, number, srv.alice)


def cancel_waiting(srv, job):
    items = srv.get("queue/api/json", auth=srv.alice).json()["items"]
    for i in items:
        if i["task"]["name"] == job:
            srv.post(f"queue/cancelItem?id={i['id']}", auth=srv.alice, allow_redirects=False)


# ---- build: both secrets, --wait, --follow ----

def test_build_with_parameters_by_api_token_waits_for_the_result(srv, home):
    p = cli(home, "build", "params", "-p", "BRANCH=feature/x y", "-p", "MODE=release", "--wait",
            *as_alice(srv))
    assert p.returncode == 0, p.stderr
    queue_url, build_url, result = p.stdout.splitlines()
    assert re.fullmatch(re.escape(srv.url) + r"queue/item/\d+/", queue_url)
    assert re.fullmatch(re.escape(srv.url) + r"job/params/\d+/", build_url)
    assert result == "SUCCESS"
    number = int(build_url.rstrip("/").rsplit("/", 1)[1])
    assert "branch=feature/x y mode=release" in console_text(srv, "params", number)
    assert "Started by user alice" in console_text(srv, "params", number)
    assert f"Finished params #{number}: SUCCESS" in p.stderr


def test_build_by_trigger_token_needs_no_account(srv, home):
    p = cli(home, "build", "params", "--trigger-token", TRIGGER, "-p", "BRANCH=by-token",
            "--url", srv.url)
    assert p.returncode == 0, p.stderr
    queue_url = p.stdout.strip()
    item = srv.wait_queue_item(queue_url, srv.alice)
    number = item["executable"]["number"]
    srv.wait_build("params", number, srv.alice)
    log = console_text(srv, "params", number)
    assert "branch=by-token mode=debug" in log
    assert "Started by remote host" in log


def test_build_by_trigger_token_with_a_reader_waits_too(srv, home):
    p = cli(home, "build", "params", "--trigger-token", TRIGGER, "--wait", "--json",
            *as_alice(srv))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["job"] == "params" and out["result"] == "SUCCESS"
    assert out["url"] == f"{srv.url}job/params/{out['number']}/"
    assert "Started by remote host" in console_text(srv, "params", out["number"])


def test_waiting_with_only_a_trigger_token_says_what_is_missing(srv, home):
    p = cli(home, "build", "params", "--trigger-token", TRIGGER, "--wait", "--url", srv.url)
    assert p.returncode == 6, p.stderr
    assert "the build was queued, but waiting for it needs read access" in p.stderr
    srv.wait_queue_item(p.stdout.strip(), srv.alice)


def test_follow_streams_the_console_as_it_grows_and_equals_console_text(srv, home):
    t0 = time.time()
    proc = subprocess.Popen([BIN, "build", "slow", "--follow", "--verbose", *as_alice(srv)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=clean_env(home))
    out = b""
    first_line_at = None
    while True:
        r, _, _ = select.select([proc.stdout], [], [], 30 * SLOW)
        assert r, "no output from --follow"
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        out += chunk
        if first_line_at is None and b"line 1 of" in out:
            first_line_at = time.time()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=30 * SLOW) == 0, err
    end = time.time()
    # streamed: the first line arrived while the build still had seconds to go
    assert first_line_at is not None and end - first_line_at > 1.5, (t0, first_line_at, end)
    number = last_build(srv, "slow")["number"]
    assert out.decode() == console_text(srv, "slow", number)
    assert out.decode().endswith("Finished: SUCCESS\n")
    # by offset: each read starts where the last answer ended, so nothing comes twice
    starts = [int(s) for s in re.findall(r"progressiveText\?start=(\d+)", err)]
    assert len(starts) >= 3 and starts[0] == 0 and starts == sorted(starts), starts
    # the last read may start at the very end: the log was complete, the build not yet done
    assert starts[-1] <= len(out) and max(starts) > 0


def test_log_follow_attaches_to_a_running_build(srv, home):
    subprocess.run([BIN, "build", "slow", *as_alice(srv)], check=True, capture_output=True,
                   env=clean_env(home))
    wait_for(lambda: srv.get("job/slow/lastBuild/api/json", auth=srv.alice).status_code == 200
             and srv.get("job/slow/lastBuild/api/json", auth=srv.alice).json()["building"],
             timeout=20, what="the slow build to start")
    number = last_build(srv, "slow")["number"]
    p = cli(home, "log", "slow", str(number), "--follow", *as_alice(srv))
    assert p.returncode == 0, p.stderr
    assert p.stdout == console_text(srv, "slow", number)
    plain = cli(home, "log", "slow", *as_alice(srv))
    assert plain.returncode == 0 and plain.stdout == p.stdout


# ---- exit codes ----

def test_failure_exits_1(srv, home):
    p = cli(home, "build", "fail", "--wait", *as_alice(srv))
    assert p.returncode == 1, p.stderr
    assert p.stdout.splitlines()[-1] == "FAILURE"


def test_stopped_build_exits_4_aborted(srv, home):
    proc = subprocess.Popen([BIN, "build", "long", "--wait", *as_alice(srv)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=clean_env(home))
    number = running_build(srv, "long")
    p = cli(home, "stop", "long", str(number), *as_alice(srv))
    assert p.returncode == 0, p.stderr
    out, err = proc.communicate(timeout=30 * SLOW)
    assert proc.returncode == 4, err
    assert out.splitlines()[-1] == "ABORTED"


def test_item_cancelled_in_the_queue_exits_5(srv, home):
    proc = subprocess.Popen([BIN, "build", "quiet", "-p", "N=cancel-me", "--wait",
                             *as_alice(srv)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=clean_env(home))
    queue_url = proc.stdout.readline().strip()
    p = cli(home, "cancel", queue_url, *as_alice(srv))
    assert p.returncode == 0, p.stderr
    out, err = proc.communicate(timeout=30 * SLOW)
    assert proc.returncode == 5, err
    assert "was cancelled before it started" in err


def test_timeout_exits_7_and_leaves_the_build_running(srv, home):
    t0 = time.time()
    p = cli(home, "build", "long", "--wait", "--timeout", "1", *as_alice(srv))
    took = time.time() - t0
    assert p.returncode == 7, p.stderr
    assert "timed out after 1.0 s" in p.stderr and "it goes on" in p.stderr
    assert took < 10 * SLOW
    number = running_build(srv, "long")
    stop_build(srv, "long", number)


def test_connection_failure_exits_8(home):
    p = cli(home, "jobs", "--url", f"http://127.0.0.1:{closed_port()}/")
    assert p.returncode == 8, p.stderr
    assert "cannot reach the server" in p.stderr


def test_usage_errors_exit_2(home):
    for args in (["build"], ["build", "j", "--wiat"], ["jobs", "--follow"],
                 ["build", "j", "-p", "NOEQUALS"], ["jobs"]):
        p = cli(home, *args)
        assert p.returncode == 2, (args, p.stderr)
    assert "no server URL" in cli(home, "jobs").stderr


# ---- libcurl: loaded by the client commands, never mapped by the server ----

def libcurl_file():
    """The file the loader finds for libcurl.so.4, or None."""
    p = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True)
    for line in p.stdout.splitlines():
        name, _, rest = line.strip().partition(" ")
        if name == "libcurl.so.4" and "x86-64" in rest and "=>" in rest:
            return os.path.realpath(rest.split("=>")[1].strip())
    return None


def test_the_server_maps_no_libcurl(srv, home):
    # a request first, so that whatever a request loads is loaded
    assert srv.get("api/json", auth=srv.alice).status_code == 200
    with open(f"/proc/{srv.proc.pid}/maps") as f:
        maps = f.read()
    assert "libmicrohttpd" in maps      # this is the server's map
    assert "libcurl" not in maps
    # the client commands, in the same binary, load it
    p = cli(home, "whoami", *as_alice(srv))
    assert p.returncode == 0, p.stderr


def test_without_libcurl_the_client_commands_say_what_to_install(home):
    lib = libcurl_file()
    bwrap = shutil.which("bwrap")
    if not lib or not bwrap:
        pytest.skip("needs bwrap and an installed libcurl.so.4 to hide")
    # the library's file, seen as empty: the loader refuses it, as if it were missing
    p = subprocess.run([bwrap, "--bind", "/", "/", "--dev-bind", "/dev", "/dev",
                        "--ro-bind", "/dev/null", lib, BIN, "jobs", "--url",
                        f"http://127.0.0.1:{closed_port()}/"],
                       capture_output=True, text=True, env=clean_env(home), timeout=60 * SLOW)
    if p.stderr.startswith("bwrap:"):
        pytest.skip(f"bwrap cannot hide the library here: {p.stderr.strip()}")
    assert p.returncode == 9, p.stderr
    assert p.stderr.startswith("steward: the client commands need libcurl (Debian: apt-get "
                               "install libcurl4)\n"), p.stderr
    assert "libcurl.so.4" in p.stderr


# ---- refusals: the server's explanation, and the client's hints ----

def test_401_prints_the_servers_explanation(srv, home):
    p = cli(home, "jobs", "--url", srv.url, "--user", "alice", "--token", "11" + "0" * 32)
    assert p.returncode == 6
    assert "answered 401: Invalid user name or API token" in p.stderr
    assert "not one of this user's tokens" in p.stderr
    assert "Fix: Generate a new API token" in p.stderr


def test_403_wrong_trigger_token_for_a_reader(srv, home):
    p = cli(home, "build", "params", "--trigger-token", "wrong", *as_alice(srv))
    assert p.returncode == 6
    assert "answered 403: Invalid token provided" in p.stderr
    assert "does not match this job's trigger token" in p.stderr


def test_404_unknown_job(srv, home):
    p = cli(home, "build", "no-such-job", *as_alice(srv))
    assert p.returncode == 6
    assert "answered 404: No such job" in p.stderr
    assert "There is no job named 'no-such-job'" in p.stderr
    p = cli(home, "log", "params", "999", *as_alice(srv))
    assert p.returncode == 6 and "404" in p.stderr


def test_hint_api_token_given_as_trigger_token(srv, home):
    p = cli(home, "build", "params", "--trigger-token", srv.alice_token, "--url", srv.url)
    assert p.returncode == 6
    assert "looks like a user API token" in p.stderr          # the server says so
    assert "hint: the value given as --trigger-token looks like a user API token" in p.stderr
    assert srv.alice_token not in p.stderr + p.stdout


def test_hint_trigger_token_given_as_token(srv, home):
    p = cli(home, "build", "params", "--url", srv.url, "--user", "alice", "--token", TRIGGER)
    assert p.returncode == 6
    assert "answered 401" in p.stderr
    assert "give it as --trigger-token instead" in p.stderr
    assert TRIGGER not in p.stderr


def test_hint_401_for_a_user_that_does_not_exist(srv, home):
    p = cli(home, "whoami", env=clean_env(home, STEWARD_URL=srv.url, STEWARD_USER="Alice Smith",
                                          STEWARD_TOKEN=srv.alice_token))
    assert p.returncode == 6
    assert "there is no user with that name" in p.stderr
    assert "hint: there is no user 'Alice Smith' on this server; the name came from " \
        "STEWARD_USER" in p.stderr


# ---- settings ----

def write_config(home, text, mode=0o600):
    d = home / ".config" / "steward"
    d.mkdir(parents=True, exist_ok=True)
    path = d / "config"
    path.write_text(text)
    os.chmod(path, mode)
    return path


def whoami(home, env, *args):
    p = cli(home, "whoami", "--json", *args, env=env)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_settings_precedence_flags_env_jenkins_config_netrc(srv, home):
    bad = f"http://127.0.0.1:{closed_port()}/"
    t = srv.tokens
    (home / ".netrc").write_text(f"machine 127.0.0.1 login u-netrc password {t['netrc']}\n")
    write_config(home, f"url = {srv.url}\n")
    env = clean_env(home)
    me = whoami(home, env)
    assert me["name"] == "u-netrc" and me["sources"]["token"].endswith(".netrc")

    write_config(home, f"url = {srv.url}\nuser = u-config\ntoken = {t['config']}\n")
    me = whoami(home, env)
    assert me["name"] == "u-config" and "config file" in me["sources"]["token"]

    env.update(JENKINS_URL=srv.url, JENKINS_USER_ID="u-jenkins", JENKINS_API_TOKEN=t["jenkins"])
    write_config(home, f"url = {bad}\nuser = u-config\ntoken = {t['config']}\n")
    me = whoami(home, env)
    assert me["name"] == "u-jenkins"
    assert me["sources"] == {"url": "JENKINS_URL", "user": "JENKINS_USER_ID",
                             "token": "JENKINS_API_TOKEN"}

    env.update(JENKINS_URL=bad, STEWARD_URL=srv.url, STEWARD_USER="u-steward",
               STEWARD_TOKEN=t["steward"])
    me = whoami(home, env)
    assert me["name"] == "u-steward" and me["sources"]["url"] == "STEWARD_URL"

    env.update(STEWARD_URL=bad)
    me = whoami(home, env, "--url", srv.url, "--user", "u-flag", "--token", t["flag"])
    assert me["name"] == "u-flag"
    assert me["sources"] == {"url": "--url", "user": "--user", "token": "--token"}

    # --token-stdin ranks with the flags
    p = cli(home, "whoami", "--json", "--url", srv.url, "--user", "u-flag", "--token-stdin",
            env=env, input=t["flag"] + "\n")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["sources"]["token"] == "--token-stdin"


def test_user_and_token_from_different_places_are_named_on_401(srv, home):
    write_config(home, f"url = {srv.url}\nuser = u-config\ntoken = {srv.tokens['config']}\n")
    p = cli(home, "jobs", "--user", "u-flag")
    assert p.returncode == 6
    assert "the token came from the config file" in p.stderr
    assert "which names user 'u-config', but the user name 'u-flag' came from --user" in p.stderr


def test_config_file_readable_by_others_is_refused(srv, home):
    path = write_config(home, f"url = {srv.url}\nuser = alice\ntoken = {srv.alice_token}\n",
                        mode=0o644)
    p = cli(home, "jobs")
    assert p.returncode == 2
    assert f"refusing the config file {path}" in p.stderr
    assert f"chmod 600 {path}" in p.stderr
    assert srv.alice_token not in p.stderr
    os.chmod(path, 0o600)
    assert cli(home, "jobs").returncode == 0


def test_password_works_with_a_crumb(srv, home):
    p = cli(home, "build", "noop", "--wait", "--verbose", "--url", srv.url, "--user", "alice",
            "--token", "alice-password")
    assert p.returncode == 0, p.stderr
    assert "GET " + srv.url + "crumbIssuer/api/json" in p.stderr
    assert "alice-password" not in p.stderr
    # an API token needs none
    p = cli(home, "build", "noop", "--verbose", *as_alice(srv))
    assert p.returncode == 0 and "crumbIssuer" not in p.stderr


# ---- jobs, queue, log, stop, cancel, whoami, token ----

def test_jobs_table_json_and_names(srv, home):
    assert cli(home, "build", "noop", "--wait", *as_alice(srv)).returncode == 0
    p = cli(home, "jobs", *as_alice(srv))
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert re.match(r"NAME\s+STATUS\s+LAST BUILD\s+STARTED\s+TOOK$", lines[0])
    noop = [ln for ln in lines if ln.startswith("noop ")][0]
    assert re.search(r"success\s+#\d+ SUCCESS\s+", noop)
    # aligned: every row's STATUS column starts where the header's does
    col = lines[0].index("STATUS")
    assert all(ln[col - 2:col] == "  " and ln[col] != " " for ln in lines[1:]), lines

    jobs = json.loads(cli(home, "jobs", "--json", *as_alice(srv)).stdout)
    by_name = {j["name"]: j for j in jobs}
    assert {"params", "noop", "fail", "slow", "long", "quiet"} <= set(by_name)
    assert by_name["noop"]["status"] == "success"
    assert by_name["noop"]["lastBuild"]["result"] == "SUCCESS"

    names = cli(home, "jobs", "-q", *as_alice(srv)).stdout.split()
    assert set(names) == set(by_name)


def test_queue_lists_and_cancel_removes(srv, home):
    p = cli(home, "build", "quiet", "-p", "N=listed", *as_alice(srv))
    assert p.returncode == 0, p.stderr
    qid = int(p.stdout.strip().rstrip("/").rsplit("/", 1)[1])
    table = cli(home, "queue", *as_alice(srv))
    assert table.returncode == 0, table.stderr
    assert re.match(r"ID\s+JOB\s+WAITING\s+PARAMETERS\s+WHY", table.stdout)
    row = [ln for ln in table.stdout.splitlines() if ln.startswith(f"{qid} ")][0]
    assert "quiet" in row and "N=listed" in row and "In the quiet period" in row

    items = json.loads(cli(home, "queue", "--json", *as_alice(srv)).stdout)
    assert [i for i in items if i["id"] == qid][0]["task"]["name"] == "quiet"

    p = cli(home, "cancel", str(qid), *as_alice(srv))
    assert p.returncode == 0, p.stderr
    items = json.loads(cli(home, "queue", "--json", *as_alice(srv)).stdout)
    assert qid not in [i["id"] for i in items]
    p = cli(home, "cancel", str(qid), *as_alice(srv))
    assert p.returncode == 6 and "404" in p.stderr


def test_stop_a_running_build(srv, home):
    p = cli(home, "build", "long", *as_alice(srv))
    assert p.returncode == 0, p.stderr
    number = running_build(srv, "long")
    p = cli(home, "stop", "long", str(number), *as_alice(srv))
    assert p.returncode == 0, p.stderr
    assert srv.wait_build("long", number, srv.alice)["result"] == "ABORTED"


def test_whoami(srv, home):
    p = cli(home, "whoami", *as_alice(srv))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "alice\n"
    assert "Authenticated with the API token 'ci'" in p.stderr
    p = cli(home, "whoami", "--url", srv.url)
    assert p.returncode == 0 and p.stdout == "anonymous\n"


def test_token_new_list_revoke_over_http(srv, home):
    p = cli(home, "token", "new", "from-cli", *as_alice(srv))
    assert p.returncode == 0, p.stderr
    new = p.stdout.strip()
    assert API_TOKEN_SHAPE.match(new)
    assert whoami(home, clean_env(home), "--url", srv.url, "--user", "alice", "--token",
                  new)["apiTokenName"] == "from-cli"

    p = cli(home, "token", "list", *as_alice(srv))
    assert p.returncode == 0, p.stderr
    assert re.match(r"NAME\s+UUID\s+CREATED\s+LAST USED\s+USES", p.stdout)
    assert "from-cli" in p.stdout and new not in p.stdout
    listed = json.loads(cli(home, "token", "list", "--json", *as_alice(srv)).stdout)
    assert {t["name"] for t in listed} >= {"ci", "from-cli"}

    made = json.loads(cli(home, "token", "new", "second", "--json", *as_alice(srv)).stdout)
    assert API_TOKEN_SHAPE.match(made["value"]) and made["name"] == "second"

    p = cli(home, "token", "revoke", "from-cli", *as_alice(srv))
    assert p.returncode == 0, p.stderr
    p = cli(home, "whoami", "--url", srv.url, "--user", "alice", "--token", new)
    assert p.returncode == 6 and "401" in p.stderr
    p = cli(home, "token", "revoke", made["uuid"], *as_alice(srv))
    assert p.returncode == 0, p.stderr
    p = cli(home, "token", "revoke", "from-cli", *as_alice(srv))
    assert p.returncode == 6 and "no API token named 'from-cli'" in p.stderr


def test_offline_token_syntax_without_home_is_explained(home):
    p = cli(home, "token", "new", "alice", "--name", "x")
    assert p.returncode == 2
    assert "offline admin command: give --home DIR" in p.stderr


def test_help_lists_client_and_server_commands_and_exit_codes(home):
    for args in (["help"], ["--help"]):
        p = cli(home, *args)
        assert p.returncode == 0
        for word in ("build JOB", "serve", "user add", "security anonymous-read", "whoami",
                     "Exit codes", "130"):
            assert word in p.stdout, (args, word)
    p = cli(home, "help", "build")
    assert p.returncode == 0 and "--stop-on-interrupt" in p.stdout
    assert cli(home, "build", "--help").stdout == p.stdout


# ---- interrupts and the terminal ----

def test_interrupt_without_a_terminal_detaches(srv, home):
    proc = subprocess.Popen([BIN, "build", "long", "--wait", *as_alice(srv)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=clean_env(home))
    pumped = Pumped(proc)
    number = running_build(srv, "long")
    # the client knows the build once it said so
    pumped.wait_err(f"Started long #{number}")
    proc.send_signal(signal.SIGINT)
    out, err = pumped.finish()
    assert proc.returncode == 130, err
    assert f"Detached: long #{number} goes on" in err
    assert srv.get(f"job/long/{number}/api/json", auth=srv.alice).json()["building"]
    stop_build(srv, "long", number)


def test_stop_on_interrupt_stops_the_build(srv, home):
    proc = subprocess.Popen([BIN, "build", "long", "--follow", "--stop-on-interrupt",
                             *as_alice(srv)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=clean_env(home))
    pumped = Pumped(proc)
    number = running_build(srv, "long")
    pumped.wait_err(f"Started long #{number}")
    proc.send_signal(signal.SIGTERM)
    out, err = pumped.finish()
    assert proc.returncode == 4, err
    assert out == console_text(srv, "long", number)
    assert out.endswith("Finished: ABORTED\n")


def run_on_terminal(args, env, until, answer=None, timeout=30):
    """Runs steward on a pseudo-terminal; when `until` shows up in the output, types Ctrl-C
    (and then `answer`). Returns (exit code, everything the terminal showed)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(BIN, [BIN, *args], env)
    shown, sent = b"", False
    deadline = time.time() + timeout * SLOW
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
        if not sent and until.encode() in shown:
            os.write(fd, b"\x03")
            sent = True
        if sent and answer and b"[s/D]" in shown:
            os.write(fd, answer.encode())
            answer = None
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


def test_terminal_shows_why_the_item_waits_and_ctrl_c_asks(srv, home):
    code, shown = run_on_terminal(["build", "quiet", "-p", "N=tty", "--wait", *as_alice(srv)],
                                  clean_env(home, TERM="xterm"), until="Waiting in the queue for 1",
                                  answer="s\n")
    assert "\r\x1b[KWaiting in the queue for" in shown
    assert "In the quiet period. Expires in" in shown
    assert "Cancel queue item" in shown and "[s/D]" in shown
    assert code == 5, shown
    assert not [i for i in srv.get("queue/api/json", auth=srv.alice).json()["items"]
                if i["task"]["name"] == "quiet"]


def test_ctrl_c_while_following_on_a_terminal_can_detach(srv, home):
    code, shown = run_on_terminal(["build", "long", "--follow", *as_alice(srv)],
                                  clean_env(home, TERM="xterm"), until="started\r\n",
                                  answer="d\n")
    assert "Stop long #" in shown and "[s/D]" in shown
    assert code == 130, shown
    m = re.search(r"Detached: long #(\d+) goes on", shown)
    assert m, shown
    number = int(m.group(1))
    assert srv.get(f"job/long/{number}/api/json", auth=srv.alice).json()["building"]
    stop_build(srv, "long", number)


def test_nothing_animated_without_a_terminal(srv, home):
    p = cli(home, "build", "quiet", "-p", "N=pipe", "--wait", "--timeout", "2", *as_alice(srv))
    assert p.returncode == 7, p.stderr
    assert "\r" not in p.stderr and "\x1b" not in p.stderr
    assert p.stderr.count("Waiting in the queue: In the quiet period") == 1
    cancel_waiting(srv, "quiet")


# ---- against Jenkins' behaviour (a small stand-in on loopback) ----

class JenkinsLike:
    """Answers the way Jenkins does where it differs from Steward: 403 without a challenge
    for anonymous users, crumbs bound to a session cookie for password POSTs, 400 "Nothing
    is submitted" for /build of a parameterized job, 204 for a queue cancel, HTML errors."""

    def __init__(self):
        import http.server
        import threading
        self.requests = []
        self.queue_polls = 0
        self.log_reads = 0
        self.log = [b"Started by user jay\n", b"step one\n", b"step two\n",
                    b"Finished: UNSTABLE\n"]
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def send(self, code, body=b"", ctype="application/json", headers=()):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def who(self):
                import base64
                h = self.headers.get("Authorization", "")
                if not h.startswith("Basic "):
                    return None, None
                user, _, secret = base64.b64decode(h[6:]).decode().partition(":")
                return user, secret

            def handle_any(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path
                outer.requests.append((method, path, dict(self.headers), body))
                user, secret = self.who()
                if user is None and not path.startswith("/whoAmI"):
                    return self.send(403, b"<html><head><title>Auth</title></head><body>"
                                          b"<p>Authentication required</p></body></html>",
                                     "text/html;charset=utf-8")
                if user is not None and (user, secret) not in (("jay", "pw"),
                                                               ("jay", "11" + "a" * 32)):
                    return self.send(401, b"<html><body>Invalid password/token for user: "
                                          + user.encode() + b"</body></html>", "text/html",
                                     [("WWW-Authenticate", 'Basic realm="Jenkins"')])
                if path == "/crumbIssuer/api/json":
                    return self.send(200, json.dumps(
                        {"_class": "hudson.security.csrf.DefaultCrumbIssuer", "crumb": "c0ffee",
                         "crumbRequestField": "Jenkins-Crumb"}).encode(),
                        headers=[("Set-Cookie", "JSESSIONID.x=s3ss; Path=/; HttpOnly")])
                if method == "POST" and secret == "pw" and not (
                        self.headers.get("Jenkins-Crumb") == "c0ffee"
                        and "JSESSIONID.x=s3ss" in self.headers.get("Cookie", "")):
                    return self.send(403, b"<html><body>Error 403 No valid crumb was included "
                                          b"in the request</body></html>", "text/html")
                port = self.server.server_address[1]
                root = f"http://127.0.0.1:{port}/"
                if method == "POST" and path == "/job/p/build":
                    return self.send(400, b"<html><body>Nothing is submitted</body></html>",
                                     "text/html", [("X-Error", "Nothing is submitted")])
                if method == "POST" and path == "/job/p/buildWithParameters":
                    return self.send(201, headers=[("Location", root + "queue/item/5/")])
                if path.startswith("/queue/item/5/api/json"):
                    outer.queue_polls += 1
                    if outer.queue_polls < 3:
                        item = {"why": "Waiting for next available executor",
                                "executable": None}
                    else:
                        item = {"why": None, "cancelled": False,
                                "executable": {"number": 3, "url": root + "job/p/3/"}}
                    return self.send(200, json.dumps(item).encode())
                if path.startswith("/job/p/3/logText/progressiveText?start="):
                    # the log grows by one line per read, as a running build's does
                    outer.log_reads += 1
                    visible = b"".join(outer.log[:outer.log_reads])
                    start = int(path.rsplit("=", 1)[1])
                    hdrs = [("X-Text-Size", str(len(visible)))]
                    if outer.log_reads < len(outer.log):
                        hdrs.append(("X-More-Data", "true"))
                    return self.send(200, visible[start:], "text/plain;charset=UTF-8", hdrs)
                if path.startswith("/job/p/3/api/json"):
                    return self.send(200, json.dumps({"number": 3, "result": "UNSTABLE",
                                                      "building": False, "duration": 1200,
                                                      "url": root + "job/p/3/"}).encode())
                if method == "POST" and path == "/queue/cancelItem?id=7":
                    return self.send(204)
                if path == "/whoAmI/api/json":
                    return self.send(200, json.dumps(
                        {"_class": "hudson.security.WhoAmI", "anonymous": user is None,
                         "authenticated": True, "authorities": ["authenticated"],
                         "name": user or "anonymous"}).encode())
                return self.send(404, b"<html><body>Not Found</body></html>", "text/html")

            def do_GET(self):
                self.handle_any("GET")

            def do_POST(self):
                self.handle_any("POST")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def jenkins():
    j = JenkinsLike()
    yield j
    j.close()


def test_against_jenkins_password_crumb_parameters_fallback_and_unstable(jenkins, home):
    p = cli(home, "build", "p", "--follow", "--url", jenkins.url, "--user", "jay",
            "--token", "pw")
    assert p.returncode == 3, p.stderr          # UNSTABLE
    assert p.stdout == b"".join(jenkins.log).decode()
    posts = [(path, h) for m, path, h, _ in jenkins.requests if m == "POST"]
    assert [path for path, _ in posts] == ["/job/p/build", "/job/p/buildWithParameters"]
    assert all(h.get("Jenkins-Crumb") == "c0ffee" and "JSESSIONID.x=s3ss" in h.get("Cookie", "")
               for _, h in posts)
    gets = [path for m, path, _, _ in jenkins.requests if m == "GET"]
    assert gets.count("/crumbIssuer/api/json") == 1
    starts = [int(g.rsplit("=", 1)[1]) for g in gets if "progressiveText" in g]
    assert starts == sorted(set(starts)), starts


def test_against_jenkins_api_token_needs_no_crumb(jenkins, home):
    p = cli(home, "build", "p", "-p", "X=1", "--url", jenkins.url, "--user", "jay",
            "--token", "11" + "a" * 32)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == jenkins.url + "queue/item/5/"
    assert "/crumbIssuer/api/json" not in [path for _, path, _, _ in jenkins.requests]
    p = cli(home, "cancel", "7", "--url", jenkins.url, "--user", "jay", "--token", "11" + "a" * 32)
    assert p.returncode == 0, p.stderr       # Jenkins answers 204


def test_against_jenkins_html_refusals_are_shown_as_text(jenkins, home):
    p = cli(home, "jobs", "--url", jenkins.url)
    assert p.returncode == 6
    assert "answered 403" in p.stderr and "Authentication required" in p.stderr
    assert "<" not in p.stderr.split("answered 403", 1)[1].splitlines()[0]
    assert "hint: no credentials were sent; Jenkins answers 403" in p.stderr
    p = cli(home, "whoami", "--url", jenkins.url, "--user", "jay", "--token", "my-trigger")
    assert p.returncode == 6
    assert "Invalid password/token for user: jay" in p.stderr
    assert "hint: the secret given as the user's token (from --token)" in p.stderr
