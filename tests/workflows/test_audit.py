"""The audit log: hash chain, append-only storage, scoped search."""
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from models import Session
from models.audit import AuditEvent
from tests.conftest import is_postgres
from workflows import audit


def test_events_are_chained_and_verify(users):
    first = audit.record("login", actor=users("jaadmin01"), target=users("jaadmin01"))
    second = audit.record("logout", actor=users("jaadmin01"), target=users("jaadmin01"))
    assert second.prev_hash == first.hash
    assert audit.compute_hash(first.prev_hash, first) == first.hash
    report = audit.verify_chain()
    assert report.ok and report.checked >= 2


def test_update_and_delete_are_refused_by_the_database(users):
    event = audit.record("login", actor=users("jaadmin01"))
    Session.commit()
    for statement in ("UPDATE audit_events SET action = 'x' WHERE id = :id", "DELETE FROM audit_events WHERE id = :id"):
        nested = Session().begin_nested()
        with pytest.raises(DatabaseError):
            Session().execute(text(statement), {"id": event.id})
        nested.rollback()


def _drop_append_only_triggers():
    if is_postgres():
        Session().execute(text("DROP TRIGGER audit_events_append_only ON audit_events"))
    else:
        Session().execute(text("DROP TRIGGER audit_events_no_update"))
        Session().execute(text("DROP TRIGGER audit_events_no_delete"))


def test_tampering_is_detected(users):
    audit.record("login", actor=users("jaadmin01"))
    victim = audit.record("account_unlock", actor=users("jaadmin01"), target=users("jahosp001"))
    audit.record("logout", actor=users("jaadmin01"))
    Session.flush()
    _drop_append_only_triggers()   # what an attacker with database access could do; rolled back after the test
    Session().execute(text("UPDATE audit_events SET actor_name = 'someone' WHERE id = :id"), {"id": victim.id})
    Session().expire_all()
    report = audit.verify_chain()
    assert not report.ok and report.broken_at == victim.id


def test_deleting_the_last_event_is_detected(users):
    last = audit.record("logout", actor=users("jaadmin01"))
    Session.flush()
    _drop_append_only_triggers()
    Session().execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": last.id})
    Session().expire_all()
    assert not audit.verify_chain().ok


def test_search_is_scoped_to_the_viewer(users):
    audit.record("login", actor=users("wcadmin01"), target=users("wcadmin01"))
    audit.record("login", actor=users("jaadmin01"), target=users("jaadmin01"))
    audit.record("login", actor=users("jahosp001"), target=users("jahosp001"))
    seen = lambda who: {e.actor_name for e in Session().scalars(  # noqa: E731
        audit.search_query(users(who), audit.AuditFilter(action="login")))}
    assert seen("jaadmin01") == {"jaadmin01", "jahosp001"}
    assert seen("whadmin01") >= {"jaadmin01", "wcadmin01", "jahosp001"}
    assert seen("jahosp001") == {"jahosp001"}
    assert {"jaadmin01", "wcadmin01"} <= seen("sysadmin01")


def test_filters(users):
    audit.record("account_lock", actor=users("jaadmin01"), target=users("jahosp001"))
    rows = Session().scalars(audit.search_query(users("sysadmin01"), audit.AuditFilter(
        actor="jaadmin", action="account_lock", target="jahosp"))).all()
    assert [e.action for e in rows] == ["account_lock"]
    assert Session().scalars(select(AuditEvent)).first() is not None
