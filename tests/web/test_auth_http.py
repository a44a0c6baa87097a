"""Login, logout, sessions, CSRF and the password API over HTTP."""
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy.orm
import time_machine

from tests.conftest import DEMO_PASSWORD

NEW = "Jx#9Lm@2Qw"


def test_browser_login_forced_change_then_home(client, browser_login):
    browser_login("jaadmin01")
    assert client.get("/").headers["Location"] == "/password"
    assert client.get("/accounts/").headers["Location"] == "/password"
    page = client.get("/password").data.decode()
    assert "首次登录须修改初始密码" in page and "长度为8–64位" in page
    bad = client.post("/password", data={"current_password": DEMO_PASSWORD, "new_password": "Abcd@1234",
                                         "confirm_password": "Abcd@1234"})
    assert 'data-code="sequential_run"' in bad.data.decode()
    good = client.post("/password", data={"current_password": DEMO_PASSWORD, "new_password": NEW,
                                          "confirm_password": NEW})
    assert good.status_code == 303 and good.headers["Location"] == "/"
    assert "人员账号管理" in client.get("/").data.decode()


def test_wrong_login_message_does_not_reveal_the_username(client):
    known = client.post("/login", data={"username": "jaadmin01", "password": "Wrong#Pass1"}).data.decode()
    unknown = client.post("/login", data={"username": "nosuchuser", "password": "Wrong#Pass1"}).data.decode()
    assert "账号或密码错误" in known and "账号或密码错误" in unknown


def test_locked_message_in_the_browser(client):
    for _ in range(5):
        page = client.post("/login", data={"username": "jaadmin01", "password": "Wrong#Pass1"}).data.decode()
    assert "账号已被锁定" in page
    page = client.post("/login", data={"username": "jaadmin01", "password": DEMO_PASSWORD}).data.decode()
    assert "账号已被锁定" in page


def test_logout_ends_the_session(client, browser_login, ready):
    ready("jaadmin01")
    browser_login("jaadmin01")
    assert client.get("/").status_code == 200
    assert client.post("/logout").status_code == 303
    assert client.get("/").status_code == 302


def test_next_parameter_only_redirects_inside_the_site(client, ready):
    ready("jaadmin01")
    response = client.post("/login?next=//evil.example/x",
                           data={"username": "jaadmin01", "password": DEMO_PASSWORD})
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post("/login?next=/accounts/", data={"username": "jaadmin01", "password": DEMO_PASSWORD})
    assert response.headers["Location"] == "/accounts/"


@pytest.mark.parametrize("steps, alive", [
    ([timedelta(minutes=29)], True),
    ([timedelta(minutes=30, seconds=1)], False),                      # idle 30 minutes
    ([timedelta(minutes=29, seconds=59)] * 24 + [timedelta(seconds=30)], False),   # 12 hours in all
])
def test_browser_session_idle_and_absolute_expiry(client, ready, steps, alive):
    ready("jaadmin01")
    with time_machine.travel(datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc), tick=False) as clock:
        client.post("/login", data={"username": "jaadmin01", "password": DEMO_PASSWORD})
        for step in steps[:-1]:
            clock.shift(step)
            assert client.get("/").status_code == 200
        clock.shift(steps[-1])
        response = client.get("/")
    assert (response.status_code == 200) is alive
    if not alive:
        assert response.headers["Location"].startswith("/login")


def test_admin_reset_ends_the_users_browser_session(app, ready, users, api_login):
    ready("jaadmin01", "jahosp001")
    victim = app.test_client()
    victim.post("/login", data={"username": "jahosp001", "password": DEMO_PASSWORD})
    assert victim.get("/realname").status_code == 200
    admin = api_login("jaadmin01")
    assert app.test_client().post(f"/api/v1/users/{users('jahosp001').id}/reset-password",
                                  headers=admin).status_code == 200
    assert victim.get("/realname").status_code == 302


def test_csrf_is_required_on_browser_forms(app, client, ready):
    ready("jaadmin01")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/login", data={"username": "jaadmin01", "password": DEMO_PASSWORD})
        assert response.status_code == 400 and "页面已过期" in response.data.decode()
        page = client.get("/login").data.decode()
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        response = client.post("/login", data={"username": "jaadmin01", "password": DEMO_PASSWORD,
                                               "csrf_token": token})
        assert response.status_code == 303
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_login_rotates_the_session_cookie(client, ready):
    ready("jaadmin01")
    client.get("/login")
    before = client.get_cookie("session")
    client.post("/login", data={"username": "jaadmin01", "password": DEMO_PASSWORD})
    after = client.get_cookie("session")
    assert after is not None and (before is None or before.value != after.value)


# --- API ---------------------------------------------------------------------------------------------

def test_api_login_answers(client):
    ok = client.post("/api/v1/auth/login", json={"username": "jaadmin01", "password": DEMO_PASSWORD})
    assert ok.status_code == 200 and ok.json["must_change_password"] is True
    assert ok.json["user"]["username"] == "jaadmin01" and ok.json["token"]
    wrong = client.post("/api/v1/auth/login", json={"username": "jaadmin01", "password": "Wrong#Pass1"})
    unknown = client.post("/api/v1/auth/login", json={"username": "ghost-user", "password": "Wrong#Pass1"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json == {"error": "invalid_credentials", "message": "账号或密码错误"}
    assert client.post("/api/v1/auth/login", data="x").status_code == 422


def test_api_lock_answer_is_423_with_the_end_time(client):
    with time_machine.travel(datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc), tick=False):
        for _ in range(4):
            assert client.post("/api/v1/auth/login", json={"username": "jaadmin01",
                                                           "password": "Wrong#Pass1"}).status_code == 401
        for password in ("Wrong#Pass1", DEMO_PASSWORD):
            response = client.post("/api/v1/auth/login", json={"username": "jaadmin01", "password": password})
            assert response.status_code == 423
            assert response.json["error"] == "account_locked"
            assert response.json["locked_until"] == "2026-03-02T08:30:00Z"


def test_bearer_token_required_and_logout_revokes_it(client, api_login, ready):
    ready("jaadmin01")
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    headers = api_login("jaadmin01")
    assert client.get("/api/v1/me", headers=headers).json["username"] == "jaadmin01"
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_api_password_change(client, api_login):
    headers = api_login("jaadmin01")
    assert client.get("/api/v1/me", headers=headers).json["error"] == "password_change_required"
    bad = client.post("/api/v1/me/password", headers=headers,
                      json={"current_password": DEMO_PASSWORD, "new_password": "Ａa1!xyzQ"})
    assert bad.status_code == 422 and bad.json["error"] == "password_policy"
    assert "non_ascii" in bad.json["violations"]
    wrong = client.post("/api/v1/me/password", headers=headers,
                        json={"current_password": "nope", "new_password": NEW})
    assert wrong.status_code == 422 and wrong.json["error"] == "invalid_current_password"
    assert client.post("/api/v1/me/password", headers=headers,
                       json={"current_password": DEMO_PASSWORD, "new_password": NEW}).status_code == 204
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200 and me.json["must_change_password"] is False
    assert "sys.accounts" in me.json["permissions"]


def test_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.1")
    assert {"/auth/login", "/me/password", "/users", "/users/{user_id}/unlock"} <= set(spec["paths"])


def test_unknown_api_path_is_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.is_json


def test_healthz_reports_database_failure(client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("down")
    monkeypatch.setattr(sqlalchemy.orm.Session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json["database"] == "unavailable"
