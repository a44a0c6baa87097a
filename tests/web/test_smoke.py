def test_login_page_and_health(client):
    assert client.get("/login").status_code == 200
    body = client.get("/healthz").json
    assert body == {"status": "ok", "database": "ok"}


def test_api_login_forced_change(client, api_login):
    headers = api_login("jaadmin01")
    response = client.get("/api/v1/users", headers=headers)
    assert response.status_code == 403
    assert response.json["error"] == "password_change_required"
