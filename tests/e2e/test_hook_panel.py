"""How a job is connected to the forges' hooks: GET /job/NAME/hooks/api/json, the `steward hooks`
command that prints it, the configure page's Forge hooks panel, and the administrators' page
/manage/hooks (notifyCommit tokens and access mode, the GitHub hook secret, the deliveries)."""
import html
import json
import re
import subprocess
import uuid

import pytest
from conftest import BIN, SLOW, create_job, job_xml
from e2e_helpers import page_crumb as crumb_of, signed_in

REPO = "https://github.com/acme/app.git"
GITHUB = "<com.cloudbees.jenkins.GitHubPushTrigger><spec/></com.cloudbees.jenkins.GitHubPushTrigger>"


def poll(spec="", ignore_hooks=False):
    return (f"<hudson.triggers.SCMTrigger><spec>{spec}</spec><ignorePostCommitHooks>"
            f"{'true' if ignore_hooks else 'false'}</ignorePostCommitHooks></hudson.triggers.SCMTrigger>")


def gitlab(token="gl-s3cret", push=True, mr=True):
    return ("<com.dabsquared.gitlabjenkins.GitLabPushTrigger><spec/>"
            f"<triggerOnPush>{str(push).lower()}</triggerOnPush>"
            f"<triggerOnMergeRequest>{str(mr).lower()}</triggerOnMergeRequest>"
            "<branchFilterType>All</branchFilterType>"
            + (f"<secretToken>{token}</secretToken>" if token else "")
            + "</com.dabsquared.gitlabjenkins.GitLabPushTrigger>")


def git_job(triggers="", url=REPO, ignore_notify=False):
    """A job with a Git repository and the given triggers' XML, as the plugins write them."""
    ext = ("<hudson.plugins.git.extensions.impl.IgnoreNotifyCommit/>" if ignore_notify else "")
    scm = ('<scm class="hudson.plugins.git.GitSCM"><configVersion>2</configVersion>'
           "<userRemoteConfigs><hudson.plugins.git.UserRemoteConfig><name>origin</name>"
           f"<url>{url}</url></hudson.plugins.git.UserRemoteConfig></userRemoteConfigs>"
           "<branches><hudson.plugins.git.BranchSpec><name>main</name>"
           f"</hudson.plugins.git.BranchSpec></branches><extensions>{ext}</extensions></scm>")
    return (job_xml().replace('<scm class="hudson.scm.NullSCM"/>', scm)
            .replace("<triggers/>", f"<triggers>{triggers}</triggers>"))


def hooks(server, job="app", auth=None):
    r = server.get(f"job/{job}/hooks/api/json", auth=auth or server.alice)
    assert r.status_code == 200, r.text
    return r.json()


def cli(server, *args, auth=None):
    user, token = auth or server.alice
    return subprocess.run([BIN, *args, "--url", server.url, "--user", user, "--token", token],
                          capture_output=True, text=True, timeout=60 * SLOW,
                          env={"PATH": "/usr/bin:/bin", "HOME": server.home})


def text_of(page):
    """A page's text, without its markup."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def audit(server, action):
    r = server.get("manage/audit/api/json", params={"action": action}, auth=server.alice)
    assert r.status_code == 200, r.text
    return r.json()["entries"]


# ---- the endpoint ----

def test_a_job_with_every_hook_says_what_each_forge_needs(server):
    create_job(server, "app", git_job(GITHUB + poll() + gitlab()))
    h = hooks(server)
    assert h["_class"] == "steward.JobHooks" and h["name"] == "app"
    assert h["url"] == server.url + "job/app/" and h["repositories"] == [REPO]

    gh = h["github"]
    assert gh["answers"] and gh["note"] is None
    assert gh["payloadUrl"] == server.url + "github-webhook/"
    assert gh["contentType"] == "application/json" and gh["events"] == ["push"]
    assert gh["secretCredentialId"] is None and "No shared secret is set" in gh["secret"]
    assert "github hook-secret" in gh["secret"]

    gl = h["gitlab"]
    assert gl["answers"] and gl["url"] == server.url + "project/app"
    assert gl["secretTokenSet"] and gl["secretToken"] == "gl-s3cret"
    assert gl["events"] == ["Push events", "Tag push events", "Merge request events"]

    nc = h["notifyCommit"]
    assert nc["answers"] and "polls only when notified" in nc["note"]
    assert nc["commands"] == [f'curl "{server.url}git/notifyCommit?url={REPO}&token=TOKEN"']
    assert nc["access"] == "required" and nc["tokens"] == 0
    assert "notify-token new" in nc["token"] and "none is made yet" in nc["token"]


def test_the_gitlab_secret_token_is_only_for_who_may_configure_the_job(server):
    create_job(server, "app", git_job(gitlab(mr=False)))
    server.admin("security", "authorization", "matrix")
    server.admin("security", "matrix", "grant", "bob", "Overall/Read")
    server.admin("security", "matrix", "grant", "bob", "Job/Read")
    gl = hooks(server, auth=server.bob)["gitlab"]
    assert gl["answers"] and gl["secretTokenSet"] and gl["secretToken"] is None
    assert "gl-s3cret" not in json.dumps(hooks(server, auth=server.bob))
    assert "only to who may configure" in gl["secret"]
    assert gl["events"] == ["Push events", "Tag push events"]
    assert hooks(server)["gitlab"]["secretToken"] == "gl-s3cret"
    # reading it takes Job/Read, like the job itself; nobody learns the job exists otherwise
    assert server.get("job/app/hooks/api/json").status_code == 401
    assert server.get("job/nope/hooks/api/json", auth=server.alice).status_code == 404


def test_a_job_without_hooks_is_told_what_to_add_for_each_forge(server):
    create_job(server, "plain", job_xml())
    h = hooks(server, "plain")
    assert h["repositories"] == []
    assert not h["github"]["answers"] and "GitHubPushTrigger" in h["github"]["note"]
    assert "GitSCM" in h["github"]["note"]
    assert not h["gitlab"]["answers"] and "GitLabPushTrigger" in h["gitlab"]["note"]
    assert not h["notifyCommit"]["answers"] and "SCMTrigger" in h["notifyCommit"]["note"]
    assert h["notifyCommit"]["commands"] == []

    # a Git job with no trigger: only the trigger is missing
    create_job(server, "git", git_job())
    h = hooks(server, "git")
    assert h["github"]["note"].startswith("Add the GitHub push trigger")
    assert "no Poll SCM trigger" in h["notifyCommit"]["note"]
    assert h["notifyCommit"]["commands"]  # the command is ready for when it has one


@pytest.mark.parametrize("xml, why", [
    (git_job(poll("H/5 * * * *", ignore_hooks=True)), "ignorePostCommitHooks"),
    (git_job(poll("H/5 * * * *"), ignore_notify=True), "IgnoreNotifyCommit"),
])
def test_notify_commit_says_when_the_job_would_not_be_notified(server, xml, why):
    create_job(server, "app", xml)
    nc = hooks(server)["notifyCommit"]
    assert not nc["answers"] and why in nc["note"] and "not notified" in nc["note"]
    # and it is so: the server leaves the job alone
    server.admin("git", "notify-access", "off")
    r = server.get("git/notifyCommit", params={"url": REPO})
    assert r.status_code == 200 and "No git jobs" in r.text, r.text


def test_the_secret_and_the_access_mode_follow_the_settings(server):
    create_job(server, "app", git_job(GITHUB + poll("H/5 * * * *")))
    server.admin("credentials", "add", "--id", "gh-hook", "--kind", "secret-text",
                 "--secret-file", "-", input="hook-secret-value")
    server.admin("github", "hook-secret", "gh-hook")
    server.admin("git", "notify-token", "new", "forge")
    server.admin("git", "notify-access", "off")
    h = hooks(server)
    assert h["github"]["secretCredentialId"] == "gh-hook" and h["github"]["secretUsable"]
    assert "'gh-hook'" in h["github"]["secret"] and "hook-secret-value" not in json.dumps(h)
    nc = h["notifyCommit"]
    assert nc["access"] == "off" and nc["tokens"] == 1 and "without an access token" in nc["token"]
    assert nc["commands"] == [f'curl "{server.url}git/notifyCommit?url={REPO}"']
    assert nc["note"] is None

    # a hook secret whose credential went away is named as the reason deliveries fail
    server.admin("credentials", "remove", "gh-hook")
    gh = hooks(server)["github"]
    assert gh["secretCredentialId"] == "gh-hook" and not gh["secretUsable"]
    assert "does not exist" in gh["secret"]


def test_the_urls_are_the_public_ones_and_encode_the_job_name(server):
    server.stop()
    server.start("--url", "https://ci.example.org/steward/")
    create_job(server, "my app", git_job(GITHUB + gitlab(), url="git@host:o/r x.git"))
    h = hooks(server, "my%20app")
    assert h["github"]["payloadUrl"] == "https://ci.example.org/steward/github-webhook/"
    assert h["gitlab"]["url"] == "https://ci.example.org/steward/project/my%20app"
    # a URL's own characters stay, the others are escaped for the query
    assert h["notifyCommit"]["commands"] == [
        'curl "https://ci.example.org/steward/git/notifyCommit?url=git@host:o/r%20x.git'
        '&token=TOKEN"']


# ---- steward hooks ----

def test_the_command_prints_what_the_panel_shows(server):
    create_job(server, "app", git_job(GITHUB + poll() + gitlab()))
    p = cli(server, "hooks", "app")
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert out.startswith(f"Hooks of app ({server.url}job/app/)\n")
    assert re.search(r"GitHub: set up\n  Payload URL +" + re.escape(server.url + "github-webhook/"), out)
    assert re.search(r"Content type +application/json", out) and "push" in out
    assert re.search(r"GitLab: set up\n  URL +" + re.escape(server.url + "project/app"), out)
    assert re.search(r"Secret token +gl-s3cret", out)
    assert "Push events, Tag push events, Merge request events" in out
    assert f'curl "{server.url}git/notifyCommit?url={REPO}&token=TOKEN"' in out

    j = cli(server, "hooks", "app", "--json")
    assert j.returncode == 0 and json.loads(j.stdout) == hooks(server)


def test_the_command_says_what_to_add_and_refuses_an_unknown_job(server):
    create_job(server, "plain", job_xml())
    p = cli(server, "hooks", "plain")
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("not set up") == 3 and p.stdout.count("To do") == 3
    assert "GitHubPushTrigger" in p.stdout and "GitLabPushTrigger" in p.stdout

    p = cli(server, "hooks", "nope")
    assert p.returncode == 6, (p.returncode, p.stdout, p.stderr)
    assert subprocess.run([BIN, "hooks"], capture_output=True, text=True,
                          timeout=30).returncode == 2


# ---- the configure page ----

def test_the_configure_page_shows_the_forge_hooks_beside_the_curl_commands(server):
    create_job(server, "app", git_job(GITHUB + poll() + gitlab()))
    http = signed_in(server, "alice", "alice-password")
    page = http.get(server.url + "job/app/configure", timeout=30)
    assert page.status_code == 200
    panel = page.text[page.text.index('id="hooks"'):]
    assert page.text.index('id="how"') < page.text.index('id="hooks"')
    text = text_of(panel[:panel.index('id="h-steps"')])
    assert f"Payload URL {server.url}github-webhook/" in text
    assert "Content type application/json" in text and "Just the push event" in text
    assert "No shared secret is set" in text
    assert f"URL {server.url}project/app" in text and "Secret token gl-s3cret" in text
    assert "Push events, Tag push events, Merge request events" in text
    assert f'curl "{server.url}git/notifyCommit?url={REPO}&token=TOKEN"' in text
    assert 'data-copy="hook-gitlab-token"' in panel

    create_job(server, "plain", job_xml())
    text = text_of(http.get(server.url + "job/plain/configure", timeout=30).text)
    assert text.count("not set up") == 3 and "GitHubPushTrigger" in text


# ---- /manage/hooks ----

def test_the_admin_page_makes_shows_once_and_revokes_notify_tokens(server):
    create_job(server, "app", git_job(poll("H/5 * * * *")))
    http = signed_in(server, "alice", "alice-password")
    page = http.get(server.url + "manage/hooks", timeout=30)
    assert page.status_code == 200 and "No token is made yet" in page.text
    assert 'href="/manage/hooks" aria-current="page"' in page.text  # in the navigation
    crumb = crumb_of(page.text)

    # without the crumb nothing happens
    r = http.post(server.url + "manage/hooks", data={"action": "new", "name": "forge"}, timeout=30)
    assert r.status_code == 403 and "crumb" in r.text
    r = http.post(server.url + "manage/hooks", timeout=30,
                  data={"Jenkins-Crumb": crumb, "action": "new", "name": "forge"})
    assert r.status_code == 200, r.text
    token = re.search(r'<code id="token-value">([0-9a-f]{32})</code>', r.text).group(1)
    assert "will not be shown again" in r.text
    r = server.get("git/notifyCommit", params={"url": REPO, "token": token})
    assert r.status_code == 200 and r.text == "Scheduled polling of app\n", r.text
    page = http.get(server.url + "manage/hooks", timeout=30).text
    assert token not in page and ">forge<" in page
    assert hooks(server)["notifyCommit"]["tokens"] == 1

    uuid_ = re.search(r'name="uuid" value="([0-9a-f-]{36})"', page).group(1)
    r = http.post(server.url + "manage/hooks", timeout=30, allow_redirects=False,
                  data={"Jenkins-Crumb": crumb, "action": "revoke", "uuid": uuid_})
    assert r.status_code == 303 and r.headers["Location"].endswith("manage/hooks?msg=revoked")
    assert server.get("git/notifyCommit", params={"url": REPO, "token": token}).status_code == 403
    r = http.post(server.url + "manage/hooks", timeout=30,
                  data={"Jenkins-Crumb": crumb, "action": "revoke", "uuid": uuid_})
    assert r.status_code == 404
    r = http.post(server.url + "manage/hooks", timeout=30,
                  data={"Jenkins-Crumb": crumb, "action": "new", "name": ""})
    assert r.status_code == 400 and "1 to 100 printable characters" in r.text

    assert [e["detail"] for e in audit(server, "git-notify-token-new")] == [f"forge ({uuid_})"]
    assert [e["detail"] for e in audit(server, "git-notify-token-revoke")] == [uuid_]
    assert server.admin("git", "notify-token", "list").stdout == ""


def test_the_admin_page_sets_the_access_mode(server):
    create_job(server, "app", git_job(poll("H/5 * * * *")))
    http = signed_in(server, "alice", "alice-password")
    crumb = crumb_of(http.get(server.url + "manage/hooks", timeout=30).text)
    assert server.get("git/notifyCommit", params={"url": REPO}).status_code == 401
    for mode, status in (("off", 200), ("sha1-only", 200), ("required", 401)):
        r = http.post(server.url + "manage/hooks", timeout=30,
                      data={"Jenkins-Crumb": crumb, "action": "access", "access": mode})
        assert r.status_code == 200 and "access mode is saved" in r.text, r.text
        assert re.search(rf'value="{mode}" checked', r.text)
        assert server.get("git/notifyCommit", params={"url": REPO}).status_code == status
    r = http.post(server.url + "manage/hooks", timeout=30,
                  data={"Jenkins-Crumb": crumb, "action": "access", "access": "sometimes"})
    assert r.status_code == 400
    assert [e["detail"] for e in audit(server, "git-notify-access")] == [
        "required", "sha1-only", "off"]


def github_ping(server, secret=None):
    import hashlib
    import hmac
    body = b'{"zen": "Keep it logically awesome."}'
    h = {"Content-Type": "application/json", "X-GitHub-Event": "ping",
         "X-GitHub-Delivery": str(uuid.uuid4())}
    if secret:
        h["X-Hub-Signature-256"] = "sha256=" + hmac.new(secret.encode(), body,
                                                         hashlib.sha256).hexdigest()
    return server.post("github-webhook/", data=body, headers=h), h["X-GitHub-Delivery"]


def test_the_admin_page_chooses_the_github_secret_and_lists_deliveries(server):
    create_job(server, "app", git_job(GITHUB))
    server.admin("credentials", "add", "--id", "gh-hook", "--kind", "secret-text",
                 "--description", "the webhook", "--secret-file", "-", input="s3cret-text")
    server.admin("credentials", "add", "--id", "deploy", "--kind", "username-password",
                 "--username", "bot", "--secret-file", "-", input="pw")
    http = signed_in(server, "alice", "alice-password")
    page = http.get(server.url + "manage/hooks", timeout=30).text
    crumb = crumb_of(page)
    # only the secret texts are offered
    options = re.findall(r'<option value="([^"]*)"', page[page.index('id="s-cred"'):])
    assert options[:2] == ["", "gh-hook"] and "deploy" not in options

    r = http.post(server.url + "manage/hooks", timeout=30,
                  data={"Jenkins-Crumb": crumb, "action": "secret", "credential": "gh-hook"})
    assert r.status_code == 200 and "hook secret is saved" in r.text
    assert re.search(r'<option value="gh-hook" selected>', r.text)
    assert hooks(server)["github"]["secretCredentialId"] == "gh-hook"
    assert github_ping(server)[0].status_code == 403
    ok, delivery = github_ping(server, "s3cret-text")
    assert ok.status_code == 200 and ok.text == "pong\n"

    for cred, why in (("deploy", "is a Username with password"), ("nope", "no credential 'nope'")):
        r = http.post(server.url + "manage/hooks", timeout=30,
                      data={"Jenkins-Crumb": crumb, "action": "secret", "credential": cred})
        assert r.status_code == 400 and why in html.unescape(r.text), r.text
    assert hooks(server)["github"]["secretCredentialId"] == "gh-hook"

    r = http.post(server.url + "manage/hooks", timeout=30,
                  data={"Jenkins-Crumb": crumb, "action": "secret", "credential": ""})
    assert r.status_code == 200 and "taken unsigned" in r.text
    assert hooks(server)["github"]["secretCredentialId"] is None
    assert github_ping(server)[0].status_code == 200
    assert [e["detail"] for e in audit(server, "github-hook-secret")] == [
        "none", "credential 'gh-hook'"]

    # the deliveries, on the page and still as JSON for API clients
    page = http.get(server.url + "manage/hooks", timeout=30).text
    rows = page[page.index('id="delivery-list"'):]
    assert delivery in rows and "pong" in rows and "GitHub" in rows
    r = server.get("manage/hooks/api/json", auth=server.alice)
    assert r.status_code == 200 and delivery in [d["id"] for d in r.json()["deliveries"]]


def test_the_admin_page_is_for_administrators_only(server):
    http = signed_in(server, "bob", "bob-password")
    assert http.get(server.url + "manage/hooks", timeout=30).status_code == 403
    assert 'href="/manage/hooks"' not in http.get(server.url, timeout=30).text
    crumb = crumb_of(http.get(server.url + "me/configure", timeout=30).text)
    r = http.post(server.url + "manage/hooks", timeout=30,
                  data={"Jenkins-Crumb": crumb, "action": "access", "access": "off"})
    assert r.status_code == 403
    assert server.get("git/notifyCommit", params={"url": REPO}).status_code == 401
    assert server.get("manage/hooks", auth=server.bob).status_code == 403
