"""Bad input gets a clear 4xx and changes nothing."""
import http.client
import socket
import urllib.parse

import pytest
import requests

from conftest import SLOW, basic, create_job, job_xml
from e2e_helpers import assert_nothing_queued_or_built, job_info, started_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the whole module: every test here must leave it as it found it
    (that is the point: bad input changes nothing), and uses job names of its own."""
    s = started_server(tmp_path_factory.mktemp("limits") / "home")
    yield s
    s.stop()


def ensure_job(server, name, xml):
    if server.get(f"job/{name}/api/json", auth=server.alice).status_code == 404:
        create_job(server, name, xml)


PASSWD_MARKERS = ("root:x:0:0", "root:*:0:0", "/bin/bash", "/usr/sbin/nologin", "daemon:")


def raw(server, method, target, headers=None, body=None):
    """One request exactly as written (no client-side re-encoding of the target)."""
    u = urllib.parse.urlsplit(server.url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30 * SLOW)
    try:
        c.putrequest(method, target, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            c.putheader(k, v)
        if body is not None:
            c.putheader("Content-Length", str(len(body)))
        c.endheaders()
        if body:
            c.send(body)
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


def auth_header(server, who="alice"):
    return {"Authorization": basic(*(server.alice if who == "alice" else server.bob))}


def assert_alive(server):
    r = server.get("whoAmI/api/json", auth=server.alice)
    assert r.status_code == 200 and r.json()["name"] == "alice"


def assert_no_job(server, name):
    if name not in ("", ".", ".."):  # clients remove dot segments themselves
        r = server.get(f"job/{urllib.parse.quote(name, safe='')}/api/json", auth=server.alice)
        assert r.status_code in (400, 404), (name, r.status_code, r.text)
    names = [j["name"] for j in server.get("api/json", auth=server.alice).json()["jobs"]]
    assert name not in names, names


def queue_items_of(server, job):
    r = server.get("queue/api/json", auth=server.alice)
    return [i for i in r.json()["items"] if i["task"]["name"] == job]


def explains(r):
    """A refusal that says something: JSON with a message, or a non-empty text."""
    assert r.text.strip(), "empty refusal"
    try:
        body = r.json()
    except ValueError:
        return r.text
    text = " ".join(str(v) for v in body.values() if v)
    assert text.strip(), body
    return text


# ---- HTTP framing ----

def test_oversized_header_is_refused_and_server_survives(server):
    big = "x" * (64 * 1024)
    try:
        status, _, _ = raw(server, "GET", "/api/json",
                           {**auth_header(server), "X-Big": big})
    except (ConnectionError, http.client.HTTPException, socket.error) as e:
        pytest.fail(f"the server dropped the connection instead of answering 4xx: {e!r}")
    assert status in (400, 413, 431), status
    assert_alive(server)


def test_headers_past_16_kib_are_refused(server):
    """bounds.h: request line + all headers at most 16 KiB (Jenkins' Jetty: 8 KiB, then 431)."""
    status, _, body = raw(server, "GET", "/api/json",
                          {**auth_header(server), "X-Big": "h" * (20 * 1024)})
    assert status in (400, 413, 431), (status, body[:200])
    assert_alive(server)


def test_url_past_8_kib_is_refused(server):
    """bounds.h: a URL of at most 8 KiB (Jenkins' Jetty: 414 URI Too Long past 8 KiB)."""
    status, _, body = raw(server, "GET", "/api/json?x=" + "u" * (9 * 1024), auth_header(server))
    assert status in (400, 414), (status, body[:200])
    assert_alive(server)


def test_oversized_body_to_create_item_is_413(server):
    xml = job_xml(description="x" * (1024 * 1024 + 10)).encode()
    assert len(xml) > 1024 * 1024
    try:
        r = server.post("createItem?name=huge", data=xml, auth=server.alice,
                        headers={"Content-Type": "application/xml"})
        status, text = r.status_code, r.text
    except requests.ConnectionError as e:
        pytest.fail(f"the server dropped the connection instead of answering 413: {e!r}")
    assert status == 413, text
    assert "1048576" in text or "limit" in text.lower()
    assert_no_job(server, "huge")
    assert_alive(server)
    # the same body as a new config.xml of an existing job: 413, the old config stays
    create_job(server, "small", job_xml(description="small"))
    before = server.get("job/small/config.xml", auth=server.alice).content
    r = server.post("job/small/config.xml", data=xml, auth=server.alice,
                    headers={"Content-Type": "application/xml"})
    assert r.status_code == 413, r.text
    assert server.get("job/small/config.xml", auth=server.alice).content == before


def test_oversized_parameter_value_is_400_and_nothing_queued(server):
    create_job(server, "pv", job_xml([("string", "P", "x")], quiet=30))
    big = "v" * (64 * 1024 + 1)
    r = server.post("job/pv/buildWithParameters", data={"P": big}, auth=server.alice)
    assert r.status_code == 400, r.text[:500]
    assert big not in r.text
    msg = explains(r)
    assert "'P'" in msg and "65536" in msg, msg
    assert_nothing_queued_or_built(server, "pv", server.alice)
    # a value at the bound is fine
    ok = server.post("job/pv/buildWithParameters", data={"P": "v" * (64 * 1024)},
                     auth=server.alice)
    assert ok.status_code == 201, ok.text[:500]


# ---- job configuration ----

BAD_XML = "<?xml version='1.1'?><project><description>unclosed</project>"


def test_malformed_xml_create_item_is_400(server):
    r = server.post("createItem?name=broken", data=BAD_XML, auth=server.alice,
                    headers={"Content-Type": "application/xml"})
    assert r.status_code == 400, r.text
    assert "well-formed" in explains(r)
    assert_no_job(server, "broken")


def test_malformed_xml_config_post_keeps_old_config(server):
    xml = job_xml(description="the original", script="echo original")
    create_job(server, "keep", xml)
    before = server.get("job/keep/config.xml", auth=server.alice)
    assert before.status_code == 200
    for bad in (BAD_XML, "", "not xml at all", "<project>" * 100):
        r = server.post("job/keep/config.xml", data=bad, auth=server.alice,
                        headers={"Content-Type": "text/xml; charset=utf-8"})
        assert r.status_code == 400, (bad[:40], r.status_code, r.text)
        explains(r)
    after = server.get("job/keep/config.xml", auth=server.alice)
    assert after.content == before.content
    assert job_info(server, "keep", server.alice)["description"] == "the original"
    # and it still builds with the old script
    b = server.post("job/keep/build", auth=server.alice)
    n = server.wait_queue_item(b.headers["Location"], server.alice)["executable"]["number"]
    server.wait_build("keep", n, server.alice)
    assert "original" in server.get(f"job/keep/{n}/consoleText", auth=server.alice).text


XXE = ("<?xml version='1.0'?>\n<!DOCTYPE project [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
       "<project><description>&xxe;</description><builders><hudson.tasks.Shell>"
       "<command>echo hi</command></hudson.tasks.Shell></builders></project>")
LAUGHS = ("<?xml version='1.0'?>\n<!DOCTYPE project [\n<!ENTITY lol \"lol\">\n"
          + "".join(f"<!ENTITY lol{i} \"{('&lol%s;' % (i - 1 if i > 1 else '')) * 10}\">\n"
                    for i in range(1, 10))
          + "]>\n<project><description>&lol9;</description><builders/></project>")
PLAIN_DOCTYPE = "<?xml version='1.0'?>\n<!DOCTYPE project>\n" + job_xml().split("\n", 1)[1]


@pytest.mark.parametrize("hostile", [XXE, LAUGHS, PLAIN_DOCTYPE], ids=["xxe", "laughs", "doctype"])
def test_hostile_xml_is_refused(server, hostile):
    r = server.post("createItem?name=hostile", data=hostile, auth=server.alice,
                    headers={"Content-Type": "application/xml"})
    assert r.status_code == 400, r.text
    msg = explains(r)
    assert "DOCTYPE" in msg or "entit" in msg.lower(), msg
    assert not any(m in r.text for m in PASSWD_MARKERS), r.text
    assert "lollollol" not in r.text
    assert_no_job(server, "hostile")

    # the same against an existing job's config.xml: refused, config unchanged
    ensure_job(server, "target", job_xml(description="safe"))
    before = server.get("job/target/config.xml", auth=server.alice).content
    r = server.post("job/target/config.xml", data=hostile, auth=server.alice,
                    headers={"Content-Type": "application/xml"})
    assert r.status_code == 400, r.text
    assert not any(m in r.text for m in PASSWD_MARKERS)
    assert server.get("job/target/config.xml", auth=server.alice).content == before
    info = server.get("job/target/api/json", auth=server.alice).text
    assert not any(m in info for m in PASSWD_MARKERS) and "lollollol" not in info
    everything = server.get("api/json?depth=2", auth=server.alice).text
    assert not any(m in everything for m in PASSWD_MARKERS)


# ---- parameters ----

def test_illegal_choice_is_400_naming_the_choices(server):
    create_job(server, "choose", job_xml([("choice", "MODE", ["debug", "release", "profile"])],
                                         quiet=30, token="tt"))
    for send in (lambda: server.post("job/choose/buildWithParameters?MODE=fast", auth=server.alice),
                 lambda: server.get("job/choose/buildWithParameters?token=tt&MODE=fast")):
        r = send()
        assert r.status_code == 400, r.text
        msg = explains(r)
        assert "MODE" in msg and "fast" in msg, msg
        for c in ("debug", "release", "profile"):
            assert c in msg, msg
    assert_nothing_queued_or_built(server, "choose", server.alice)


def test_parameter_given_twice_is_400(server):
    create_job(server, "twice", job_xml([("string", "P", "x")], quiet=30))
    r = server.post("job/twice/buildWithParameters?P=a&P=b", auth=server.alice)
    assert r.status_code == 400, r.text
    assert "'P'" in explains(r)
    # once in the query and once in the form body counts as twice too
    r = server.post("job/twice/buildWithParameters?P=a", data={"P": "b"}, auth=server.alice)
    assert r.status_code == 400, r.text
    assert_nothing_queued_or_built(server, "twice", server.alice)


@pytest.mark.parametrize("delay", ["abc", "-5sec", "10min", "5 sec", "1e3"])
def test_bad_delay_is_400(server, delay):
    ensure_job(server, "delayed", job_xml(token="tok"))
    r = server.post("job/delayed/build", params={"delay": delay}, auth=server.alice)
    assert r.status_code == 400, (delay, r.status_code, r.text)
    assert "delay" in explains(r)
    r = server.get("job/delayed/build", params={"delay": delay, "token": "tok"})
    assert r.status_code == 400, (delay, r.status_code, r.text)
    assert_nothing_queued_or_built(server, "delayed", server.alice)


def test_too_many_query_fields_is_400(server):
    create_job(server, "many", job_xml([("string", "P", "x")], quiet=30))
    query = "&".join(f"f{i}={i}" for i in range(256))  # with P: 257 fields
    status, _, body = raw(server, "POST", f"/job/many/buildWithParameters?P=y&{query}",
                          auth_header(server), b"")
    assert status == 400, body
    assert body.strip()
    assert_nothing_queued_or_built(server, "many", server.alice)
    # as a form body too
    status, _, _ = raw(server, "POST", "/job/many/buildWithParameters",
                       {**auth_header(server), "Content-Type": "application/x-www-form-urlencoded"},
                       ("P=y&" + query).encode())
    assert status == 400
    # split between the query and the body: still 257
    status, _, _ = raw(server, "POST", "/job/many/buildWithParameters?" + query,
                       {**auth_header(server), "Content-Type": "application/x-www-form-urlencoded"},
                       b"P=y")
    assert status == 400
    assert_nothing_queued_or_built(server, "many", server.alice)
    # 256 fields are fine: the unknown ones are ignored
    status, headers, body = raw(server, "POST", "/job/many/buildWithParameters?P=y&"
                                + query.rsplit("&", 1)[0], auth_header(server), b"")
    assert status == 201, body
    assert len(queue_items_of(server, "many")) == 1


def test_too_many_query_fields_on_a_read_url_is_400(server):
    """The bound holds on every URL, not only on triggers: 300 fields are not silently cut."""
    query = "&".join(f"f{i}={i}" for i in range(300))
    status, _, body = raw(server, "GET", f"/api/json?{query}", auth_header(server))
    assert status == 400, (status, body[:300])
    assert b"256" in body, body


@pytest.mark.parametrize("target", ["/api/json?tree=%zz", "/api/json?depth=%", "/api/json?x=%4",
                                    "/job/a%zzb/api/json", "/api/json?a=%00"])
def test_malformed_percent_escape_is_400(server, target):
    status, _, body = raw(server, "GET", target, auth_header(server))
    assert status == 400, (target, status, body)
    assert body.strip()


def test_malformed_percent_escape_in_trigger_queues_nothing(server):
    create_job(server, "esc", job_xml([("string", "P", "x")], quiet=30, token="tok"))
    status, _, body = raw(server, "GET", "/job/esc/buildWithParameters?token=tok&P=%G1")
    assert status == 400, body
    status, _, body = raw(server, "POST", "/job/esc/buildWithParameters?P=ok",
                          {**auth_header(server),
                           "Content-Type": "application/x-www-form-urlencoded"}, b"P=%")
    assert status == 400, body
    assert_nothing_queued_or_built(server, "esc", server.alice)


# ---- names, users, ids ----

@pytest.mark.parametrize("name", ["a/b", "..", ".", "a\x01b", "tab\tname", "new\nline",
                                  "x" * 201, "", "a\x7fb"],
                         ids=["slash", "dotdot", "dot", "ctrl", "tab", "newline", "long", "empty",
                              "del"])
def test_bad_job_names_are_400(server, name):
    r = server.post("createItem", params={"name": name}, data=job_xml(), auth=server.alice,
                    headers={"Content-Type": "application/xml"})
    assert r.status_code == 400, (name, r.status_code, r.text)
    assert "name" in explains(r).lower()
    assert_no_job(server, name)


def test_longest_job_name_is_fine(server):
    create_job(server, "n" * 200, job_xml())
    assert job_info(server, "n" * 200, server.alice)["name"] == "n" * 200


def test_rename_to_bad_name_is_400(server):
    create_job(server, "good", job_xml())
    for bad in ("a/b", "..", "x" * 201):
        r = server.post("job/good/doRename", params={"newName": bad}, auth=server.alice,
                        allow_redirects=False)
        assert r.status_code == 400, (bad, r.status_code, r.text)
        assert_no_job(server, bad)
    assert job_info(server, "good", server.alice)["name"] == "good"


def test_unknown_user_basic_auth_is_401_and_creates_nothing(server):
    r = server.post("createItem?name=ghost", data=job_xml(), auth=("mallory", server.alice_token),
                    headers={"Content-Type": "application/xml"})
    assert r.status_code == 401, r.text
    assert r.headers["WWW-Authenticate"].startswith("Basic")
    assert server.alice_token not in r.text
    assert_no_job(server, "ghost")


def test_cancel_item_unknown_and_non_numeric(server):
    r = server.post("queue/cancelItem?id=987654", auth=server.alice, allow_redirects=False)
    assert r.status_code == 404, r.text
    assert "987654" in explains(r)
    for bad in ("abc", "-1", "0", "1.5", "", "99999999999999999999999"):
        r = server.post("queue/cancelItem", params={"id": bad}, auth=server.alice,
                        allow_redirects=False)
        assert r.status_code == 400, (bad, r.status_code, r.text)
    r = server.post("queue/cancelItem", auth=server.alice, allow_redirects=False)
    assert r.status_code == 400, r.text
    # unknown and non-numeric queue item pages
    assert server.get("queue/item/987654/api/json", auth=server.alice).status_code == 404
    assert server.get("queue/item/abc/api/json", auth=server.alice).status_code == 400
