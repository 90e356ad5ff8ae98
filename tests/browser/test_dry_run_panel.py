"""The trigger panel's "Test this command": a dry run from the browser, which queues nothing."""
from selenium.webdriver.common.by import By

from browser_helpers import create_job, job_xml, wait_for


def test_test_this_command_runs_a_dry_run(ui, server):
    d = ui
    create_job(server, "drypanel", job_xml(params=[("choice", "MODE", ["fast", "slow"])],
                                          token="panel-token", quiet=3600))
    d.get(server.url + "job/drypanel/configure")
    for out, who in (("dry-cmd-token", "anonymous (nothing)"), ("dry-cmd-api", "alice (session)")):
        button = wait_for(lambda: d.find_elements(By.CSS_SELECTOR, f"button[data-out='{out}']"),
                          what=out)[0]
        d.execute_script("arguments[0].scrollIntoView()", button)
        button.click()
        pre = d.find_element(By.ID, out)
        wait_for(lambda: pre.get_attribute("data-status"), what="the dry run's answer")
        text = pre.text
        assert pre.get_attribute("data-status") == "201", text
        assert "Answer: 201 Created" in text and "Would queue a new item" in text, text
        assert f"Identity: {who}" in text, text
        assert "Parameter MODE=fast" in text and "Nothing was queued" in text, text
    queue = server.get("queue/api/json", auth=server.alice).json()["items"]
    assert not [i for i in queue if i["task"]["name"] == "drypanel"]
    info = server.get("job/drypanel/api/json", auth=server.alice).json()
    assert info["lastBuild"] is None
