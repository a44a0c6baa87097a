"""Login, lockout, password change and tokens, at the service level with a frozen clock."""
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from models import Session
from models.accounts import PasswordChangeReason
from models.audit import AuditEvent
from workflows import accounts, auth
from workflows.errors import InvalidInput, PolicyViolation

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
PW = "Zjrj@-2007"


def fail(username="jaadmin01", times=1):
    results = [auth.authenticate(username, "Wrong#Pass1") for _ in range(times)]
    Session.commit()
    return results[-1]


def events(action, username):
    return Session().scalars(select(AuditEvent).where(AuditEvent.action == action,
                                                      AuditEvent.target_name == username)).all()


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def test_correct_password_logs_in_and_resets_counter(clock, users):
    fail(times=4)
    assert users("jaadmin01").failed_attempts == 4
    result = auth.authenticate("jaadmin01", PW)
    assert result.ok and result.user.failed_attempts == 0
    assert result.user.last_login_at == T0


def test_four_failures_a_success_four_failures_is_not_locked(clock, users):
    fail(times=4)
    assert auth.authenticate("jaadmin01", PW).ok
    assert fail(times=4).outcome == "invalid"
    assert not users("jaadmin01").is_locked(T0)


def test_fifth_consecutive_failure_locks_for_30_minutes_and_is_audited(clock, users):
    assert fail(times=4).outcome == "invalid"
    result = fail()
    assert result.outcome == "locked"
    assert result.locked_until == T0 + timedelta(minutes=30)
    user = users("jaadmin01")
    assert user.lock_reason == "failed_logins" and user.failed_attempts == 5
    assert len(events("account_lock", "jaadmin01")) == 1
    assert [e.outcome for e in events("login", "jaadmin01")].count("failure") == 5


def test_correct_password_while_locked_gets_the_lock_answer_and_does_not_extend(clock, users):
    fail(times=5)
    clock.shift(timedelta(minutes=10))
    result = auth.authenticate("jaadmin01", PW)
    assert result.outcome == "locked"
    assert result.locked_until == T0 + timedelta(minutes=30)
    assert fail().locked_until == T0 + timedelta(minutes=30)
    assert users("jaadmin01").failed_attempts == 5


@pytest.mark.parametrize("elapsed, locked", [(timedelta(minutes=30) - timedelta(seconds=1), True),
                                             (timedelta(minutes=30), False)])
def test_lock_boundary(clock, users, elapsed, locked):
    fail(times=5)
    clock.shift(elapsed)
    result = auth.authenticate("jaadmin01", "Wrong#Pass1")
    Session.commit()
    if locked:
        assert result.outcome == "locked"
    else:
        assert result.outcome == "invalid"
        user = users("jaadmin01")
        assert user.failed_attempts == 1 and user.lock_reason is None   # the count starts again


def test_login_after_lock_expiry_clears_the_lock(clock, users):
    fail(times=5)
    clock.shift(timedelta(minutes=31))
    assert auth.authenticate("jaadmin01", PW).ok
    user = users("jaadmin01")
    assert user.lock_reason is None and user.locked_until is None and user.failed_attempts == 0


def test_unknown_username_gets_the_wrong_password_answer_and_never_locks(clock):
    outcomes = {auth.authenticate("nobody-here", "Wrong#Pass1").outcome for _ in range(6)}
    assert outcomes == {"invalid"}
    assert Session().scalars(select(AuditEvent).where(AuditEvent.actor_name == "nobody-here")).all()


def test_admin_lock_needs_admin_unlock(clock, users, ready):
    ready("jaadmin01", "whadmin01")
    accounts.lock_user(users("whadmin01"), users("jaadmin01"))
    Session.commit()
    clock.shift(timedelta(days=3))
    assert auth.authenticate("jaadmin01", PW).outcome == "locked"
    accounts.unlock_user(users("whadmin01"), users("jaadmin01"))
    assert auth.authenticate("jaadmin01", PW).ok


def test_disabled_account_is_refused_only_with_the_right_password(clock, users):
    users("jaadmin01").status = "disabled"
    assert auth.authenticate("jaadmin01", "Wrong#Pass1").outcome == "invalid"
    assert auth.authenticate("jaadmin01", PW).outcome == "disabled"


def test_temporary_password_expires_after_72_hours_unused(clock, users, ready):
    ready("jaadmin01")
    password = accounts.reset_password(users("whadmin01"), users("jaadmin01"))
    clock.shift(timedelta(hours=72) - timedelta(seconds=1))
    assert auth.authenticate("jaadmin01", password).ok
    clock.shift(timedelta(seconds=1))
    assert auth.authenticate("jaadmin01", password).outcome == "temporary_expired"


def test_password_age_forces_change_at_login(clock, users, ready):
    ready("jaadmin01")
    users("jaadmin01").password_changed_at = T0 - timedelta(days=30) + timedelta(seconds=1)
    assert auth.authenticate("jaadmin01", PW).user.password_change_reason is None
    users("jaadmin01").password_changed_at = T0 - timedelta(days=30)
    assert auth.authenticate("jaadmin01", PW).user.password_change_reason == PasswordChangeReason.EXPIRED


def test_expiry_warning_in_last_seven_days(clock, users):
    user = users("jaadmin01")
    user.password_changed_at = T0 - timedelta(days=22)
    assert auth.password_expires_in_days(user, T0) is None
    user.password_changed_at = T0 - timedelta(days=23)
    assert auth.password_expires_in_days(user, T0) == 7


# --- password change ---------------------------------------------------------------------------------

def test_change_password_clears_the_forced_change_and_ends_other_sessions(clock, users):
    user = users("jaadmin01")
    kept, other = auth.issue_token(user), auth.issue_token(user)
    kept_id = auth.resolve_token(kept).id
    old_session = user.session_token
    auth.change_password(user, PW, "Jx#9Lm@2Qw", keep_token_id=kept_id)
    assert not user.must_change_password and user.password_changed_at == T0
    assert user.session_token != old_session
    assert auth.resolve_token(kept) is not None and auth.resolve_token(other) is None
    assert auth.authenticate("jaadmin01", "Jx#9Lm@2Qw").ok
    assert events("password_change", "jaadmin01")[-1].outcome == "success"


def test_wrong_current_password_is_refused_and_audited(users):
    with pytest.raises(InvalidInput) as exc:
        auth.change_password(users("jaadmin01"), "Not-The-One1", "Jx#9Lm@2Qw")
    assert exc.value.code == "invalid_current_password"
    assert events("password_change", "jaadmin01")[-1].outcome == "failure"


def test_all_violations_at_once(users):
    with pytest.raises(PolicyViolation) as exc:
        auth.change_password(users("jaadmin01"), PW, "abcd")
    assert set(exc.value.detail["violations"]) >= {"too_short", "missing_upper", "missing_digit",
                                                   "missing_special", "sequential_run"}


@pytest.mark.parametrize("new, code", [(PW, "is_default_password"), ("Jaadmin01#x", "contains_username")])
def test_default_and_username(users, new, code):
    with pytest.raises(PolicyViolation) as exc:
        auth.change_password(users("jaadmin01"), PW, new)
    assert code in exc.value.detail["violations"]


def test_current_and_last_five_passwords_are_refused_the_sixth_is_allowed(users):
    user = users("jaadmin01")
    passwords = [PW] + [f"Hx#{i}Lm@Qw{i}k" for i in range(1, 8)]
    for old, new in zip(passwords, passwords[1:7]):
        auth.change_password(user, old, new)
    current = passwords[6]
    for reused in passwords[1:7]:   # the current one and the five before it
        with pytest.raises(PolicyViolation) as exc:
            auth.change_password(user, current, reused)
        assert exc.value.detail["violations"] == ["reused"]
    auth.change_password(user, current, passwords[1].replace("Hx", "Hy"))  # a fresh one passes
    # passwords[0] is the default password, refused for that reason; passwords[1] is now 6 changes old
    auth.change_password(user, passwords[1].replace("Hx", "Hy"), passwords[1])


# --- tokens ------------------------------------------------------------------------------------------

def test_token_idle_and_absolute_expiry(clock, users):
    raw = auth.issue_token(users("jaadmin01"))
    Session.commit()
    clock.shift(timedelta(minutes=29))
    assert auth.resolve_token(raw) is not None          # used: idle timer restarts
    clock.shift(timedelta(minutes=29))
    assert auth.resolve_token(raw) is not None
    clock.shift(timedelta(minutes=30, seconds=1))
    assert auth.resolve_token(raw) is None               # idle for more than 30 minutes


def test_token_absolute_limit_is_12_hours(clock, users):
    raw = auth.issue_token(users("jaadmin01"))
    for _ in range(24):   # used every 29:59, so never idle: 11:59:36 in all
        clock.shift(timedelta(minutes=29, seconds=59))
        assert auth.resolve_token(raw) is not None
    clock.shift(timedelta(seconds=24))   # exactly 12 hours after issue
    assert auth.resolve_token(raw) is None


def test_revoked_token(users):
    raw = auth.issue_token(users("jaadmin01"))
    auth.revoke_token(auth.resolve_token(raw))
    assert auth.resolve_token(raw) is None
