"""Push webhooks as GitHub and GitLab send them, signed by the test with the payload formats the
forges document: the github plugin's /github-webhook/ and the gitlab plugin's /project/JOB."""
import hashlib
import hmac
import json
import shutil
import uuid

import pytest

from conftest import create_job
from e2e_helpers import restart
from test_git import Repo, builds_of, causes, jjb_xml, wait_for

pytestmark = pytest.mark.skipif(
    not shutil.which("jenkins-jobs") or not shutil.which("git"),
    reason="needs jenkins-job-builder and git")

GITHUB_URL = "https://github.com/acme/app.git"
ENV_DUMP = ('echo "COMMIT=$GIT_COMMIT BRANCH=${gitlabBranch-} ACTION=${gitlabActionType-} '
            'USER=${gitlabUserName-} MR=${gitlabMergeRequestIid-}"')


@pytest.fixture
def repo(server, tmp_path):
    return Repo(server, tmp_path)


def github_server(server, repo):
    """The server again, with builds fetching GitHub's URL from the local repository (git's
    url.insteadOf through --build-env, as a mirror would be set up)."""
    server.stop()
    restart(server, "--build-env", "GIT_CONFIG_COUNT=1",
            "--build-env", f"GIT_CONFIG_KEY_0=url.{repo.url}.insteadOf",
            "--build-env", f"GIT_CONFIG_VALUE_0={GITHUB_URL}")


def github_job_xml(tmp_path, url=GITHUB_URL):
    return jjb_xml(tmp_path, f"""
- job:
    name: app
    scm:
      - git:
          url: {url}
          branches: ['main']
    triggers:
      - github
    builders:
      - shell: 'echo "COMMIT=$GIT_COMMIT"'
""", "app")


def push_payload(sha, repo_url="https://github.com/acme/app"):
    return {"ref": "refs/heads/main", "after": sha, "before": "0" * 40,
            "repository": {"name": "app", "full_name": "acme/app", "html_url": repo_url,
                           "clone_url": repo_url + ".git",
                           "ssh_url": repo_url.replace("https://github.com/", "git@github.com:") + ".git"},
            "pusher": {"name": "octocat", "email": "octo@example.org"},
            "head_commit": {"id": sha, "message": "change"}}


def github(server, event, payload, secret=None, delivery=None, body=None, headers=None):
    raw = body if body is not None else json.dumps(payload).encode()
    h = {"Content-Type": "application/json", "X-GitHub-Event": event,
         "X-GitHub-Delivery": delivery or str(uuid.uuid4())}
    if secret is not None:
        h["X-Hub-Signature-256"] = "sha256=" + hmac.new(secret.encode(), raw,
                                                         hashlib.sha256).hexdigest()
    h.update(headers or {})
    return server.post("github-webhook/", data=raw, headers=h)


def set_hook_secret(server, secret):
    server.admin("credentials", "add", "--id", "gh-hook", "--kind", "secret-text",
                 "--secret-file", "-", input=secret)
    server.admin("github", "hook-secret", "gh-hook")


def test_a_signed_github_push_polls_and_builds_the_job(server, repo, tmp_path):
    head = repo.commit("f", "1\n", "one")
    github_server(server, repo)
    create_job(server, "app", github_job_xml(tmp_path))
    # a job of another repository is left alone
    create_job(server, "other", github_job_xml(tmp_path, "https://github.com/acme/other.git"))
    set_hook_secret(server, "It's a Secret to Everybody")

    r = github(server, "ping", {"zen": "Keep it logically awesome."},
               secret="It's a Secret to Everybody")
    assert r.status_code == 200 and r.text == "pong\n", r.text

    delivery = str(uuid.uuid4())
    r = github(server, "push", push_payload(head), secret="It's a Secret to Everybody",
               delivery=delivery)
    assert r.status_code == 200 and r.text == "Scheduled polling of app\n", r.text
    b = wait_for(lambda: [b for b in builds_of(server) if b["result"]], "the build")[0]
    assert b["result"] == "SUCCESS" and causes(b) == ["Started by GitHub push by octocat"], b
    log = server.get("job/app/1/consoleText", auth=server.alice).text
    assert log.startswith("Started by GitHub push by octocat\n") and f"COMMIT={head}" in log
    assert builds_of(server, "other") == []

    # the same delivery again is a replay: recorded once, ignored
    r = github(server, "push", push_payload(head), secret="It's a Secret to Everybody",
               delivery=delivery)
    assert r.status_code == 200 and "already received" in r.text, r.text
    d = server.get("manage/hooks/api/json", auth=server.alice).json()["deliveries"]
    mine = [x for x in d if x["id"] == delivery]
    assert len(mine) == 1 and mine[0]["matched"] == "app" and mine[0]["result"] == "polled", d

    # other events are answered and ignored
    r = github(server, "issues", {"action": "opened"}, secret="It's a Secret to Everybody")
    assert r.status_code == 200 and r.text == "ignored: event issues\n"


def test_github_refusals_name_the_header_and_the_secret(server, repo, tmp_path):
    repo.commit("f", "1\n", "one")
    create_job(server, "app", github_job_xml(tmp_path))
    set_hook_secret(server, "right")

    r = github(server, "push", push_payload("a" * 40))
    assert r.status_code == 403, r.text
    assert "X-Hub-Signature-256" in r.json()["presented"]
    assert "github hook-secret" in r.json()["fix"]
    r = github(server, "push", push_payload("a" * 40), secret="wrong")
    assert r.status_code == 403 and r.json()["error"] == "No valid signature found"
    r = server.get("github-webhook/")
    assert r.status_code == 405 and r.headers["Allow"] == "POST"
    r = github(server, "push", None, body=b"{}", headers={"X-GitHub-Event": ""}, secret="right")
    assert r.status_code == 400 and r.json()["error"] == "Hook should contain event type"
    r = github(server, "push", None, body=b"{}", secret="right",
               headers={"Content-Type": "text/plain"})
    assert r.status_code == 400 and r.json()["error"] == "Hook should contain payload"
    r = github(server, "push", None, body=b"{not json", secret="right")
    assert r.status_code == 400, r.text
    big = json.dumps({"pad": "x" * (1100 * 1024)}).encode()
    r = github(server, "push", None, body=big, secret="right")
    assert r.status_code == 413, r.text
    r = github(server, "push", push_payload("a" * 40, "https://github.com/acme/nothing"),
               secret="right")
    assert r.status_code == 200 and r.text.startswith("No job polls"), r.text
    assert builds_of(server) == []


GITLAB_YAML = """
- job:
    name: app
    scm:
      - git:
          url: {url}
          branches: ['**']
          wipe-workspace: false
    triggers:
      - gitlab:
          trigger-push: true
          trigger-merge-request: true
          branch-filter-type: NameBasedFilter
          include-branches: ['main', 'feature']
          secret-token: {token}
    builders:
      - shell: '{dump}'
"""


def gitlab_push(sha, branch="main", user="Ada Lovelace", message="change"):
    return {"object_kind": "push", "ref": f"refs/heads/{branch}", "before": "1" * 40,
            "after": sha, "checkout_sha": sha, "user_name": user, "user_username": "ada",
            "user_email": "ada@example.org",
            "project": {"name": "app", "namespace": "acme", "web_url": "https://gitlab.example/acme/app",
                        "git_ssh_url": "git@gitlab.example:acme/app.git",
                        "git_http_url": "https://gitlab.example/acme/app.git"},
            "commits": [{"id": sha, "message": message}]}


def gitlab(server, event, payload, token="gl-s3cret", auth=None, job="app"):
    h = {"X-Gitlab-Event": event, "Content-Type": "application/json",
         "X-Gitlab-Event-UUID": str(uuid.uuid4())}
    if token is not None:
        h["X-Gitlab-Token"] = token
    return server.post(f"project/{job}", data=json.dumps(payload).encode(), headers=h, auth=auth)


def test_a_gitlab_push_builds_the_pushed_commit_with_the_plugins_variables(server, repo, tmp_path):
    first = repo.commit("f", "1\n", "one")
    repo.commit("f", "2\n", "two")
    create_job(server, "app", jjb_xml(tmp_path, GITLAB_YAML.format(
        url=repo.url, token="gl-s3cret", dump=ENV_DUMP), "app"))

    r = gitlab(server, "Push Hook", gitlab_push(first), token="wrong")
    assert r.status_code == 401 and r.json()["error"] == "Invalid token", r.text
    assert "X-Gitlab-Token" in r.json()["accepts"]
    r = gitlab(server, "Push Hook", gitlab_push(first), token=None)
    assert r.status_code == 401 and "No X-Gitlab-Token" in r.json()["presented"]

    r = gitlab(server, "Push Hook", gitlab_push(first))
    assert r.status_code == 200 and r.text == "Scheduled app\n", r.text
    b = wait_for(lambda: [b for b in builds_of(server) if b["result"]], "the build")[0]
    assert b["result"] == "SUCCESS" and causes(b) == ["Started by GitLab push by Ada Lovelace"]
    log = server.get("job/app/1/consoleText", auth=server.alice).text
    # the pushed commit, not the branch's head
    assert f"COMMIT={first} BRANCH=main ACTION=PUSH USER=Ada Lovelace MR=" in log, log

    # the branch filter, [ci-skip], a deleted branch, events the job does not take
    r = gitlab(server, "Push Hook", gitlab_push(first, branch="other"))
    assert r.status_code == 200 and "does not pass the job's branch filter" in r.text, r.text
    r = gitlab(server, "Push Hook", gitlab_push(first, message="docs [ci-skip]"))
    assert r.text == "ignored: [ci-skip] in the commit message\n", r.text
    r = gitlab(server, "Push Hook", {**gitlab_push(first), "after": "0" * 40})
    assert r.text == "ignored: a branch was deleted\n", r.text
    r = gitlab(server, "Pipeline Hook", {"object_kind": "pipeline"})
    assert r.status_code == 200 and r.text == "ignored: event Pipeline Hook\n"
    r = gitlab(server, "Push Hook", gitlab_push(first), job="nosuchjob")
    assert r.status_code == 404
    assert len(builds_of(server)) == 1


def test_a_gitlab_merge_request_builds_its_last_commit(server, repo, tmp_path):
    repo.commit("f", "1\n", "one")
    feature = repo.commit("g", "x\n", "feature work", branch="feature")
    create_job(server, "app", jjb_xml(tmp_path, GITLAB_YAML.format(
        url=repo.url, token="gl-s3cret", dump=ENV_DUMP), "app"))
    mr = {"object_kind": "merge_request", "user": {"name": "Ada", "username": "ada"},
          "object_attributes": {"id": 99, "iid": 7, "title": "Feature", "action": "open",
                                "source_branch": "feature", "target_branch": "main",
                                "last_commit": {"id": feature},
                                "source": {"name": "app", "namespace": "acme"},
                                "target": {"name": "app", "namespace": "acme"}}}
    r = gitlab(server, "Merge Request Hook", mr)
    assert r.status_code == 200 and r.text == "Scheduled app\n", r.text
    b = wait_for(lambda: [b for b in builds_of(server) if b["result"]], "the build")[0]
    assert causes(b) == ["Triggered by GitLab Merge Request #7: feature => main"], b
    log = server.get("job/app/1/consoleText", auth=server.alice).text
    assert f"COMMIT={feature} BRANCH=feature ACTION=MERGE USER=Ada MR=7" in log, log
    # a merged merge request does not build unless the trigger asks for it
    r = gitlab(server, "Merge Request Hook",
               {**mr, "object_attributes": {**mr["object_attributes"], "action": "merge"}})
    assert r.text == "ignored: merge request action merge\n", r.text


def test_a_gitlab_job_without_a_secret_token_takes_a_user_who_may_build(server, repo, tmp_path):
    head = repo.commit("f", "1\n", "one")
    xml = jjb_xml(tmp_path, GITLAB_YAML.format(url=repo.url, token="x", dump=ENV_DUMP), "app")
    create_job(server, "app", xml.replace("<secretToken>x</secretToken>", ""))
    r = gitlab(server, "Push Hook", gitlab_push(head), token=None)
    assert r.status_code in (401, 403), r.text
    r = gitlab(server, "Push Hook", gitlab_push(head), token=None, auth=server.bob)
    assert r.status_code == 200 and r.text == "Scheduled app\n", r.text


def test_a_hook_secret_credential_that_is_gone_refuses_and_says_which(server, repo, tmp_path):
    repo.commit("f", "1\n", "one")
    create_job(server, "app", github_job_xml(tmp_path))
    p = server.admin("github", "hook-secret", "nope", check=False)
    assert p.returncode != 0 and "there is no credential 'nope'" in p.stderr
    set_hook_secret(server, "right")
    server.admin("credentials", "remove", "gh-hook")
    r = github(server, "push", push_payload("a" * 40), secret="right")
    assert r.status_code == 403, r.text
    assert "gh-hook" in r.json()["presented"] and "hook-secret" in r.json()["fix"]
    server.admin("github", "hook-secret", "--remove")
    r = github(server, "push", push_payload("a" * 40))
    assert r.status_code == 200 and r.text == "Scheduled polling of app\n", r.text
