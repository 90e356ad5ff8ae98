"""Helpers shared by the browser tests (the fixtures are in conftest.py).

The server harness is tests/e2e/conftest.py's Server, loaded under another
module name, since both files are called conftest.py.
"""
import importlib.util
import os
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHOTS = os.path.join(ROOT, "test-artifacts", "screenshots")

_spec = importlib.util.spec_from_file_location("e2e_conftest",
                                               os.path.join(ROOT, "tests", "e2e", "conftest.py"))
e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(e2e)
Server = e2e.Server
job_xml = e2e.job_xml
SLOW = e2e.SLOW
_spec = importlib.util.spec_from_file_location("e2e_sign_in",
                                               os.path.join(ROOT, "tests", "e2e", "sign_in.py"))
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)
web_sign_in = _helpers.web_sign_in

ADMIN = ("alice", "alice-password")


def sign_in(d, server, user, password, path=""):
    from selenium.webdriver.common.by import By
    d.get(server.url + "login?from=/" + path)
    d.find_element(By.ID, "u").send_keys(user)
    d.find_element(By.ID, "p").send_keys(password)
    d.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(lambda: "/login" not in d.current_url, what="signed in")


def shot(d, name, full=True):
    """Saves a screenshot of the whole page (test-artifacts/screenshots/NAME.png)."""
    path = os.path.join(SHOTS, name + ".png")
    size = d.get_window_size()
    if full:
        h = d.execute_script("return Math.max(document.documentElement.scrollHeight, 400)")
        d.set_window_size(size["width"], min(h + 140, 6000))
        time.sleep(0.15)
    d.save_screenshot(path)
    if full:
        d.set_window_size(size["width"], size["height"])
    return path


def wait_for(cond, timeout=20, what="condition", interval=0.05):
    deadline = time.time() + timeout * SLOW
    last = None
    while time.time() < deadline:
        try:
            last = cond()
            if last:
                return last
        except Exception as e:  # the page may be half-updated
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def create_job(server, name, xml):
    r = server.post(f"createItem?name={name}", data=xml.encode(),
                    headers={"Content-Type": "application/xml"}, auth=server.alice)
    assert r.status_code == 200, r.text


def session_of(d):
    """A requests session carrying the browser's session cookie (and nothing else)."""
    s = requests.Session()
    for c in d.get_cookies():
        s.cookies.set(c["name"], c["value"])
    return s
