"""A home with many jobs: the registry's index against the disk, the lists that read every
job at once, and the dashboard's pages. Speed is the benchmarks' business (bench/,
shared/bench/scale.sh); these check that the fast paths give the same answers."""
import concurrent.futures
import json
import os
import re
from urllib.parse import quote

import jenkins

from conftest import create_job, job_xml
from e2e_helpers import restart, wait_for

HTML = {"Accept": "text/html"}


def write_job(server, name, xml):
    d = os.path.join(server.home, "jobs", name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.xml"), "w") as f:
        f.write(xml)


def names(server):
    r = server.get("api/json", auth=server.alice)
    assert r.status_code == 200, r.text
    return [j["name"] for j in r.json()["jobs"]]


def test_a_restart_reads_the_index_and_what_changed_on_disk_while_stopped(server):
    create_job(server, "kept", job_xml(description="kept"))
    create_job(server, "edited", job_xml(description="before"))
    create_job(server, "removed", job_xml())
    server.stop()
    restart(server)   # the first restart writes nothing new: the index already has them
    assert names(server) == ["edited", "kept", "removed"]
    server.stop()

    write_job(server, "edited", job_xml(description="after", script="echo edited-while-stopped"))
    os.unlink(os.path.join(server.home, "jobs", "removed", "config.xml"))
    for i in range(40):
        write_job(server, f"dropped-{i:02d}", job_xml(description=f"dropped {i}"))
    restart(server)

    # one job asked for is read from its file at once
    r = server.get("job/edited/api/json", auth=server.alice)
    assert r.status_code == 200 and r.json()["description"] == "after"
    assert server.get("job/removed/api/json", auth=server.alice).status_code == 404
    # a list is whole: what the disk has, nothing it lost
    got = names(server)
    assert got == sorted(["edited", "kept"] + [f"dropped-{i:02d}" for i in range(40)]), got
    # and a build runs the steps the file says
    r = server.post("job/edited/build", auth=server.alice)
    n = server.wait_queue_item(r.headers["Location"], server.alice)["executable"]["number"]
    assert server.wait_build("edited", n, server.alice)["result"] == "SUCCESS"
    log = server.get(f"job/edited/{n}/consoleText", auth=server.alice).text
    assert "edited-while-stopped" in log, log


def test_a_start_that_nobody_asks_anything_still_checks_every_file(server):
    """The index and the check of every config.xml wait for the first answer, so as not to
    compete with the start, but not longer than a second: with no request at all, a file
    removed while stopped is still found, and its job removed."""
    create_job(server, "kept", job_xml())
    create_job(server, "gone", job_xml())
    server.stop()
    os.unlink(os.path.join(server.home, "jobs", "gone", "config.xml"))
    restart(server)
    wait_for(lambda: "job gone: config.xml is gone; the job is removed" in server.read_log(),
             what="the start's check of every file", seen=server.read_log)
    assert names(server) == ["kept"]


def test_the_job_list_for_a_tree_gives_what_the_full_model_gives(server):
    create_job(server, "ok", job_xml())
    create_job(server, "bad", job_xml(script="exit 3"))
    create_job(server, "off", job_xml(disabled=True))
    create_job(server, "never", job_xml())
    for job in ("ok", "bad"):
        r = server.post(f"job/{job}/build", auth=server.alice)
        n = server.wait_queue_item(r.headers["Location"], server.alice)["executable"]["number"]
        server.wait_build(job, n, server.alice)

    full = server.get("api/json?depth=1", auth=server.alice).json()["jobs"]
    want = {j["name"]: j["color"] for j in full}
    assert want == {"ok": "blue", "bad": "red", "off": "disabled", "never": "notbuilt"}, want
    # python-jenkins' get_jobs() asks with a tree that the summaries answer
    tree = server.get("api/json?tree=jobs[name,url,color]", auth=server.alice).json()["jobs"]
    assert {j["name"]: j["color"] for j in tree} == want
    assert all(set(j) == {"_class", "name", "url", "color"} for j in tree), tree
    plain = server.get("api/json", auth=server.alice).json()["jobs"]
    assert {j["name"]: j["color"] for j in plain} == want
    # a tree that asks for more still gets it
    more = server.get("api/json?tree=jobs[name,lastBuild[number]]", auth=server.alice).json()
    assert {j["name"]: (j["lastBuild"] or {}).get("number") for j in more["jobs"]} == {
        "ok": 1, "bad": 1, "off": None, "never": None}
    client = jenkins.Jenkins(server.url, username="alice", password=server.alice_token)
    assert {j["name"]: j["color"] for j in client.get_jobs()} == want


def test_the_job_list_written_as_text_is_what_the_model_gives(server):
    """Compact api/json writes the job list itself; ?pretty builds it with jansson.
    Both must say the same, field for field and in the same order."""
    made = []
    for name in ("plain", "caf\u00e9-\u00fc", "with space", "it's", "a+b", "x.y", "semi\"quote",
                 "back\\slash", "\u65e5\u672c"):
        r = server.post(f"createItem?name={quote(name)}", auth=server.alice, data=job_xml(),
                        headers={"Content-Type": "application/xml"})
        if r.status_code == 200:
            made.append(name)
    assert {"plain", "caf\u00e9-\u00fc", "with space", "\u65e5\u672c"} <= set(made), made
    r = server.post("job/plain/build", auth=server.alice)
    n = server.wait_queue_item(r.headers["Location"], server.alice)["executable"]["number"]
    server.wait_build("plain", n, server.alice)

    for path in ("api/json", "view/all/api/json"):
        for q in ("", "tree=jobs[name,color]", "tree=jobs[name,url,color],description",
                  "tree=jobs", "tree=jobs[url]{1,3}", "tree=jobs[name]{2}", "tree=views[name]",
                  "tree=*", "tree=jobs[color,name]{100,}"):
            compact = server.get(f"{path}?{q}", auth=server.alice)
            pretty = server.get(f"{path}?{q}&pretty=true", auth=server.alice)
            assert compact.status_code == pretty.status_code == 200, (q, compact.text)
            a = json.loads(compact.text, object_pairs_hook=list)
            b = json.loads(pretty.text, object_pairs_hook=list)
            assert a == b, (path, q, compact.text[:500], pretty.text[:500])
    jobs = server.get("api/json", auth=server.alice).json()["jobs"]
    assert sorted(j["name"] for j in jobs) == sorted(made)
    for j in jobs:
        assert j["url"] == f"{server.url}job/{quote(j['name'], safe='')}/"
        assert j["color"] == ("blue" if j["name"] == "plain" else "notbuilt")


def test_the_dashboard_shows_a_page_of_jobs_a_total_and_a_filter(server):
    server.stop()
    for i in range(230):
        write_job(server, f"job-{i:03d}", job_xml())
    restart(server)

    page = server.get("", auth=server.alice, headers=HTML).text
    assert "Jobs 1&ndash;100 of 230." in page, page[:3000]
    assert len(re.findall(r'<tr><td class="nowrap">', page)) == 100
    assert "job-000" in page and "job-099" in page and "job-100" not in page
    assert 'id="jobs-next"' in page and 'id="jobs-prev"' not in page

    last = server.get("?page=3", auth=server.alice, headers=HTML).text
    assert "Jobs 201&ndash;230 of 230." in last
    assert len(re.findall(r'<tr><td class="nowrap">', last)) == 30
    assert 'id="jobs-prev"' in last and 'id="jobs-next"' not in last
    # a page past the end shows the last one; a bad page number the first
    assert "Jobs 201&ndash;230 of 230." in server.get("?page=99", auth=server.alice,
                                                      headers=HTML).text
    assert "Jobs 1&ndash;100 of 230." in server.get("?page=x", auth=server.alice,
                                                    headers=HTML).text

    found = server.get("?q=JOB-12", auth=server.alice, headers=HTML).text
    assert "Jobs 1&ndash;10 of 10 whose name holds &ldquo;JOB-12&rdquo;." in found, found[:3000]
    assert "job-120" in found and "job-129" in found and "job-130" not in found
    # the live part the page refreshes keeps the same view
    assert 'data-live="/?part=live&amp;q=JOB-12"' in found
    live = server.get("?part=live&q=JOB-12", auth=server.alice, headers=HTML).text
    assert "Jobs 1&ndash;10 of 10" in live
    none = server.get("?q=%3Cscript%3E", auth=server.alice, headers=HTML).text
    assert "No job matches." in none and "<script>" not in none.split("<main")[-1]


def test_answers_after_a_large_one_are_whole_and_only_their_own(server):
    """A large answer's memory is kept for the next answer of any HTTP thread: each answer
    after it, small or large, alone or at once with others, is exactly its own."""
    server.stop()
    for i in range(3000):
        write_job(server, f"many-jobs-{i:04d}", job_xml())
    restart(server)
    want = sorted(f"many-jobs-{i:04d}" for i in range(3000))
    big = server.get("api/json", auth=server.alice)
    assert big.status_code == 200 and len(big.content) > 300_000, len(big.content)
    assert [j["name"] for j in big.json()["jobs"]] == want
    for _ in range(3):
        small = server.get("whoAmI/api/json", auth=server.alice)
        assert small.status_code == 200, small.text
        assert int(small.headers["Content-Length"]) == len(small.content)
        assert small.json()["name"] == "alice", small.text
        again = server.get("api/json", auth=server.alice)
        assert again.content == big.content
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        got = list(pool.map(lambda k: server.get("api/json" if k % 2 else "whoAmI/api/json",
                                                 auth=server.alice), range(12)))
    for k, r in enumerate(got):
        assert r.status_code == 200
        if k % 2:
            assert r.content == big.content
        else:
            assert r.json()["name"] == "alice", r.text
