"""steward backup while the server works, steward restore into a fresh home, and bad input."""
import os
import shutil
import sqlite3
import subprocess
import threading
import time

import pytest
import requests

from conftest import BIN, SLOW, Server, create_job, job_xml
from e2e_helpers import console, item_id, job_info, params_of, queue_items, started_server, wait_for

ARCHIVER = ("<publishers><hudson.tasks.ArtifactArchiver><artifacts>out/*</artifacts>"
            "<allowEmptyArchive>false</allowEmptyArchive><onlyIfSuccessful>false</onlyIfSuccessful>"
            "<fingerprint>false</fingerprint></hudson.tasks.ArtifactArchiver></publishers>")


def steward(home, *args):
    return subprocess.run([BIN, "--home", str(home), *args], capture_output=True, text=True,
                          timeout=120 * SLOW)


def build_and_wait(server, job, auth, **params):
    path = f"job/{job}/buildWithParameters" if params else f"job/{job}/build"
    r = server.post(path, params=params, auth=auth)
    assert r.status_code == 201, r.text
    n = server.wait_queue_item(r.headers["Location"], auth)["executable"]["number"]
    return server.wait_build(job, n, auth)


def whoami(server, auth):
    r = server.get("whoAmI/api/json", auth=auth)
    return r.json()["name"] if r.status_code == 200 else r.status_code


class Triggers:
    """Threads that trigger builds until stopped, recording when each request went out and
    whether and when it was answered."""

    def __init__(self, server):
        self.server = server
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.sent = []       # (sent_at, answered_at or None, status, queue id, value)
        self.threads = []

    def _run(self, worker):
        s = requests.Session()
        s.auth = self.server.alice
        i = 0
        while not self.stop.is_set():
            i += 1
            value = f"w{worker}-{i}"
            # the waiting job keeps its items in the queue; the quick one builds at once, and
            # its identical requests merge, so that builds keep coming without piling up
            job, params = (("waiting", {"N": value}) if i % 2 else ("quick", {"V": "x"}))
            sent = time.time()
            try:
                r = s.post(self.server.url + f"job/{job}/buildWithParameters", params=params,
                           timeout=30 * SLOW)
            except requests.RequestException:
                continue
            record = (sent, time.time(), r.status_code,
                      item_id(r.headers["Location"]) if r.status_code == 201 else None, value, job)
            with self.lock:
                self.sent.append(record)

    def start(self, n=3):
        self.threads = [threading.Thread(target=self._run, args=(w,), daemon=True)
                        for w in range(n)]
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60 * SLOW)
        with self.lock:
            return list(self.sent)


@pytest.fixture
def orphans():
    """Servers a test leaves running when it fails midway."""
    servers = []
    yield servers
    for s in servers:
        if s.proc:
            s.stop()


def test_round_trip_while_the_server_builds_and_takes_triggers(tmp_path, orphans):
    # ---- a home with users, tokens, jobs, builds, artifacts and a queue ----
    old = started_server(tmp_path / "old")
    orphans.append(old)
    old.admin("user", "add", "carol", "--password", "carol-password")
    carol_token = old.new_token("carol", "deploy")
    old.admin("security", "anonymous-read", "on")
    create_job(old, "quick", job_xml([("string", "V", "")], script='echo "quick V=$V"',
                                     concurrent=True, description="runs at once"))
    create_job(old, "waiting", job_xml([("string", "N", "")], quiet=600, token="wait-tok"))
    create_job(old, "arch", job_xml(script="mkdir -p out && echo artifact-body > out/a.txt")
               .replace("<publishers/>", ARCHIVER))
    create_job(old, "long", job_xml(script='echo "long started"; exec sleep 120'))

    done = [build_and_wait(old, "quick", old.alice, V=f"done{i}") for i in range(3)]
    assert [b["result"] for b in done] == ["SUCCESS"] * 3
    arch = build_and_wait(old, "arch", old.alice)
    assert arch["result"] == "SUCCESS"

    r = old.post("job/long/build", auth=old.alice)
    long_n = old.wait_queue_item(r.headers["Location"], old.alice)["executable"]["number"]
    wait_for(lambda: "long started" in console(old, "long", long_n, old.alice), 20,
             "the long build to start", seen=lambda: console(old, "long", long_n, old.alice))

    before = {}
    for i in range(5):
        r = old.post("job/waiting/buildWithParameters", params={"N": f"before{i}"}, auth=old.bob)
        assert r.status_code == 201, r.text
        before[item_id(r.headers["Location"])] = f"before{i}"
    r = old.get("job/waiting/buildWithParameters", params={"N": "by-token", "token": "wait-tok"})
    assert r.status_code == 201, r.text
    before[item_id(r.headers["Location"])] = "by-token"

    # ---- the backup, while triggers keep coming and builds keep writing ----
    triggers = Triggers(old)
    triggers.start()
    wait_for(lambda: len(triggers.sent) >= 20, 30, "20 triggers to be answered",
             seen=lambda: f"{len(triggers.sent)} answered")
    dest = tmp_path / "backups" / "one"
    os.makedirs(dest.parent)
    backup_started = time.time()
    p = steward(old.home, "backup", str(dest))
    backup_ended = time.time()
    wait_for(lambda: any(s[0] > backup_ended and s[5] == "waiting" for s in triggers.sent), 30,
             "a trigger of the waiting job sent after the backup ended to be answered",
             seen=lambda: f"{len(triggers.sent)} answered, the last: {triggers.sent[-1:]}")
    sent = triggers.finish()
    assert p.returncode == 0, p.stderr
    assert "Workspaces are not backed up" in p.stderr
    assert all(s[2] == 201 for s in sent), [s for s in sent if s[2] != 201][:5]
    # what was acknowledged before the backup began must be in it; what was only sent after
    # it ended cannot be
    acked_before = {s[3]: s[4] for s in sent if s[1] < backup_started and s[5] == "waiting"}
    sent_after = {s[3] for s in sent if s[0] > backup_ended and s[5] == "waiting"}
    assert acked_before and sent_after

    with open(dest / "steward-backup") as f:
        manifest = dict(line.split("=", 1) for line in f.read().splitlines())
    assert manifest["format"] == "steward-backup-1"
    assert manifest["schema-version"] == str(
        sqlite3.connect(dest / "steward.db").execute("PRAGMA user_version").fetchone()[0])
    assert not os.path.exists(dest / "workspace")
    assert not os.path.exists(str(dest / "steward.db") + "-wal")
    assert oct(os.stat(dest / "steward.db").st_mode & 0o777) == "0o600"

    old.stop()

    # ---- restore into a fresh home and serve it ----
    new_home = tmp_path / "new"
    p = steward(new_home, "restore", str(dest))
    assert p.returncode == 0, p.stderr
    assert "Restored" in p.stderr
    assert not os.path.exists(new_home / ".restore-new")
    assert not os.path.exists(new_home / ".restore-old")
    new = Server(new_home)
    new.alice, new.bob = old.alice, old.bob
    orphans.append(new)
    new.start()

    # users and tokens: the API tokens still authenticate, passwords too
    assert whoami(new, old.alice) == "alice"
    assert whoami(new, old.bob) == "bob"
    assert whoami(new, ("carol", carol_token)) == "carol"
    assert whoami(new, ("carol", "carol-password")) == "carol"
    assert whoami(new, ("carol", "wrong")) == 401
    assert new.get("api/json").status_code == 200  # the setting came along

    # jobs, with their configs
    names = {j["name"] for j in new.get("api/json", auth=new.alice).json()["jobs"]}
    assert names == {"quick", "waiting", "arch", "long"}
    assert job_info(new, "quick", new.alice)["description"] == "runs at once"
    cfg = new.get("job/waiting/config.xml", auth=new.alice)
    assert cfg.status_code == 200 and "<authToken>wait-tok</authToken>" in cfg.text

    # history and logs: the builds finished before the backup, as they were
    numbers = sorted(n for (n,) in sqlite3.connect(dest / "steward.db").execute(
        "SELECT number FROM builds WHERE job = 'quick'"))
    assert len(numbers) > len(done), "no build of the triggers made it into the backup"
    for b in done:
        assert b["number"] in numbers
        got = new.get(f"job/quick/{b['number']}/api/json", auth=new.alice).json()
        assert got["result"] == "SUCCESS"
        assert f"quick V=done{b['number'] - 1}" in console(new, "quick", b["number"], new.alice)
    # every build the backup holds has its log, however far it had got
    for n in numbers:
        assert new.get(f"job/quick/{n}/api/json", auth=new.alice).status_code == 200
        log = console(new, "quick", n, new.alice)
        assert "Started by user" in log, (n, log)
    got = new.get(f"job/arch/{arch['number']}/artifact/out/a.txt", auth=new.alice)
    assert got.status_code == 200 and got.text == "artifact-body\n"

    # the build that was running at the snapshot ends ABORTED, with its log kept
    long_b = new.wait_build("long", long_n, new.alice)
    assert long_b["result"] == "ABORTED"
    log = console(new, "long", long_n, new.alice)
    assert "long started" in log and "Steward stopped while this build was running" in log

    # the queue: every item acknowledged before the backup began is waiting, with its value
    items = {i["id"]: i for i in queue_items(new, new.alice)}
    for qid, value in {**before, **acked_before}.items():
        assert qid in items, f"queue item {qid} ({value}) acknowledged before the backup is gone"
        assert params_of(items[qid]) == {"N": value}
    assert not (sent_after & set(items)), "items sent after the backup ended are in it"

    # numbering goes on from the backup's
    again = build_and_wait(new, "quick", new.alice, V="after-restore")
    assert again["number"] > max(numbers)
    assert again["result"] == "SUCCESS"
    new.stop()


def test_a_build_whose_directory_is_gone_is_left_out_of_the_backup(server, tmp_path):
    # what a discard between the snapshot and the copy leaves: a row without its directory
    create_job(server, "gone", job_xml(script="echo gone-build"))
    for n in (1, 2):
        assert build_and_wait(server, "gone", server.alice)["number"] == n
    shutil.rmtree(os.path.join(server.home, "jobs", "gone", "builds", "1"))
    p = steward(server.home, "backup", str(tmp_path / "b"))
    assert p.returncode == 0, p.stderr
    assert "1 build was discarded or deleted while the backup ran: left out." in p.stderr
    rows = sqlite3.connect(tmp_path / "b" / "steward.db").execute(
        "SELECT number FROM builds WHERE job = 'gone'").fetchall()
    assert rows == [(2,)]
    assert "builds-left-out=1" in (tmp_path / "b" / "steward-backup").read_text()
    assert os.path.exists(tmp_path / "b" / "jobs" / "gone" / "builds" / "2" / "log")


@pytest.fixture
def backed_up(tmp_path):
    """A stopped server's home with a job and a build, and a backup of it."""
    s = started_server(tmp_path / "home")
    try:
        create_job(s, "kept", job_xml(script="echo kept-build"))
        assert build_and_wait(s, "kept", s.alice)["result"] == "SUCCESS"
        p = steward(s.home, "backup", str(tmp_path / "backup"))
        assert p.returncode == 0, p.stderr
    finally:
        s.stop()
    return s, tmp_path / "backup"


def test_backup_refuses_a_destination_that_exists_and_is_not_empty(server, tmp_path):
    dest = tmp_path / "full"
    dest.mkdir()
    (dest / "precious.txt").write_text("keep me")
    p = steward(server.home, "backup", str(dest))
    assert p.returncode == 1
    assert "exists and is not empty" in p.stderr, p.stderr
    assert os.listdir(dest) == ["precious.txt"]
    assert (dest / "precious.txt").read_text() == "keep me"

    afile = tmp_path / "afile"
    afile.write_text("x")
    p = steward(server.home, "backup", str(afile))
    assert p.returncode == 1 and "is not a directory" in p.stderr, p.stderr

    # an empty directory is fine
    empty = tmp_path / "empty"
    empty.mkdir()
    p = steward(server.home, "backup", str(empty))
    assert p.returncode == 0, p.stderr
    assert sorted(os.listdir(empty)) == ["jobs", "nodes", "secrets", "steward-backup",
                                         "steward.db", "uploads"]

    # inside the home it would copy itself
    p = steward(server.home, "backup", os.path.join(server.home, "jobs", "b"))
    assert p.returncode == 1 and "inside the home directory" in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(server.home, "jobs", "b"))

    p = steward(tmp_path / "no-home", "backup", str(tmp_path / "b2"))
    assert p.returncode == 1 and "not a Steward home directory" in p.stderr, p.stderr
    assert not os.path.exists(tmp_path / "b2")

    p = steward(server.home, "backup")
    assert p.returncode == 2 and "Usage: steward [--home DIR] backup DEST" in p.stderr


def test_restore_refuses_what_is_not_a_backup(backed_up, tmp_path):
    s, backup = backed_up
    target = tmp_path / "target"

    def refused(src, words):
        p = steward(target, "restore", str(src))
        assert p.returncode == 1, p
        assert words in p.stderr, p.stderr
        assert not os.path.exists(target / "steward.db")

    empty = tmp_path / "empty"
    empty.mkdir()
    refused(empty, "has no steward-backup manifest")
    refused(tmp_path / "missing", "is not a Steward backup")
    refused(os.path.join(s.home, "steward.db"), "not a directory")

    # a home is not a backup
    refused(s.home, "has no steward-backup manifest")

    # a backup that did not finish has no manifest
    partial = tmp_path / "partial"
    shutil.copytree(backup, partial)
    os.unlink(partial / "steward-backup")
    refused(partial, "a backup that did not finish has none")

    damaged = tmp_path / "damaged"
    shutil.copytree(backup, damaged)
    with open(damaged / "steward.db", "r+b") as f:
        f.write(b"this is not the SQLite header" * 200)
    refused(damaged, "is not a readable SQLite database")

    newer = tmp_path / "newer"
    shutil.copytree(backup, newer)
    db = sqlite3.connect(newer / "steward.db")
    db.execute("PRAGMA user_version = 999")
    db.commit()
    db.close()
    refused(newer, "made by a newer Steward")

    foreign = tmp_path / "foreign"
    shutil.copytree(backup, foreign)
    (foreign / "steward-backup").write_text("format=something-else\n")
    refused(foreign, "not a backup this Steward can read")

    p = steward(target, "restore")
    assert p.returncode == 2 and "Usage: steward [--home DIR] restore SRC" in p.stderr


def test_restore_refuses_while_a_server_runs_on_the_home(backed_up):
    s, backup = backed_up
    s.start()
    try:
        create_job(s, "made-after", job_xml())
        p = steward(s.home, "restore", str(backup))
        assert p.returncode == 1
        assert f"in use by process {s.proc.pid}" in p.stderr, p.stderr
        assert "Stop the server first" in p.stderr
        # nothing changed under the running server
        assert s.get("job/made-after/api/json", auth=s.alice).status_code == 200
        assert not os.path.exists(os.path.join(s.home, ".restore-new"))
    finally:
        s.stop()


def test_restore_over_a_home_replaces_it_and_a_failed_one_leaves_it_as_it_was(backed_up, tmp_path):
    s, backup = backed_up
    s.start()
    create_job(s, "made-after", job_xml())
    assert build_and_wait(s, "kept", s.alice)["number"] == 2
    s.stop()

    # a backup that fails half-way through its copy (a tree too deep to copy)
    deep = tmp_path / "deep"
    shutil.copytree(backup, deep)
    os.makedirs(os.path.join(deep, "jobs", "kept", *(["d"] * 140)))
    p = steward(s.home, "restore", str(deep))
    assert p.returncode == 1, p.stderr
    assert "nothing was restored" in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(s.home, ".restore-new"))
    s.start()
    try:
        assert s.get("job/made-after/api/json", auth=s.alice).status_code == 200
        assert job_info(s, "kept", s.alice)["lastBuild"]["number"] == 2
    finally:
        s.stop()

    # the real one: the home is as the backup was, and the old files are gone
    p = steward(s.home, "restore", str(backup))
    assert p.returncode == 0, p.stderr
    assert sorted(e for e in os.listdir(s.home) if e.startswith(".restore")) == []
    s.start()
    try:
        assert s.get("job/made-after/api/json", auth=s.alice).status_code == 404
        assert job_info(s, "kept", s.alice)["lastBuild"]["number"] == 1
        assert "kept-build" in console(s, "kept", 1, s.alice)
        # the next build takes the number after the backup's, as its log directory is free
        assert build_and_wait(s, "kept", s.alice)["number"] == 2
    finally:
        s.stop()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can restore into another user's home")
def test_a_restore_by_root_gives_the_files_to_the_owner_of_the_home(backed_up, tmp_path):
    _, backup = backed_up
    home = tmp_path / "service-home"
    home.mkdir(mode=0o700)
    os.chown(home, 65534, 65534)  # as a service user's /var/lib/steward
    p = steward(home, "restore", str(backup))
    assert p.returncode == 0, p.stderr
    owners = {}
    for d, dirs, files in os.walk(home):
        for name in dirs + files:
            path = os.path.join(d, name)
            owners[os.path.relpath(path, home)] = os.lstat(path).st_uid
    assert {"steward.db", ".lock", "workspace", "jobs/kept/config.xml",
            "jobs/kept/builds/1/log"} <= set(owners), owners
    assert {path for path, uid in owners.items() if uid != 65534} == set()


def test_an_interrupted_restore_stops_serve_and_restore_until_someone_decides(backed_up):
    s, backup = backed_up
    os.makedirs(os.path.join(s.home, ".restore-old"))
    for args in (("serve", "--listen", "127.0.0.1:0"), ("restore", str(backup))):
        p = steward(s.home, *args)
        assert p.returncode == 1, p
        assert ".restore-old exists: a restore was interrupted" in p.stderr, p.stderr
    os.rmdir(os.path.join(s.home, ".restore-old"))
    p = steward(s.home, "restore", str(backup))
    assert p.returncode == 0, p.stderr


def test_waiting_uploads_and_known_hosts_survive_a_backup_and_restore(tmp_path, orphans):
    from test_file_params import file_job
    old = started_server(tmp_path / "old")
    orphans.append(old)
    create_job(old, "files", file_job(names=("in.bin",), quiet=600))
    data = os.urandom(5000)
    r = old.post("job/files/buildWithParameters", files={"in.bin": ("in.bin", data)},
                 auth=old.alice)
    assert r.status_code == 201, r.text
    uploads = os.listdir(os.path.join(old.home, "uploads"))
    assert len([u for u in uploads if not u.startswith(".")]) == 1, uploads
    hosts = "git.example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBackupRestoreTestKey\n"
    with open(os.path.join(old.home, "known_hosts"), "w") as f:
        f.write(hosts)
    dest = tmp_path / "backup"
    p = steward(old.home, "backup", str(dest))
    assert p.returncode == 0, p.stderr
    old.stop()

    new_home = tmp_path / "new"
    p = steward(new_home, "restore", str(dest))
    assert p.returncode == 0, p.stderr
    with open(new_home / "known_hosts") as f:
        assert f.read() == hosts
    new = Server(new_home)
    new.alice = old.alice
    orphans.append(new)
    new.start()
    try:
        # the start's sweep keeps what the waiting item needs, with its bytes
        (item,) = [i for i in queue_items(new, new.alice) if i["task"]["name"] == "files"]
        kept = [u for u in os.listdir(new_home / "uploads") if not u.startswith(".")]
        assert len(kept) == 1, kept
        with open(new_home / "uploads" / kept[0], "rb") as f:
            assert f.read() == data
        r = new.post("queue/cancelItem", params={"id": item["id"]}, auth=new.alice)
        assert r.status_code in (200, 204, 302), r.text
        wait_for(lambda: not [u for u in os.listdir(new_home / "uploads")
                              if not u.startswith(".")], 20, "the cancelled item's upload to go")
    finally:
        new.stop()

    # a backup from before uploads and host keys were in backups: the home keeps its own
    shutil.rmtree(dest / "uploads")
    os.remove(dest / "known_hosts")
    with open(new_home / "known_hosts", "w") as f:
        f.write("mine " + hosts)
    p = steward(new_home, "restore", str(dest))
    assert p.returncode == 0, p.stderr
    with open(new_home / "known_hosts") as f:
        assert f.read() == "mine " + hosts
