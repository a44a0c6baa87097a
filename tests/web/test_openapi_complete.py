"""Every JSON API route is described in the OpenAPI document (so clients, and the schemathesis run, see it)."""
import re


def test_every_api_route_is_documented(app, client):
    documented = set(client.get("/api/v1/openapi.json").json["paths"])
    routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len("/api/v1"):])
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")}
    assert routes - documented == {"/openapi.json"}
