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
