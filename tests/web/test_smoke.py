def test_login_page_and_health(client):
    assert client.get("/login").status_code == 200
    body = client.get("/healthz").json
    assert body == {"status": "ok", "database": "ok"}


def test_api_login_forced_change(client, api_login):
    headers = api_login("jaadmin01")
    response = client.get("/api/v1/users", headers=headers)
    assert response.status_code == 403
    assert response.json["error"] == "password_change_required"


def test_production_refuses_the_development_key(tmp_path):
    import pytest
    from web import create_app
    from web.config import DEV_SECRET_KEY
    for key in (DEV_SECRET_KEY, "too-short"):
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            create_app({"ENV_NAME": "production", "SECRET_KEY": key, "INSTANCE_PATH": str(tmp_path),
                        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
