"""Parallel wrong passwords on one account: exactly ``threshold`` counted failures and one lock."""
import threading

import pytest
from sqlalchemy import func, select

from models import Session
from models.accounts import User
from models.audit import AuditEvent
from workflows import auth

pytestmark = pytest.mark.live


def test_twenty_parallel_wrong_logins_lock_once(live_app):
    barrier = threading.Barrier(20)
    outcomes = []
    lock = threading.Lock()

    def attempt():
        with live_app.app_context():
            barrier.wait()
            try:
                result = auth.authenticate("wcadmin01", "Wrong#Pass1")
                Session.commit()
            finally:
                Session.remove()
            with lock:
                outcomes.append(result.outcome)

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    with live_app.app_context():
        user = Session().scalars(select(User).where(User.username == "wcadmin01")).one()
        failures = Session().scalar(select(func.count()).where(
            AuditEvent.action == "login", AuditEvent.outcome == "failure", AuditEvent.target_name == "wcadmin01"))
        locks = Session().scalar(select(func.count()).where(
            AuditEvent.action == "account_lock", AuditEvent.target_name == "wcadmin01"))
        Session.remove()
    assert len(outcomes) == 20
    assert outcomes.count("invalid") == 4 and outcomes.count("locked") == 16
    assert user.failed_attempts == 5 and user.lock_reason == "failed_logins"
    assert (failures, locks) == (5, 1)


def test_failures_from_different_addresses_still_lock(live_app):
    from workflows import audit
    with live_app.app_context():
        for i in range(5):
            audit.client_ip.set(f"10.0.0.{i}")
            result = auth.authenticate("whadmin01", "Wrong#Pass1")
            Session.commit()
        Session.remove()
    assert result.outcome == "locked"


def test_two_people_complete_the_same_task_once(live_app):
    """Two reviewers submit the same review at the same moment: one 200, one 409, one effect."""
    from models.workflow import HumanTask, ProcessEvent
    from workflows import accounts, processes

    with live_app.app_context():
        for name in ("jahosp001", "jaadmin01"):
            user = Session().scalars(select(User).where(User.username == name)).one()
            user.password_change_reason, user.real_name_verified = None, True
        admin = Session().scalars(select(User).where(User.username == "jaadmin01")).one()
        second, password = accounts.create_user(admin, user_type="same_level_1", org_id=admin.org_id,
                                                display_name="第二审核人", username="jashenhe02")
        second.user_type = "business_admin"   # a second business admin of the same county
        second.roles = list(admin.roles)
        second.password_change_reason, second.real_name_verified = None, True
        applicant = Session().scalars(select(User).where(User.username == "jahosp001")).one()
        instance = processes.start_instance(applicant, "generic_request",
                                            {"title": "并发审核", "description": "两人同时审核同一任务"})
        Session.commit()
        task_id = Session().scalars(select(HumanTask.id).where(HumanTask.instance_id == instance.id,
                                                               HumanTask.state == "ready")).one()
        instance_id = instance.id
        Session.remove()

    clients = {name: live_app.test_client() for name in ("jaadmin01", "jashenhe02")}
    tokens = {}
    for name, client in clients.items():
        response = client.post("/api/v1/auth/login", json={"username": name,
                                                            "password": "Zjrj@-2007" if name == "jaadmin01"
                                                            else password})
        tokens[name] = {"Authorization": f"Bearer {response.json['token']}"}
    barrier = threading.Barrier(2)
    statuses = {}

    def complete(name):
        barrier.wait()
        response = clients[name].post(f"/api/v1/tasks/{task_id}/complete", headers=tokens[name],
                                      json={"data": {"decision": "approve"}})
        statuses[name] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=complete, args=(n,)) for n in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    codes = sorted(code for code, _ in statuses.values())
    assert codes == [200, 409], statuses
    loser = next(body for code, body in statuses.values() if code == 409)
    assert loser["error"] == "task_not_ready" and loser["completed_by"] in clients

    with live_app.app_context():
        outcomes = Session().scalars(select(ProcessEvent).where(ProcessEvent.instance_id == instance_id,
                                                                ProcessEvent.kind == "outcome")).all()
        completions = Session().scalar(select(func.count()).where(
            AuditEvent.action == "task_complete", AuditEvent.target_id == str(instance_id),
            AuditEvent.actor_name.in_(list(clients))))
        Session.remove()
    assert len(outcomes) == 1 and completions == 1
