"""The inbox, task and instance endpoints over HTTP: the scoping matrix through the JSON API, claim / release /
reassign with their refusals, the approval-centre pages, and an instance in error retried by an administrator.

Requests end by removing the session, so tests keep ids and usernames, never ORM objects, across requests.
"""
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import func, select

from models import Session
from models.accounts import Role, User, UserType
from models.audit import AuditEvent
from models.workflow import HumanTask, ProcessInstance
from tests.conftest import DEMO_PASSWORD
from workflows import accounts, auth, engine, handlers, processes

SUBMIT = {"title": "申请开通互联网访问", "description": "基层医疗机构需要通过互联网访问系统"}
DEMO = ("jahosp001", "wchosp001", "jaadmin01", "wcadmin01", "whadmin01", "hbadmin01", "sysadmin01")


def user(username):
    return Session().scalars(select(User).where(User.username == username)).one()


def add_user(username, user_type, org_of, role_codes=(), creator="sysadmin01"):
    """An account created through the service, with the demo password and no pending gates."""
    role_ids = list(Session().scalars(select(Role.id).where(Role.code.in_(role_codes))))
    created, _ = accounts.create_user(user(creator), user_type=user_type, org_id=user(org_of).org_id,
                                      display_name=username, username=username, role_ids=role_ids)
    auth.set_password(created, DEMO_PASSWORD)
    created.real_name_verified = True
    Session().flush()
    return created


@pytest.fixture
def people(ready):
    """The demo accounts, usable, plus ``jaadmin02`` (a second business admin of 江岸区, same role as
    jaadmin01) and ``jasub0001`` (a sub-account of 测试医院 holding no role)."""
    ready(*DEMO, verified=True)
    add_user("jaadmin02", UserType.BUSINESS_ADMIN, "jaadmin01", ["county_admin"])
    add_user("jasub0001", UserType.SUB_ACCOUNT, "jahosp001", creator="jahosp001")
    Session.commit()


@pytest.fixture
def token(people, api_login):
    cache = {}

    def get(username):
        if username not in cache:
            cache[username] = api_login(username)
        return cache[username]
    return get


@pytest.fixture
def browser(app, people):
    """A logged-in test client of its own per account: ``browser("jaadmin01").get(...)``."""
    clients = {}

    def get(username):
        if username not in clients:
            clients[username] = app.test_client()
            response = clients[username].post("/login", data={"username": username, "password": DEMO_PASSWORD})
            assert response.status_code == 303, response.get_data(as_text=True)
        return clients[username]
    return get


@pytest.fixture
def quick_request(monkeypatch, tmp_path):
    """A second process, ``quick_request``: the sample process under another key."""
    with open(engine.os.path.join(engine.BPMN_DIR, "generic_request.bpmn"), encoding="utf-8") as fh:
        source = fh.read()
    variant = (source.replace('processRef="generic_request"', 'processRef="quick_request"')
               .replace('<bpmn:process id="generic_request" name="通用申请"',
                        '<bpmn:process id="quick_request" name="快速申请"'))
    (tmp_path / "quick_request.bpmn").write_text(variant, encoding="utf-8")
    monkeypatch.setattr(processes, "_registry", {**processes.registry(), **engine.load_registry(str(tmp_path))})
    return "quick_request"


def start(username, key="generic_request", title=None):
    """Start and submit a request as ``username``; returns ``(instance_id, review_task_id)``."""
    instance = processes.start_instance(user(username), key, {**SUBMIT, "title": title or SUBMIT["title"]})
    instance_id, task_id = instance.id, open_task_id(instance.id)
    Session.commit()
    return instance_id, task_id


def open_task_id(instance_id):
    return Session().scalars(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                        HumanTask.state == "ready")).one()


def task_row(task_id):
    Session().expire_all()
    return Session().get(HumanTask, task_id)


def assignee_of(task_id):
    row = task_row(task_id)
    return row.assignee.username if row.assignee else None


def last_event_id():
    return Session().scalar(select(func.max(AuditEvent.id))) or 0


def denials_since(mark):
    Session().expire_all()
    return [(e.actor_name, e.target_type, e.target_id, e.detail["attempted"], e.detail["status"])
            for e in Session().scalars(select(AuditEvent).where(AuditEvent.id > mark,
                                                                AuditEvent.action == "access_denied")
                                       .order_by(AuditEvent.id))]


def listed(client, headers, view, **params):
    response = client.get("/api/v1/tasks", query_string={"view": view, "per_page": 100, **params}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def listed_ids(client, headers, view, **params):
    return [item["id"] for item in listed(client, headers, view, **params)["items"]]


# --- the scoping matrix through the API ------------------------------------------------------------------

ALL_FLAGS = {"see_task", "act", "claim", "see_instance", "administer"}
ADMINISTERS = {"see_task", "see_instance", "administer"}
MATRIX = {  # starter: {viewer: (views showing the request, what the viewer may do)}
    "jahosp001": {
        "jahosp001": ({"done", "requests"}, {"see_task", "see_instance"}),
        "wchosp001": (set(), set()),
        "jaadmin01": ({"claimable"}, ALL_FLAGS),
        "jaadmin02": ({"claimable"}, ALL_FLAGS),
        "wcadmin01": (set(), set()),
        "whadmin01": (set(), ADMINISTERS),
        "hbadmin01": (set(), ADMINISTERS),
        "sysadmin01": (set(), ADMINISTERS),
        "jasub0001": (set(), set()),
    },
    "wchosp001": {
        "jahosp001": (set(), set()),
        "wchosp001": ({"done", "requests"}, {"see_task", "see_instance"}),
        "jaadmin01": (set(), set()),
        "jaadmin02": (set(), set()),
        "wcadmin01": ({"claimable"}, ALL_FLAGS),
        "whadmin01": (set(), ADMINISTERS),
        "hbadmin01": (set(), ADMINISTERS),
        "sysadmin01": (set(), ADMINISTERS),
        "jasub0001": (set(), set()),
    },
}
CASES = [(starter, viewer) for starter, row in MATRIX.items() for viewer in row]


@pytest.mark.parametrize("starter, viewer", CASES, ids=[f"{s}-by-{v}" for s, v in CASES])
def test_scoping_matrix(client, token, starter, viewer):
    started = {name: start(name) for name in ("jahosp001", "wchosp001")}
    instance_id, task_id = started[starter]
    views, allowed = MATRIX[starter][viewer]
    headers = token(viewer)

    showing = set()
    for view in ("assigned", "claimable", "done", "requests"):
        items = listed(client, headers, view)["items"]
        key = "id" if view == "requests" else "instance_id"
        if any(item[key] == instance_id for item in items):
            showing.add(view)
    assert showing == views

    task = client.get(f"/api/v1/tasks/{task_id}", headers=headers)
    instance = client.get(f"/api/v1/instances/{instance_id}", headers=headers)
    if "see_task" in allowed:
        assert task.status_code == 200
        assert (task.json["id"], task.json["can_complete"]) == (task_id, "act" in allowed)
    else:
        assert (task.status_code, task.json["error"]) == (404, "not_found")
    if "see_instance" in allowed:
        assert instance.status_code == 200 and instance.json["id"] == instance_id
        assert [t["id"] for t in instance.json["tasks"]] == [task_id]
    else:
        assert (instance.status_code, instance.json["error"]) == (404, "not_found")

    mark = last_event_id()
    claim = client.post(f"/api/v1/tasks/{task_id}/claim", headers=headers)
    if "claim" in allowed:
        assert claim.status_code == 200 and claim.json["assignee"] == viewer
        assert denials_since(mark) == []
        assert listed_ids(client, headers, "assigned") == [task_id]
        return
    expected = 403 if "see_task" in allowed else 404
    assert (claim.status_code, claim.json["error"]) == (expected, "forbidden" if expected == 403 else "not_found")
    attempted = "task_claim" if expected == 403 else "read"
    assert denials_since(mark) == [(viewer, "human_task", str(task_id), attempted, expected)]
    assert assignee_of(task_id) is None


# --- claim, release, reassign, complete ------------------------------------------------------------------

def test_claim_release_and_the_race_for_a_claimed_task(client, token):
    _, task_id = start("jahosp001")
    first, second = token("jaadmin01"), token("jaadmin02")
    assert listed_ids(client, second, "claimable") == [task_id]

    claimed = client.post(f"/api/v1/tasks/{task_id}/claim", headers=first)
    assert claimed.status_code == 200 and claimed.json["assignee"] == "jaadmin01"
    assert listed_ids(client, second, "claimable") == [] and listed_ids(client, first, "assigned") == [task_id]
    assert client.get(f"/api/v1/tasks/{task_id}", headers=second).json["can_complete"] is False

    mark = last_event_id()
    late = client.post(f"/api/v1/tasks/{task_id}/claim", headers=second)
    assert late.status_code == 409
    assert (late.json["error"], late.json["assignee"]) == ("task_not_ready", "jaadmin01")
    assert denials_since(mark) == []        # a lost race is not a refusal

    refused = client.post(f"/api/v1/tasks/{task_id}/release", headers=second)
    assert (refused.status_code, refused.json["error"]) == (403, "forbidden")
    assert denials_since(mark) == [("jaadmin02", "human_task", str(task_id), "task_release", 403)]
    assert assignee_of(task_id) == "jaadmin01"

    released = client.post(f"/api/v1/tasks/{task_id}/release", headers=first)
    assert released.status_code == 200 and released.json["assignee"] is None
    assert listed_ids(client, second, "claimable") == [task_id]
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=second).json["assignee"] == "jaadmin02"


def test_completing_a_task_someone_else_holds_is_refused(client, token):
    instance_id, task_id = start("jahosp001")
    client.post(f"/api/v1/tasks/{task_id}/claim", headers=token("jaadmin01"))
    mark = last_event_id()
    for name, status, error in (("jaadmin02", 403, "forbidden"), ("whadmin01", 403, "forbidden"),
                                ("jahosp001", 403, "forbidden"), ("wcadmin01", 404, "not_found")):
        response = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"decision": "approve"}},
                               headers=token(name))
        assert (response.status_code, response.json["error"]) == (status, error), name
    assert [d[0] for d in denials_since(mark)] == ["jaadmin02", "whadmin01", "jahosp001", "wcadmin01"]
    assert task_row(task_id).state == "ready"
    done = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"decision": "approve"}},
                       headers=token("jaadmin01"))
    assert done.status_code == 200 and done.json["status"] == "completed" and done.json["id"] == instance_id


def test_reassign(client, token):
    _, task_id = start("jahosp001")
    first = token("jaadmin01")
    client.post(f"/api/v1/tasks/{task_id}/claim", headers=first)

    for target in ("wcadmin01", "jahosp001", "whadmin01", "jasub0001", "nobody0001"):
        refused = client.post(f"/api/v1/tasks/{task_id}/reassign", json={"username": target}, headers=first)
        assert refused.status_code == 422, target
        assert refused.json["error"] == "invalid_input" and set(refused.json["fields"]) == {"username"}
    assert client.post(f"/api/v1/tasks/{task_id}/reassign", headers=first).status_code == 422   # no body
    assert assignee_of(task_id) == "jaadmin01"

    mark = last_event_id()
    for name, status in (("jaadmin02", 403), ("whadmin01", 403), ("wcadmin01", 404)):
        response = client.post(f"/api/v1/tasks/{task_id}/reassign", json={"username": "jaadmin02"},
                               headers=token(name))
        assert response.status_code == status, name
    assert [(d[0], d[3], d[4]) for d in denials_since(mark)] == [
        ("jaadmin02", "task_reassign", 403), ("whadmin01", "task_reassign", 403), ("wcadmin01", "read", 404)]

    moved = client.post(f"/api/v1/tasks/{task_id}/reassign", json={"username": "jaadmin02"}, headers=first)
    assert moved.status_code == 200 and moved.json["assignee"] == "jaadmin02"
    assert listed_ids(client, token("jaadmin02"), "assigned") == [task_id]
    assert listed_ids(client, first, "assigned") == []
    assert client.get(f"/api/v1/tasks/{task_id}", headers=first).json["can_complete"] is False
    refused = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"decision": "approve"}},
                          headers=first)
    assert refused.status_code == 403
    done = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"decision": "approve"}},
                       headers=token("jaadmin02"))
    assert done.json["status"] == "completed"
    assert listed_ids(client, token("jaadmin02"), "done") == [task_id]


def test_the_sub_account_without_approval_functions(client, token, browser):
    """It sees nothing through the API and is refused the approval centre's pages."""
    instance_id, task_id = start("jahosp001")
    headers = token("jasub0001")
    for view in ("assigned", "claimable", "done", "requests"):
        assert listed(client, headers, view)["total"] == 0
    assert client.get(f"/api/v1/tasks/{task_id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/instances/{instance_id}", headers=headers).status_code == 404
    started = client.post("/api/v1/processes/generic_request/instances", json={"data": SUBMIT}, headers=headers)
    assert (started.status_code, started.json["error"]) == (403, "forbidden")
    assert browser("jasub0001").get("/inbox/").status_code == 403
    assert browser("jasub0001").get(f"/instances/{instance_id}").status_code == 404


# --- the pages -------------------------------------------------------------------------------------------

def test_claim_from_the_inbox_page_then_the_form(browser):
    instance_id, task_id = start("jahosp001")
    reviewer = browser("jaadmin01")
    page = reviewer.get("/inbox/?view=claimable").get_data(as_text=True)
    assert f'data-task="{task_id}"' in page and SUBMIT["title"] in page
    assert f'action="/tasks/{task_id}/claim"' in page
    other = browser("wcadmin01").get("/inbox/?view=claimable").get_data(as_text=True)
    assert f'data-task="{task_id}"' not in other and SUBMIT["title"] not in other

    before = reviewer.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "认领任务" in before and 'id="task-form"' not in before
    claimed = reviewer.post(f"/tasks/{task_id}/claim")
    assert claimed.status_code == 303 and claimed.headers["Location"].endswith(f"/tasks/{task_id}")
    form = reviewer.get(claimed.headers["Location"]).get_data(as_text=True)
    assert 'id="task-form"' in form and 'name="decision"' in form and "放回待认领" in form
    assert f'data-task="{task_id}"' not in reviewer.get("/inbox/?view=claimable").get_data(as_text=True)
    assert f'data-task="{task_id}"' in reviewer.get("/inbox/?view=assigned").get_data(as_text=True)

    colleague = browser("jaadmin02")
    held = colleague.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'id="task-form"' not in held and "该任务由 jaadmin01 办理" in held
    refused = colleague.post(f"/tasks/{task_id}", data={"decision": "approve"})
    assert refused.status_code == 403 and task_row(task_id).state == "ready"

    outsider = browser("wcadmin01")
    assert outsider.get(f"/tasks/{task_id}").status_code == 404
    assert outsider.get(f"/instances/{instance_id}").status_code == 404
    assert outsider.post(f"/tasks/{task_id}/claim").status_code == 404
    assert browser("whadmin01").get(f"/instances/{instance_id}").status_code == 200

    done = reviewer.post(f"/tasks/{task_id}", data={"decision": "approve"})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/instances/{instance_id}")
    assert "已办结" in reviewer.get(f"/instances/{instance_id}").get_data(as_text=True)


def test_release_and_reassign_from_the_task_page(browser):
    _, task_id = start("jahosp001")
    reviewer = browser("jaadmin01")
    reviewer.post(f"/tasks/{task_id}/claim")
    released = reviewer.post(f"/tasks/{task_id}/release")
    assert released.status_code == 303 and assignee_of(task_id) is None
    reviewer.post(f"/tasks/{task_id}/claim")
    refused = reviewer.post(f"/tasks/{task_id}/reassign", data={"username": "wcadmin01"},
                            headers={"Referer": f"/tasks/{task_id}"})
    assert refused.status_code == 303 and assignee_of(task_id) == "jaadmin01"
    moved = reviewer.post(f"/tasks/{task_id}/reassign", data={"username": "jaadmin02"})
    assert moved.status_code == 303 and assignee_of(task_id) == "jaadmin02"
    assert f'data-task="{task_id}"' in browser("jaadmin02").get("/inbox/?view=assigned").get_data(as_text=True)


# --- an instance in error --------------------------------------------------------------------------------

def test_an_instance_in_error_is_shown_and_retried_by_an_administrator(client, token, browser, monkeypatch):
    instance_id, task_id = start("jahosp001")
    original = handlers._HANDLERS["record_outcome"]

    def broken(ctx, outcome):
        raise RuntimeError("下游系统不可用")
    monkeypatch.setitem(handlers._HANDLERS, "record_outcome", broken)

    failed = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"decision": "approve"}},
                         headers=token("jaadmin01"))
    assert failed.status_code == 200 and failed.json["status"] == "error"
    assert "下游系统不可用" in failed.json["error_message"]
    assert [t["id"] for t in failed.json["tasks"]] == [task_id]          # the completion was undone

    as_applicant = client.get(f"/api/v1/instances/{instance_id}", headers=token("jahosp001")).json
    assert as_applicant["status"] == "error" and "error_message" not in as_applicant
    assert "下游系统不可用" in client.get(f"/api/v1/instances/{instance_id}",
                                       headers=token("whadmin01")).json["error_message"]

    admin_page = browser("jaadmin01").get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "处理异常" in admin_page and "下游系统不可用" in admin_page
    assert "重试失败的步骤" in admin_page and f'action="/instances/{instance_id}/retry"' in admin_page
    applicant_page = browser("jahosp001").get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "处理异常" in applicant_page
    assert "下游系统不可用" not in applicant_page and "重试失败的步骤" not in applicant_page
    assert browser("jahosp001").post(f"/instances/{instance_id}/retry").status_code == 403

    busy = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"decision": "approve"}},
                       headers=token("jaadmin01"))
    assert (busy.status_code, busy.json["error"]) == (409, "instance_error")

    mark = last_event_id()
    refused = client.post(f"/api/v1/instances/{instance_id}/retry", headers=token("jahosp001"))
    assert (refused.status_code, refused.json["error"]) == (403, "forbidden")
    outside = client.post(f"/api/v1/instances/{instance_id}/retry", headers=token("wcadmin01"))
    assert (outside.status_code, outside.json["error"]) == (404, "not_found")
    assert [(d[0], d[1], d[3], d[4]) for d in denials_since(mark)] == [
        ("jahosp001", "process_instance", "process_retry", 403), ("wcadmin01", "process_instance", "read", 404)]
    Session().expire_all()
    assert Session().get(ProcessInstance, instance_id).status == "error"

    monkeypatch.setitem(handlers._HANDLERS, "record_outcome", original)
    retried = client.post(f"/api/v1/instances/{instance_id}/retry", headers=token("jaadmin01"))
    assert retried.status_code == 200, retried.json
    assert retried.json["status"] == "completed" and "error_message" not in retried.json
    assert ("jaadmin01", "approve") in [(e["actor"], e["outcome"]) for e in retried.json["history"]
                                        if e["kind"] == "task_completed"]
    again = client.post(f"/api/v1/instances/{instance_id}/retry", headers=token("jaadmin01"))
    assert (again.status_code, again.json["error"]) == (409, "not_in_error")
    assert "已办结" in browser("jahosp001").get(f"/instances/{instance_id}").get_data(as_text=True)


# --- filters and paging ----------------------------------------------------------------------------------

def test_filters_on_the_task_list(client, token, quick_request):
    generic = start("jahosp001")
    quick = start("jahosp001", quick_request)
    reviewer = token("jaadmin01")
    assert listed_ids(client, reviewer, "claimable") == [generic[1], quick[1]]
    assert listed_ids(client, reviewer, "claimable", process=quick_request) == [quick[1]]
    assert listed_ids(client, reviewer, "claimable", process="generic_request") == [generic[1]]
    assert listed(client, reviewer, "claimable", process="no_such_process")["total"] == 0
    assert listed_ids(client, token("jahosp001"), "requests", process=quick_request) == [quick[0]]

    city = token("whadmin01")
    ja, wc = start("jaadmin01"), start("wcadmin01")
    ja_org, wc_org = user("jaadmin01").org_id, user("wcadmin01").org_id
    assert listed_ids(client, city, "claimable") == [ja[1], wc[1]]
    assert listed_ids(client, city, "claimable", org_id=ja_org) == [ja[1]]
    assert listed_ids(client, city, "claimable", org_id=wc_org) == [wc[1]]
    assert listed(client, city, "claimable", org_id=user("jahosp001").org_id)["total"] == 0


def test_filters_on_the_inbox_page(browser, quick_request):
    t0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)            # 16:00 in China
    made = []
    for n, key in enumerate(("generic_request", quick_request, "generic_request")):
        with time_machine.travel(t0 + timedelta(days=n), tick=False):
            made.append(start("jahosp001", key, title=f"第{n}号申请"))
    page = browser("jaadmin01")

    def shown(**args):
        html = page.get("/inbox/", query_string={"view": "claimable", **args}).get_data(as_text=True)
        return [task_id for _, task_id in made if f'data-task="{task_id}"' in html]

    assert shown() == [t for _, t in made]
    assert shown(process=quick_request) == [made[1][1]]
    assert shown(since="2026-03-03", until="2026-03-03") == [made[1][1]]    # whole days, China time
    assert shown(since="2026-03-03") == [made[1][1], made[2][1]]
    assert shown(until="2026-03-02") == [made[0][1]]


def test_paging_totals(client, token):
    made = [start("jahosp001", title=f"第{n}号申请") for n in range(5)]
    reviewer = token("jaadmin01")
    everything = listed_ids(client, reviewer, "claimable")
    assert sorted(everything) == sorted(t for _, t in made)
    pages = [listed(client, reviewer, "claimable", per_page=2, page=n) for n in (1, 2, 3, 4)]
    assert [(p["total"], p["page"], p["per_page"]) for p in pages] == [(5, n, 2) for n in (1, 2, 3, 4)]
    assert [i["id"] for p in pages for i in p["items"]] == everything and pages[3]["items"] == []
    first = listed(client, reviewer, "claimable", per_page=0, page=0)               # clamped to 1 and 1
    assert (first["page"], first["per_page"], len(first["items"]), first["total"]) == (1, 1, 1, 5)
    assert listed(client, reviewer, "claimable", per_page=1000)["per_page"] == 100
    requests = listed(client, token("jahosp001"), "requests", per_page=2, page=3)
    assert requests["total"] == 5 and [i["id"] for i in requests["items"]] == [made[0][0]]


# --- the OpenAPI document matches what the endpoints answer ------------------------------------------------

DOCUMENTED = {  # (path, method): statuses the tests above observe
    ("/tasks/{task_id}/claim", "post"): {"200", "403", "404", "409"},
    ("/tasks/{task_id}/release", "post"): {"200", "403", "404", "409"},
    ("/tasks/{task_id}/reassign", "post"): {"200", "403", "404", "409", "422"},
    ("/tasks/{task_id}/complete", "post"): {"200", "403", "404", "409", "422"},
    ("/tasks/{task_id}", "get"): {"200", "404"},
    ("/instances/{instance_id}", "get"): {"200", "404"},
    ("/instances/{instance_id}/retry", "post"): {"200", "403", "404", "409"},
}


@pytest.mark.parametrize("path, method", list(DOCUMENTED), ids=[f"{m} {p}" for p, m in DOCUMENTED])
def test_openapi_documents_the_answers(client, path, method):
    operation = client.get("/api/v1/openapi.json").json["paths"][path][method]
    assert DOCUMENTED[(path, method)] <= set(operation["responses"])


def test_openapi_documents_the_task_list_filters(client):
    parameters = client.get("/api/v1/openapi.json").json["paths"]["/tasks"]["get"]["parameters"]
    assert {p["name"] for p in parameters} >= {"view", "process", "org_id", "page", "per_page"}
