"""Git with credentials: a real sshd on a free loopback port serving a bare repository over
ssh:// to a job whose BasicSSHUserPrivateKey credential checks it out, a username and password
handed to git over http through GIT_ASKPASS, and every credential that cannot be used failing
the build before git runs. The secrets must stay out of argv (the sshd side reads every
process's /proc/PID/cmdline while the build's ssh is connected), the environment of the shell
steps, the console and the server's files."""
import base64
import glob
import http.server
import os
import re
import shutil
import socket
import subprocess
import threading

import pytest

from conftest import SLOW, create_job
from test_git import build, jjb_xml, poll_now, wait_for, builds_of

pytestmark = pytest.mark.skipif(
    not shutil.which("jenkins-jobs") or not shutil.which("git"),
    reason="needs jenkins-job-builder and git")

SSHD = "/usr/sbin/sshd"
STEP_CHECKS = """echo STEP-RAN
          test -e /tmp/steward-private && echo PRIVATE-DIR-VISIBLE || echo NO-PRIVATE-DIR
          ls -A "$WORKSPACE@tmp" | sed 's/^/TMP: /'
          env | sed 's/^/ENV: /'
          cat README"""


def git(*args, cwd=None, env=None):
    p = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                       timeout=60 * SLOW)
    assert p.returncode == 0, f"git {args}: {p.stderr}"
    return p.stdout.strip()


class SshRepo:
    """A bare repository served by root over ssh (the test's sshd), and a clone to commit
    from."""

    def __init__(self, tmp_path):
        self.bare = str(tmp_path / "srv" / "app.git")
        self.work = str(tmp_path / "app-work")
        self.env = {**os.environ, "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1",
                    "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.org",
                    "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.org"}
        os.makedirs(os.path.dirname(self.bare))
        git("init", "-q", "--bare", "-b", "main", self.bare, env=self.env)
        git("clone", "-q", self.bare, self.work, env=self.env)

    def commit(self, text):
        with open(os.path.join(self.work, "README"), "w") as f:
            f.write(text)
        git("add", "-A", cwd=self.work, env=self.env)
        git("commit", "-q", "-m", text, cwd=self.work, env=self.env)
        git("push", "-q", "origin", "HEAD:main", cwd=self.work, env=self.env)
        return git("rev-parse", "HEAD", cwd=self.work, env=self.env)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path, passphrase=""):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", "", "-f",
                    str(path)], check=True, timeout=60)
    return path.read_text(), (path.parent / (path.name + ".pub")).read_text()


class Sshd:
    """sshd on 127.0.0.1 with its own host key, letting root in with the given public keys.
    Every session first writes what /proc says of every process's argv and environment,
    then runs the command git asked for."""

    def __init__(self, d, client_pubs, watch):
        self.dir = d
        d.mkdir()
        _, self.host_pub = keygen(d / "host")
        (d / "authorized_keys").write_text("".join(client_pubs))
        (d / "authorized_keys").chmod(0o600)
        snap = d / "snap.sh"
        snap.write_text(f"""#!/bin/sh
for p in /proc/[0-9]*; do
  tr '\\0' ' ' < "$p/cmdline" 2>/dev/null; echo
done > {d}/cmdline.$$
cat /proc/[0-9]*/environ > {d}/environ.$$ 2>/dev/null
stat -c '%n %U %a' {watch}/*/* > {d}/stat.$$ 2>/dev/null
exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"
""")
        snap.chmod(0o755)
        # free_port() lets the port go before sshd binds it, and a test running beside this
        # one may take it first: sshd then fails to bind, and another port is tried
        for attempt in range(5):
            self.port = free_port()
            (d / "sshd_config").write_text(f"""Port {self.port}
ListenAddress 127.0.0.1
HostKey {d}/host
PidFile {d}/sshd.pid
AuthorizedKeysFile {d}/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
ForceCommand {snap}
LogLevel VERBOSE
""")
            os.makedirs("/run/sshd", exist_ok=True)
            self.log = open(d / "sshd.log", "w")
            self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(d / "sshd_config")],
                                         stdout=self.log, stderr=subprocess.STDOUT)
            try:
                state = wait_for(self.bound, "sshd listening or exiting", timeout=10)
            except AssertionError:
                state = "silent"
            if state == "listening":
                return
            self.stop()
            if state == "silent":
                break
        pytest.skip("sshd cannot run here: " + (d / "sshd.log").read_text()[-500:])

    def bound(self):
        """"listening" once sshd itself says it listens on its port, "exited" if it gave up,
        None meanwhile: a connection alone could reach another program on that port."""
        log = (self.dir / "sshd.log").read_text(errors="replace")
        if f"Server listening on 127.0.0.1 port {self.port}" in log:
            return "listening"
        if self.proc.poll() is not None:
            return "exited"
        return None

    def ours(self, cmdline):
        """Whether an ssh command line is one to this sshd (tests beside this one run ssh
        clients too, to build nodes, and every process of the machine is in the snapshots)."""
        return re.search(rf"(^| )-p ?{self.port}( |$)", cmdline) is not None and \
            "127.0.0.1" in cmdline

    def known_hosts_line(self):
        return f"[127.0.0.1]:{self.port} {self.host_pub}"

    def snapshots(self, kind):
        out = ""
        for f in glob.glob(str(self.dir / f"{kind}.*")):
            with open(f, "rb") as fh:
                out += fh.read().decode(errors="replace")
        return out

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def can_run_sshd():
    return os.path.exists(SSHD) and os.geteuid() == 0 and shutil.which("ssh-keygen")


@pytest.fixture
def keys(tmp_path):
    d = tmp_path / "keys"
    d.mkdir()
    plain = keygen(d / "plain")
    locked = keygen(d / "locked", passphrase="open sesame")
    other = keygen(d / "other")   # not authorized
    return {"plain": plain, "locked": locked, "other": other}


@pytest.fixture
def sshd(server, tmp_path, keys):
    if not can_run_sshd():
        pytest.skip("needs root and openssh-server's sshd")
    s = Sshd(tmp_path / "sshd", [keys["plain"][1], keys["locked"][1]],
             os.path.join(server.home, "git-credentials"))
    yield s
    s.stop()


def add_credential(server, cid, kind, secret, *extra):
    server.admin("credentials", "add", "--id", cid, "--kind", kind, *extra, "--secret-file", "-",
                 input=secret)


def job_yaml(url, cred, builders=STEP_CHECKS, name="app", poll=False):
    trig = """    triggers:
      - pollscm:
          cron: "H/15 * * * *"
""" if poll else ""
    cred_line = f"\n          credentials-id: {cred}" if cred else ""
    return f"""
- job:
    name: {name}
    project-type: freestyle
    scm:
      - git:
          url: {url}{cred_line}
          branches:
            - main
{trig}    builders:
      - shell: |
          {builders}
"""


def key_body(private):
    """The key's base64 lines: what must never show up anywhere."""
    return [l for l in private.splitlines() if l and not l.startswith("-----")]


def assert_nowhere(secret_lines, *texts):
    for text in texts:
        for line in secret_lines:
            assert line not in text


def test_an_ssh_key_credential_checks_out_over_ssh_and_its_key_stays_out_of_sight(
        server, sshd, keys, tmp_path):
    repo = SshRepo(tmp_path)
    first = repo.commit("first")
    with open(os.path.join(server.home, "known_hosts"), "w") as f:
        f.write(sshd.known_hosts_line())
    private = keys["plain"][0]
    add_credential(server, "deploy", "ssh-key", private, "--username", "root")
    url = f"ssh://127.0.0.1:{sshd.port}{repo.bare}"
    create_job(server, "app", jjb_xml(tmp_path, job_yaml(url, "deploy", poll=True), "app"))

    b, log = build(server, "app")
    assert b["result"] == "SUCCESS", log
    assert "using GIT_SSH_COMMAND to set credentials deploy" in log
    assert f"Checking out Revision {first} (origin/main)" in log
    # the shell steps: no private directory, nothing of it in @tmp or the environment
    assert "NO-PRIVATE-DIR" in log and "PRIVATE-DIR-VISIBLE" not in log
    env = [l for l in log.splitlines() if l.startswith("ENV: ")]
    assert env and not [l for l in env if "STEWARD_GIT_" in l or "SSH" in l or "ASKPASS" in l], env
    assert not [l for l in log.splitlines() if l.startswith("TMP: ") and "key" in l], log
    # argv and environment of every process while the build's ssh was connected
    cmdlines, environs = sshd.snapshots("cmdline"), sshd.snapshots("environ")
    ssh_lines = [l for l in cmdlines.splitlines()
                 if l.startswith("ssh ") and "IdentitiesOnly=yes" in l and sshd.ours(l)]
    assert ssh_lines, cmdlines
    assert "-i /tmp/steward-private/key-1" in ssh_lines[0] and "StrictHostKeyChecking=yes" in ssh_lines[0]
    assert "-l root" in ssh_lines[0]
    assert_nowhere(key_body(private), log, cmdlines, environs)
    # while ssh was connected, the key was a file of the build user alone
    stats = sshd.snapshots("stat").splitlines()
    key = [" ".join(l.rsplit(" ", 2)[1:]) for l in stats
           if "/build-" in l and l.rsplit(" ", 2)[0].endswith("/key-1")]
    assert key and set(key) == {"steward-build 600"}, stats
    # the key's files went with the checkout step
    creds = os.path.join(server.home, "git-credentials")
    assert not os.path.exists(creds) or os.listdir(creds) == []

    # polling over ssh with the same credential finds a new commit
    second = repo.commit("second")
    poll_now(server)
    wait_for(lambda: len(builds_of(server)) == 2 and builds_of(server)[0].get("result"),
             "the build the poll found")
    b2 = builds_of(server)[0]
    assert b2["result"] == "SUCCESS"
    log2 = server.get(f"job/app/{b2['number']}/consoleText", auth=server.alice).text
    assert f"Checking out Revision {second}" in log2
    assert "using GIT_SSH_COMMAND to set credentials deploy" in \
        server.get("job/app/scmPollLog", auth=server.alice).text
    assert not os.path.exists(creds) or os.listdir(creds) == []


def test_a_passphrase_protected_key_and_the_urls_own_user(server, sshd, keys, tmp_path):
    repo = SshRepo(tmp_path)
    repo.commit("first")
    with open(os.path.join(server.home, "known_hosts"), "w") as f:
        f.write(sshd.known_hosts_line())
    (tmp_path / "pass").write_text("open sesame")
    # the username of the credential is not the one to log in with: the URL's user wins
    add_credential(server, "locked", "ssh-key", keys["locked"][0], "--username", "nobody-here",
                   "--passphrase-file", str(tmp_path / "pass"))
    url = f"ssh://root@127.0.0.1:{sshd.port}{repo.bare}"
    create_job(server, "app", jjb_xml(tmp_path, job_yaml(url, "locked"), "app"))
    b, log = build(server, "app")
    assert b["result"] == "SUCCESS", log
    cmdlines, environs = sshd.snapshots("cmdline"), sshd.snapshots("environ")
    assert "open sesame" not in log and "open sesame" not in cmdlines
    assert "open sesame" not in environs
    assert " -l " not in "".join(l for l in cmdlines.splitlines()
                                 if "IdentitiesOnly" in l and sshd.ours(l))


def test_an_unknown_host_key_or_a_key_the_server_refuses_fails_with_a_hint(
        server, sshd, keys, tmp_path):
    repo = SshRepo(tmp_path)
    repo.commit("first")
    add_credential(server, "deploy", "ssh-key", keys["plain"][0], "--username", "root")
    add_credential(server, "stranger", "ssh-key", keys["other"][0], "--username", "root")
    url = f"ssh://127.0.0.1:{sshd.port}{repo.bare}"
    create_job(server, "app", jjb_xml(tmp_path, job_yaml(url, "deploy"), "app"))
    # no known_hosts: strict checking refuses the server, never accepts it silently
    b, log = build(server, "app")
    assert b["result"] == "FAILURE" and "STEP-RAN" not in log, log
    assert "Host key verification failed" in log
    assert "ERROR: ssh could not log in" in log and "known_hosts" in log
    assert not os.path.exists(os.path.join(server.home, "known_hosts"))

    with open(os.path.join(server.home, "known_hosts"), "w") as f:
        f.write(sshd.known_hosts_line())
    create_job(server, "other", jjb_xml(tmp_path, job_yaml(url, "stranger", name="other"), "other"))
    b, log = build(server, "other")
    assert b["result"] == "FAILURE" and "STEP-RAN" not in log, log
    assert "Permission denied" in log and "ERROR: ssh could not log in" in log
    assert_nowhere(key_body(keys["other"][0]), log)


class AuthRecorder(http.server.BaseHTTPRequestHandler):
    seen = []

    def do_GET(self):
        auth = self.headers.get("Authorization")
        if not auth:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        AuthRecorder.seen.append(auth)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_username_and_password_reach_git_over_http_through_askpass(server, tmp_path):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), AuthRecorder)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        AuthRecorder.seen = []
        add_credential(server, "web", "username-password", "s3cret pass\n", "--username", "bot")
        url = f"http://127.0.0.1:{httpd.server_address[1]}/app.git"
        create_job(server, "app", jjb_xml(tmp_path, job_yaml(url, "web"), "app"))
        b, log = build(server, "app")
    finally:
        httpd.shutdown()
        httpd.server_close()
        t.join()
    # the fake server has no repository: the point is what git sent it
    assert b["result"] == "FAILURE", log
    assert "using GIT_ASKPASS to set credentials web" in log
    assert AuthRecorder.seen, log
    assert base64.b64decode(AuthRecorder.seen[0].split()[1]).decode() == "bot:s3cret pass"
    assert "s3cret" not in log


def test_a_credential_that_cannot_be_used_fails_the_build_before_git_runs(server, tmp_path):
    """Missing, the wrong kind, SYSTEM scope, an SSH key for an https:// URL: each fails the
    build with a line naming the id and what to do, and nothing is fetched without it."""
    add_credential(server, "token", "secret-text", "tok")
    add_credential(server, "internal", "ssh-key", "not really a key\n", "--username", "git",
                   "--scope", "SYSTEM")
    add_credential(server, "key", "ssh-key", "not really a key\n", "--username", "git")
    cases = {
        "missing": ("ssh://git@127.0.0.1:9/r.git", "nope",
                    "the Git credential 'nope' of ssh://git@127.0.0.1:9/r.git does not exist. "
                    "An administrator adds it (steward credentials add --id nope"),
        "kind": ("https://127.0.0.1:9/r.git", "token",
                 "the Git credential 'token' of https://127.0.0.1:9/r.git is a \"Secret text\" "
                 "credential"),
        "system": ("ssh://git@127.0.0.1:9/r.git", "internal",
                   "the Git credential 'internal' of ssh://git@127.0.0.1:9/r.git has scope SYSTEM: "
                   "such credentials are for Steward itself and never given to builds."),
        "https": ("https://127.0.0.1:9/r.git", "key",
                  "the Git credential 'key' is an SSH key, and https://127.0.0.1:9/r.git is not an "
                  "ssh:// repository"),
    }
    for name, (url, cred, said) in cases.items():
        create_job(server, name, jjb_xml(tmp_path, job_yaml(url, cred, name=name), name))
        b, log = build(server, name)
        assert b["result"] == "FAILURE", log
        assert "ERROR: " + said in log, log
        assert "ERROR: the Git checkout did not start; no build step runs." in log
        assert " > git" not in log and "STEP-RAN" not in log and "Wiping out" not in log, log

    # a poll with a missing credential says so in its log and finds nothing
    create_job(server, "polled", jjb_xml(tmp_path, job_yaml(
        "ssh://git@127.0.0.1:9/r.git", "nope", name="polled", poll=True), "polled"))
    r = server.post("job/polled/polling", auth=server.alice, allow_redirects=False)
    assert r.status_code == 302
    text = wait_for(lambda: (lambda t: t if "No changes" in t else None)(
        server.get("job/polled/scmPollLog", auth=server.alice).text), "the poll")
    assert "ERROR: the Git credential 'nope'" in text and " > git" not in text, text
    assert builds_of(server, "polled") == []


def test_a_credential_of_a_repository_on_disk_is_not_used_and_says_so(server, tmp_path):
    from test_git import Repo
    repo = Repo(server, tmp_path)
    repo.commit("README", "x\n", "one")
    create_job(server, "app", jjb_xml(tmp_path, job_yaml(repo.url, "whatever",
                                                         builders="echo STEP-RAN"), "app"))
    b, log = build(server, "app")
    assert b["result"] == "SUCCESS", log
    assert f"The credential 'whatever' is not used: {repo.url} is a repository on this machine." in log
