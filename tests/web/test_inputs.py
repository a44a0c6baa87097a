"""Integers beyond what the databases store, in query arguments and URL parts, never reach the database."""


def test_a_huge_query_integer_is_ignored(client, api_login, ready):
    ready("jaadmin01", verified=True)
    headers = api_login("jaadmin01")
    huge = str(10**30)
    response = client.get("/api/v1/tasks", query_string={"org_id": huge, "page": huge}, headers=headers)
    assert response.status_code == 200 and response.json["page"] == 1


def test_a_huge_id_in_the_url_is_not_found(client, api_login, ready):
    ready("jaadmin01", verified=True)
    headers = api_login("jaadmin01")
    assert client.get(f"/api/v1/tasks/{10**30}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/tasks/{2**31 - 1}", headers=headers).status_code == 404   # in range: looked up


def test_nul_characters_are_refused_before_any_view(client, api_login, ready, browser_login):
    ready("jahosp001", verified=True)
    headers = api_login("jahosp001")
    response = client.post("/api/v1/processes/generic_request/instances", headers=headers,
                           json={"data": {"title": "申请\x00", "description": "说明"}})
    assert response.status_code == 422 and response.json["error"] == "control_character"
    listed = client.get("/api/v1/tasks", query_string={"view": "requests", "process": "x\x00"}, headers=headers)
    assert listed.status_code == 422
