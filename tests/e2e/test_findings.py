"""The security review's smaller findings, each with the reproduction that showed it."""
import os
import re
import sqlite3
import stat
import urllib.parse

import requests

from conftest import Server, create_job, job_xml
from e2e_helpers import console, web_sign_in


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
    values = db.execute("SELECT j.value->>2, q.secrets FROM queue q, json_each(q.params) j "
                        "WHERE j.value->>0 = 'SECRET'").fetchall()
    db.close()
    assert values == [("", 0)], values
    with open(os.path.join(server.home, "steward.db"), "rb") as f:
        assert secret.encode() not in f.read()


def test_the_current_password_check_of_me_configure_is_throttled(server):
    """It used to run argon2id unthrottled: a signed-in session could guess forever."""
    s = requests.Session()
    s.headers["Accept"] = "text/html"
    r = web_sign_in(server.url, "bob", "bob-password", session=s)
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
        r = web_sign_in(server.url, "bob", f"wrong-{i}", session=s)
        assert r.status_code == 401
    r = web_sign_in(server.url, "bob", "bob-password", session=s)
    assert r.status_code == 429 and "Too many failed sign-ins" in r.text
    assert int(r.headers["Retry-After"]) >= 1


def sign_in(server, user, password):
    return web_sign_in(server.url, user, password)


def test_basic_requests_start_no_sessions_and_a_user_keeps_at_most_16(server):
    """4,200 Basic-password requests to /crumbIssuer/api/json used to fill the session
    table, and every web sign-in failed for 12 hours after."""
    with requests.Session() as s:
        for _ in range(300):
            r = s.get(server.url + "crumbIssuer/api/json", auth=("bob", "bob-password"),
                      timeout=30)
            assert r.status_code == 200 and "Set-Cookie" not in r.headers
        assert not s.cookies
    # the crumb needs no session: a Basic POST goes through with it or without it
    assert server.post("job/none/build", auth=("bob", "bob-password")).status_code == 404
    # sign-ins: each makes a session; the 17th ends the first, never a refusal
    cookies = []
    for _ in range(17):
        r = sign_in(server, "bob", "bob-password")
        assert r.status_code in (302, 303), r.text
        cookies.append(r.cookies["STEWARD_SESSION"])
    me = lambda sid: server.get("me/api/json", cookies={"STEWARD_SESSION": sid}).status_code
    assert me(cookies[0]) == 401
    assert all(me(c) == 200 for c in cookies[1:])
    # another user's sign-in is not affected by bob's
    r = sign_in(server, "alice", "alice-password")
    assert me(r.cookies["STEWARD_SESSION"]) == 200


def test_one_slow_client_does_not_stop_the_others(server):
    """One client holding 1,030 slow connections blocked everyone for 170 s."""
    import resource
    import socket
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    port = int(server.url.rsplit(":", 1)[1].strip("/"))
    held = []
    try:
        # from another loopback address, so that only it is the slow client
        for _ in range(1100):
            c = socket.socket()
            c.bind(("127.0.0.2", 0))
            c.settimeout(5)
            try:
                c.connect(("127.0.0.1", port))
                c.sendall(b"GET /api/json HTTP/1.1\r\nHost: x\r\n")  # and never the rest
            except OSError:
                c.close()
                continue
            held.append(c)
        for _ in range(5):
            r = requests.get(server.url + "api/json", auth=server.alice, timeout=5)
            assert r.status_code == 200
    finally:
        for c in held:
            c.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_the_queue_is_bounded_by_bytes_and_its_listing_never_answers_empty(tmp_path):
    """9,200 token triggers with two 64 KiB parameters and delay=3600sec took the server to
    1.27 GiB; four GET /queue/api/json then peaked at 15.4 GiB and answered an empty 200."""
    s = Server(tmp_path / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.alice = ("alice", s.new_token("alice", "t"))
    s.start("--queue-memory", "32")
    try:
        create_job(s, "big", job_xml([("string", "A", ""), ("string", "B", "")], token="tok"))
        value = "x" * (64 * 1024 - 8)           # a parameter value is at most 64 KiB
        codes = []
        with requests.Session() as http:
            for i in range(300):
                r = http.post(s.url + "job/big/buildWithParameters?token=tok&delay=3600sec",
                              data={"A": f"{i:08d}{value}", "B": value}, timeout=30)
                codes.append(r.status_code)
                if r.status_code == 503:
                    assert "MiB" in r.json()["presented"] and r.headers["Retry-After"], r.text
                    break
        assert codes[-1] == 503 and set(codes[:-1]) == {201}, codes
        queued = len(codes) - 1
        assert 200 < queued < 256, queued      # 32 MiB of 128 KiB items, with their keeping
        # the whole queue with its values would pass the answer limit: a 503 that says so
        r = s.get("queue/api/json", auth=s.alice)
        assert r.status_code == 503 and "tree=" in r.json()["fix"], r.status_code
        # without the values it answers, and each item still has them
        r = s.get("queue/api/json?tree=items[id,task[name]]", auth=s.alice)
        assert r.status_code == 200 and len(r.json()["items"]) == queued
        one = r.json()["items"][0]["id"]
        item = s.get(f"queue/item/{one}/api/json", auth=s.alice).json()
        params = [p for a in item["actions"] for p in a.get("parameters", [])]
        assert {p["name"] for p in params} == {"A", "B"}
    finally:
        s.stop()


def test_behind_a_trusted_proxy_each_client_has_its_own_address(tmp_path):
    """Keyed on the TCP peer alone, the throttle would lock out everyone behind a proxy."""
    s = Server(tmp_path / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.alice = ("alice", s.new_token("alice", "t"))
    s.start("--trusted-proxy", "127.0.0.0/8")
    try:
        create_job(s, "j", job_xml(token="tok", quiet=3600))
        mallory = {"X-Forwarded-For": "203.0.113.66"}
        carol = {"X-Forwarded-For": "198.51.100.7, 127.0.0.1"}   # through a second proxy
        codes = [s.get("api/json", auth=("alice", f"wrong-{i}"), headers=mallory).status_code
                 for i in range(21)]
        assert codes[-1] == 429 and "203.0.113.66" in s.get(
            "api/json", auth=("alice", "x"), headers=mallory).json()["presented"]
        # another client behind the same proxy signs in
        assert s.get("api/json", auth=("alice", "alice-password"), headers=carol).status_code == 200
        # and her trigger's cause names her address, not the proxy's
        r = s.post("job/j/build?token=tok", headers=carol)
        assert r.status_code == 201
        item = s.get(r.headers["Location"].split(s.url, 1)[1] + "api/json", auth=s.alice).json()
        assert "198.51.100.7" in str(item["actions"]), item["actions"]
    finally:
        s.stop()
    # without --trusted-proxy the header is the client's word and counts for nothing
    s.start()
    try:
        r = s.post("job/j/build?token=tok", headers={"X-Forwarded-For": "192.0.2.1"})
        item = s.get(r.headers["Location"].split(s.url, 1)[1] + "api/json", auth=s.alice).json()
        assert "192.0.2.1" not in str(item["actions"]) and "127.0.0.1" in str(item["actions"])
    finally:
        s.stop()


def test_the_login_form_has_a_crumb_so_no_other_site_can_sign_a_browser_in(server):
    """Without one, a page elsewhere could post the form and sign the visitor in as the
    attacker (login CSRF)."""
    bare = requests.post(server.url + "j_spring_security_check", allow_redirects=False,
                         data={"j_username": "bob", "j_password": "bob-password"}, timeout=30)
    assert bare.status_code == 403 and "crumb" in bare.text
    assert "STEWARD_SESSION" not in bare.cookies
    # a crumb from someone else's login page does not fit this browser's cookie
    other = requests.Session()
    crumb = re.search(r'name="Jenkins-Crumb" value="([0-9a-f]+)"',
                      other.get(server.url + "login", timeout=30).text).group(1)
    forged = requests.post(server.url + "j_spring_security_check", allow_redirects=False,
                           data={"j_username": "bob", "j_password": "bob-password",
                                 "Jenkins-Crumb": crumb},
                           cookies={"STEWARD_LOGIN": "0" * 64}, timeout=30)
    assert forged.status_code == 403 and "STEWARD_SESSION" not in forged.cookies
    # the page's own form works, and its cookie is SameSite=Strict
    page = requests.get(server.url + "login", timeout=30)
    assert "SameSite=Strict" in page.headers["Set-Cookie"]
    assert web_sign_in(server.url, "bob", "bob-password").status_code == 302
