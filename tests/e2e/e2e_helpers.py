"""Small helpers shared by the newer e2e modules (bounded waits, JSON shapes)."""
import os
import time
import urllib.parse

from sign_in import web_sign_in  # noqa: F401 (re-exported)
from conftest import SLOW, started_server  # noqa: F401 (re-exported for module fixtures)


def wait_for(pred, timeout=10, what="condition", interval=0.05, seen=None):
    """Polls pred() until it returns something truthy; timeout is scaled by SLOW.

    On time-out the error says what was awaited and what was seen: seen()
    when given, else pred()'s last value."""
    deadline = time.time() + timeout * SLOW
    last = None
    while True:
        last = pred()
        if last:
            return last
        if time.time() > deadline:
            shown = seen() if seen else last
            raise AssertionError(f"timed out after {timeout * SLOW:g} s waiting for {what}; "
                                 f"last seen: {shown!r}")
        time.sleep(interval)


def pids_running(*argv):
    """The pids of the processes whose command line is exactly argv, zombies left out.

    A sandboxed build sees its own pid namespace, so `echo $$` means nothing outside it:
    tests find a build's processes by a command line no other process has."""
    want = b"\0".join(a.encode() for a in argv) + b"\0"
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                if f.read() != want:
                    continue
            with open(f"/proc/{d}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
        except OSError:
            continue
        pids.append(int(d))
    return pids


def item_path(location):
    """'http://host:port/queue/item/7/' -> 'queue/item/7/' (a Location from any port)."""
    path = urllib.parse.urlsplit(location).path
    assert path.startswith("/queue/item/") and path.endswith("/"), location
    return path.lstrip("/")


def item_id(location):
    return int(item_path(location).rstrip("/").rsplit("/", 1)[1])


def causes_of(obj):
    """All causes of a queue item or build JSON."""
    return [c for a in obj.get("actions", []) if a and "causes" in a for c in a["causes"]]


def params_of(obj):
    """{name: value} of a queue item or build JSON."""
    return {p["name"]: p.get("value") for a in obj.get("actions", []) if a and "parameters" in a
            for p in a["parameters"]}


def console(server, job, number, auth):
    r = server.get(f"job/{job}/{number}/consoleText", auth=auth)
    assert r.status_code == 200, r.text
    return r.text


def job_info(server, job, auth):
    r = server.get(f"job/{job}/api/json", auth=auth)
    assert r.status_code == 200, r.text
    return r.json()


def queue_items(server, auth):
    r = server.get("queue/api/json", auth=auth)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def assert_nothing_queued_or_built(server, job, auth):
    """The job has neither a queue item nor a build."""
    info = job_info(server, job, auth)
    assert info["lastBuild"] is None and info["builds"] == [], info
    assert info["inQueue"] is False and info["queueItem"] is None, info
    assert not [i for i in queue_items(server, auth) if i["task"]["name"] == job]


def restart(server, *extra):
    """Starts a stopped server again on the same home; it gets a new port.

    Server.start() finds the port in the whole log, so a second start would read the first
    run's port: the earlier log moves aside to server.log.N first (read_log() then shows
    only the new run)."""
    assert server.proc is None, "stop the server first"
    n = 1
    while os.path.exists(f"{server.log_path}.{n}"):
        n += 1
    os.rename(server.log_path, f"{server.log_path}.{n}")
    server.start(*extra)
    return server


def signed_in(srv, user, password):
    """A requests session signed in as a browser is (the session cookie)."""
    import requests
    http = requests.Session()
    assert web_sign_in(srv.url, user, password, session=http).status_code == 302
    return http


def page_crumb(text):
    """The CSRF crumb of a page's forms."""
    import re
    m = re.search(r'name="Jenkins-Crumb" value="([0-9a-f]+)"', text)
    assert m, text[:2000]
    return m.group(1)
