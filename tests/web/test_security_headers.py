"""Security headers on every answer (pages, JSON, files, errors) and cookie flags."""
import pytest

from web.security import CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("path", ["/login", "/healthz", "/static/app.css", "/no-such-page", "/api/v1/openapi.json"])
def test_every_answer_carries_the_security_headers(client, path):
    response = client.get(path)
    response.close()
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers       # plain HTTP: no HSTS


def test_hsts_only_behind_tls(client):
    response = client.get("/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_the_session_cookie_is_httponly_and_samesite(client, ready):
    ready("jaadmin01", verified=True)
    response = client.post("/login", data={"username": "jaadmin01", "password": "Zjrj@-2007"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_session_cookie_is_secure_when_configured(app, client, ready):
    ready("jaadmin01", verified=True)
    app.config["SESSION_COOKIE_SECURE"] = True
    try:
        response = client.post("/login", data={"username": "jaadmin01", "password": "Zjrj@-2007"},
                               base_url="https://localhost")
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False
    assert "Secure" in response.headers["Set-Cookie"]


def test_login_starts_a_new_session_cookie(client, ready):
    """Whatever the session held before the login (a fixation attempt) does not survive it."""
    ready("jaadmin01", verified=True)
    with client.session_transaction() as before:
        before["planted"] = "by-an-attacker"
    client.post("/login", data={"username": "jaadmin01", "password": "Zjrj@-2007"})
    with client.session_transaction() as after:
        assert "planted" not in after and after.get("_user_id")
