"""/prometheus/: the Prometheus plugin's names, Steward's counters, who may read them, and a
real Prometheus server scraping them with the Bearer token."""
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse

import requests

from conftest import SLOW, basic, create_job, job_xml
from e2e_helpers import wait_for

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
JOB_LABELS = {"repo": "NA", "buildable": "true"}


# ---- reading the text format ----

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="')
UNESCAPE = {"n": "\n", "\\": "\\", '"': '"'}


def parse(text):
    """{(name, ((label, value), ...)): value} of every sample; asserts the lines are well formed
    and that each family's samples follow its own TYPE line."""
    samples, family = {}, None
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            family = line.split(" ")[2]
            continue
        if not line or line.startswith("#"):
            continue
        m = NAME.match(line)
        assert m, f"not a sample line: {line!r}"
        name, i, labels = m.group(0), m.end(), []
        assert family and name.startswith(family), f"{name} outside its family ({family}): {line!r}"
        if line[i] == "{":
            i += 1
            while line[i] != "}":
                m = LABEL.match(line, i)
                assert m, f"bad label at {i}: {line!r}"
                i, value = m.end(), []
                while line[i] != '"':
                    if line[i] == "\\":
                        value.append(UNESCAPE[line[i + 1]])
                        i += 2
                    else:
                        value.append(line[i])
                        i += 1
                labels.append((m.group(1), "".join(value)))
                i += 1
                if line[i] == ",":
                    i += 1
            i += 1
        assert line[i] == " ", f"no space before the value: {line!r}"
        samples[(name, tuple(sorted(labels)))] = float(line[i + 1:])
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))


def job_value(samples, name, job):
    return value(samples, name, jenkins_job=job, **JOB_LABELS)


def scrape(server, **kw):
    r = server.get("prometheus/", **kw)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == CONTENT_TYPE
    return parse(r.text)


def delta(before, after, name, **labels):
    return (value(after, name, **labels) or 0) - (value(before, name, **labels) or 0)


def trigger(server, job, expect=201, **kw):
    r = server.post(f"job/{urllib.parse.quote(job)}/build", **kw)
    assert r.status_code == expect, r.text
    return r


def build_of(server, location):
    item = server.wait_queue_item(location, server.alice)
    return item["executable"]["number"]


# ---- the counters and the plugin's per-job metrics ----

def test_counters_move_with_triggers_builds_and_refusals(server, tmp_path):
    green, red = "déploiement prod", "red"
    create_job(server, urllib.parse.quote(green), job_xml(token="tg"))
    create_job(server, red, job_xml(token="tr", script="echo failing; exit 3"))
    before = scrape(server, auth=server.alice)

    # two green builds one after the other (no merge), one red build
    for _ in range(2):
        loc = trigger(server, green, params={"token": "tg"}).headers["Location"]
        server.wait_build(green, build_of(server, loc), server.alice)
    loc = trigger(server, red, auth=server.alice).headers["Location"]
    assert server.wait_build(red, build_of(server, loc), server.alice)["result"] == "FAILURE"

    # refusals, each with its reason
    trigger(server, red, 403, params={"token": "wrong"}, auth=server.alice)
    trigger(server, red, 403, params={"token": server.bob_token}, auth=server.alice)
    trigger(server, "no-such-job", 404, auth=server.alice)
    trigger(server, red, 401, headers={"Authorization": basic("alice", "not-her-password")})
    r = server.get(f"job/{red}/build", auth=server.alice)
    assert r.status_code == 405, r.text

    after = scrape(server, auth=server.alice)
    assert delta(before, after, "steward_triggers_total", result="accepted") == 3
    assert delta(before, after, "steward_triggers_total", result="merged") == 0
    assert delta(before, after, "steward_triggers_total", result="refused") == 5
    for reason, n in [("wrong_token", 1), ("api_token_as_trigger_token", 1), ("no_such_job", 1),
                      ("bad_credentials", 1), ("method", 1), ("queue_full", 0)]:
        assert delta(before, after, "steward_trigger_refusals_total", reason=reason) == n, reason
    assert delta(before, after, "steward_auth_failures_total", kind="bad_secret") == 1
    assert delta(before, after, "steward_http_requests_total", code="201") == 3
    assert delta(before, after, "steward_http_requests_total", code="403") >= 2

    # the plugin's per-job series, labels and all (the job name arrives unharmed)
    assert job_value(after, "default_jenkins_builds_success_build_count_total", green) == 2
    assert job_value(after, "default_jenkins_builds_failed_build_count_total", green) == 0
    assert job_value(after, "default_jenkins_builds_total_build_count_total", green) == 2
    assert job_value(after, "default_jenkins_builds_last_build_result_ordinal", green) == 0
    assert job_value(after, "default_jenkins_builds_last_build_result", green) == 1
    assert job_value(after, "default_jenkins_builds_duration_milliseconds_summary_count", green) == 2
    assert job_value(after, "default_jenkins_builds_duration_milliseconds_summary_sum", green) >= 0
    assert job_value(after, "default_jenkins_builds_failed_build_count_total", red) == 1
    assert job_value(after, "default_jenkins_builds_last_build_result_ordinal", red) == 2
    assert job_value(after, "default_jenkins_builds_last_build_result", red) == 0
    info = server.get(f"job/{red}/1/api/json", auth=server.alice).json()
    assert job_value(after, "default_jenkins_builds_last_build_start_time_milliseconds", red) \
        == info["timestamp"]
    assert job_value(after, "default_jenkins_builds_last_build_duration_milliseconds", red) \
        == info["duration"]
    assert job_value(after, "default_jenkins_builds_discard_active", red) == 0
    assert value(after, "default_jenkins_up") == 1
    assert value(after, "default_jenkins_uptime") > 0
    assert value(after, "default_jenkins_version_info", version="2.462.3") == 1


def test_queue_merges_and_busy_executors_show(server, tmp_path):
    flag = pathlib.Path(server.shared) / f"{tmp_path.name}-go"
    create_job(server, "later", job_xml([("string", "P", "x")], token="tl", quiet=60))
    create_job(server, "gate", job_xml(token="tg", script=(
        f'i=0; while [ ! -e "{flag}" ] && [ $i -lt {600 * SLOW} ]; do sleep 0.05; i=$((i+1)); done')))
    before = scrape(server, auth=server.alice)

    # identical triggers in the quiet period: one item, one merge
    a = trigger(server, "later", params={"token": "tl", "P": "same"})
    b = trigger(server, "later", params={"token": "tl", "P": "same"})
    assert a.headers["Location"] == b.headers["Location"]
    mid = scrape(server, auth=server.alice)
    assert delta(before, mid, "steward_triggers_total", result="accepted") == 1
    assert delta(before, mid, "steward_triggers_total", result="merged") == 1
    assert value(mid, "jenkins_queue_size_value") == 1
    assert value(mid, "jenkins_queue_buildable_value") == 0   # it waits out its quiet period

    # a first gate build that ends at once, so that the job has a last build; then one that waits
    flag.touch()
    server.wait_build("gate", build_of(server, trigger(server, "gate", params={"token": "tg"})
                                       .headers["Location"]), server.alice)
    flag.unlink()
    number = build_of(server, trigger(server, "gate", params={"token": "tg"}).headers["Location"])
    busy = scrape(server, auth=server.alice)
    assert value(busy, "default_jenkins_executors_busy", label="built-in") == 1
    assert value(busy, "default_jenkins_executors_defined", label="built-in") == 2
    assert value(busy, "default_jenkins_executors_idle", label="built-in") == 1
    assert value(busy, "jenkins_executor_in_use_value") == 1
    assert value(busy, "jenkins_executor_free_value") == 1
    assert job_value(busy, "default_jenkins_builds_running_build_duration_milliseconds", "gate") >= 0
    flag.touch()
    server.wait_build("gate", number, server.alice)
    idle = scrape(server, auth=server.alice)
    assert value(idle, "default_jenkins_executors_busy", label="built-in") == 0
    assert job_value(idle, "default_jenkins_builds_running_build_duration_milliseconds", "gate") \
        is None
    assert job_value(idle, "default_jenkins_builds_success_build_count_total", "gate") == 2


def test_quiet_down_shows(server):
    assert value(scrape(server, auth=server.alice), "default_jenkins_quietdown") == 0
    r = server.post("quietDown", auth=server.alice, allow_redirects=False)
    assert r.status_code == 302, r.text
    assert value(scrape(server, auth=server.alice), "default_jenkins_quietdown") == 1
    r = server.post("cancelQuietDown", auth=server.alice, allow_redirects=False)
    assert r.status_code == 302, r.text
    assert value(scrape(server, auth=server.alice), "default_jenkins_quietdown") == 0


# ---- who may read ----

def test_anonymous_is_refused_and_the_bearer_token_works(server):
    before = scrape(server, auth=server.bob)   # any user who may read

    r = server.get("prometheus/")
    assert r.status_code == 401, r.text
    challenges = r.headers["WWW-Authenticate"]
    assert "Bearer" in challenges and "Basic" in challenges
    body = r.json()
    assert "Authorization: Bearer" in body["accepts"] and "Basic" in body["accepts"]
    assert "no credentials" in body["presented"]
    assert "metrics token" in body["fix"]
    # a browser goes to the login page instead
    r = server.get("prometheus/", headers={"Accept": "text/html"}, allow_redirects=False)
    assert r.status_code == 302 and "/login?from=" in r.headers["Location"]

    # no token made yet: a Bearer token is refused, and the answer says there is none
    r = server.get("prometheus/", headers={"Authorization": "Bearer stm_" + "0" * 64})
    assert r.status_code == 401 and r.json()["error"] == "No metrics token is set", r.text

    p = server.admin("metrics", "token", "new")
    token = p.stdout.strip()
    assert re.fullmatch(r"stm_[0-9a-f]{64}", token), p.stdout
    assert token not in p.stderr
    bearer = {"Authorization": f"Bearer {token}"}
    assert scrape(server, headers=bearer)
    r = server.get("prometheus", headers=bearer)   # without the trailing slash too
    assert r.status_code == 200 and r.headers["Content-Type"] == CONTENT_TYPE

    wrong = token[:-1] + ("0" if token[-1] != "0" else "1")
    r = server.get("prometheus/", headers={"Authorization": f"Bearer {wrong}"})
    assert r.status_code == 401 and r.json()["error"] == "Invalid metrics token", r.text
    assert wrong not in r.text and token not in r.text
    r = server.get("prometheus/", headers={"Authorization": f"Bearer {server.bob_token}"})
    assert r.status_code == 401 and "user API token" in r.json()["presented"], r.text
    r = server.post("prometheus/", headers=bearer)
    assert r.status_code == 405 and "GET" in r.headers["Allow"], r.text

    # a new token replaces the old one; a revoked one is gone
    second = server.admin("metrics", "token", "new").stdout.strip()
    assert server.get("prometheus/", headers=bearer).status_code == 401
    assert scrape(server, headers={"Authorization": f"Bearer {second}"})
    server.admin("metrics", "token", "revoke")
    r = server.get("prometheus/", headers={"Authorization": f"Bearer {second}"})
    assert r.status_code == 401 and r.json()["error"] == "No metrics token is set", r.text
    assert server.admin("metrics", "token", "revoke", check=False).returncode == 1

    # with anonymous read on, anonymous may read the metrics like the rest
    server.admin("security", "anonymous-read", "on")
    after = scrape(server)
    assert delta(before, after, "steward_auth_failures_total", kind="metrics_token") == 5


# ---- a real Prometheus server ----

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_real_prometheus_scrapes_steward_with_the_bearer_token(server, tmp_path):
    prometheus = shutil.which("prometheus")
    assert prometheus, ("the prometheus binary is missing: `make test-deps` installs Debian's "
                        "prometheus package")
    create_job(server, "scraped", job_xml(token="ts"))
    loc = trigger(server, "scraped", params={"token": "ts"}).headers["Location"]
    server.wait_build("scraped", build_of(server, loc), server.alice)

    token_file = tmp_path / "scrape-token"
    token_file.write_text(server.admin("metrics", "token", "new").stdout.strip())
    os.chmod(token_file, 0o600)
    target = urllib.parse.urlsplit(server.url).netloc
    config = tmp_path / "prometheus.yml"
    config.write_text(f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: steward
    metrics_path: /prometheus/
    authorization:
      type: Bearer
      credentials_file: {token_file}
    static_configs:
      - targets: ['{target}']
""")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api/v1/"
    log_path = tmp_path / "prometheus.log"
    proc = None
    seen = {}

    def query(q):
        """The value of an instant query with one series, else None; what was seen goes to seen[q]."""
        if proc.poll() is not None:
            raise AssertionError(f"prometheus exited with {proc.returncode}:\n"
                                 + log_path.read_text()[-4000:])
        try:
            r = requests.get(api + "query", params={"query": q}, timeout=5 * SLOW)
            data = r.json()
        except (requests.RequestException, ValueError) as e:
            seen[q] = f"no answer ({type(e).__name__})"
            return None
        seen[q] = data
        result = data.get("data", {}).get("result", [])
        return float(result[0]["value"][1]) if len(result) == 1 else None

    def targets():
        try:
            return requests.get(api + "targets", timeout=5 * SLOW).json()["data"]["activeTargets"]
        except (requests.RequestException, ValueError, KeyError) as e:
            return f"no answer ({type(e).__name__})"

    def wait_query(q, want, timeout=60):
        deadline = time.time() + timeout * SLOW
        while time.time() < deadline:
            if query(q) == want:
                return
            time.sleep(0.2)
        raise AssertionError(f"waited {timeout * SLOW}s for Prometheus to answer {want} to {q}; "
                             f"last seen: {seen.get(q)!r}; targets: {targets()!r}")

    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_query('up{job="steward"}', 1)
        wait_query('steward_triggers_total{job="steward",result="accepted"}', 1)
        wait_query('default_jenkins_builds_success_build_count_total'
                   '{jenkins_job="scraped",repo="NA",buildable="true"}', 1)
        wait_query('default_jenkins_executors_defined{label="built-in"}', 2)
        # a second build reaches Prometheus on a later scrape
        loc = trigger(server, "scraped", params={"token": "ts"}).headers["Location"]
        server.wait_build("scraped", build_of(server, loc), server.alice)
        wait_query('default_jenkins_builds_success_build_count_total{jenkins_job="scraped"}', 2)
        health = [t["health"] for t in targets()]
        assert health == ["up"], targets()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15 * SLOW)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
