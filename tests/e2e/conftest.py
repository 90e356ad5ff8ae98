"""End-to-end harness: a real steward server on 127.0.0.1 with a temporary home."""
import base64
import os
import re
import signal
import subprocess
import time
from xml.sax.saxutils import escape

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("STEWARD_BIN") or os.path.join(ROOT, "build", "steward")
SANITIZED = os.environ.get("STEWARD_SANITIZED") == "1"
# generous under ASan+UBSan, which slows everything down
SLOW = 4 if SANITIZED else 1


def job_xml(params=(), token=None, script="echo hello", concurrent=False, quiet=None,
            disabled=False, description="", steps=None):
    """A freestyle config.xml. params: (type, name, default-or-choices) tuples."""
    defs = []
    for p in params:
        kind, name = p[0], p[1]
        if kind == "choice":
            choices = "".join(f"<string>{escape(c)}</string>" for c in p[2])
            defs.append(
                "<hudson.model.ChoiceParameterDefinition>"
                f"<name>{escape(name)}</name><description></description>"
                '<choices class="java.util.Arrays$ArrayList"><a class="string-array">'
                f"{choices}</a></choices></hudson.model.ChoiceParameterDefinition>")
        else:
            cls = {"string": "StringParameterDefinition", "text": "TextParameterDefinition",
                   "bool": "BooleanParameterDefinition",
                   "password": "PasswordParameterDefinition"}[kind]
            default = p[2] if len(p) > 2 else ""
            defs.append(f"<hudson.model.{cls}><name>{escape(name)}</name>"
                        f"<defaultValue>{escape(str(default))}</defaultValue></hudson.model.{cls}>")
    props = ""
    if defs:
        props = ("<hudson.model.ParametersDefinitionProperty><parameterDefinitions>"
                 + "".join(defs) + "</parameterDefinitions></hudson.model.ParametersDefinitionProperty>")
    steps = steps if steps is not None else [script]
    builders = "".join(f"<hudson.tasks.Shell><command>{escape(s)}</command></hudson.tasks.Shell>"
                       for s in steps)
    return ("<?xml version='1.1' encoding='UTF-8'?>\n<project>"
            f"<actions/><description>{escape(description)}</description>"
            "<keepDependencies>false</keepDependencies>"
            f"<properties>{props}</properties><scm class=\"hudson.scm.NullSCM\"/>"
            f"<canRoam>true</canRoam><disabled>{'true' if disabled else 'false'}</disabled>"
            + (f"<authToken>{escape(token)}</authToken>" if token else "")
            + f"<triggers/><concurrentBuild>{'true' if concurrent else 'false'}</concurrentBuild>"
            + (f"<quietPeriod>{quiet}</quietPeriod>" if quiet is not None else "")
            + f"<builders>{builders}</builders><publishers/><buildWrappers/></project>\n")


class Server:
    def __init__(self, home, executors=2, quiet=0):
        self.home = str(home)
        self.executors = executors
        self.quiet = quiet
        self.proc = None
        self.url = None
        self.log_path = os.path.join(self.home, "server.log")
        # a directory builds share with the test (serve --build-bind): the sandbox shows
        # them nothing else outside their workspace
        self.shared = self.home + "-shared"

    # offline admin commands
    def admin(self, *args, input=None, check=True):
        p = subprocess.run([BIN, "--home", self.home, *args], input=input, capture_output=True,
                           text=True, timeout=60 * SLOW)
        if check and p.returncode != 0:
            raise AssertionError(f"steward {args} failed: {p.stderr}")
        return p

    def add_user(self, name, password, admin=False):
        self.admin("user", "add", name, "--password", password, *(["--admin"] if admin else []))

    def new_token(self, user, name):
        return self.admin("token", "new", user, "--name", name).stdout.strip()

    def start(self, *extra, env=None, pass_fds=(), wrap=()):
        """wrap: a command the server runs under (unshare, setpriv ...), exec'ing it."""
        os.makedirs(self.home, exist_ok=True)
        os.makedirs(self.shared, exist_ok=True)
        os.chmod(self.shared, 0o1777)
        self.log = open(self.log_path, "a")
        log_start = self.log.tell()  # a restart appends: look only at what this run writes
        self.proc = subprocess.Popen(
            [*wrap, BIN, "--home", self.home, "serve", "--listen", "127.0.0.1:0",
             "--executors", str(self.executors), "--quiet-period", str(self.quiet),
             "--build-bind", self.shared, *extra],
            stdout=self.log, stderr=subprocess.STDOUT, env=env, pass_fds=pass_fds)
        deadline = time.time() + 20 * SLOW
        while time.time() < deadline:
            m = re.search(r"listening on \S+ \(port (\d+)\)", self.read_log()[log_start:])
            if m:
                self.url = f"http://127.0.0.1:{m.group(1)}/"
                return self
            if self.proc.poll() is not None:
                raise AssertionError("server exited:\n" + self.read_log())
            time.sleep(0.02)
        raise AssertionError("server did not start:\n" + self.read_log())

    def read_log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM):
        if not self.proc:
            return
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=30 * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("server did not stop on SIGTERM")
        finally:
            self.log.close()
            self.proc = None
        log = self.read_log()
        if sig == signal.SIGTERM:
            assert "AddressSanitizer" not in log and "runtime error:" not in log \
                and "LeakSanitizer" not in log, log[-4000:]
            assert rc == 0, f"server exited with {rc}:\n{log[-4000:]}"

    # HTTP helpers
    def get(self, path, **kw):
        return requests.get(self.url + path.lstrip("/"), timeout=30 * SLOW, **kw)

    def post(self, path, **kw):
        return requests.post(self.url + path.lstrip("/"), timeout=30 * SLOW, **kw)

    def wait_queue_item(self, location, auth, timeout=30):
        """Polls a queue item until it has an executable (or is cancelled)."""
        url = location.rstrip("/") + "/api/json"
        deadline = time.time() + timeout * SLOW
        item = None
        while time.time() < deadline:
            item = requests.get(url, auth=auth, timeout=10 * SLOW).json()
            if item.get("executable") or item.get("cancelled"):
                return item
            time.sleep(0.05)
        raise AssertionError(f"queue item {location} did not start within {timeout * SLOW:g} s; "
                             f"last seen: {item!r}")

    def wait_build(self, job, number, auth, timeout=30):
        deadline = time.time() + timeout * SLOW
        b = None
        while time.time() < deadline:
            b = self.get(f"job/{job}/{number}/api/json", auth=auth).json()
            if not b["building"]:
                return b
            time.sleep(0.05)
        raise AssertionError(f"build {job} #{number} did not finish within {timeout * SLOW:g} s; "
                             f"last seen: building={b and b['building']}, "
                             f"duration so far from {b and b['timestamp']}")


def basic(user, secret):
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


def started_server(home):
    """A running server with an admin 'alice' and a user 'bob', each with an API token;
    the caller stops it."""
    s = Server(home)
    s.add_user("alice", "alice-password", admin=True)
    s.add_user("bob", "bob-password")
    s.alice_token = s.new_token("alice", "ci")
    s.bob_token = s.new_token("bob", "laptop")
    s.alice = ("alice", s.alice_token)
    s.bob = ("bob", s.bob_token)
    return s.start()


@pytest.fixture
def server(tmp_path):
    """started_server() for one test."""
    s = started_server(tmp_path / "home")
    yield s
    s.stop()


def create_job(server, name, xml, auth=None):
    r = server.post(f"createItem?name={name}", data=xml.encode(),
                    headers={"Content-Type": "application/xml"}, auth=auth or server.alice)
    assert r.status_code == 200, r.text
