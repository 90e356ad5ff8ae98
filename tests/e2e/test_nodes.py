"""Nodes (agents) as configuration: python-jenkins' node calls, config.xml, refusals and
permissions, the offline `steward node` commands, restarts, and the Nodes pages."""
import json

import jenkins
import pytest

from conftest import Server
from e2e_helpers import page_crumb, restart, signed_in, wait_for

KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
SSH = "hudson.plugins.sshslaves.SSHLauncher"
MANUAL = "hudson.plugins.sshslaves.verifiers.ManuallyProvidedKeyVerificationStrategy"


def node_xml(name, executors=2, host="build1.example.com", extra=""):
    return (f"<?xml version='1.1' encoding='UTF-8'?>\n<slave>\n  <name>{name}</name>\n"
            "  <description>an agent</description>\n  <remoteFS>/home/build</remoteFS>\n"
            f"  <numExecutors>{executors}</numExecutors>\n  <mode>NORMAL</mode>\n"
            '  <retentionStrategy class="hudson.slaves.RetentionStrategy$Always"/>\n'
            f'  <launcher class="{SSH}" plugin="ssh-slaves@2.9">\n'
            f"    <host>{host}</host>\n    <port>22</port>\n"
            "    <credentialsId>build-key</credentialsId>\n"
            f'    <sshHostKeyVerificationStrategy class="{MANUAL}">\n'
            f"      <key><algorithm>ssh-ed25519</algorithm><key>{KEY}</key></key>\n"
            "    </sshHostKeyVerificationStrategy>\n"
            "    <jvmOptions>-Xmx512m</jvmOptions>\n    <javaPath>/opt/java</javaPath>\n"
            f"  </launcher>\n  <label>linux docker</label>\n{extra}  <nodeProperties/>\n"
            "</slave>\n")


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("nodes") / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.add_user("bob", "bob-password")
    s.alice = ("alice", s.new_token("alice", "ci"))
    s.bob = ("bob", s.new_token("bob", "laptop"))
    s.start()
    yield s
    s.stop()


def client(srv, auth=None):
    user, token = auth or srv.alice
    return jenkins.Jenkins(srv.url, username=user, password=token, timeout=30)


def computers(srv):
    r = srv.get("computer/api/json", auth=srv.alice)
    assert r.status_code == 200, r.text
    return r.json()


def names(srv):
    return [c["displayName"] for c in computers(srv)["computer"]]


def test_python_jenkins_create_info_list_delete(srv):
    j = client(srv)
    assert not j.node_exists("py1")
    j.create_node("py1", numExecutors=3, nodeDescription="made by python-jenkins",
                  remoteFS="/var/lib/build", labels="linux amd64", exclusive=True,
                  launcher=jenkins.LAUNCHER_SSH,
                  launcher_params={"host": "py1.example.com", "port": "2222",
                                   "credentialsId": "build-key",
                                   "sshHostKeyVerificationStrategy": {
                                       "stapler-class": MANUAL,
                                       "key": f"ssh-ed25519 {KEY}"}})
    assert j.node_exists("py1")
    info = j.get_node_info("py1")
    assert info["_class"] == "hudson.slaves.SlaveComputer"
    assert info["displayName"] == "py1"
    assert info["numExecutors"] == 3
    assert info["offline"] is True and info["temporarilyOffline"] is False
    # until the engine has tried it; then why it cannot connect (no such credential here)
    assert info["offlineCauseReason"] in (
        "not connected yet",
        "its credential 'build-key' cannot be used: There is no credential with that id.")
    assert info["jnlpAgent"] is False and info["idle"] is True
    assert [lab["name"] for lab in info["assignedLabels"]] == ["py1", "linux", "amd64"]
    assert len(info["executors"]) == 3
    assert {"name": "py1", "offline": True} in j.get_nodes()
    assert {"name": "Built-In Node", "offline": False} in j.get_nodes()
    cfg = j.get_node_config("py1")
    assert "<host>py1.example.com</host>" in cfg and "<port>2222</port>" in cfg
    assert f"<key>{KEY}</key>" in cfg and "<mode>EXCLUSIVE</mode>" in cfg
    # the built-in node keeps its URL
    assert srv.get("computer/(built-in)/api/json", auth=srv.alice).json()["_class"] == \
        "hudson.model.Hudson$MasterComputer"
    j.delete_node("py1")
    assert not j.node_exists("py1")
    audit = srv.admin("audit", "--action", "node-create").stdout
    assert "py1" in audit


def test_offline_toggle_with_python_jenkins(srv):
    j = client(srv)
    assert srv.post("computer/doCreateItem", auth=srv.alice, data={
        "name": "t1", "type": "hudson.slaves.DumbSlave$DescriptorImpl",
        "json": json.dumps({"numExecutors": "1", "remoteFS": "/srv/b", "labelString": "",
                            "mode": "NORMAL", "launcher": {"stapler-class": SSH,
                                                           "host": "t1", "credentialsId": "k"}})},
        allow_redirects=False).status_code == 302
    # not connected is offline already: python-jenkins' disable_node then does nothing
    j.disable_node("t1", "maintenance")
    assert j.get_node_info("t1")["temporarilyOffline"] is False
    r = srv.post("computer/t1/toggleOffline", params={"offlineMessage": "disk full"},
                 auth=srv.alice, allow_redirects=False)
    assert r.status_code == 302, r.text
    info = j.get_node_info("t1")
    assert info["temporarilyOffline"] is True and info["offlineCauseReason"] == "disk full"
    j.enable_node("t1")
    assert j.get_node_info("t1")["temporarilyOffline"] is False
    j.delete_node("t1")


def test_reconfig_node_and_curl_style_post(srv):
    j = client(srv)
    r = srv.post("computer/doCreateItem", auth=srv.alice, data={
        "name": "c1", "type": "hudson.slaves.DumbSlave$DescriptorImpl",
        "json": json.dumps({"numExecutors": 1, "remoteFS": "/srv/b",
                            "launcher": {"stapler-class": SSH, "host": "c1",
                                         "credentialsId": "k"}})})
    assert r.status_code == 200, r.text  # the redirect, followed to the node's api/json
    posted = node_xml("c1", executors=4)
    j.reconfig_node("c1", posted)
    # what was posted comes back byte for byte, Java-only fields included
    assert j.get_node_config("c1") == posted
    assert j.get_node_info("c1")["numExecutors"] == 4
    r = srv.post("computer/c1/config.xml", data=node_xml("c1", executors=5).encode(),
                 headers={"Content-Type": "application/xml"}, auth=srv.alice)
    assert r.status_code == 200, r.text
    assert j.get_node_info("c1")["numExecutors"] == 5
    j.delete_node("c1")


@pytest.mark.parametrize("body,says", [
    ("<slave><name>x1</name>", "not well-formed"),
    (node_xml("x1", executors=0), "numExecutors"),
    (node_xml("x1", executors="lots"), "numExecutors"),
    (node_xml("x1", host=""), "host"),
    (node_xml("x2"), "does not rename"),
    (node_xml("x1").replace("/home/build", "relative"), "remoteFS"),
    (node_xml("x1").replace("<port>22</port>", "<port>0</port>"), "port"),
])
def test_bad_config_xml_is_refused_and_changes_nothing(srv, body, says):
    j = client(srv)
    if not j.node_exists("x1"):
        assert srv.post("computer/doCreateItem", auth=srv.alice, data={
            "name": "x1", "type": "hudson.slaves.DumbSlave$DescriptorImpl",
            "json": json.dumps({"numExecutors": 2, "remoteFS": "/home/build",
                                "launcher": {"stapler-class": SSH, "host": "x1",
                                             "credentialsId": "k"}})}).status_code == 200
    before = j.get_node_config("x1")
    r = srv.post("computer/x1/config.xml", data=body.encode(),
                 headers={"Content-Type": "application/xml"}, auth=srv.alice)
    assert r.status_code == 400, r.text
    assert says in r.text
    assert j.get_node_config("x1") == before


def test_create_refusals(srv):
    form = {"name": "d1", "type": "hudson.slaves.DumbSlave$DescriptorImpl",
            "json": json.dumps({"numExecutors": 1, "remoteFS": "/b",
                                "launcher": {"stapler-class": SSH, "host": "d1",
                                             "credentialsId": "k"}})}
    assert srv.post("computer/doCreateItem", data=form, auth=srv.alice).status_code == 200
    before = srv.get("computer/d1/config.xml", auth=srv.alice).text
    clash = dict(form, json=form["json"].replace('"d1"', '"other"'))
    r = srv.post("computer/doCreateItem", data=clash, auth=srv.alice)
    assert r.status_code == 400 and "already exists" in r.text
    assert srv.get("computer/d1/config.xml", auth=srv.alice).text == before
    for name, says in [("built-in", "built-in node"), ("a/b", "node name"),
                       ("master", "built-in node")]:
        r = srv.post("computer/doCreateItem", data=dict(form, name=name), auth=srv.alice)
        assert r.status_code == 400 and says in r.text, (name, r.text)
    bad = dict(form, name="d2", json=json.dumps({"numExecutors": 1000, "remoteFS": "/b",
                                                 "launcher": {"stapler-class": SSH,
                                                              "host": "h"}}))
    r = srv.post("computer/doCreateItem", data=bad, auth=srv.alice)
    assert r.status_code == 400 and "numExecutors" in r.text
    r = srv.post("computer/doCreateItem", data=dict(form, name="d3", json="{nope"),
                 auth=srv.alice)
    assert r.status_code == 400 and "JSON" in r.text
    r = srv.post("computer/d1/config.xml", data=b"<slave>" + b" " * (2 << 20) + b"</slave>",
                 headers={"Content-Type": "application/xml"}, auth=srv.alice)
    assert r.status_code == 413
    assert "d2" not in names(srv) and "d3" not in names(srv)
    # the built-in node is not configured over HTTP
    assert srv.get("computer/(built-in)/config.xml", auth=srv.alice).status_code == 400
    assert srv.post("computer/(built-in)/doDelete", auth=srv.alice).status_code == 400
    assert srv.get("computer/nope/api/json", auth=srv.alice).status_code == 404
    assert srv.post("computer/d1/doDelete", auth=srv.alice,
                    allow_redirects=False).status_code == 302


def test_permissions_are_named(srv):
    form = {"name": "p1", "type": "hudson.slaves.DumbSlave$DescriptorImpl",
            "json": json.dumps({"numExecutors": 1, "remoteFS": "/b",
                                "launcher": {"stapler-class": SSH, "host": "p1",
                                             "credentialsId": "k"}})}
    r = srv.post("computer/doCreateItem", data=form, auth=srv.bob)
    assert r.status_code == 403, r.text
    assert "Agent/Create" in r.text
    assert "p1" not in names(srv)
    assert srv.post("computer/doCreateItem", data=form, auth=srv.alice).status_code == 200
    r = srv.post("computer/p1/config.xml", data=node_xml("p1").encode(), auth=srv.bob)
    assert r.status_code == 403 and "Agent/Configure" in r.text
    r = srv.post("computer/p1/doDelete", auth=srv.bob)
    assert r.status_code == 403 and "Agent/Delete" in r.text
    # a signed-in user may read, and take a node offline and back (logged-in strategy)
    assert srv.get("computer/p1/config.xml", auth=srv.bob).status_code == 200
    assert srv.post("computer/p1/toggleOffline", auth=srv.bob,
                    allow_redirects=False).status_code == 302
    assert srv.get("computer/p1/api/json", auth=srv.bob).json()["temporarilyOffline"]
    # anonymous gets asked for credentials
    assert srv.post("computer/doCreateItem", data=form).status_code == 401
    assert srv.post("computer/p1/doDelete", auth=srv.alice).status_code == 200


def test_a_name_outside_ascii(srv):
    j = client(srv)
    j.create_node("b\u00e4cker", remoteFS="/b", launcher=jenkins.LAUNCHER_SSH,
                  launcher_params={"host": "h", "credentialsId": "k"})
    assert j.get_node_info("b\u00e4cker")["displayName"] == "b\u00e4cker"
    j.delete_node("b\u00e4cker")
    assert not j.node_exists("b\u00e4cker")


def test_other_launchers_are_stored_but_never_usable(srv):
    j = client(srv)
    j.create_node("jnlp1", launcher=jenkins.LAUNCHER_JNLP)
    info = j.get_node_info("jnlp1")
    assert info["offline"] is True
    assert "only SSH nodes" in info["offlineCauseReason"]
    assert 'class="hudson.slaves.JNLPLauncher"' in j.get_node_config("jnlp1")
    j.delete_node("jnlp1")


def test_cli_add_list_remove_seen_by_the_running_server(srv):
    srv.admin("node", "add", "cli1", "--host", "cli1.example.com", "--port", "2200",
              "--credentials", "build-key", "--remote-fs", "/home/build", "--executors", "2",
              "--labels", "linux arm64", "--exclusive", "--host-key",
              f"cli1.example.com ssh-ed25519 {KEY}")
    listing = srv.admin("node", "list").stdout
    assert "cli1" in listing and "cli1.example.com:2200" in listing
    wait_for(lambda: "cli1" in names(srv), what="the CLI's node in /computer/api/json")
    info = srv.get("computer/cli1/api/json", auth=srv.alice).json()
    assert [lab["name"] for lab in info["assignedLabels"]] == ["cli1", "linux", "arm64"]
    cfg = srv.get("computer/cli1/config.xml", auth=srv.alice).text
    assert MANUAL in cfg and f"<key>{KEY}</key>" in cfg and "<mode>EXCLUSIVE</mode>" in cfg
    p = srv.admin("node", "add", "cli1", "--host", "h", "--credentials", "k",
                  "--remote-fs", "/x", check=False)
    assert p.returncode != 0 and "already exists" in p.stderr
    p = srv.admin("node", "add", "cli2", "--host", "h", "--credentials", "k",
                  "--remote-fs", "/x", "--host-key", "ssh-ed25519 nope", check=False)
    assert p.returncode == 2 and "host key" in p.stderr.lower()
    p = srv.admin("node", "add", "cli2", "--host", "h", "--credentials", "k",
                  "--remote-fs", "relative", check=False)
    assert p.returncode != 0 and "remoteFS" in p.stderr
    srv.admin("node", "remove", "cli1")
    wait_for(lambda: "cli1" not in names(srv), what="the removal seen by the server")
    assert srv.admin("node", "remove", "cli1", check=False).returncode == 1


def test_restart_keeps_nodes_and_offline_state(tmp_path):
    s = Server(tmp_path / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.alice = ("alice", s.new_token("alice", "ci"))
    s.start()
    try:
        assert s.post("computer/doCreateItem", auth=s.alice, data={
            "name": "r1", "type": "hudson.slaves.DumbSlave$DescriptorImpl",
            "json": json.dumps({"numExecutors": 2, "remoteFS": "/b",
                                "launcher": {"stapler-class": SSH, "host": "r1",
                                             "credentialsId": "k"}})}).status_code == 200
        assert s.post("computer/r1/toggleOffline", params={"offlineMessage": "moving racks"},
                      auth=s.alice).status_code == 200
        s.stop()
        restart(s)
        info = s.get("computer/r1/api/json", auth=s.alice).json()
        assert info["temporarilyOffline"] is True
        assert info["offlineCauseReason"] == "moving racks"
        assert computers(s)["computer"][1]["displayName"] == "r1"
    finally:
        s.stop()


def test_nodes_pages(srv):
    http = signed_in(srv, "alice", "alice-password")
    page = http.get(srv.url + "manage/nodes")
    assert page.status_code == 200, page.text
    crumb = page_crumb(page.text)
    r = http.post(srv.url + "manage/nodes/add", data={
        "Jenkins-Crumb": crumb, "name": "web1", "host": "web1.example.com", "port": "22",
        "credentials": "build-key", "remote_fs": "/home/build", "executors": "2",
        "labels": "linux <b>", "host_key": f"ssh-ed25519 {KEY}"}, allow_redirects=False)
    assert r.status_code == 303, r.text
    page = http.get(srv.url + "manage/nodes").text
    assert "web1" in page and ("not connected yet" in page or
                               "its credential &#39;build-key&#39; cannot be used" in page or
                               "its credential 'build-key' cannot be used" in page), page
    assert "<code>&lt;b&gt;</code>" in page and "<code><b></code>" not in page
    node = http.get(srv.url + "computer/web1/", headers={"Accept": "text/html"})
    assert node.status_code == 200 and "web1.example.com" in node.text
    assert "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU" in node.text
    crumb = page_crumb(node.text)
    r = http.post(srv.url + "computer/web1/toggleOffline",
                  data={"Jenkins-Crumb": crumb, "offlineMessage": "by hand"},
                  allow_redirects=False)
    assert r.status_code == 302, r.text
    assert "by hand" in http.get(srv.url + "computer/web1/", headers={"Accept": "text/html"}).text
    # a form without the crumb is refused
    r = http.post(srv.url + "manage/nodes/add", data={"name": "web2", "host": "h"},
                  allow_redirects=False)
    assert r.status_code == 403
    r = http.post(srv.url + "computer/web1/doDelete", data={"Jenkins-Crumb": crumb},
                  allow_redirects=False)
    assert r.status_code == 302
    assert "web1" not in names(srv)
    # without Agent/Create there is no form, and the POST is refused
    bob = signed_in(srv, "bob", "bob-password")
    page = bob.get(srv.url + "manage/nodes")
    assert page.status_code == 200 and "Add a node" not in page.text
    r = bob.post(srv.url + "manage/nodes/add", data={
        "Jenkins-Crumb": page_crumb(page.text), "name": "web3", "host": "h",
        "credentials": "k", "remote_fs": "/b"}, allow_redirects=False)
    assert r.status_code == 403 and "Agent/Create" in r.text


def test_backup_and_restore_carry_the_nodes(tmp_path):
    import os
    import shutil
    old = tmp_path / "old"
    s = Server(old)
    s.admin("node", "add", "b1", "--host", "b1.example.com", "--credentials", "k",
            "--remote-fs", "/home/build")
    with open(old / "nodes" / "b1" / "offline", "w") as f:
        f.write("in the backup")
    dest = tmp_path / "backup"
    s.admin("backup", str(dest))
    assert (dest / "nodes" / "b1" / "config.xml").exists()
    new = Server(tmp_path / "new")
    new.admin("restore", str(dest))
    assert "b1" in new.admin("node", "list").stdout
    with open(tmp_path / "new" / "nodes" / "b1" / "offline") as f:
        assert f.read() == "in the backup"
    # a backup from before nodes were in backups: the home keeps its own
    shutil.rmtree(dest / "nodes")
    new.admin("node", "add", "b2", "--host", "h", "--credentials", "k", "--remote-fs", "/b")
    new.admin("restore", str(dest))
    listing = new.admin("node", "list").stdout
    assert "b2" in listing and "b1" in listing
    assert os.path.isdir(tmp_path / "new" / "nodes")


def test_matrix_grants_of_agent_permissions(tmp_path):
    s = Server(tmp_path / "home")
    s.add_user("alice", "alice-password", admin=True)
    s.add_user("bob", "bob-password")
    s.alice = ("alice", s.new_token("alice", "ci"))
    s.bob = ("bob", s.new_token("bob", "laptop"))
    s.admin("security", "authorization", "matrix")
    s.admin("security", "matrix", "grant", "bob", "Overall/Read")
    s.admin("security", "matrix", "grant", "bob", "hudson.model.Computer.Create")
    s.start()
    try:
        j = client(s, s.bob)
        j.create_node("m1", remoteFS="/b", launcher=jenkins.LAUNCHER_SSH,
                      launcher_params={"host": "m1", "credentialsId": "k"})
        assert j.node_exists("m1")
        # Create alone: no config.xml, no toggle, no delete, each naming what is missing
        r = s.get("computer/m1/config.xml", auth=s.bob)
        assert r.status_code == 403 and "Agent/ExtendedRead" in r.text
        r = s.post("computer/m1/toggleOffline", auth=s.bob)
        assert r.status_code == 403 and "Agent/Disconnect" in r.text
        r = s.post("computer/m1/doDelete", auth=s.bob)
        assert r.status_code == 403 and "Agent/Delete" in r.text
        x = s.get("computer/m1/api/xml", auth=s.bob)
        assert x.status_code == 200 and "<displayName>m1</displayName>" in x.text
        r = s.get("computer/api/json", params={"tree": "computer[displayName,offline]"},
                  auth=s.bob)
        assert r.json()["computer"][1] == {"_class": "hudson.slaves.SlaveComputer",
                                          "displayName": "m1", "offline": True}
    finally:
        s.stop()
