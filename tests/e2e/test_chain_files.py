"""Chains pass no file parameters: the upstream's upload is gone once it is in the upstream's
workspace, and a value naming a kept upload by its hash must not reach another job. The
downstream build runs without the file, and the upstream's log says why."""
import hashlib
import shutil

import pytest
import requests

from conftest import SLOW
from e2e_helpers import console, wait_for
from test_jjb import JJB, updated_count

pytestmark = pytest.mark.skipif(
    not shutil.which("jenkins-jobs"),
    reason="jenkins-jobs is missing: apt-get install jenkins-job-builder")

DATA = b"the upstream's file\n"
HASH = hashlib.sha256(DATA).hexdigest()

YAML = r"""
- job:
    name: fup
    parameters:
      - file:
          name: f.bin
      - string:
          name: COLOR
          default: red
    builders:
      - shell: cat f.bin
    publishers:
      - trigger-parameterized-builds:
          - project: fdown
            current-parameters: true
            condition: ALWAYS
          - project: fdown2
            predefined-parameters: |
              f.bin=sha256:__HASH__:stolen.bin
              NOTE=given
            condition: ALWAYS
- job:
    name: fdown
    parameters:
      - file:
          name: f.bin
      - string:
          name: COLOR
    builders:
      - shell: if [ -e f.bin ]; then cat f.bin; else echo "no file, color=$COLOR"; fi
- job:
    name: fdown2
    parameters:
      - file:
          name: f.bin
      - string:
          name: NOTE
    builders:
      - shell: if [ -e f.bin ]; then cat f.bin; else echo "no file, note=$NOTE"; fi
""".replace("__HASH__", HASH)


def finished(server, job, number):
    def done():
        r = server.get(f"job/{job}/{number}/api/json", auth=server.alice)
        return r.status_code == 200 and not r.json()["building"] and r.json()
    return wait_for(done, timeout=60 * SLOW, what=f"{job} #{number} to finish")


def test_file_parameters_are_not_passed_down_a_chain(server, tmp_path):
    s = server
    jjb = JJB(s, tmp_path)
    p = jjb.run("update", jjb.write(YAML))
    assert updated_count(p) == 3, p.stderr
    r = requests.post(s.url + "job/fup/buildWithParameters", files={"f.bin": ("a.bin", DATA)},
                      auth=s.alice, timeout=30 * SLOW)
    assert r.status_code == 201, r.text
    assert finished(s, "fup", 1)["result"] == "SUCCESS"
    log = console(s, "fup", 1, s.alice)
    assert "The current build's file parameter f.bin is not passed" in log, log
    assert "fdown2: file parameter f.bin is not passed" in log, log
    # the downstream builds run, without the file (and the other values still come)
    b = finished(s, "fdown", 1)
    out = console(s, "fdown", 1, s.alice)
    assert b["result"] == "SUCCESS" and "no file, color=red" in out, out
    b = finished(s, "fdown2", 1)
    out = console(s, "fdown2", 1, s.alice)
    assert b["result"] == "SUCCESS" and "no file, note=given" in out, out
    assert DATA.decode() not in out
