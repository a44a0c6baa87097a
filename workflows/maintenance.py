"""Periodic account maintenance: password rotation, lock expiry, the yearly review and its lock list, temporary
role grants and the monthly permission check (DESIGN §6; Jiangsu §二.(四), §三.(二)).

Each job takes ``now`` (an aware UTC datetime), flushes and never commits: the scheduler (or a test, or the
"run now" button) owns the transaction. The state changes are set-based: one UPDATE (or DELETE) whose WHERE
clause is the whole rule and also excludes what a previous run already changed, so a second run changes nothing
more and returns 0. What must be recorded per account (one audit event per change, as the hash chain needs, and
notifications) is written from the rows the statement returned (``RETURNING``). The monthly permission check
starts one process instance per administrator, skipping those that already have this month's.

Login never depends on these jobs having run: ``workflows.auth`` applies the password age rule and treats an
expired timed lock as open by itself. The jobs make the stored state match (for the account pages, the lock
list and the audit log).
"""
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, and_, case, cast, delete, exists, func, literal, or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from models import Session, utcnow
from models.accounts import (LOCK_REASON_LABELS, ApiToken, LockReason, PasswordChangeReason, Role, User,
                             UserStatus, UserType, user_roles)
from models.audit import AuditEvent
from models.orgs import EmploymentStatus, Organization, OrgStatus, Staff
from models.scheduling import JobRun, Notification, TemporaryGrant
from models.workflow import ProcessInstance
from workflows import audit, jurisdiction, notifications, processes, roles, settings
from workflows.errors import InvalidInput, NotAuthorized
from workflows.excel import workbook_bytes
from workflows.clock import CST

SYSTEM = "system"
CHUNK = 500   # ids per IN (...) list when loading the rows a set-based change returned


def _chunks(ids):
    ids = list(ids)
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _expire(model, ids):
    """Forget the loaded state of the objects a set-based change touched (they reload on next access)."""
    ids = set(ids)
    session = Session()
    for obj in list(session.identity_map.values()):
        if isinstance(obj, model) and obj.id in ids:
            session.expire(obj)


def _load_users(ids):
    """The accounts ``ids`` with their organization and region (for audit scope), in id order."""
    found = []
    for chunk in _chunks(ids):
        found += Session().scalars(select(User).where(User.id.in_(chunk))
                                   .options(joinedload(User.org).joinedload(Organization.region))).all()
    return sorted(found, key=lambda u: u.id)


# --- password rotation ----------------------------------------------------------------------------------------

def rotate_passwords(now):
    """Passwords at or past the maximum age must be changed at next login (reason ``expired``); returns how
    many accounts were marked. Accounts entering the warning window are told once per password (in-app)."""
    policy = settings.current().policy
    if policy.max_age_days <= 0:
        return 0
    expired = Session().execute(
        update(User)
        .where(User.status == UserStatus.ACTIVE, User.password_change_reason.is_(None),
               User.password_changed_at <= now - timedelta(days=policy.max_age_days))
        .values(password_change_reason=PasswordChangeReason.EXPIRED.value)
        .returning(User.id)
        .execution_options(synchronize_session=False)
    ).scalars().all()
    _expire(User, expired)
    _warn_expiring(now, policy)
    Session().flush()
    return len(expired)


def _warn_expiring(now, policy):
    if policy.warn_days <= 0:
        return
    max_age = timedelta(days=policy.max_age_days)
    told = exists().where(Notification.user_id == User.id, Notification.kind == "password_expiring",
                          Notification.created_at >= User.password_changed_at)
    due = Session().scalars(select(User).where(
        User.status == UserStatus.ACTIVE, User.password_change_reason.is_(None),
        User.password_changed_at > now - max_age,
        User.password_changed_at <= now - max_age + timedelta(days=policy.warn_days), ~told)).all()
    for user in due:
        expires = (user.password_changed_at + max_age).astimezone(CST)
        notifications.notify(user, "password_expiring", "密码即将过期",
                             body=f"您的密码将于 {expires:%Y-%m-%d %H:%M} 过期，请及时修改密码；过期后登录时须先修改密码。",
                             link="/password")


# --- lock expiry ------------------------------------------------------------------------------------------------

def expire_locks(now):
    """Clear timed locks (failed logins) whose end has come; each is audited as an unlock by the system. Locks
    by an administrator, the yearly review, a leak or a resignation stay until an administrator acts."""
    rows = Session().execute(
        update(User)
        .where(User.lock_reason == LockReason.FAILED_LOGINS.value, User.locked_until <= now)
        .values(lock_reason=None, locked_at=None, locked_until=None, lock_detail=None, failed_attempts=0)
        .returning(User.id)
        .execution_options(synchronize_session=False)
    ).scalars().all()
    _expire(User, rows)
    audit.record_many([dict(action="account_unlock", target=user, actor_name=SYSTEM,
                            detail={"reason": "lock_expired", "previous_reason": LockReason.FAILED_LOGINS.value})
                       for user in _load_users(rows)])
    return len(rows)


# --- yearly review ----------------------------------------------------------------------------------------------

RULE_TEXTS = {  # rule code -> lock_detail text; the first rule that matches an account is recorded
    "org_cancelled": "单位已撤销",
    "staff_left": "人员已离职",
    "validity_expired": "账号有效期已过",
    "unused": "{days}天未登录",
}


def _review_rules(now, cfg):
    """``[(rule code, condition)]`` in precedence order."""
    today = now.astimezone(CST).date()
    rules = [
        ("org_cancelled", User.org_id.in_(select(Organization.id).where(Organization.status == OrgStatus.CANCELLED))),
        ("staff_left", User.staff_id.in_(select(Staff.id).where(Staff.employment_status == EmploymentStatus.LEFT))),
        ("validity_expired", and_(User.valid_until.is_not(None), User.valid_until < today)),
    ]
    if cfg.stale_account_days > 0:
        last_used = func.coalesce(User.last_login_at, User.created_at, type_=User.created_at.type)
        rules.append(("unused", last_used <= now - timedelta(days=cfg.stale_account_days)))
    return rules


def yearly_review(now):
    """Force-lock the accounts that no longer qualify (Jiangsu §二.(四): 每年…统一强制锁定不合要求的账号): unused
    for ``STALE_ACCOUNT_DAYS`` (never-used accounts count from their creation), past their validity date (the
    last valid day is ``valid_until``, in China time), linked to staff who left, or of a cancelled institution.

    System administrators are never locked. Accounts already locked by an administrator, a leak or a resignation
    keep that lock; a failed-login lock (running or expired) is replaced by the review's permanent one. Every
    session and API token of a locked account ends. Returns the number of accounts locked."""
    cfg = settings.current()
    rules = _review_rules(now, cfg)
    texts = {code: text.format(days=cfg.stale_account_days) for code, text in RULE_TEXTS.items()}
    reason_text = case(*[(cond, literal(texts[code])) for code, cond in rules], else_=None)
    nonce = secrets.token_urlsafe(24)
    rows = Session().execute(
        update(User)
        .where(User.status == UserStatus.ACTIVE, User.user_type != UserType.SYSTEM_ADMIN.value,
               or_(User.lock_reason.is_(None), User.lock_reason == LockReason.FAILED_LOGINS.value),
               or_(*[cond for _, cond in rules]))
        .values(lock_reason=LockReason.YEARLY_REVIEW.value, locked_at=now, locked_until=None,
                lock_detail=reason_text, failed_attempts=0,
                # a new alternative id for every locked account: each browser session ends at its next request
                session_token=literal(nonce + "-", String) + cast(User.id, String))
        .returning(User.id, User.lock_detail)
        .execution_options(synchronize_session=False)
    ).all()
    if not rows:
        return 0
    _expire(User, [r.id for r in rows])
    revoked = Session().execute(
        update(ApiToken)
        .where(ApiToken.revoked_at.is_(None),
               ApiToken.user_id.in_(select(User.id).where(User.lock_reason == LockReason.YEARLY_REVIEW.value)))
        .values(revoked_at=now)
        .returning(ApiToken.id)
        .execution_options(synchronize_session=False)).scalars().all()
    _expire(ApiToken, revoked)
    rule_of = {text: code for code, text in texts.items()}
    detail_of = dict(rows)
    locked = _load_users(detail_of)
    for user in locked:
        audit.record("account_lock", target=user, actor_name=SYSTEM, detail={
            "reason": LockReason.YEARLY_REVIEW.value, "rule": rule_of.get(detail_of[user.id]),
            "note": detail_of[user.id]})
    _tell_admins(locked, now)
    Session().flush()
    return len(rows)


def _tell_admins(locked, now):
    """Each business admin whose region holds locked accounts is asked to check its lock list."""
    per_path = Counter(u.org.region.path for u in locked if u.org is not None)
    admins = Session().scalars(select(User).where(User.user_type == UserType.BUSINESS_ADMIN.value,
                                                  User.status == UserStatus.ACTIVE)
                               .options(joinedload(User.org).joinedload(Organization.region))).all()
    year = now.astimezone(CST).year
    for admin in admins:
        count = sum(n for path, n in per_path.items() if path.startswith(admin.org.region.path))
        if count:
            notifications.notify(admin, "yearly_review", f"{year}年度账号审核：本辖区锁定 {count} 个账号",
                                 body="年度账号审核已强制锁定不合要求的账号，请核对用户锁定一览表并留档。",
                                 link="/locklist/")


# --- the lock list (Jiangsu 附表5) --------------------------------------------------------------------------------

LOCK_LIST_TITLE = "用户锁定一览表"
LOCK_LIST_HEADERS = ["序号", "账号", "姓名", "单位", "用户类型", "锁定原因", "锁定时间", "操作人"]
# Locks an administrator must lift; timed failed-login locks end by themselves and are not listed.
LOCK_LIST_REASONS = (LockReason.YEARLY_REVIEW, LockReason.ADMIN, LockReason.LEAK, LockReason.RESIGNED)


@dataclass(frozen=True)
class LockListRow:
    number: int
    user_id: int
    username: str
    display_name: str
    org: str
    user_type: str
    reason: str
    locked_at: datetime
    operator: str

    @property
    def locked_at_local(self):
        return self.locked_at.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")

    def cells(self):
        return [self.number, self.username, self.display_name, self.org, self.user_type, self.reason,
                self.locked_at_local, self.operator]


def _require_lock_list(actor):
    if not (jurisdiction.is_system_admin(actor) or jurisdiction.is_business_admin(actor)):
        raise NotAuthorized("只有业务管理员和系统管理员可以查看用户锁定一览表", audit=("locklist", "endpoint", "locklist"))


def _operators(user_ids):
    """``{user id: who set the current lock}`` from the newest lock event of each account."""
    found = {}
    for chunk in _chunks(user_ids):
        events = Session().execute(
            select(AuditEvent.target_id, AuditEvent.actor_name, User.display_name)
            .outerjoin(User, User.id == AuditEvent.actor_id)
            .where(AuditEvent.action == "account_lock", AuditEvent.outcome == "success",
                   AuditEvent.target_type == "user", AuditEvent.target_id.in_([str(i) for i in chunk]))
            .order_by(AuditEvent.id)).all()
        for target_id, actor_name, display_name in events:
            if actor_name == SYSTEM:
                found[int(target_id)] = "系统（年度审核）"
            else:
                found[int(target_id)] = f"{display_name}（{actor_name}）" if display_name else actor_name
    return found


def lock_list(actor, since=None, until=None, reasons=LOCK_LIST_REASONS):
    """The locked accounts of the actor's jurisdiction (business admin: its region subtree; system admin: all),
    locked in ``[since, until)`` (aware datetimes, either open), oldest lock first."""
    _require_lock_list(actor)
    query = (jurisdiction.visible_users_query(actor).order_by(None)
             .where(User.lock_reason.in_([LockReason(r).value for r in reasons]))
             .options(joinedload(User.org))
             .order_by(User.locked_at, User.id))
    if since is not None:
        query = query.where(User.locked_at >= since)
    if until is not None:
        query = query.where(User.locked_at < until)
    users = Session().scalars(query).all()
    operators = _operators([u.id for u in users])
    rows = []
    for number, user in enumerate(users, start=1):
        reason = LOCK_REASON_LABELS[LockReason(user.lock_reason)]
        rows.append(LockListRow(
            number=number, user_id=user.id, username=user.username, display_name=user.display_name,
            org=user.org.name if user.org else "", user_type=user.user_type_label,
            reason=f"{reason}：{user.lock_detail}" if user.lock_detail else reason, locked_at=user.locked_at,
            operator=operators.get(user.id, "")))
    return rows


def lock_list_workbook(actor, since=None, until=None, reasons=LOCK_LIST_REASONS):
    """附表5 as an Excel workbook (formula-safe); the export is audited."""
    rows = lock_list(actor, since, until, reasons)
    data = workbook_bytes(LOCK_LIST_TITLE, LOCK_LIST_HEADERS, (row.cells() for row in rows),
                          widths=[8, 22, 16, 28, 20, 30, 20, 26])
    audit.record("locklist_export", actor=actor, detail={
        "rows": len(rows), "since": since.isoformat() if since else "", "until": until.isoformat() if until else ""})
    return data


# --- temporary role grants --------------------------------------------------------------------------------------

def grant_temporary_role(actor, user, role, ends_at, reason=None):
    """Give ``user`` the role ``role`` until ``ends_at`` (permission change with a validity period). The actor
    must manage the account and be allowed to grant the role. An open grant of the same role is extended."""
    if not jurisdiction.can_manage_user(actor, user):
        raise NotAuthorized("该账号不在您的管理范围内", audit=("temporary_grant", "user", user.id))
    if role.id not in {r.id for r in roles.assignable_roles(actor, user.org)}:
        raise InvalidInput(fields={"role": [f"不能授予角色：{role.name}（含有您没有的功能点或不属于该单位）"]})
    now = utcnow()
    if ends_at.tzinfo is None or ends_at <= now:
        raise InvalidInput(fields={"ends_at": ["临时授权的截止时间必须晚于当前时间"]})
    reason = (reason or "").strip()[:255] or None
    grant = Session().scalars(select(TemporaryGrant).where(
        TemporaryGrant.user_id == user.id, TemporaryGrant.role_id == role.id,
        TemporaryGrant.revoked_at.is_(None)).with_for_update()).first()
    if grant is None and role in user.roles:
        raise InvalidInput(fields={"role": [f"该账号已长期拥有角色：{role.name}"]})
    if grant is None:
        grant = TemporaryGrant(user_id=user.id, role_id=role.id, starts_at=now, ends_at=ends_at,
                               granted_by_id=actor.id, reason=reason)
        Session().add(grant)
        user.roles.append(role)
        extended = False
    else:
        grant.ends_at, grant.reason, grant.granted_by_id = ends_at, reason or grant.reason, actor.id
        extended = True
    Session().flush()
    audit.record("temporary_grant", actor=actor, target=user, detail={
        "role": role.name, "ends_at": ends_at.isoformat(), "reason": reason or "", "extended": extended})
    return grant


def expire_temporary_grants(now):
    """Revoke the grants whose end has come: the grant is marked revoked (one UPDATE, whose row locks keep a
    concurrent extension out), the role leaves the account (one DELETE per batch of grants), each is audited and
    the user is told. Returns the number of grants revoked."""
    rows = Session().execute(
        update(TemporaryGrant).where(TemporaryGrant.revoked_at.is_(None), TemporaryGrant.ends_at <= now)
        .values(revoked_at=now)
        .returning(TemporaryGrant.id, TemporaryGrant.user_id, TemporaryGrant.role_id, TemporaryGrant.ends_at)
        .execution_options(synchronize_session=False)
    ).all()
    if not rows:
        return 0
    _expire(TemporaryGrant, [r.id for r in rows])
    for chunk in _chunks(r.id for r in rows):
        Session().execute(
            delete(user_roles).where(exists().where(
                TemporaryGrant.id.in_(chunk), TemporaryGrant.user_id == user_roles.c.user_id,
                TemporaryGrant.role_id == user_roles.c.role_id))
            .execution_options(synchronize_session=False))
    users = {u.id: u for u in _load_users({r.user_id for r in rows})}
    role_names = dict(Session().execute(select(Role.id, Role.name).where(Role.id.in_({r.role_id for r in rows}))).all())
    for user in users.values():
        Session().expire(user, ["roles"])   # the association rows went away behind the ORM's back
    for row in sorted(rows, key=lambda r: r.id):
        user, name = users[row.user_id], role_names.get(row.role_id, str(row.role_id))
        audit.record("temporary_grant_expire", target=user, actor_name=SYSTEM,
                     detail={"role": name, "ends_at": row.ends_at.isoformat(), "grant_id": row.id})
        notifications.notify(user, "grant_expired", f"临时授权已到期：{name}",
                             body=f"您的临时角色“{name}”已于 {row.ends_at.astimezone(CST):%Y-%m-%d %H:%M} 到期收回。"
                                  "如仍需使用，请按权限变更流程重新申请。",
                             link="/")
    Session().flush()
    return len(rows)


# --- monthly permission check -----------------------------------------------------------------------------------

PERMISSION_CHECK = "permission_check"


def _status_label(user, now):
    if user.status == UserStatus.DISABLED:
        return "停用"
    return "锁定" if user.is_locked(now) else "正常"


def managed_users_snapshot(admin, now):
    """The accounts ``admin`` manages, with their roles, as plain data stored in the check's workflow."""
    query = jurisdiction.visible_users_query(admin).options(
        joinedload(User.org).joinedload(Organization.region), selectinload(User.roles))
    return [{"username": u.username, "display_name": u.display_name, "org": u.org.name if u.org else "",
             "user_type": u.user_type_label, "roles": [r.name for r in u.roles], "status": _status_label(u, now)}
            for u in Session().scalars(query) if jurisdiction.can_manage_user(admin, u)]


def permission_check_key(admin, now):
    return f"{PERMISSION_CHECK}:{admin.id}:{now.astimezone(CST):%Y-%m}"


def monthly_permission_check(now):
    """Start this month's permission check (Jiangsu §三.(二).3: 各级业务管理员应每月检查用户权限) for every active
    business administrator that has none yet: a task in its own inbox listing the accounts it manages and their
    roles, to confirm or note corrections. Returns the number of checks started."""
    admins = Session().scalars(select(User).where(User.user_type == UserType.BUSINESS_ADMIN.value,
                                                  User.status == UserStatus.ACTIVE).order_by(User.id)).all()
    keys = {admin.id: permission_check_key(admin, now) for admin in admins}
    started = set(Session().scalars(select(ProcessInstance.business_key).where(
        ProcessInstance.process_key == PERMISSION_CHECK, ProcessInstance.business_key.in_(list(keys.values())))))
    month = now.astimezone(CST)
    count = 0
    for admin in admins:
        if keys[admin.id] in started:
            continue
        instance = processes.start_instance(admin, PERMISSION_CHECK, by_system=True)
        instance.business_key = keys[admin.id]
        instance.title = f"{month:%Y年%m月}用户权限核查"
        flow = processes.load_flow(instance)
        flow.data["users_snapshot"] = managed_users_snapshot(admin, now)
        flow.data["check_month"] = f"{month:%Y-%m}"
        instance.state, instance.serializer_version = flow.dump()
        Session().flush()
        task = processes.open_tasks(instance)[0]
        notifications.notify(admin, PERMISSION_CHECK, f"请完成{month:%Y年%m月}用户权限核查",
                             body="请核对本辖区用户及其角色；如发现信息被盗用或篡改、角色与岗位不符，请记录并及时调整。",
                             link=f"/tasks/{task.id}")
        count += 1
    Session().flush()
    return count


def permission_check_snapshot(instance):
    """The user list a permission-check instance was started with, or None for any other instance."""
    if instance.process_key != PERMISSION_CHECK:
        return None
    return processes.load_flow(instance).data.get("users_snapshot")


# --- job-run history ----------------------------------------------------------------------------------------------

RUN_HISTORY_DAYS = 30            # successful runs of periodic jobs (the imports job alone records 8,640 a day)
FAILED_RUN_HISTORY_DAYS = 180    # failed runs are kept as long as the audit log must be


def prune_job_runs(now):
    """Delete the records of job runs that finished long ago (one DELETE); the latest run of every job stays,
    whatever its age, so the scheduler page still shows when each job last ran. Returns how many went."""
    latest = select(func.max(JobRun.id)).group_by(JobRun.job_id)
    finished_long_ago = or_(
        and_(JobRun.outcome == "success", JobRun.finished_at < now - timedelta(days=RUN_HISTORY_DAYS)),
        and_(JobRun.outcome == "failure", JobRun.finished_at < now - timedelta(days=FAILED_RUN_HISTORY_DAYS)))
    result = Session().execute(delete(JobRun).where(finished_long_ago, JobRun.id.not_in(latest))
                               .execution_options(synchronize_session=False))
    return result.rowcount
