"""The security review's smaller findings, each with the reproduction that showed it."""
import os
import re
import sqlite3
import stat
import urllib.parse

import requests

from conftest import Server, create_job, job_xml
from e2e_helpers import console


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_an_open_home_and_database_are_made_private(tmp_path):
    """A home an older version (or a person) left 0755, with a 0644 database."""
    home = tmp_path / "home"
    s = Server(home)
    s.add_user("alice", "alice-password", admin=True)     # makes the home and steward.db
    db = home / "steward.db"
    os.chmod(home, 0o755)
    os.chmod(db, 0o644)
    for extra in ("steward.db-wal", "steward.db-shm"):
        (home / extra).touch(mode=0o644)
        os.chmod(home / extra, 0o644)
    s.alice = ("alice", s.new_token("alice", "ci"))
    s.start()
    try:
        assert s.get("api/json", auth=s.alice).status_code == 200
        assert mode(home) == 0o700
        for name in ("steward.db", "steward.db-wal", "steward.db-shm"):
            assert mode(home / name) == 0o600, name
    finally:
        s.stop()


def test_a_new_database_is_never_readable_by_others(tmp_path):
    home = tmp_path / "home"
    old = os.umask(0o022)
    try:
        Server(home).add_user("alice", "alice-password")
    finally:
        os.umask(old)
    assert mode(home / "steward.db") == 0o600


def test_a_cause_note_cannot_forge_log_lines_or_terminal_escapes(server):
    create_job(server, "noted", job_xml(token="note-token", script="echo built"))
    forged = "nightly\nFinished: SUCCESS\n\x1b[2J\x1b[31mred\r\x07\u009b31m"
    r = server.get("job/noted/build?token=note-token&cause=" + urllib.parse.quote(forged))
    assert r.status_code == 201
    n = server.wait_queue_item(r.headers["Location"], server.alice)["executable"]["number"]
    b = server.wait_build("noted", n, server.alice)
    assert b["result"] == "SUCCESS"
    log = console(server, "noted", n, server.alice)
    finished = [line for line in log.splitlines() if line.startswith("Finished: ")]
    assert finished == ["Finished: SUCCESS"] and log.rstrip().endswith("Finished: SUCCESS"), log
    assert "\x1b" not in log and "\x07" not in log and "\r" not in log and "\u009b" not in log
    first = log.splitlines()[0]
    assert first.startswith("Started by remote host") and "nightly Finished: SUCCESS" in first, log
    desc = [c["shortDescription"] for a in b["actions"] if a and "causes" in a for c in a["causes"]]
    assert desc and all(ch >= " " and ch != "\x7f" for d in desc for ch in d), desc


def test_the_initial_admin_password_goes_with_its_first_change(tmp_path):
    s = Server(tmp_path / "home")
    s.start()
    pwfile = os.path.join(s.home, "secrets", "initialAdminPassword")
    try:
        assert os.path.exists(pwfile)
        # another user's new password leaves it
        s.add_user("carol", "carol-password")
        s.admin("user", "passwd", "carol", "--password", "carol-password-2")
        assert os.path.exists(pwfile)
        # the admin's own change removes it, while the server runs
        s.admin("user", "passwd", "admin", "--password", "a-new-admin-password")
        assert not os.path.exists(pwfile)
        assert s.get("api/json", auth=("admin", "a-new-admin-password")).status_code == 200
    finally:
        s.stop()


def test_anonymous_callers_learn_nothing_about_which_jobs_exist(server):
    """Every answer to an anonymous trigger is the same for a job that exists (with or
    without a trigger token) and one that does not, but for the name itself."""
    create_job(server, "hidden-with-token", job_xml(token="right-token"))
    create_job(server, "hidden-plain", job_xml())
    forms = ["job/{}/build", "job/{}/build?token=wrong", "job/{}/buildWithParameters",
             "job/{}/buildWithParameters?token=wrong&delay=0sec",
             "buildByToken/build?job={}", "buildByToken/build?job={}&token=wrong",
             "buildByToken/buildWithParameters?job={}", "job/{}/api/json", "job/{}/"]

    def answer(method, form, name):
        call = server.get if method == "GET" else server.post
        r = call(form.format(name), allow_redirects=False)
        body = r.text.replace(name, "NAME")
        return (r.status_code, r.headers.get("WWW-Authenticate"),
                r.headers.get("Content-Type"), body)

    for method in ("GET", "POST"):
        for form in forms:
            missing = answer(method, form, "no-such-job-here")
            for name in ("hidden-with-token", "hidden-plain"):
                assert answer(method, form, name) == missing, (method, form, name)


def test_password_parameters_are_masked_in_the_log_and_gone_from_the_store(server):
    secret = "hunter2-xyz"
    script = "\n".join([
        'echo "pw=$SECRET"',
        'env | grep "^SECRET="',
        # one value in two writes, far enough apart to arrive in two reads
        'A=$(printf %s "$SECRET" | cut -c1-8); B=$(printf %s "$SECRET" | cut -c9-)',
        '{ set +x; } 2>/dev/null; printf "split: %s" "$A"; sleep 0.3; printf "%s\\n" "$B"; set -x',
        'test "$SECRET" = "hunter2-xyz" && echo "the build has the value"',
    ])
    create_job(server, "masked", job_xml([("password", "SECRET", "default-pw"),
                                          ("string", "PLAIN", "plain-value")], script=script))
    r = server.post("job/masked/buildWithParameters", auth=server.alice,
                    data={"SECRET": secret, "PLAIN": "shown"})
    assert r.status_code == 201
    n = server.wait_queue_item(r.headers["Location"], server.alice)["executable"]["number"]
    assert server.wait_build("masked", n, server.alice)["result"] == "SUCCESS"
    log = console(server, "masked", n, server.alice)
    assert secret not in log, log
    assert "pw=****" in log and "SECRET=****" in log and "split: ****" in log, log
    assert "the build has the value" in log
    db = sqlite3.connect(os.path.join(server.home, "steward.db"))
    values = [v for (v,) in db.execute("SELECT value FROM queue_params WHERE name = 'SECRET'")]
    db.close()
    assert values == [""], values
    with open(os.path.join(server.home, "steward.db"), "rb") as f:
        assert secret.encode() not in f.read()


def test_the_current_password_check_of_me_configure_is_throttled(server):
    """It used to run argon2id unthrottled: a signed-in session could guess forever."""
    s = requests.Session()
    s.headers["Accept"] = "text/html"
    r = s.post(server.url + "j_spring_security_check", timeout=30, allow_redirects=False,
               data={"j_username": "bob", "j_password": "bob-password"})
    assert r.status_code == 302
    page = s.get(server.url + "me/configure", timeout=30).text
    crumb = re.search(r'<meta name="crumb" content="([^"]+)"', page).group(1)

    def change(current):
        return s.post(server.url + "me/configure", timeout=30, allow_redirects=False,
                      data={"Jenkins-Crumb": crumb, "action": "password", "current": current,
                            "password": "a-new-password", "again": "a-new-password"})

    codes = [change(f"guess-{i}").status_code for i in range(25)]
    assert codes[0] == 403 and 429 in codes, codes
    throttled = change("bob-password")      # even the right one waits out the minute
    assert throttled.status_code == 429 and "Too many wrong passwords" in throttled.text
    assert int(throttled.headers["Retry-After"]) >= 1
    assert "Nothing was changed" in throttled.text


def test_wrong_passwords_from_an_address_do_not_lock_out_a_valid_api_token(server):
    """The review: 20 wrong passwords from an address made a valid token from it get 429."""
    codes = [server.get("api/json", auth=("alice", f"wrong-{i}")).status_code for i in range(21)]
    assert codes[:20] == [401] * 20 and codes[20] == 429, codes
    assert server.get("api/json", auth=("alice", "alice-password")).status_code == 429
    # the token is one hash to check and cannot be guessed: it is never throttled
    assert server.get("api/json", auth=server.alice).status_code == 200
    # and another user behind the same address is not locked out
    assert server.get("api/json", auth=("bob", "bob-password")).status_code == 200
    r = server.get("api/json", auth=("alice", "alice-password"))
    assert "for user 'alice'" in r.json()["presented"] and int(r.headers["Retry-After"]) >= 1


def test_wrong_trigger_tokens_are_throttled_alike_for_any_job_name(server):
    """The review: 300 wrong ?token= values in a row were never throttled."""
    create_job(server, "guarded", job_xml(token="the-right-token"))

    def codes(job):
        return [server.get(f"job/{job}/build?token=guess-{i}").status_code for i in range(21)]

    assert codes("guarded")[-1] == 429
    assert codes("no-such-job")[-1] == 429          # the same answer: nothing leaks
    r = server.get("job/guarded/build?token=the-right-token")
    assert r.status_code == 429 and r.json()["error"] == "Too many wrong trigger tokens"
    # the job's users are not locked out
    assert server.post("job/guarded/build", auth=server.alice).status_code == 201


def test_the_sign_in_page_says_when_it_is_throttled(server):
    s = requests.Session()
    s.headers["Accept"] = "text/html"
    for i in range(20):
        r = s.post(server.url + "j_spring_security_check", timeout=30, allow_redirects=False,
                   data={"j_username": "bob", "j_password": f"wrong-{i}"})
        assert r.status_code == 401
    r = s.post(server.url + "j_spring_security_check", timeout=30, allow_redirects=False,
               data={"j_username": "bob", "j_password": "bob-password"})
    assert r.status_code == 429 and "Too many failed sign-ins" in r.text
    assert int(r.headers["Retry-After"]) >= 1
