"""TLS built in: serve --tls-cert/--tls-key, HSTS, a certificate renewed on SIGHUP, and the
clients (curl, python-jenkins, Steward's own CLI) trusting a certificate the test made."""
import os
import shutil
import signal
import socket
import ssl
import subprocess

import jenkins
import pytest
import requests

from conftest import BIN, SLOW, Server, job_xml
from e2e_helpers import wait_for

pytestmark = pytest.mark.skipif(not shutil.which("openssl"),
                                reason="openssl is missing: apt-get install openssl")


def make_cert(d, name):
    """A self-signed certificate for 127.0.0.1 (and localhost); returns (cert, key) paths."""
    cert, key = os.path.join(d, name + ".pem"), os.path.join(d, name + "-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", key, "-out", cert, "-subj", f"/CN={name}",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def served_cert(port):
    """The DER of the certificate the server presents now, on a new connection."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw) as tls:
            return tls.getpeercert(binary_form=True)


def der(pem_path):
    with open(pem_path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


@pytest.fixture
def tls(tmp_path):
    d = str(tmp_path / "pki")
    os.makedirs(d)
    cert, key = make_cert(d, "one")
    live_cert, live_key = os.path.join(d, "live.pem"), os.path.join(d, "live-key.pem")
    shutil.copy(cert, live_cert)
    shutil.copy(key, live_key)
    s = Server(tmp_path / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.alice = ("alice", s.new_token("alice", "t"))
    s.start("--tls-cert", live_cert, "--tls-key", live_key)
    s.url = s.url.replace("http://", "https://")
    s.pki, s.cert, s.live_cert, s.live_key = d, cert, live_cert, live_key
    s.port = int(s.url.rsplit(":", 1)[1].strip("/"))
    yield s
    s.stop()


def test_curl_with_the_ca_gets_answers_with_hsts_and_https_locations(tls):
    # verify= on each request: a session's would lose to REQUESTS_CA_BUNDLE from the environment
    http = requests.Session()
    r = http.get(tls.url + "whoAmI/api/json", auth=tls.alice, timeout=30, verify=tls.cert)
    assert r.status_code == 200 and r.json()["name"] == "alice"
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")
    r = http.post(tls.url + "createItem?name=j", data=job_xml().encode(), auth=tls.alice,
                  headers={"Content-Type": "application/xml"}, timeout=30, verify=tls.cert)
    assert r.status_code == 200
    out = subprocess.run(["curl", "-sS", "-i", "-X", "POST", "--cacert", tls.cert, "-u",
                          f"alice:{tls.alice[1]}", tls.url + "job/j/build"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and " 201 " in out.stdout.splitlines()[0]
    assert f"Location: https://127.0.0.1:{tls.port}/queue/item/" in out.stdout
    # without the CA, curl refuses the certificate; plain HTTP gets no answer
    bad = subprocess.run(["curl", "-sS", tls.url], capture_output=True, timeout=30)
    assert bad.returncode == 60
    plain = subprocess.run(["curl", "-sS", tls.url.replace("https:", "http:")],
                           capture_output=True, timeout=30)
    assert plain.returncode != 0


def test_python_jenkins_and_the_cli_over_https(tls, monkeypatch, tmp_path):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", tls.cert)
    j = jenkins.Jenkins(tls.url, username="alice", password=tls.alice[1])
    assert j.get_whoami()["id"] == "alice"
    j.create_job("over-tls", job_xml(script="echo tls"))
    p = subprocess.run([BIN, "build", "over-tls", "--url", tls.url, "--user", "alice", "--token",
                        tls.alice[1], "--cacert", tls.cert, "--wait"],
                       capture_output=True, text=True, timeout=120 * SLOW,
                       env={**os.environ, "HOME": str(tmp_path)})
    assert p.returncode == 0, p.stderr
    assert j.get_job_info("over-tls")["lastSuccessfulBuild"] is not None


def test_sighup_renews_the_certificate_and_a_bad_one_is_not_taken(tls):
    assert served_cert(tls.port) == der(tls.cert)
    two, two_key = make_cert(tls.pki, "two")
    shutil.copy(two, tls.live_cert)
    shutil.copy(two_key, tls.live_key)
    tls.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: served_cert(tls.port) == der(two), timeout=10 * SLOW,
             what="the new certificate served")
    # a broken file: the server says so and keeps the one it has
    with open(tls.live_cert, "w") as f:
        f.write("not a certificate\n")
    tls.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "the certificate in use stays" in tls.read_log(), timeout=10 * SLOW,
             what="the reload refused")
    assert served_cert(tls.port) == der(two)
    assert requests.get(tls.url + "whoAmI/api/json", auth=tls.alice, timeout=30,
                        verify=two).status_code == 200


def test_a_missing_or_broken_certificate_stops_the_start(tmp_path):
    s = Server(tmp_path / "home")
    bad = tmp_path / "bad.pem"
    bad.write_text("junk\n")
    for args, words in ((["--tls-cert", str(bad), "--tls-key", str(bad)], "no PEM certificate"),
                        (["--tls-cert", str(tmp_path / "none.pem"), "--tls-key", str(bad)],
                         "cannot read the certificate"),
                        (["--tls-cert", str(bad)], "go together")):
        p = subprocess.run([BIN, "--home", s.home, "serve", "--listen", "127.0.0.1:0", *args],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode != 0 and words in p.stderr, (args, p.stderr)
