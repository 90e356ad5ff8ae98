"""Uploads are judged at their headers, before a byte of the body is written: who may send
them (the caller, the job, the permission), how many bytes are in flight across the server,
and whether the disk has room. A refusal comes before the body (with Expect: 100-continue the
client never sends it), and leaves no file behind."""
import os
import socket
import subprocess

import pytest
import requests

from conftest import BIN, SLOW, Server, create_job
from e2e_helpers import wait_for
from test_file_params import file_job, uploads

TOKEN = "upload-trigger-token"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("uplim") / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.alice = ("alice", s.new_token("alice", "ci"))
    s.start("--max-upload", "1")
    create_job(s, "up", file_job(names=("f.bin",), token=TOKEN))
    yield s
    s.stop()


def port(srv):
    return int(srv.url.rsplit(":", 1)[1].strip("/"))


def open_upload(srv, path, length, extra=""):
    """A multipart POST's headers with Expect: 100-continue, and no body yet."""
    s = socket.create_connection(("127.0.0.1", port(srv)), timeout=30 * SLOW)
    s.sendall((f"POST /{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Content-Type: multipart/form-data; boundary=XYZ\r\n"
               f"Content-Length: {length}\r\nExpect: 100-continue\r\n{extra}\r\n").encode())
    return s


def first_answer(s):
    """The status and headers of the first answer on the socket (a 100 Continue, or the
    refusal), and for a final answer as much of its body as comes."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
    if status >= 200:
        want = int(headers.get("content-length", "0"))
        while len(rest) < want:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
    return status, headers, rest.decode("utf-8", "replace")


def part_files(srv):
    return [n for n in uploads(srv) if n.startswith(".part-")]


def test_an_anonymous_upload_to_a_missing_job_is_refused_before_its_body(srv):
    s = open_upload(srv, "job/does-not-exist/build", 900_000)
    try:
        status, headers, body = first_answer(s)
        # without credentials, a job that does not exist: 401, before any byte of the body
        assert status == 401, (status, body)
        assert "trigger token in the URL" in body and "?token=" in body, body
        assert part_files(srv) == []
    finally:
        s.close()


def test_a_wrong_trigger_token_is_refused_before_the_body(srv):
    s = open_upload(srv, "job/up/buildWithParameters?token=wrong", 900_000)
    try:
        status, _, body = first_answer(s)
        assert status == 404 and "token" in body, (status, body)
        assert part_files(srv) == []
    finally:
        s.close()


def test_a_trigger_token_in_the_body_is_too_late_for_files(srv):
    r = requests.post(srv.url + "job/up/buildWithParameters", data={"token": TOKEN},
                      files={"f.bin": ("a", b"x" * 1000)}, timeout=30 * SLOW)
    assert r.status_code == 401, r.text
    assert "?token=" in r.json()["message"] or "?token=" in r.text, r.text
    assert part_files(srv) == []


def test_the_right_credentials_let_the_body_come(srv):
    for path, extra in (("job/up/buildWithParameters?token=" + TOKEN, ""),
                        ("job/up/buildWithParameters",
                         "Authorization: Basic " + requests.auth._basic_auth_str(*srv.alice)[6:]
                         + "\r\n")):
        s = open_upload(srv, path, 1000, extra)
        try:
            status, _, body = first_answer(s)
            assert status == 100, (path, status, body)
        finally:
            s.close()


def test_the_client_sends_files_with_a_trigger_token(srv, tmp_path):
    f = tmp_path / "c.bin"
    f.write_bytes(b"hello")
    p = subprocess.run([BIN, "build", "up", "--url", srv.url, "--trigger-token", TOKEN,
                        "-F", f"f.bin=@{f}"], capture_output=True, text=True, timeout=60 * SLOW)
    assert p.returncode == 0, (p.stdout, p.stderr)


def test_uploads_in_flight_have_a_server_wide_bound(srv, tmp_path):
    # --max-upload 1: at most 2 MiB in flight; two uploads of nearly 1 MiB each fill it (the
    # 64 KiB left over leave room for the small requests of other tests, which the server may
    # not have seen end yet)
    held = [open_upload(srv, "job/up/buildWithParameters?token=" + TOKEN, (1 << 20) - (64 << 10))
            for _ in range(2)]
    try:
        for s in held:
            status, _, body = first_answer(s)
            assert status == 100, (status, body)
        s = open_upload(srv, "job/up/buildWithParameters?token=" + TOKEN, 1 << 20)
        try:
            status, headers, body = first_answer(s)
            assert status == 503, (status, body)
            assert headers.get("retry-after"), headers
            assert "Too many uploads at once" in body and "--max-upload" in body, body
        finally:
            s.close()
    finally:
        for s in held:
            s.close()
    assert part_files(srv) == []
    # once they are gone, uploads come again (the server notices the closed connections)
    def accepted():
        r = requests.post(srv.url + "job/up/buildWithParameters?token=" + TOKEN,
                          files={"f.bin": ("a", b"x" * (900 << 10))}, timeout=30 * SLOW)
        assert r.status_code in (201, 503), r.text
        return r.status_code == 201
    wait_for(accepted, timeout=30, what="an upload to be taken again")


def test_an_upload_larger_than_the_free_disk_space_is_507(tmp_path):
    home = tmp_path / "home"
    st = os.statvfs(tmp_path)
    length = 64 << 30   # the most --max-upload takes
    if st.f_bavail * st.f_frsize > length:
        pytest.skip("this file system has more than 64 GiB free")
    s = Server(home)
    s.add_user("alice", "alice-password", admin=True)
    s.alice = ("alice", s.new_token("alice", "ci"))
    s.start("--max-upload", "65536")
    try:
        create_job(s, "up", file_job(names=("f.bin",), token=TOKEN))
        c = open_upload(s, "job/up/buildWithParameters?token=" + TOKEN, length)
        try:
            status, _, body = first_answer(c)
            assert status == 507, (status, body)
            assert "free space" in body, body
        finally:
            c.close()
        assert part_files(s) == []
    finally:
        s.stop()
