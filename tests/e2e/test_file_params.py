"""File parameters (hudson.model.FileParameterDefinition): uploads in both of Jenkins' forms,
the file in the workspace at the parameter's path with its bytes, and hostile uploads refused
with nothing queued."""
import hashlib
import json
import os
import re
import subprocess
from xml.sax.saxutils import escape

import jenkins
import pytest
import requests

from conftest import BIN, SLOW, Server, create_job, job_xml
from e2e_helpers import assert_nothing_queued_or_built, item_id, wait_for

SCRIPT = ('set -e; sha256sum in/data.bin; echo "var=$FILE_VAR"; '
          'if [ -e notes.txt ]; then echo "notes: $(cat notes.txt)"; fi')


def file_job(names=("in/data.bin", "notes.txt"), script=SCRIPT, token=None, quiet=None,
             extra=()):
    """A job whose file parameters are `names`, and string parameters `extra`."""
    xml = job_xml(params=extra, script=script, token=token, quiet=quiet)
    defs = "".join(f"<hudson.model.FileParameterDefinition><name>{escape(n)}</name>"
                   "<description>a file</description></hudson.model.FileParameterDefinition>"
                   for n in names)
    if "<parameterDefinitions>" in xml:
        return xml.replace("<parameterDefinitions>", "<parameterDefinitions>" + defs, 1)
    return xml.replace("<properties>", "<properties><hudson.model.ParametersDefinitionProperty>"
                       f"<parameterDefinitions>{defs}</parameterDefinitions>"
                       "</hudson.model.ParametersDefinitionProperty>", 1)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("files") / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.alice = ("alice", s.new_token("alice", "ci"))
    s.start("--max-upload", "1")
    create_job(s, "up", file_job(extra=[("string", "FILE_VAR", "default")]))
    yield s
    s.stop()


def uploads(srv):
    d = os.path.join(srv.home, "uploads")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def build_log(srv, location):
    item = srv.wait_queue_item(location, srv.alice)
    number = item["executable"]["number"]
    b = srv.wait_build("up", number, srv.alice)
    log = srv.get(f"job/up/{number}/consoleText", auth=srv.alice).text
    return b, log


def curl(srv, *args):
    p = subprocess.run(["curl", "-sS", "-o", "/dev/stderr", "-D", "/dev/stdout", "-w",
                        "%{http_code}", "-u", f"alice:{srv.alice[1]}", *args],
                       capture_output=True, text=True, timeout=60 * SLOW)
    return p


def status_and_location(p):
    status = int(p.stdout[-3:])
    loc = [line.split(": ", 1)[1].strip() for line in p.stdout.splitlines()
           if line.lower().startswith("location: ")]
    return status, (loc[0] if loc else None), p.stderr


def test_curl_build_with_parameters_puts_the_file_in_the_workspace(srv, tmp_path):
    data = os.urandom(300_000)
    f = tmp_path / "payload.bin"
    f.write_bytes(data)
    p = curl(srv, "-X", "POST", srv.url + "job/up/buildWithParameters", "-F", f"in/data.bin=@{f}",
             "-F", "FILE_VAR=given")
    status, loc, body = status_and_location(p)
    assert status == 201, (p.stdout, body)
    b, log = build_log(srv, loc)
    assert b["result"] == "SUCCESS", log
    assert f"{hashlib.sha256(data).hexdigest()}  in/data.bin" in log, log
    assert "var=given" in log
    assert "File parameter 'in/data.bin': payload.bin copied into the workspace" in log
    params = {p["name"]: p.get("value") for a in b["actions"] if a.get("parameters")
              for p in a["parameters"]}
    assert params["in/data.bin"] == "payload.bin"
    # the upload waited in HOME/uploads only until the build took it
    assert uploads(srv) == []


def test_curl_build_form_with_file0_and_json(srv, tmp_path):
    f = tmp_path / "n.txt"
    f.write_text("hello from file0\n")
    g = tmp_path / "d.bin"
    g.write_bytes(b"\x00\x01binary\xff")
    form = {"parameter": [{"name": "notes.txt", "file": "file0"},
                          {"name": "in/data.bin", "file": "file1"},
                          {"name": "FILE_VAR", "value": "from-json"}]}
    p = curl(srv, "-X", "POST", srv.url + "job/up/build", "-F", f"file0=@{f}",
             "-F", f"file1=@{g}", "-F", "json=" + json.dumps(form))
    status, loc, body = status_and_location(p)
    assert status == 201, (p.stdout, body)
    b, log = build_log(srv, loc)
    assert b["result"] == "SUCCESS", log
    assert "notes: hello from file0" in log
    assert f"{hashlib.sha256(g.read_bytes()).hexdigest()}  in/data.bin" in log
    assert "var=from-json" in log


def test_python_jenkins_request_with_files(srv):
    """python-jenkins has no files= of its own: its jenkins_request takes a requests.Request
    with files, at the URL build_job_url makes."""
    j = jenkins.Jenkins(srv.url, username="alice", password=srv.alice[1])
    data = b"from python-jenkins\n" * 100
    url = j.build_job_url("up", {"FILE_VAR": "pj"})
    r = j.jenkins_request(requests.Request("POST", url, files={"in/data.bin": ("p.bin", data)}))
    assert r.status_code == 201
    b, log = build_log(srv, r.headers["Location"])
    assert b["result"] == "SUCCESS", log
    assert f"{hashlib.sha256(data).hexdigest()}  in/data.bin" in log and "var=pj" in log


def test_different_files_do_not_merge_and_the_same_one_does(srv, tmp_path):
    create_job(srv, "waits", file_job(names=("f.txt",), script="cat f.txt", quiet=3600))
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("A\n")
    b.write_text("B\n")
    locs = []
    for f in (a, b, a):
        p = curl(srv, "-X", "POST", srv.url + "job/waits/buildWithParameters", "-F",
                 f"f.txt=@{f}")
        status, loc, body = status_and_location(p)
        assert status == 201, body
        locs.append(loc)
    assert locs[0] != locs[1] and locs[2] == locs[0]
    # both files wait on disk, tied to their items; cancelling takes each away
    assert len(uploads(srv)) == 2
    for loc in locs[:2]:
        assert srv.post(f"queue/cancelItem?id={item_id(loc)}", auth=srv.alice,
                        allow_redirects=False).status_code == 302
    assert uploads(srv) == []


def refused(srv, p, status, words):
    got, loc, body = status_and_location(p)
    assert got == status, (p.stdout, body)
    assert words in body, body
    assert loc is None


def test_oversized_upload_is_413_and_queues_nothing(srv, tmp_path):
    create_job(srv, "big", file_job(names=("f.bin",)))
    for size in (1536 * 1024, 5 * 1024 * 1024):  # streamed past the limit; refused up front
        f = tmp_path / "big.bin"
        f.write_bytes(b"x" * size)
        p = curl(srv, "-X", "POST", srv.url + "job/big/buildWithParameters", "-F", f"f.bin=@{f}")
        refused(srv, p, 413, "--max-upload")
        assert_nothing_queued_or_built(srv, "big", srv.alice)
        assert uploads(srv) == []


def test_a_parameter_path_outside_the_workspace_is_refused(srv, tmp_path):
    f = tmp_path / "x"
    f.write_text("x")
    for name in ("../x", "/etc/x", "a/../../x", "a//b"):
        job = "esc" + str(abs(hash(name)) % 10000)
        create_job(srv, job, file_job(names=(name,)))
        p = curl(srv, "-X", "POST", srv.url + f"job/{job}/buildWithParameters",
                 "-F", f"{name}=@{f}")
        refused(srv, p, 400, "not a path inside")
        assert_nothing_queued_or_built(srv, job, srv.alice)
    assert uploads(srv) == []


def test_a_hostile_file_name_is_only_a_name(srv, tmp_path):
    """The name the client gives its file never becomes a path."""
    f = tmp_path / "x"
    f.write_bytes(b"payload")
    p = curl(srv, "-X", "POST", srv.url + "job/up/buildWithParameters",
             "-F", f"in/data.bin=@{f};filename=../../../etc/evil")
    status, loc, body = status_and_location(p)
    assert status == 201, body
    b, log = build_log(srv, loc)
    assert b["result"] == "SUCCESS", log
    assert f"{hashlib.sha256(b'payload').hexdigest()}  in/data.bin" in log
    assert "'in/data.bin': evil copied" in log


def raw_post(srv, path, body, content_type):
    return requests.post(srv.url + path, data=body, auth=srv.alice,
                         headers={"Content-Type": content_type}, timeout=30 * SLOW)


def test_malformed_multipart_is_400(srv):
    create_job(srv, "mal", file_job(names=("f.bin",)))
    part = (b"--XYZ\r\nContent-Disposition: form-data; name=\"f.bin\"; filename=\"a\"\r\n\r\n"
            b"data\r\n--XYZ--\r\n")
    cases = [
        (part, "multipart/form-data"),                       # no boundary
        (part, "multipart/form-data; boundary=OTHER"),       # not the body's boundary
        (part[:40], "multipart/form-data; boundary=XYZ"),     # cut short
        (b"garbage", "multipart/form-data; boundary=XYZ"),
    ]
    for body, ct in cases:
        r = raw_post(srv, "job/mal/buildWithParameters", body, ct)
        assert r.status_code == 400, (ct, body, r.status_code, r.text)
        assert "multipart" in r.json()["message"].lower(), r.text
    assert_nothing_queued_or_built(srv, "mal", srv.alice)
    assert uploads(srv) == []


def test_too_many_parts_is_400(srv):
    create_job(srv, "many", file_job(names=("f.bin",)))
    files = [("f%d" % i, ("n", b"x")) for i in range(20)]
    r = requests.post(srv.url + "job/many/buildWithParameters", files=files, auth=srv.alice,
                      timeout=30 * SLOW)
    assert r.status_code == 400 and "Too many parts" in r.text, r.text
    fields = {"x%d" % i: "v" for i in range(300)}
    r = requests.post(srv.url + "job/many/buildWithParameters", files={"f.bin": ("n", b"x")},
                      data=fields, auth=srv.alice, timeout=30 * SLOW)
    assert r.status_code == 400, r.text
    assert_nothing_queued_or_built(srv, "many", srv.alice)
    assert uploads(srv) == []


def test_multipart_elsewhere_is_refused(srv):
    r = requests.post(srv.url + "createItem?name=zz", files={"f": ("n", b"x")}, auth=srv.alice,
                      timeout=30 * SLOW)
    assert r.status_code == 415, r.text
    assert uploads(srv) == []


def test_a_symlink_in_the_workspace_is_not_followed(srv, tmp_path):
    """A build leaves in/ as a link to a directory outside the workspace: the next build's
    file does not go through it, and that build fails saying why."""
    outside = srv.shared + "/outside"
    os.makedirs(outside, exist_ok=True)
    os.chmod(outside, 0o777)
    create_job(srv, "link", file_job(names=("in/data.bin",),
                                     script=f"[ -L in ] || {{ rm -rf in; ln -s {outside} in; }}"))
    f = tmp_path / "x"
    f.write_text("secret-looking")
    r = srv.post("job/link/build", auth=srv.alice)  # no file: the build plants the link
    assert r.status_code == 201
    srv.wait_build("link", srv.wait_queue_item(r.headers["Location"], srv.alice)
                   ["executable"]["number"], srv.alice)
    p = curl(srv, "-X", "POST", srv.url + "job/link/buildWithParameters", "-F",
             f"in/data.bin=@{f}")
    status, loc, body = status_and_location(p)
    assert status == 201, body
    item = srv.wait_queue_item(loc, srv.alice)
    b = srv.wait_build("link", item["executable"]["number"], srv.alice)
    log = srv.get(f"job/link/{b['number']}/consoleText", auth=srv.alice).text
    assert b["result"] == "FAILURE", log
    assert "symbolic link is in the way" in log, log
    assert not os.path.exists(os.path.join(outside, "data.bin"))


def test_dry_run_with_a_file_keeps_nothing(srv, tmp_path):
    f = tmp_path / "x"
    f.write_text("dry")
    p = subprocess.run(["curl", "-sS", "-u", f"alice:{srv.alice[1]}", "-H", "X-Steward-Dry-Run: 1",
                        "-F", f"in/data.bin=@{f}", srv.url + "job/up/buildWithParameters"],
                       capture_output=True, text=True, timeout=60)
    report = json.loads(p.stdout)
    assert report["answer"]["status"] == 201
    values = {p["name"]: p["value"] for p in report["parameters"]}
    assert values["in/data.bin"].endswith(":x")
    assert uploads(srv) == []
    assert_nothing_queued_or_built_since = srv.get("queue/api/json", auth=srv.alice).json()
    assert not [i for i in assert_nothing_queued_or_built_since["items"]
                if i["task"]["name"] == "up"]


def test_the_web_form_takes_a_file(srv):
    from e2e_helpers import page_crumb, signed_in
    http = signed_in(srv, "alice", "alice-password")
    page = http.get(srv.url + "job/up/", headers={"Accept": "text/html"}, timeout=30)
    assert 'enctype="multipart/form-data"' in page.text
    assert '<input type="file"' in page.text and 'name="p.in/data.bin"' in page.text
    before = srv.get("job/up/api/json", auth=srv.alice).json()["nextBuildNumber"]
    data = b"from the browser form\n"
    r = http.post(srv.url + "job/up/buildNow", timeout=30, allow_redirects=False,
                  data={"Jenkins-Crumb": page_crumb(page.text), "form": "1",
                        "p.FILE_VAR": "web"},
                  files={"p.in/data.bin": ("form.bin", data),
                         # an input left empty: the browser sends an empty part without a name
                         "p.notes.txt": ("", b"")})
    assert r.status_code == 303, r.text
    b = srv.wait_build("up", wait_for(lambda: srv.get(
        f"job/up/{before}/api/json", auth=srv.alice).status_code == 200 and before,
        what="the build"), srv.alice)
    log = srv.get(f"job/up/{b['number']}/consoleText", auth=srv.alice).text
    assert b["result"] == "SUCCESS", log
    assert f"{hashlib.sha256(data).hexdigest()}  in/data.bin" in log and "var=web" in log
    assert "File parameter 'notes.txt'" not in log  # the input left empty sent no file


def test_a_link_as_the_file_itself_is_replaced_not_written_through(srv, tmp_path):
    outside = srv.shared + "/target.txt"
    with open(outside, "w") as f:
        f.write("untouched\n")
    os.chmod(outside, 0o666)
    create_job(srv, "flink", file_job(names=("f.txt",),
                                      script=f"cat f.txt; rm -f f.txt; ln -s {outside} f.txt"))
    f = tmp_path / "x"
    f.write_text("new bytes\n")
    for _ in range(2):  # the second build finds the link the first one left
        p = curl(srv, "-X", "POST", srv.url + "job/flink/buildWithParameters", "-F",
                 f"f.txt=@{f}")
        status, loc, body = status_and_location(p)
        assert status == 201, body
        item = srv.wait_queue_item(loc, srv.alice)
        b = srv.wait_build("flink", item["executable"]["number"], srv.alice)
        log = srv.get(f"job/flink/{b['number']}/consoleText", auth=srv.alice).text
        assert b["result"] == "SUCCESS" and "new bytes" in log, log
    assert open(outside).read() == "untouched\n"


def test_the_client_sends_a_file(srv, tmp_path):
    data = os.urandom(10_000)
    f = tmp_path / "c.bin"
    f.write_bytes(data)
    base = [BIN, "build", "up", "--url", srv.url, "--user", "alice", "--token", srv.alice[1]]
    p = subprocess.run(base + ["-F", f"in/data.bin=@{f}", "-p", "FILE_VAR=cli", "--follow"],
                       capture_output=True, text=True, timeout=120 * SLOW)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert f"{hashlib.sha256(data).hexdigest()}  in/data.bin" in p.stdout and "var=cli" in p.stdout
    # with the trigger token alone too, and a dry run says what it would do with the file
    p = subprocess.run(base + ["--file", f"in/data.bin=@{f}", "--dry-run", "--json"],
                       capture_output=True, text=True, timeout=60 * SLOW)
    assert p.returncode == 0, p.stderr
    values = {v["name"]: v["value"] for v in json.loads(p.stdout)["parameters"]}
    assert values["in/data.bin"] == f"sha256:{hashlib.sha256(data).hexdigest()}:c.bin"
    # a file that is not there: said before anything is sent
    p = subprocess.run(base + ["-F", f"in/data.bin=@{tmp_path}/nope"], capture_output=True,
                       text=True, timeout=60 * SLOW)
    assert p.returncode == 2 and "cannot read" in p.stderr, p.stderr
    p = subprocess.run(base + ["-F", "in/data.bin=nope"], capture_output=True, text=True,
                       timeout=60 * SLOW)
    assert p.returncode == 2 and "NAME=@PATH" in p.stderr, p.stderr


def test_the_configure_page_keeps_a_file_parameter_and_its_panel_says_how_to_send_one(srv):
    from test_web_discard import ConfigureForm, config_xml, save
    from test_web_discard import signed_in as web_session

    class WithSelects(ConfigureForm):
        select = None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if self.in_form and tag == "select":
                self.select = a.get("name")
            elif self.in_form and tag == "option" and self.select and "selected" in a:
                self.fields[self.select] = a.get("value")
            super().handle_starttag(tag, attrs)

    create_job(srv, "conf", file_job(names=("in/data.bin",), extra=[("string", "S", "s")]))
    s = web_session(srv)
    page = s.get(srv.url + "job/conf/configure", timeout=30).text
    assert "-F in/data.bin=@FILE" in page, page
    form = WithSelects()
    form.feed(page)
    types = sorted((form.fields[k.replace("_name", "_type")], v) for k, v in form.fields.items()
                   if re.fullmatch(r"p\d+_name", k) and v)
    assert types == [("FileParameterDefinition", "in/data.bin"),
                     ("StringParameterDefinition", "S")], form.fields
    r = save(s, srv, "conf", form.fields)
    assert r.status_code in (302, 303), r.text
    xml = config_xml(srv, "conf")
    assert "<hudson.model.FileParameterDefinition>" in xml and "<name>in/data.bin</name>" in xml
    # a file parameter named outside the workspace is refused, with the reason
    bad = dict(form.fields)
    name_key = [k for k, v in bad.items() if re.fullmatch(r"p\d+_name", k) and v == "in/data.bin"][0]
    bad[name_key] = "../x"
    r = save(s, srv, "conf", bad)
    assert r.status_code == 400 and "relative path inside the" in r.text, r.text


def test_a_201_means_the_file_is_on_disk(tmp_path):
    """Queued with its file, the server killed (-9) before the build starts: after the
    restart the build gets the file, and nothing is left in HOME/uploads."""
    import signal

    from e2e_helpers import restart

    s = Server(tmp_path / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.alice = ("alice", s.new_token("alice", "ci"))
    s.start()
    try:
        create_job(s, "up", file_job(extra=[("string", "FILE_VAR", "d")]))
        # quieting down: triggers queue, no build starts (and it is not kept across a restart)
        assert s.post("quietDown", auth=s.alice, allow_redirects=False).status_code in (200, 302)
        data = os.urandom(50_000)
        f = tmp_path / "d.bin"
        f.write_bytes(data)
        p = curl(s, "-X", "POST", s.url + "job/up/buildWithParameters", "-F", f"in/data.bin=@{f}")
        status, loc, body = status_and_location(p)
        assert status == 201, body
        assert len(uploads(s)) == 1
        # a part left by a request cut off mid-upload goes at the next start
        with open(os.path.join(s.home, "uploads", ".part-left"), "w") as part:
            part.write("half")
        s.stop(signal.SIGKILL)
        restart(s)
        item = s.wait_queue_item(s.url + f"queue/item/{item_id(loc)}/", s.alice)
        b = s.wait_build("up", item["executable"]["number"], s.alice)
        log = s.get(f"job/up/{b['number']}/consoleText", auth=s.alice).text
        assert b["result"] == "SUCCESS", log
        assert f"{hashlib.sha256(data).hexdigest()}  in/data.bin" in log
        assert uploads(s) == []
    finally:
        s.stop()


def test_the_file_is_put_after_the_workspace_cleanup(srv, tmp_path):
    """PreBuildCleanup empties the workspace before the build, as the checkout may: the
    uploaded file goes in after them, as Jenkins' FileParameterValue does, so the step
    sees it while what an earlier build left is gone."""
    xml = file_job(names=("in/data.bin",),
                   script="set -e; sha256sum in/data.bin; if [ -e left-behind ]; then echo STALE; fi; "
                          "touch left-behind")
    xml = xml.replace("<buildWrappers/>",
                      "<buildWrappers><hudson.plugins.ws__cleanup.PreBuildCleanup>"
                      "<deleteDirs>false</deleteDirs><cleanupParameter/><externalDelete/>"
                      "</hudson.plugins.ws__cleanup.PreBuildCleanup></buildWrappers>", 1)
    create_job(srv, "up-clean", xml)
    data = os.urandom(1000)
    f = tmp_path / "c.bin"
    f.write_bytes(data)
    for n in (1, 2):
        p = curl(srv, "-X", "POST", srv.url + "job/up-clean/buildWithParameters",
                 "-F", f"in/data.bin=@{f}")
        status, loc, body = status_and_location(p)
        assert status == 201, (p.stdout, body)
        item = srv.wait_queue_item(loc, srv.alice)
        number = item["executable"]["number"]
        b = srv.wait_build("up-clean", number, srv.alice)
        log = srv.get(f"job/up-clean/{number}/consoleText", auth=srv.alice).text
        assert b["result"] == "SUCCESS", log
        assert f"{hashlib.sha256(data).hexdigest()}  in/data.bin" in log, log
        assert "STALE" not in log, log
    assert uploads(srv) == []
