"""Signing in as a browser does, for the e2e and browser tests."""
import re

import requests


def web_sign_in(url, user, password, session=None, **extra):
    """Signs in as a browser does: the login page (its cookie and the form's crumb), then the
    form. Returns the form's answer; the session, if given, keeps the cookies."""
    http = session or requests.Session()
    page = http.get(url + "login", timeout=30)
    m = re.search(r'name="Jenkins-Crumb" value="([0-9a-f]+)"', page.text)
    assert m, page.text[:2000]
    # sent by hand too: behind a public URL with a path (or https) the jar would keep it back
    nonce = re.search(r"STEWARD_LOGIN=([0-9a-f]{64})", page.headers.get("Set-Cookie", ""))
    cookies = {"STEWARD_LOGIN": nonce.group(1)} if nonce else None
    return http.post(url + "j_spring_security_check", timeout=30, allow_redirects=False,
                     cookies=cookies, data={"j_username": user, "j_password": password,
                                            "Jenkins-Crumb": m.group(1), **extra})
