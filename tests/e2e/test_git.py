"""Git checkout (hudson.plugins.git.GitSCM) against real repositories over file://, with jobs
written by jenkins-job-builder: the checkout, its console, the git plugin's variables, and the
build JSON that python-jenkins and dashboards read."""
import os
import shutil
import subprocess

import pytest

from conftest import SLOW, create_job

pytestmark = pytest.mark.skipif(
    not shutil.which("jenkins-jobs") or not shutil.which("git"),
    reason="needs jenkins-job-builder and git")

BUILD_USER = "steward-build"
ENV_DUMP = ('echo "COMMIT=$GIT_COMMIT BRANCH=$GIT_BRANCH URL=$GIT_URL '
            'PREV=${GIT_PREVIOUS_COMMIT-unset} PREVOK=${GIT_PREVIOUS_SUCCESSFUL_COMMIT-unset} '
            'LOCAL=${GIT_LOCAL_BRANCH-unset} DIR=${GIT_CHECKOUT_DIR-unset}"')


class Repo:
    """A bare repository builds can reach (in the server's shared directory), and a clone
    the test commits from."""

    def __init__(self, server, tmp_path, name="origin"):
        self.bare = os.path.join(server.shared, f"{name}.git")
        self.url = "file://" + self.bare
        self.work = str(tmp_path / f"{name}-work")
        self.env = {**os.environ, "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1",
                    "GIT_AUTHOR_NAME": "Ada Author", "GIT_AUTHOR_EMAIL": "ada@example.org",
                    "GIT_COMMITTER_NAME": "Carl Committer",
                    "GIT_COMMITTER_EMAIL": "carl@example.org"}
        # the test's own git works on a repository the build user owns
        (tmp_path / ".gitconfig").write_text("[safe]\n\tdirectory = *\n")
        self.git("init", "--bare", "-b", "main", self.bare, cwd=server.shared)
        self.git("clone", self.bare, self.work, cwd=str(tmp_path))
        self.share()

    def share(self):
        """git reads a repository on disk only for its owner (safe.directory): builds run as
        the build user."""
        subprocess.run(["chown", "-R", BUILD_USER, self.bare], check=True)

    def git(self, *args, cwd=None):
        p = subprocess.run(["git", *args], cwd=cwd or self.work, env=self.env,
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, f"git {args}: {p.stderr}"
        return p.stdout.strip()

    def commit(self, path, text, message, branch="main"):
        full = os.path.join(self.work, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        self.git("push", "-q", "origin", f"HEAD:{branch}")
        self.share()
        return self.git("rev-parse", "HEAD")

    def remove(self, path, message, branch="main"):
        self.git("rm", "-q", path)
        self.git("commit", "-q", "-m", message)
        self.git("push", "-q", "origin", f"HEAD:{branch}")
        self.share()
        return self.git("rev-parse", "HEAD")


def jjb_xml(tmp_path, yaml, job):
    d = tmp_path / "jjb"
    d.mkdir(exist_ok=True)
    (d / "jobs.yaml").write_text(yaml)
    out = d / "out"
    env = {**os.environ, "HOME": str(d)}
    p = subprocess.run(["jenkins-jobs", "test", "--config-xml", "-o", str(out), str(d / "jobs.yaml")],
                       cwd=d, env=env, capture_output=True, text=True, timeout=60 * SLOW)
    assert p.returncode == 0, p.stderr
    return (out / job / "config.xml").read_text()


def build(server, job, params=None):
    if params:
        r = server.post(f"job/{job}/buildWithParameters", data=params, auth=server.alice)
    else:
        r = server.post(f"job/{job}/build", auth=server.alice)
    assert r.status_code == 201, r.text
    item = server.wait_queue_item(r.headers["Location"], server.alice)
    number = item["executable"]["number"]
    b = server.wait_build(job, number, server.alice)
    log = server.get(f"job/{job}/{number}/consoleText", auth=server.alice).text
    return b, log


def env_of(log):
    line = next(l for l in log.splitlines() if l.startswith("COMMIT="))
    return dict(kv.split("=", 1) for kv in line.split(" "))


@pytest.fixture
def repo(server, tmp_path):
    return Repo(server, tmp_path)


def git_job_yaml(url, branches=("main",), extra_scm="", builders=ENV_DUMP, params=""):
    branch_list = "".join(f"\n            - '{b}'" for b in branches)
    return f"""
- job:
    name: app
    project-type: freestyle
{params}    scm:
      - git:
          url: {url}
          branches:{branch_list}
{extra_scm}    builders:
      - shell: |
          {builders}
"""


def test_a_jjb_git_job_checks_out_and_reports_like_the_git_plugin(server, repo, tmp_path):
    first = repo.commit("README", "hello\n", "first commit")
    create_job(server, "app", jjb_xml(tmp_path, git_job_yaml(repo.url), "app"))
    assert server.get("job/app/api/json", auth=server.alice).json()["unsupported"] == []

    b, log = build(server, "app")
    assert b["result"] == "SUCCESS", log
    assert "Cloning the remote Git repository" in log
    assert f" > git fetch --tags --force --progress -- {repo.url} +refs/heads/*:refs/remotes/origin/*" in log
    assert f"Checking out Revision {first} (origin/main)" in log
    assert 'Commit message: "first commit"' in log
    assert "First time build. Skipping changelog." in log
    env = env_of(log)
    assert env == {"COMMIT": first, "BRANCH": "origin/main", "URL": repo.url, "PREV": "unset",
                   "PREVOK": "unset", "LOCAL": "unset", "DIR": "unset"}, log
    data = next(a for a in b["actions"] if a.get("_class") == "hudson.plugins.git.util.BuildData")
    assert data["lastBuiltRevision"]["SHA1"] == first
    assert data["lastBuiltRevision"]["branch"] == [{"SHA1": first, "name": "origin/main"}]
    assert data["remoteUrls"] == [repo.url] and data["scmName"] == ""
    assert data["buildsByBranchName"]["origin/main"]["buildNumber"] == b["number"]
    assert b["changeSet"] == {"_class": "hudson.plugins.git.GitChangeSetList", "kind": "git",
                              "items": []}

    # two more commits: the next build's change set lists them, newest first
    second = repo.commit("src/a.c", "int a;\n", "add a.c\n\nwith a body")
    third = repo.remove("README", "drop the readme")
    b2, log2 = build(server, "app")
    assert b2["result"] == "SUCCESS", log2
    # jenkins-job-builder's git defaults to wipe-workspace: a fresh clone every build
    assert "Wiping out workspace first.\nCloning the remote Git repository" in log2
    env2 = env_of(log2)
    assert env2["COMMIT"] == third and env2["PREV"] == first and env2["PREVOK"] == first
    items = b2["changeSet"]["items"]
    assert [i["commitId"] for i in items] == [third, second]
    assert items[1]["msg"] == "add a.c" and items[1]["comment"] == "add a.c\n\nwith a body\n"
    assert items[1]["author"]["fullName"] == "Carl Committer"
    assert items[1]["authorEmail"] == "carl@example.org"
    assert items[1]["paths"] == [{"editType": "add", "file": "src/a.c"}]
    assert items[1]["affectedPaths"] == ["src/a.c"]
    assert items[0]["paths"] == [{"editType": "delete", "file": "README"}]
    assert items[0]["_class"] == "hudson.plugins.git.GitChangeSet" and items[0]["id"] == third
    assert isinstance(items[0]["timestamp"], int) and items[0]["timestamp"] > 0
    # the job's scm, as clients read it
    info = server.get("job/app/api/json", auth=server.alice).json()
    assert info["scm"] == {"_class": "hudson.plugins.git.GitSCM"}

    # the build page shows the revision and the changes
    page = server.get(f"job/app/{b2['number']}/", auth=server.alice,
                      headers={"Accept": "text/html"}).text
    assert third in page and "drop the readme" in page and "add a.c" in page


def test_branch_specs_with_parameters_wildcards_and_tags(server, repo, tmp_path):
    repo.commit("f", "1\n", "on main")
    feature = repo.commit("f", "2\n", "on feature", branch="feature/x")
    params = """    parameters:
      - string:
          name: BRANCH
          default: main
"""
    create_job(server, "app", jjb_xml(tmp_path, git_job_yaml(
        repo.url, branches=("${BRANCH}",), params=params), "app"))
    b, log = build(server, "app", {"BRANCH": "feature/x"})
    assert b["result"] == "SUCCESS", log
    assert env_of(log)["COMMIT"] == feature and env_of(log)["BRANCH"] == "origin/feature/x"

    # */feature/* and a tag
    repo.git("tag", "v1", feature)
    repo.git("push", "-q", "origin", "v1")
    for spec, want_branch in (("*/feature/*", "origin/feature/x"), ("refs/tags/v1", "refs/tags/v1")):
        r = server.post("job/app/config.xml", auth=server.alice,
                        headers={"Content-Type": "application/xml"},
                        data=jjb_xml(tmp_path, git_job_yaml(repo.url, branches=(spec,)),
                                     "app").encode())
        assert r.status_code == 200, r.text
        b, log = build(server, "app")
        assert b["result"] == "SUCCESS", log
        assert env_of(log)["COMMIT"] == feature and env_of(log)["BRANCH"] == want_branch, log


def test_extensions_local_branch_relative_dir_clean_and_shallow(server, repo, tmp_path):
    for i in range(3):
        head = repo.commit("n", f"{i}\n", f"commit {i}")
    extra = """          local-branch: main
          basedir: src/app
          wipe-workspace: false
          clean:
            before: true
          shallow-clone: true
          depth: 1
"""
    steps = ENV_DUMP + "\n          test \"$(git -C src/app rev-parse --abbrev-ref HEAD)\" = main" \
        "\n          test \"$(git -C src/app rev-list --count HEAD)\" = 1" \
        "\n          touch src/app/untracked"
    create_job(server, "app", jjb_xml(tmp_path, git_job_yaml(repo.url, extra_scm=extra,
                                                             builders=steps), "app"))
    b, log = build(server, "app")
    assert b["result"] == "SUCCESS", log
    env = env_of(log)
    assert env["LOCAL"] == "main" and env["DIR"] == "src/app" and env["COMMIT"] == head, log
    assert " > git fetch --tags --force --progress --depth=1 -- " in log
    assert f" > git checkout -f -B main {head}" in log
    b, log = build(server, "app")
    assert b["result"] == "SUCCESS", log
    assert " > git clean -ffdx" in log


def test_a_failed_checkout_fails_the_build_before_any_step(server, repo, tmp_path):
    repo.commit("f", "x\n", "one")
    create_job(server, "app", jjb_xml(tmp_path, git_job_yaml(
        repo.url, branches=("no-such-branch",), builders="echo STEP-RAN"), "app"))
    b, log = build(server, "app")
    assert b["result"] == "FAILURE", log
    assert "Couldn't find any revision to build" in log and "STEP-RAN" not in log
    assert "ERROR: the Git checkout failed; no build step runs." in log

    create_job(server, "gone", jjb_xml(tmp_path, git_job_yaml(
        "file:///nonexistent/repo.git", builders="echo STEP-RAN"), "app"))
    b, log = build(server, "gone")
    assert b["result"] == "FAILURE" and "STEP-RAN" not in log, log


def test_an_unsupported_git_extension_fails_the_build_and_is_named(server, repo, tmp_path):
    repo.commit("f", "x\n", "one")
    xml = jjb_xml(tmp_path, git_job_yaml(repo.url, builders="echo STEP-RAN"), "app")
    xml = xml.replace("<extensions>", "<extensions><hudson.plugins.git.extensions.impl."
                      "PreBuildMerge><options/></hudson.plugins.git.extensions.impl.PreBuildMerge>")
    r = server.post("createItem?name=app", data=xml.encode(), auth=server.alice,
                    headers={"Content-Type": "application/xml"})
    assert r.status_code == 200, r.text
    assert r.headers["X-Steward-Unsupported"] == \
        "scm/extensions/hudson.plugins.git.extensions.impl.PreBuildMerge (fails)"
    b, log = build(server, "app")
    assert b["result"] == "FAILURE" and "STEP-RAN" not in log and "git merge" in log, log


def wait_for(cond, what, timeout=30):
    import time
    deadline = time.time() + timeout * SLOW
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout * SLOW} s")


def poll_log(server):
    r = server.get("job/app/scmPollLog", auth=server.alice)
    return r.text if r.status_code == 200 else ""


def builds_of(server, job="app"):
    return server.get(f"job/{job}/api/json?tree=builds[number,result,actions[causes[shortDescription]]]",
                      auth=server.alice).json()["builds"]


def causes(b):
    return [c["shortDescription"] for a in b.get("actions", []) for c in a.get("causes", [])]


POLL_YAML = """    triggers:
      - pollscm:
          cron: "H/15 * * * *"
"""


def poll_job_yaml(url, branches=("main",)):
    return git_job_yaml(url, branches=branches, builders=ENV_DUMP).replace(
        "    builders:", POLL_YAML + "    builders:")


def poll_now(server):
    r = server.post("job/app/polling", auth=server.alice, allow_redirects=False)
    assert r.status_code == 302, r.text


def test_polling_builds_when_the_remote_changes_and_only_then(server, repo, tmp_path):
    repo.commit("f", "1\n", "one")
    create_job(server, "app", jjb_xml(tmp_path, poll_job_yaml(repo.url), "app"))
    assert server.get("job/app/scmPollLog", auth=server.alice).status_code == 404
    page = server.get("job/app/", auth=server.alice, headers={"Accept": "text/html"}).text
    assert "scmPollLog" in page

    # never built: the first poll builds
    poll_now(server)
    wait_for(lambda: "Done." in poll_log(server), "the first poll")
    log = poll_log(server)
    assert "No existing build. Scheduling a new one." in log and log.endswith("Changes found\n")
    assert f" > git ls-remote --heads --tags -- {repo.url}" in log
    b = wait_for(lambda: [b for b in builds_of(server) if b["result"]], "build #1")[0]
    assert b["result"] == "SUCCESS" and causes(b) == ["Started by an SCM change"]

    # nothing new: no build
    poll_now(server)
    wait_for(lambda: poll_log(server).endswith("No changes\n"), "a poll without changes")
    assert len(builds_of(server)) == 1

    # a push: the next poll builds it
    head = repo.commit("f", "2\n", "two")
    poll_now(server)
    wait_for(lambda: "Changes found" in poll_log(server), "a poll with changes")
    assert f"Changes found: origin/main at {head}" in poll_log(server)
    b2 = wait_for(lambda: [b for b in builds_of(server) if b["number"] == 2 and b["result"]],
                  "build #2")[0]
    assert b2["result"] == "SUCCESS", b2
    log2 = server.get("job/app/2/consoleText", auth=server.alice).text
    assert log2.startswith("Started by an SCM change\n") and f"COMMIT={head}" in log2


def notify(server, **params):
    return server.get("git/notifyCommit", params=params)


def test_notify_commit_needs_its_own_token_and_says_so(server, repo, tmp_path):
    repo.commit("f", "1\n", "one")
    create_job(server, "app", jjb_xml(tmp_path, poll_job_yaml(repo.url), "app"))

    r = notify(server, url=repo.url)
    assert r.status_code == 401, r.text
    body = r.json()
    assert "An access token is required" in body["error"]
    assert "notifyCommit access token" in body["accepts"] and "notify-token new" in body["fix"]
    # a user's API token is not a notifyCommit token, and the answer says what it is not
    r = notify(server, url=repo.url, token=server.alice_token)
    assert r.status_code == 403 and r.json()["error"] == "Invalid access token", r.text
    assert "API token" in r.json()["presented"]
    assert builds_of(server) == []

    token = server.admin("git", "notify-token", "new", "forge").stdout.strip()
    assert len(token) == 32
    r = notify(server, url=repo.url, token=token)
    assert r.status_code == 200 and r.text == "Scheduled polling of app\n", r.text
    assert r.headers["Triggered"] == server.url + "job/app/"
    b = wait_for(lambda: [b for b in builds_of(server) if b["result"]], "the build")[0]
    assert causes(b) == ["Started by an SCM change"]

    # the settings can lift the requirement
    server.admin("git", "notify-access", "sha1-only")
    r = notify(server, url=repo.url)
    assert r.status_code == 200, r.text
    r = notify(server, url=repo.url, sha1="abc1234")
    assert r.status_code == 401 and "sha1" in r.json()["error"], r.text


def test_notify_commit_with_sha1_builds_that_commit(server, repo, tmp_path):
    first = repo.commit("f", "1\n", "one")
    repo.commit("f", "2\n", "two")
    create_job(server, "app", jjb_xml(tmp_path, poll_job_yaml(repo.url), "app"))
    # a job of the same repository without polling is left alone, as in the git plugin
    create_job(server, "nopoll", jjb_xml(tmp_path, git_job_yaml(repo.url), "app"))
    # the REST form of the token, as the git plugin's Generate button makes it
    r = server.post("descriptorByName/hudson.plugins.git.ApiTokenPropertyConfiguration/generate",
                    data={"apiTokenName": "ci"}, auth=server.alice)
    assert r.status_code == 200, r.text
    token = r.json()["data"]["value"]
    assert r.json()["status"] == "ok" and r.json()["data"]["name"] == "ci"

    # the URL as another form of the same repository still matches
    r = notify(server, url=repo.url.replace("origin.git", "origin"), sha1=first, token=token)
    assert r.status_code == 200 and r.text == "Scheduled app\n", r.text
    b = wait_for(lambda: [b for b in builds_of(server) if b["result"]], "the build")[0]
    assert causes(b) == [f"commit notification {first}"]
    log = server.get("job/app/1/consoleText", auth=server.alice).text
    assert f"COMMIT={first}" in log, log
    assert builds_of(server, "nopoll") == []

    # nothing matches: said, and nothing is scheduled
    r = notify(server, url="https://example.org/other.git", token=token)
    assert r.status_code == 200 and r.text.startswith(
        "No git jobs using repository: https://example.org/other.git"), r.text
    r = notify(server, url=repo.url, branches="feature", token=token)
    assert r.status_code == 200 and "No git jobs using repository" in r.text, r.text
    r = notify(server, url=repo.url, branches="main", token=token)
    assert r.text == "Scheduled polling of app\n", r.text
    r = notify(server, url=repo.url, sha1="not-hex!", token=token)
    assert r.status_code == 400 and r.json()["error"] == "Illegal SHA1"
    r = notify(server, token=token)
    assert r.status_code == 400 and r.json()["error"].startswith("Illegal URL")

    # a revoked token stops working
    uuid = r2 = None
    listing = server.admin("git", "notify-token", "list").stdout
    uuid = next(l.split()[0] for l in listing.splitlines() if l.endswith(" ci"))
    r2 = server.post("descriptorByName/hudson.plugins.git.ApiTokenPropertyConfiguration/revoke",
                     data={"apiTokenUuid": uuid}, auth=server.alice)
    assert r2.status_code == 200, r2.text
    assert notify(server, url=repo.url, token=token).status_code == 403
