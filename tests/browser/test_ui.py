"""The web UI in a real browser: the remote-trigger story from the UI alone,
live consoles, stopping builds, API tokens, CSRF, and a screenshot of each page
(test-artifacts/screenshots/)."""
import re
import subprocess
import time

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from browser_helpers import (ADMIN, Server, create_job, job_xml, session_of, shot, sign_in, wait_for,
                             web_sign_in)


def by_id(d, i):
    """The element with that id, once the page that has it has loaded (after a click, say)."""
    return wait_for(lambda: d.find_elements(By.ID, i), what=f"#{i}")[0]


def css(d, sel):
    return d.find_element(By.CSS_SELECTOR, sel)


def text_of(d, sel):
    return d.find_element(By.CSS_SELECTOR, sel).text


def test_sign_in_comes_back_to_the_page_that_asked(browser, server):
    browser.delete_all_cookies()
    browser._signed_in = False
    browser.get(server.url + "job/hello/")   # the sample job does not exist here: any job page
    assert "/login?from=" in browser.current_url
    shot(browser, "01-login")
    by_id(browser, "u").send_keys(ADMIN[0])
    by_id(browser, "p").send_keys("wrong")
    css(browser, "form button[type=submit]").click()
    # click() may return before the answer's page has replaced this one
    wait_for(lambda: "Wrong user name or password" in browser.page_source, what="the refusal")
    by_id(browser, "u").clear()
    by_id(browser, "u").send_keys(ADMIN[0])
    by_id(browser, "p").send_keys(ADMIN[1])
    css(browser, "form button[type=submit]").click()
    wait_for(lambda: browser.current_url.endswith("/job/hello/"), what="back on the page")
    assert "Not found" in browser.title
    shot(browser, "02-not-found")
    cookie = browser.get_cookie("STEWARD_SESSION")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    browser._signed_in = True


def fill(d, element_id, value):
    e = by_id(d, element_id)
    e.clear()
    e.send_keys(value)


def test_create_a_job_with_parameters_and_trigger_it_with_the_copied_curl_command(ui, server):
    d = ui
    d.get(server.url)
    css(d, "nav a[href$='newJob']").click()
    fill(d, "name", "greeter")
    shot(d, "03-new-job")
    by_id(d, "create").click()
    wait_for(lambda: "/job/greeter/configure" in d.current_url, what="configure page")
    assert "The job is created" in d.page_source

    fill(d, "description", "Greets someone, from the browser test.")
    # three parameters: a string, a choice and a boolean
    by_id(d, "add-param").click()
    fill(d, "p0_name", "WHO")
    fill(d, "p0_default", "world")
    fill(d, "p0_desc", "Whom to greet")
    by_id(d, "add-param").click()
    Select(by_id(d, "p1_type")).select_by_visible_text("Choice")
    fill(d, "p1_name", "GREETING")
    fill(d, "p1_choices", "Hello\nGood morning")
    assert by_id(d, "p1_choices").is_displayed() and not by_id(d, "p1_default").is_displayed()
    by_id(d, "add-param").click()
    Select(by_id(d, "p2_type")).select_by_visible_text("Boolean")
    fill(d, "p2_name", "LOUD")
    fill(d, "p2_default", "false")
    by_id(d, "add-step").click()
    fill(d, "step0", 'echo "$GREETING, $WHO! loud=$LOUD"')
    # the trigger token: generated on the server, saved with the rest
    by_id(d, "generate-token").click()
    wait_for(lambda: "msg=token" in d.current_url, what="token generated")
    assert "A new trigger token was generated" in d.page_source
    token = by_id(d, "authToken").get_attribute("value")
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    shot(d, "04-configure")

    # the panel: one sentence tells the secrets apart, two commands
    which = by_id(d, "which-secret").text
    assert "user API token" in which and "trigger token" in which and "token=" in which
    api_cmd = by_id(d, "cmd-api").text
    assert api_cmd.startswith("curl -X POST -u alice:APITOKEN ") and "token=" not in api_cmd
    assert "/job/greeter/buildWithParameters?WHO=world&GREETING=Hello&LOUD=false" in api_cmd
    d.execute_script("document.getElementById('how').scrollIntoView()")
    copy = css(d, "button[data-copy='cmd-token']")
    copy.click()
    wait_for(lambda: copy.text == "Copied", what="copied")
    # what the Copy button put on the clipboard, read back through the page
    d.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": server.url.rstrip("/"), "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    copied = d.execute_async_script(
        "const done = arguments[0];"
        "navigator.clipboard.readText().then(done, () => done(null));")
    shown = by_id(d, "cmd-token").text
    assert copied in (None, shown), (copied, shown)
    cmd = copied or shown
    assert cmd == (f"curl '{server.url}job/greeter/buildWithParameters?token={token}"
                   "&WHO=world&GREETING=Hello&LOUD=false'"), cmd
    shot(d, "05-trigger-panel", full=False)

    # run it as a person would: in a shell
    out = subprocess.run(["sh", "-c", cmd + " -s -o /dev/null -w '%{http_code} %{redirect_url}'"
                          " -D /dev/stderr"], capture_output=True, text=True, timeout=30)
    assert out.stdout.startswith("201"), out
    location = re.search(r"(?im)^location: (\S+)", out.stderr).group(1)
    assert "/queue/item/" in location
    item = server.wait_queue_item(location, server.alice)
    assert item["executable"]["number"] == 1
    b = server.wait_build("greeter", 1, server.alice)
    assert b["result"] == "SUCCESS"
    log = server.get("job/greeter/1/consoleText", auth=server.alice).text
    assert "Hello, world! loud=false" in log

    # the job page shows the build, its cause and parameters
    d.get(server.url + "job/greeter/")
    wait_for(lambda: "#1" in text_of(d, "#history"), what="history")
    hist = text_of(d, "#history")
    assert "trigger token from 127.0.0.1" in hist and "WHO=world" in hist
    assert by_id(d, "bp-0").get_attribute("value") == "world"
    shot(d, "06-job")
    # and the configuration was written as Jenkins' config.xml
    xml = server.get("job/greeter/config.xml", auth=server.alice).text
    assert "<hudson.model.ChoiceParameterDefinition>" in xml and f"<authToken>{token}" in xml
    assert "<hudson.tasks.Shell>" in xml


def test_build_with_parameters_form_and_live_console_to_the_end(ui, server):
    d = ui
    create_job(server, "counter", job_xml(
        params=[("string", "N", "25"), ("password", "SECRET", "hunter2"), ("text", "NOTE", "a\nb")],
        script='i=1; while [ $i -le "$N" ]; do echo "line $i"; i=$((i+1)); sleep 0.1; done'))
    d.get(server.url + "job/counter/")
    assert by_id(d, "bp-1").get_attribute("type") == "password"
    assert "hunter2" not in d.page_source
    fill(d, "bp-0", "30")
    by_id(d, "build-button").click()
    wait_for(lambda: "queued=1" in d.current_url, what="queued")
    link = wait_for(lambda: d.find_elements(By.CSS_SELECTOR, "#history a[href$='/counter/1/']"),
                    what="build in history")
    link[0].click()
    wait_for(lambda: "line 3" in by_id(d, "log").text, what="log streaming")
    assert "Running" in by_id(d, "summary").text
    assert by_id(d, "follow").get_attribute("aria-pressed") == "true"
    shot(d, "07-build-running", full=False)
    mid = by_id(d, "log").text.count("\n")
    wait_for(lambda: "Finished: SUCCESS" in by_id(d, "log").text, timeout=30, what="end of log")
    log = by_id(d, "log").text
    assert "line 30" in log and log.count("line ") >= 30 and log.count("\n") > mid
    # the page was not reloaded: the summary was swapped in place
    wait_for(lambda: "Success" in by_id(d, "summary").text, what="summary refreshed")
    assert not d.find_elements(By.ID, "stop-button")
    summary = by_id(d, "summary").text
    assert "SECRET=" in summary and "hunter2" not in summary and "N=30" in summary
    assert "alice" in summary
    shot(d, "08-build-finished")
    assert log == server.get("job/counter/1/consoleText", auth=server.alice).text.rstrip("\n")


def test_stop_a_running_build(ui, server):
    d = ui
    create_job(server, "sleeper", job_xml(script="echo started; sleep 60; echo never"))
    r = server.post("job/sleeper/build", auth=server.alice)
    assert r.status_code == 201
    wait_for(lambda: server.get("job/sleeper/1/api/json", auth=server.alice).status_code == 200,
             what="build started")
    d.get(server.url + "job/sleeper/1/")
    wait_for(lambda: "started" in by_id(d, "log").text, what="log")
    by_id(d, "stop-button").click()
    wait_for(lambda: "Finished: ABORTED" in by_id(d, "log").text, timeout=30, what="aborted")
    wait_for(lambda: "Aborted" in by_id(d, "summary").text, what="summary says aborted")
    assert "Aborted by alice" in by_id(d, "log").text
    assert server.get("job/sleeper/1/api/json", auth=server.alice).json()["result"] == "ABORTED"
    shot(d, "09-build-aborted", full=False)


def test_generate_and_revoke_an_api_token(ui, server):
    d = ui
    d.get(server.url + "me/configure")
    fill(d, "token-name", "from-the-browser")
    by_id(d, "generate").click()
    value = by_id(d, "token-value").text
    assert re.fullmatch(r"11[0-9a-f]{32}", value)
    assert "will not be shown again" in by_id(d, "new-token").text
    shot(d, "10-new-token")
    who = requests.get(server.url + "whoAmI/api/json", auth=("alice", value), timeout=10).json()
    assert who["name"] == "alice" and who["apiTokenName"] == "from-the-browser"
    d.get(server.url + "me/configure")
    assert value not in d.page_source     # shown once only
    row = wait_for(lambda: [r for r in d.find_elements(By.CSS_SELECTOR, "#main tbody tr")
                            if "from-the-browser" in r.text], what="token row")[0]
    # use counts are flushed about once a second: reload until the use shows
    def used_once():
        d.refresh()
        rows = [r for r in d.find_elements(By.CSS_SELECTOR, "#main tbody tr")
                if "from-the-browser" in r.text]
        # name, limits, created, last used, uses
        return rows[0] if rows and rows[0].find_elements(By.CSS_SELECTOR, "td")[4].text == "1" \
            else None
    row = wait_for(used_once, what="the token row to show one use", interval=0.3)
    shot(d, "11-user-tokens")
    row.find_element(By.CSS_SELECTOR, "button").click()
    alert = d.switch_to.alert
    assert "from-the-browser" in alert.text
    alert.accept()
    wait_for(lambda: "msg=revoked" in d.current_url, what="revoked")
    assert "from-the-browser" not in text_of(d, "#main table") if d.find_elements(
        By.CSS_SELECTOR, "#main table") else True
    r = requests.get(server.url + "whoAmI/api/json", auth=("alice", value), timeout=10)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Basic")


def test_a_session_cookie_post_without_the_crumb_is_refused(ui, server):
    s = session_of(ui)
    create_job(server, "guarded", job_xml())
    html = {"Accept": "text/html"}
    # the web layer's own forms
    for path, data in (("j_spring_security_check", {"j_username": "bob", "j_password": "bob-password"}),
                       ("newJob", {"name": "evil"}),
                       ("job/guarded/configure", {"description": "x"}),
                       ("job/guarded/buildNow", {}),
                       ("me/configure", {"action": "generate", "name": "evil"}),
                       ("manage/users", {"action": "add", "name": "evil", "password": "evil-pass"})):
        r = s.post(server.url + path, data=data, headers=html, allow_redirects=False, timeout=10)
        assert r.status_code == 403, (path, r.status_code)
        assert "No valid crumb" in r.text and "Nothing was changed" in r.text, path
        assert r.headers["Content-Type"].startswith("text/html")
    # the API's actions that the pages use
    r = s.post(server.url + "job/guarded/disable", headers=html, allow_redirects=False, timeout=10)
    assert r.status_code == 403
    assert server.get("api/json", auth=server.alice).json()["jobs"][-1]["name"] != "evil"
    assert "evil" not in server.get("api/json", auth=server.alice).text
    # the same session with the page's crumb works
    ui.get(server.url + "job/guarded/configure")
    crumb = css(ui, "input[name='Jenkins-Crumb']").get_attribute("value")
    r = s.post(server.url + "job/guarded/configure", data={"Jenkins-Crumb": crumb,
               "description": "changed", "then": "stay"}, allow_redirects=False, timeout=10)
    assert r.status_code == 303, r.text
    assert "<description>changed</description>" in server.get(
        "job/guarded/config.xml", auth=server.alice).text
    # what a person sees
    ui.execute_script(
        "const f = document.createElement('form'); f.method = 'post';"
        "f.action = arguments[0]; document.body.appendChild(f); f.submit();",
        server.url + "job/guarded/buildNow")
    wait_for(lambda: "No valid crumb" in ui.page_source, what="refusal page")
    shot(ui, "12-no-crumb")


def test_the_dashboard_refreshes_its_live_parts_without_reloading(ui, server):
    d = ui
    create_job(server, "nightly", job_xml(script="sleep 3; echo done"))
    create_job(server, "quick", job_xml(script="echo quick"))
    d.get(server.url)
    d.execute_script("window.__no_reload = 'still here'")
    row = lambda: [r for r in d.find_elements(By.CSS_SELECTOR, "#live tbody tr")
                   if r.find_elements(By.LINK_TEXT, "nightly")][0].text
    assert "Not built" in row()
    # build from the dashboard's own button: posted in the background
    by_id(d, "build-nightly").click()
    wait_for(lambda: "A build of nightly is queued" in by_id(d, "status-live").text, what="toast")
    wait_for(lambda: "Running" in row(), timeout=15, what="running shown")
    assert "nightly #1" in text_of(d, "#live .exec")   # the executor that runs it
    shot(d, "13-dashboard-running")
    # a build started elsewhere shows up too
    assert server.post("job/quick/build", auth=server.alice).status_code == 201
    wait_for(lambda: "Success" in row() and "Running" not in row(), timeout=25, what="finished")
    assert d.execute_script("return window.__no_reload") == "still here"
    shot(d, "14-dashboard")
    # keyboard: the first tab stop is the skip link, then the top navigation
    d.get(server.url)
    from selenium.webdriver.common.keys import Keys
    css(d, "body").send_keys(Keys.TAB)
    assert d.switch_to.active_element.text == "Skip to content"


def test_pages_fit_a_phone(ui, server):
    d = ui
    d.set_window_size(390, 844)
    if "phone1" not in server.admin("node", "list").stdout:
        server.admin("node", "add", "phone1", "--host", "phone1.example.com", "--credentials",
                     "build-key", "--remote-fs", "/home/build", "--labels", "linux arm64",
                     "--host-key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl")
    for path, name in (("", "15-phone-dashboard"), ("job/greeter/", "16-phone-job"),
                       ("job/greeter/1/", "17-phone-build"), ("job/greeter/configure", "18-phone-configure"),
                       ("manage/hooks", "18b-phone-hooks"), ("manage/nodes", "18c-phone-nodes"),
                       ("computer/phone1/", "18d-phone-node")):
        d.get(server.url + path)
        wait_for(lambda: d.execute_script("return document.readyState") == "complete",
                 what=f"{path or '/'} to finish loading")
        shot(d, name)
        wide = d.execute_script(
            "const w = document.documentElement.clientWidth; return [...document.querySelectorAll"
            "('body *')].filter(e => e.getBoundingClientRect().right > w + 1 && !e.closest("
            "'.tablewrap, pre, .console')).map(e => e.tagName + '.' + e.className).slice(0, 5)")
        assert not wide, (path, wide)
    d.set_window_size(1280, 900)


def test_users_page_and_error_pages(ui, server):
    d = ui
    d.get(server.url + "manage/users")
    fill(d, "nu-name", "carol")
    fill(d, "nu-pw", "carol-password")
    css(d, "form button.primary").click()
    wait_for(lambda: "msg=added" in d.current_url, what="added")
    assert "carol" in text_of(d, "#main table")
    shot(d, "19-users")
    row = [r for r in d.find_elements(By.CSS_SELECTOR, "#main tbody tr") if "carol" in r.text][0]
    row.find_element(By.CSS_SELECTOR, "button[data-role=reset]").click()
    d.switch_to.alert.accept()
    pw = wait_for(lambda: by_id(d, "reset-value").text, what="new password")
    assert requests.get(server.url + "whoAmI/api/json", auth=("carol", pw), timeout=10).json()["name"] == "carol"
    # an API refusal, as a person sees it: the job's trigger token page is one click away
    d.get(server.url + "job/greeter/build?token=11" + "ab" * 16)
    assert "user API token" in d.page_source and "403" in d.title + d.page_source
    link = css(d, ".error a.btn.primary")
    assert link.get_attribute("href").endswith("/job/greeter/configure")
    shot(d, "20-refusal")
    # the delete confirmation
    create_job(server, "doomed", job_xml())
    d.get(server.url + "job/doomed/")
    css(d, "a.btn.danger").click()
    shot(d, "21-delete-confirm")
    by_id(d, "confirm-delete").click()
    wait_for(lambda: d.current_url.rstrip("/") == server.url.rstrip("/"), what="back home")
    assert server.get("job/doomed/api/json", auth=server.alice).status_code == 404


def users_row(d, name):
    """The users table's row of `name`, or None."""
    for r in d.find_elements(By.CSS_SELECTOR, "#main tbody tr"):
        if r.find_element(By.CSS_SELECTOR, "td a.key").text == name:
            return r
    return None


def test_an_admin_promotes_demotes_and_removes_a_user_and_their_token_dies(ui, server):
    d = ui
    whoami = server.url + "whoAmI/api/json"
    d.get(server.url + "manage/users")
    fill(d, "nu-name", "dora")
    fill(d, "nu-pw", "dora-password")
    css(d, "form button.primary").click()
    wait_for(lambda: "msg=added" in d.current_url, what="added")
    token = server.new_token("dora", "dora-ci")
    assert requests.get(whoami, auth=("dora", token), timeout=10).json()["name"] == "dora"

    # the administrator flag, on and off
    users_row(d, "dora").find_element(By.CSS_SELECTOR, "button[data-role=admin]").click()
    wait_for(lambda: "msg=admin" in d.current_url, what="made admin")
    assert "now an administrator" in text_of(d, ".notice.good")
    row = users_row(d, "dora")
    assert "administrator" in row.text and "Remove admin" in row.text
    # with two administrators, alice could give it up too
    assert "Remove admin" in users_row(d, "alice").text
    shot(d, "24-users-two-admins")
    # dora signs in elsewhere while she is an administrator
    dora = requests.Session()
    r = web_sign_in(server.url, "dora", "dora-password", session=dora)
    assert r.status_code in (302, 303) and "STEWARD_SESSION" in dora.cookies, r.text
    page = dora.get(server.url + "manage/users", headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code == 200
    dora_crumb = re.search(r'name="Jenkins-Crumb" value="([0-9a-f]+)"', page.text).group(1)
    row.find_element(By.CSS_SELECTOR, "button[data-role=admin]").click()
    wait_for(lambda: "msg=not-admin" in d.current_url, what="admin flag removed")
    row = users_row(d, "dora")
    assert "administrator" not in row.text and "Make admin" in row.text
    # her open session no longer manages users, whatever flag it remembers
    r = dora.post(server.url + "manage/users", headers={"Accept": "text/html"}, timeout=10,
                  allow_redirects=False, data={"Jenkins-Crumb": dora_crumb, "action": "add",
                                               "name": "mallory", "password": "mallory-pw",
                                               "admin": "1"})
    assert r.status_code == 403 and "an administrator" in r.headers["X-Error"], r.headers
    assert users_row(d, "mallory") is None
    # alice is the last administrator again: no demotion offered, and yourself no removal
    alice = users_row(d, "alice")
    assert "(you)" in alice.text and "the only one" in alice.text
    assert not alice.find_elements(By.CSS_SELECTOR, "[data-role=admin], [data-role=remove]")

    # remove, through the confirmation page
    row.find_element(By.CSS_SELECTOR, "a[data-role=remove]").click()
    wait_for(lambda: "remove=dora" in d.current_url, what="confirmation page")
    assert "Remove user \u201cdora\u201d?" in text_of(d, "h1")
    assert "\u201cdora-ci\u201d" in text_of(d, ".card") and "401" in text_of(d, ".card")
    assert d.title.startswith("Remove dora")
    shot(d, "25-remove-user-confirm")
    assert requests.get(whoami, auth=("dora", token), timeout=10).status_code == 200
    by_id(d, "confirm-remove").click()
    wait_for(lambda: "msg=removed" in d.current_url, what="removed")
    assert users_row(d, "dora") is None
    assert "is removed" in text_of(d, ".notice.good")
    shot(d, "26-users-after-remove")
    # the token (and the password) of the removed user stop working at once
    r = requests.get(whoami, auth=("dora", token), timeout=10)
    assert r.status_code == 401, r.text
    r = requests.get(whoami, auth=("dora", "dora-password"), timeout=10)
    assert r.status_code == 401
    # and her web session ends: the users page sends it to the login page
    r = dora.get(server.url + "manage/users", headers={"Accept": "text/html"}, timeout=10,
                 allow_redirects=False)
    assert r.status_code == 302 and "/login?from=" in r.headers["Location"], r.status_code

    # removing yourself is refused: the confirmation page explains instead
    d.get(server.url + "manage/users?remove=alice")
    assert "You cannot remove yourself" in text_of(d, ".error h1") and "409" in d.title + d.page_source
    assert css(d, ".error a.btn.primary").get_attribute("href").endswith("/manage/users")
    shot(d, "27-remove-self-refused")
    # and so is the POST itself, with the page's crumb or with Basic auth
    d.get(server.url + "manage/users")
    crumb = css(d, "input[name='Jenkins-Crumb']").get_attribute("value")
    s = session_of(d)
    html = {"Accept": "text/html"}
    r = s.post(server.url + "manage/users", data={"Jenkins-Crumb": crumb, "action": "remove",
               "user": "alice"}, headers=html, allow_redirects=False, timeout=10)
    assert r.status_code == 409 and "You cannot remove yourself" in r.text
    r = requests.post(server.url + "manage/users", data={"action": "remove", "user": "alice"},
                      auth=ADMIN, headers=html, allow_redirects=False, timeout=10)
    assert r.status_code == 409
    # nor does the last administrator lose the flag
    r = s.post(server.url + "manage/users", data={"Jenkins-Crumb": crumb, "action": "set-admin",
               "admin": "0", "user": "alice"}, headers=html, allow_redirects=False, timeout=10)
    assert r.status_code == 409 and "only administrator" in r.text
    # without the crumb, nothing happens at all
    r = s.post(server.url + "manage/users", data={"action": "set-admin", "admin": "1",
               "user": "bob"}, headers=html, allow_redirects=False, timeout=10)
    assert r.status_code == 403 and "No valid crumb" in r.text
    d.get(server.url + "manage/users")
    assert "(you)" in users_row(d, "alice").text and "user" == users_row(d, "bob").find_elements(
        By.CSS_SELECTOR, "td")[1].text
    assert requests.get(whoami, auth=ADMIN, timeout=10).json()["name"] == "alice"


def test_a_50_mb_log_streams_in_and_the_page_stays_responsive(ui, server):
    d = ui
    create_job(server, "huge", job_xml(
        script="yes 'all work and no play makes a long log, line after line after line' "
               "| head -c 50000000; echo; echo last-line"))
    r = server.post("job/huge/build", auth=server.alice)
    assert r.status_code == 201
    server.wait_queue_item(r.headers["Location"], server.alice)
    server.wait_build("huge", 1, server.alice, timeout=60)
    d.get(server.url + "job/huge/1/")
    t0 = time.time()
    worst = 0.0
    # while it loads, the page answers scripts promptly (no long freeze)
    while "last-line" not in d.execute_script(
            "const l = document.getElementById('log'); return l.lastChild.previousSibling "
            "? l.lastChild.previousSibling.textContent.slice(-200) : ''"):
        s = time.time()
        d.execute_script("return document.title")
        worst = max(worst, time.time() - s)
        assert time.time() - t0 < 60, "the log did not finish loading"
        time.sleep(0.1)
    elapsed = time.time() - t0
    blocks = d.execute_script("return document.querySelectorAll('#log > .chunk').length")
    size = d.execute_script(
        "let n = 0; document.querySelectorAll('#log > div').forEach(e => n += e.textContent.length);"
        "return n")
    assert size > 50_000_000 and blocks >= 48
    assert worst < 2.0, worst
    print(f"50 MB log: {elapsed:.1f} s to load in {blocks} blocks, slowest script answer {worst:.2f} s")
    shot(d, "22-build-50mb", full=False)


def test_first_start_admin_password_signs_in_and_the_sample_job_is_there(browser, tmp_path):
    fresh = Server(tmp_path / "fresh").start()
    try:
        password = open(tmp_path / "fresh" / "secrets" / "initialAdminPassword").read().strip()
        browser.delete_all_cookies()      # cookies are per host, not per port
        browser._signed_in = False
        sign_in(browser, fresh, "admin", password)
        browser.get(fresh.url)
        assert "hello" in text_of(browser, "#live")
        shot(browser, "23-first-start-dashboard")
        browser.get(fresh.url + "job/hello/configure")
        assert "WHO" in by_id(browser, "cmd-token").text
    finally:
        browser.delete_all_cookies()
        fresh.stop()


def test_the_forge_hooks_panel_and_a_notify_token_made_on_the_hooks_page(ui, server):
    """The configure page shows what each forge needs; the notifyCommit command it shows works
    once a token made on /manage/hooks takes TOKEN's place."""
    d = ui
    repo = "file:///nonexistent/hooked.git"   # never fetched: a notification only polls
    scm = ('<scm class="hudson.plugins.git.GitSCM"><configVersion>2</configVersion>'
           "<userRemoteConfigs><hudson.plugins.git.UserRemoteConfig><name>origin</name>"
           f"<url>{repo}</url></hudson.plugins.git.UserRemoteConfig></userRemoteConfigs>"
           "<branches><hudson.plugins.git.BranchSpec><name>main</name>"
           "</hudson.plugins.git.BranchSpec></branches></scm>")
    triggers = ("<com.cloudbees.jenkins.GitHubPushTrigger><spec/></com.cloudbees.jenkins."
                "GitHubPushTrigger><hudson.triggers.SCMTrigger><spec/></hudson.triggers.SCMTrigger>"
                "<com.dabsquared.gitlabjenkins.GitLabPushTrigger><spec/><secretToken>gl-s3cret"
                "</secretToken></com.dabsquared.gitlabjenkins.GitLabPushTrigger>")
    create_job(server, "hooked", job_xml().replace('<scm class="hudson.scm.NullSCM"/>', scm)
               .replace("<triggers/>", f"<triggers>{triggers}</triggers>"))
    d.get(server.url + "job/hooked/configure#hooks")
    assert by_id(d, "hook-github-url").text == server.url + "github-webhook/"
    assert by_id(d, "hook-gitlab-url").text == server.url + "project/hooked"
    assert by_id(d, "hook-gitlab-token").text == "gl-s3cret"
    cmd = by_id(d, "hook-notify-0").text
    assert cmd == f'curl "{server.url}git/notifyCommit?url={repo}&token=TOKEN"'
    assert "application/json" in text_of(d, "#hook-github") and \
        "Merge request events" in text_of(d, "#hook-gitlab")
    d.execute_script("document.getElementById('hooks').scrollIntoView()")
    shot(d, "30-forge-hooks", full=False)

    css(d, "nav a[href$='manage/hooks']").click()
    fill(d, "t-name", "forge")
    by_id(d, "new-notify-token").click()
    token = by_id(d, "token-value").text
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    shot(d, "31-hooks-page")
    out = subprocess.run(["sh", "-c", cmd.replace("TOKEN", token) + " -s"], capture_output=True,
                         text=True, timeout=30)
    assert out.stdout == "Scheduled polling of hooked\n", out
    d.get(server.url + "manage/hooks")
    assert token not in d.page_source and "forge" in text_of(d, "#tokens")
