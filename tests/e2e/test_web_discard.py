"""'Discard old builds' on the job configuration page: the form, config.xml, builds discarded."""
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import requests

from conftest import SLOW, create_job, job_xml
from e2e_helpers import web_sign_in
from e2e_helpers import wait_for

DISCARDER = "properties/jenkins.model.BuildDiscarderProperty"


class ConfigureForm(HTMLParser):
    """The fields the configuration form would send, as a browser sends them (no buttons)."""

    def __init__(self):
        super().__init__()
        self.fields, self.ids = {}, set()
        self.in_form = False
        self.textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "form" and a.get("method") == "post" and a.get("action", "").endswith("/configure"):
            self.in_form = True
        if not self.in_form or "name" not in a:
            return
        if tag == "input" and a.get("type") == "checkbox":
            if "checked" in a:
                self.fields[a["name"]] = a.get("value", "on")
        elif tag == "input":
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self.textarea = a["name"]
            self.fields[a["name"]] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.fields[self.textarea] += data


def signed_in(server):
    s = requests.Session()
    s.headers["Accept"] = "text/html"  # what a browser asks for: the pages, not the API
    r = web_sign_in(server.url, "alice", "alice-password", session=s)
    assert r.status_code == 302, r.text
    return s


def configure_page(s, server, job):
    r = s.get(server.url + f"job/{job}/configure", timeout=10 * SLOW)
    assert r.status_code == 200, r.text
    form = ConfigureForm()
    form.feed(r.text)
    assert re.fullmatch(r"[0-9a-f]{32,}", form.fields["Jenkins-Crumb"])
    return r.text, form


def save(s, server, job, fields):
    return s.post(server.url + f"job/{job}/configure", data={**fields, "then": "stay"},
                  allow_redirects=False, timeout=10 * SLOW)


def config_xml(server, job):
    r = server.get(f"job/{job}/config.xml", auth=server.alice)
    assert r.status_code == 200, r.text
    return r.text


def discarder(xml):
    """{element: text} of the LogRotator strategy, or None without a BuildDiscarderProperty."""
    props = ET.fromstring(xml.encode()).findall(DISCARDER)
    assert len(props) <= 1, xml
    if not props:
        return None
    strategy = props[0].find("strategy")
    assert strategy.get("class") == "hudson.tasks.LogRotator", xml
    return {c.tag: c.text for c in strategy}


def build_numbers(server, job):
    r = server.get(f"job/{job}/api/json?tree=builds[number]", auth=server.alice)
    assert r.status_code == 200, r.text
    return [b["number"] for b in r.json()["builds"]]


def build(server, job, number):
    r = server.post(f"job/{job}/build", auth=server.alice)
    assert r.status_code == 201, r.text
    item = server.wait_queue_item(r.headers["Location"], server.alice)
    assert item["executable"]["number"] == number, item
    return server.wait_build(job, number, server.alice)


def test_discard_old_builds_is_set_applied_and_removed_from_the_configure_page(server):
    # build 1 succeeds, the others fail: build 1 stays as the last successful one
    create_job(server, "rotate", job_xml(script='test "$BUILD_NUMBER" = 1'))
    s = signed_in(server)

    # the form: the box, two fields, two more under "Advanced", each with its label
    html, form = configure_page(s, server, "rotate")
    for field, label in (("daysToKeep", "Days to keep builds"),
                         ("numToKeep", "Max # of builds to keep"),
                         ("artifactDaysToKeep", "Days to keep artifacts"),
                         ("artifactNumToKeep", "Max # of builds to keep with artifacts")):
        assert f'<label for="{field}">{label}</label>' in html, field
        assert form.fields[field] == "", field
    assert '<label class="check" for="discard">' in html and "discard" in form.ids
    assert "discard" not in form.fields  # not set: unticked
    assert discarder(config_xml(server, "rotate")) is None

    # a mistyped number is refused, with the field's name, and nothing is saved
    before = config_xml(server, "rotate")
    r = save(s, server, "rotate", {**form.fields, "discard": "1", "numToKeep": "ten"})
    assert r.status_code == 400, r.text
    assert "Max # of builds to keep must be a whole number, or empty." in r.text
    assert 'value="ten"' in r.text  # shown again to be corrected
    r = save(s, server, "rotate", {**form.fields, "discard": "1", "daysToKeep": "-1"})
    assert r.status_code == 400 and "Days to keep builds must be from 0 to 1000000" in r.text
    assert config_xml(server, "rotate") == before

    # set: written as Jenkins writes it
    r = save(s, server, "rotate", {**form.fields, "discard": "1", "numToKeep": "1",
                                   "artifactNumToKeep": " 2 "})
    assert r.status_code == 303, r.text
    xml = config_xml(server, "rotate")
    assert discarder(xml) == {"daysToKeep": "-1", "numToKeep": "1", "artifactDaysToKeep": "-1",
                              "artifactNumToKeep": "2"}, xml
    assert "<hudson.tasks.Shell>" in xml  # the rest of the form still saved

    # the page shows what is set; sending it back unchanged changes nothing
    html, form = configure_page(s, server, "rotate")
    assert form.fields["discard"] == "1" and form.fields["numToKeep"] == "1"
    assert form.fields["artifactNumToKeep"] == "2" and form.fields["daysToKeep"] == ""
    assert re.search(r"<details open>\s*<summary>Advanced</summary>", html)
    assert save(s, server, "rotate", form.fields).status_code == 303
    assert config_xml(server, "rotate") == xml

    # applied: of three builds, the newest and the last successful stay
    assert build(server, "rotate", 1)["result"] == "SUCCESS"
    assert build(server, "rotate", 2)["result"] == "FAILURE"
    assert build(server, "rotate", 3)["result"] == "FAILURE"
    wait_for(lambda: build_numbers(server, "rotate") == [3, 1], what="build 2 discarded")
    assert server.get("job/rotate/2/api/json", auth=server.alice).status_code == 404

    # the job page says it in a sentence
    page = s.get(server.url + "job/rotate/", timeout=10 * SLOW).text
    assert ('<p class="hint" id="discard-note">Keeps the newest build, and artifacts of the 2 '
            'newest builds. The last successful build always stays.</p>') in page

    # unticked: the setting goes, and nothing else changes
    del form.fields["discard"]
    assert save(s, server, "rotate", form.fields).status_code == 303
    after = config_xml(server, "rotate")
    assert discarder(after) is None and "BuildDiscarderProperty" not in after
    assert after.replace("<properties/>", "") == re.sub(
        r"<properties>\s*<jenkins\.model\.BuildDiscarderProperty>.*</jenkins\.model\."
        r"BuildDiscarderProperty>\s*</properties>", "", xml, flags=re.S)
    assert 'id="discard-note"' not in s.get(server.url + "job/rotate/", timeout=10 * SLOW).text
    assert build_numbers(server, "rotate") == [3, 1]


def test_a_plugin_strategy_is_named_escaped_and_left_alone(server):
    xml = job_xml().replace(
        "<properties></properties>",
        "<properties><jenkins.model.BuildDiscarderProperty>"
        '<strategy class="org.example.&lt;b&gt;Keep&lt;/b&gt;"><tag>release</tag></strategy>'
        "</jenkins.model.BuildDiscarderProperty></properties>")
    assert "BuildDiscarderProperty" in xml
    create_job(server, "plugin", xml)
    before = config_xml(server, "plugin")
    s = signed_in(server)

    html, form = configure_page(s, server, "plugin")
    assert "<code>org.example.&lt;b&gt;Keep&lt;/b&gt;</code>" in html and "<b>Keep" not in html
    assert "numToKeep" not in form.fields and 'name="discard"' not in html
    # neither the form as shown nor forged fields touch it
    r = save(s, server, "plugin", {**form.fields, "description": "changed", "discard": "1",
                                   "numToKeep": "1"})
    assert r.status_code == 303, r.text
    after = config_xml(server, "plugin")
    assert "<description>changed</description>" in after
    # (the XML declaration is libxml2's once Steward writes the file)
    assert after.replace("<description>changed</description>", "<description></description>") \
        .split("\n", 1)[1] == before.split("\n", 1)[1]
    assert 'id="discard-note"' not in s.get(server.url + "job/plugin/", timeout=10 * SLOW).text
