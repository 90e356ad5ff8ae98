"""The web session cookie: its attributes, its path under a public URL with a path, logout."""
import re

import requests

from conftest import Server
from e2e_helpers import web_sign_in


def sign_in(url, user, password):
    return web_sign_in(url, user, password)


def crumb_of(url, cookies):
    """The crumb of a signed-in session, as its pages carry it."""
    page = requests.get(url + "me/configure", cookies=cookies, timeout=10,
                        headers={"Accept": "text/html"}).text
    m = re.search(r'<meta name="crumb" content="([^"]+)"', page)
    assert m, page[:2000]
    return m.group(1)


def sign_out(url, cookies):
    return requests.post(url + "logout", cookies=cookies, timeout=10, allow_redirects=False,
                         data={"Jenkins-Crumb": crumb_of(url, cookies)})


def attributes(set_cookie):
    name_value, *attrs = [a.strip() for a in set_cookie.split(";")]
    return name_value, {a.split("=", 1)[0].lower(): (a.split("=", 1) + [""])[1] for a in attrs}


def test_the_session_cookie_is_http_only_lax_and_ends_at_logout(server):
    r = sign_in(server.url, "alice", "alice-password")
    assert r.status_code == 302, r.text
    name_value, attrs = attributes(r.headers["Set-Cookie"])
    name, sid = name_value.split("=", 1)
    assert name == "STEWARD_SESSION" and len(sid) >= 32
    assert attrs == {"path": "/", "httponly": "", "samesite": "Lax"}  # plain http: not Secure

    cookies = {name: sid}
    who = requests.get(server.url + "me/api/json", cookies=cookies, timeout=10)
    assert who.status_code == 200 and who.json()["id"] == "alice"

    # a link (or another site's <img src=.../logout>) does not sign anyone out: the page
    # it gets has the button, which POSTs with the crumb
    page = requests.get(server.url + "logout", cookies=cookies, timeout=10, allow_redirects=False)
    assert page.status_code == 200 and 'action="/logout"' in page.text and "Jenkins-Crumb" in page.text
    assert "Set-Cookie" not in page.headers
    # nor does a POST without the crumb, as another site's form would send it
    forged = requests.post(server.url + "logout", cookies=cookies, timeout=10,
                           allow_redirects=False)
    assert forged.status_code == 403 and "Set-Cookie" not in forged.headers
    assert requests.get(server.url + "me/api/json", cookies=cookies, timeout=10).status_code == 200

    out = sign_out(server.url, cookies)
    assert out.status_code == 302
    name_value, attrs = attributes(out.headers["Set-Cookie"])
    assert name_value == "STEWARD_SESSION=" and attrs["max-age"] == "0" and attrs["path"] == "/"
    # the session is over on the server, not only in the browser
    assert requests.get(server.url + "me/api/json", cookies=cookies, timeout=10).status_code == 401


def test_behind_a_proxy_path_the_cookie_is_scoped_to_it_and_secure_under_https(tmp_path):
    s = Server(tmp_path / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.start("--url", "https://ci.example.com/steward/")
    try:
        r = sign_in(s.url, "alice", "alice-password")
        assert r.status_code == 302, r.text
        assert r.headers["Location"].startswith("https://ci.example.com/steward/")
        _, attrs = attributes(r.headers["Set-Cookie"])
        assert attrs["path"] == "/steward/" and "secure" in attrs and "httponly" in attrs
        sid = r.headers["Set-Cookie"].split(";", 1)[0].split("=", 1)[1]
        out = sign_out(s.url, {"STEWARD_SESSION": sid})
        # both the cookie of this path and one an older Steward set on / are ended
        ended = [attributes(c) for c in out.raw.headers.getlist("Set-Cookie")]
        assert [(nv, a["path"], a["max-age"]) for nv, a in ended] == [
            ("STEWARD_SESSION=", "/steward/", "0"), ("STEWARD_SESSION=", "/", "0")]
    finally:
        s.stop()


def test_a_url_with_a_query_or_control_characters_is_refused_at_start(tmp_path):
    s = Server(tmp_path / "home")
    for url in ("https://ci.example.com/ci?x=1", "https://ci.example.com/a b/",
                "https://ci.example.com/#frag", "https://ci.example.com/a;b/"):
        p = s.admin("serve", "--listen", "127.0.0.1:0", "--url", url, check=False)
        assert p.returncode != 0 and "--url must be a plain URL" in p.stderr, (url, p.stderr)
