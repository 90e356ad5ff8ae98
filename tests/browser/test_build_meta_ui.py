"""A build's display name, description and keep-forever mark, set from its page in a real
browser (the page's forms carry the crumb; no inline script), with a screenshot."""
from selenium.webdriver.common.by import By

from browser_helpers import create_job, job_xml, shot, wait_for


def test_name_describe_and_keep_a_build_from_its_page(ui, server):
    d = ui
    create_job(server, "ui-meta", job_xml(script="echo built"))
    r = server.post("job/ui-meta/build", auth=server.alice)
    assert r.status_code == 201, r.text
    item = server.wait_queue_item(r.headers["Location"], server.alice)
    server.wait_build("ui-meta", item["executable"]["number"], server.alice)

    d.get(server.url + "job/ui-meta/1/")
    assert d.find_element(By.CSS_SELECTOR, "h1").text.startswith("ui-meta #1")
    d.find_element(By.CSS_SELECTOR, "#edit-build summary").click()
    name = d.find_element(By.ID, "displayName")
    name.clear()
    name.send_keys("release 2.0 <rc>")
    text = d.find_element(By.ID, "description-text")
    text.clear()
    text.send_keys("Shipped to staging.\n<b>not bold</b>")
    d.find_element(By.CSS_SELECTOR, "#edit-build button[type=submit]").click()
    wait_for(lambda: "release 2.0 <rc>" in d.find_element(By.CSS_SELECTOR, "h1").text,
             what="the new display name")
    assert d.current_url == server.url + "job/ui-meta/1/"
    # shown as text, line break kept
    desc = d.find_element(By.ID, "description")
    assert desc.text == "Shipped to staging.\n<b>not bold</b>"
    assert not d.find_elements(By.CSS_SELECTOR, "#description b")

    d.find_element(By.CSS_SELECTOR, "#keep-form button").click()
    wait_for(lambda: "Kept forever" in d.find_element(By.CSS_SELECTOR, "h1").text,
             what="the kept mark")
    shot(d, "build-meta")
    b = server.get("job/ui-meta/1/api/json", auth=server.alice).json()
    # a browser sends a textarea's line breaks as CRLF, which is kept as Jenkins keeps it
    assert (b["displayName"], b["keepLog"], b["description"]) == \
        ("release 2.0 <rc>", True, "Shipped to staging.\r\n<b>not bold</b>")
    # the job's history names it
    d.get(server.url + "job/ui-meta/")
    assert "release 2.0 <rc>" in d.find_element(By.ID, "history").text
