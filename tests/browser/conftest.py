"""Browser tests: headless Debian Chromium, driven by Debian's python3-selenium.

One server and one browser serve the whole suite, so it stays fast; each
test uses its own jobs. Screenshots go to test-artifacts/screenshots/.
"""
import os
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser_helpers import ADMIN, SHOTS, SLOW, Server, sign_in  # noqa: E402


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("browser") / "home", executors=3)
    s.add_user(*ADMIN, admin=True)
    s.add_user("bob", "bob-password")
    s.alice_token = s.new_token("alice", "setup")
    s.alice = ("alice", s.alice_token)
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="steward-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--no-first-run", "--no-default-browser-check", "--disable-extensions",
              "--window-size=1280,900", f"--user-data-dir={profile}"):
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=opts)
    d.set_page_load_timeout(30 * SLOW)
    os.makedirs(SHOTS, exist_ok=True)
    yield d
    d.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def ui(browser, server):
    """The browser, signed in as alice (the administrator)."""
    if not getattr(browser, "_signed_in", False):
        sign_in(browser, server, *ADMIN)
        browser._signed_in = True
    browser.set_window_size(1280, 900)
    return browser


