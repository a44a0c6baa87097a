"""Per-IP login throttling beside the per-account lockout: an address that submits too many logins in a
minute is refused (429) on the page and the API, whichever accounts it tries; other addresses are not."""
import pytest

from web.extensions import limiter


@pytest.fixture
def strict(app):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    limiter.reset()
    yield
    app.config["LOGIN_RATE_LIMIT"] = "100000 per minute"
    limiter.reset()


def test_too_many_logins_from_one_address_are_throttled(client, strict, ready):
    ready("jaadmin01", verified=True)
    for username in ("nobody1", "nobody2", "nobody3"):
        assert client.post("/login", data={"username": username, "password": "x"}).status_code == 200
    refused = client.post("/login", data={"username": "jaadmin01", "password": "Zjrj@-2007"})
    assert refused.status_code == 429 and "登录尝试过于频繁，请稍后再试" in refused.get_data(as_text=True)
    api = client.post("/api/v1/auth/login", json={"username": "jaadmin01", "password": "Zjrj@-2007"})
    assert api.status_code == 429 and api.json["error"] == "rate_limited"
    assert client.get("/login").status_code == 200                 # reading the page is not an attempt
    other = client.post("/login", data={"username": "jaadmin01", "password": "Zjrj@-2007"},
                        environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 303                                 # another address logs in normally


def test_the_throttle_does_not_count_against_the_account(client, strict, ready, users):
    """Refused attempts never reach the password check, so they cannot lock the account either."""
    ready("jaadmin01", verified=True)
    for _ in range(6):
        client.post("/login", data={"username": "jaadmin01", "password": "wrong"})
    assert users("jaadmin01").failed_attempts == 3
