"""Every refusal says which secret the URL accepts, what was presented, and the fix."""
from conftest import basic, create_job, job_xml


def test_wrong_password_is_401_with_challenge(server):
    r = server.get("api/json", auth=("alice", "wrong"))
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Basic realm="Steward"'
    body = r.json()
    assert "alice" in body["presented"] and "wrong" not in r.text
    assert "API token" in body["fix"]


def test_unknown_user_is_401_and_says_so(server):
    r = server.get("api/json", auth=("Alice Liddell", server.alice_token))
    assert r.status_code == 401
    assert "no user with that name" in r.json()["presented"]
    assert server.alice_token not in r.text


def test_anonymous_api_request_gets_401_challenge(server):
    r = server.get("job/nosuch/api/json")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Basic realm="Steward"'
    assert "no credentials" in r.json()["presented"]


def test_browser_is_sent_to_login(server):
    r = server.get("job/x/api/json", headers={"Accept": "text/html"}, allow_redirects=False)
    assert r.status_code == 302
    assert "/login?from=" in r.headers["Location"]
    page = server.get("login")
    assert page.status_code == 200 and "<form" in page.text


def test_api_token_as_trigger_token_is_named(server):
    create_job(server, "guarded", job_xml(token="the-trigger-token"))
    # an authenticated caller who can see the job: 403 naming the token's owner
    r = server.post("job/guarded/build?token=" + server.bob_token, auth=server.alice)
    assert r.status_code == 403
    body = r.json()
    assert "user API token of user 'bob'" in body["presented"]
    assert "curl -u" in body["presented"]
    assert server.bob_token not in r.text
    assert "trigger token" in body["accepts"] and "API token" in body["accepts"]
    assert r.headers["X-Error"].startswith("Invalid token provided")
    # anonymous, who may not see the job: 404, and still the mix-up is named
    r = server.get("job/guarded/build?token=" + server.bob_token)
    assert r.status_code == 404
    assert "looks like a user API token" in r.json()["presented"]


def test_wrong_trigger_token_403_for_reader_404_for_stranger(server):
    create_job(server, "tt", job_xml(token="right"))
    r = server.post("job/tt/build?token=wrong", auth=server.alice)
    assert r.status_code == 403
    assert "does not match this job's trigger token" in r.json()["presented"]
    anon = server.get("job/tt/build?token=wrong")
    missing = server.get("job/does-not-exist/build?token=wrong")
    assert anon.status_code == missing.status_code == 404
    assert anon.json() == missing.json()


def test_missing_job_for_reader_is_plain_404(server):
    r = server.post("job/nope/build", auth=server.alice)
    assert r.status_code == 404
    assert "There is no job named 'nope'" in r.json()["presented"]


def test_get_without_token_is_405_allow_post(server):
    create_job(server, "getme", job_xml())
    r = server.get("job/getme/build", auth=server.alice)
    assert r.status_code == 405
    assert r.headers["Allow"] == "POST"
    assert "POST" in r.json()["fix"]


def test_anonymous_without_token_is_401(server):
    create_job(server, "anon", job_xml(token="t"))
    r = server.post("job/anon/build")
    assert r.status_code == 401
    assert "trigger token" in r.json()["accepts"]


def test_trigger_token_as_basic_password_is_401(server):
    create_job(server, "mixed", job_xml(token="the-trigger-token"))
    r = server.post("job/mixed/build", auth=("alice", "the-trigger-token"))
    assert r.status_code == 401
    assert "trigger token does not go here" in r.json()["presented"]


def test_token_on_job_without_trigger_token(server):
    server.admin("security", "anonymous-read", "on")
    create_job(server, "notoken", job_xml())
    r = server.get("job/notoken/build?token=whatever")
    assert r.status_code == 403
    assert "has no trigger token" in r.json()["accepts"]


def test_html_refusal_for_browsers(server):
    create_job(server, "page", job_xml(token="right"))
    r = server.post("job/page/build?token=wrong", auth=server.alice, headers={"Accept": "text/html"})
    assert r.status_code == 403
    assert r.headers["Content-Type"].startswith("text/html")
    assert "<h1>" in r.text and "How to fix it" in r.text


def test_disabled_job_is_409(server):
    create_job(server, "off", job_xml(disabled=True, token="t"))
    r = server.get("job/off/build?token=t")
    assert r.status_code == 409
    assert "disabled" in r.json()["presented"]
