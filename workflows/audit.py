"""Recording, verifying and searching the audit log.

``record`` writes in the caller's transaction, so an audited change and its event commit together.
The client address comes from ``client_ip``, a context variable the web layer sets per request.
"""
import hashlib
import json
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from models import Session, utcnow
from models.accounts import User
from models.audit import GENESIS_HASH, AuditChainHead, AuditEvent
from models.orgs import Organization

client_ip: ContextVar[str | None] = ContextVar("client_ip", default=None)

ACTION_LABELS = {
    "login": "登录",
    "logout": "退出",
    "password_change": "修改密码",
    "account_lock": "锁定账号",
    "account_unlock": "解锁账号",
    "password_reset": "重置密码",
    "account_create": "创建账号",
    "account_update": "修改账号",
    "account_delete": "删除账号",
    "role_create": "创建角色",
    "role_update": "修改角色",
    "role_delete": "删除角色",
    "access_denied": "越权访问",
    "audit_export": "导出日志",
    "admin_create": "创建系统管理员",
    "job_run_manual": "手动执行定时任务",
    "temporary_grant": "临时授权",
    "temporary_grant_expire": "临时授权到期收回",
    "locklist_export": "导出用户锁定一览表",
    "leak_report": "报告账号泄露",
    "leak_escalate": "账号泄露超时上报",
    "leak_close": "账号泄露处置办结",
    "real_name_approve": "实名认证通过",
    "real_name_reject": "实名认证不通过",
    "staff_register": "登记人员",
    "staff_left": "人员离职",
    "staff_create": "新增人员信息",
    "staff_update": "修改人员信息",
    "staff_detail_create": "新增人员详细信息",
    "staff_detail_update": "修改人员详细信息",
    "staff_import": "人员信息批量导入",
    "resignation_pass": "离职审核通过",
    "resignation_fail": "离职审核不通过",
    "institution_change": "机构信息修改",
    "admin_handover": "业务管理员交接",
    "account_application_leader": "用户申请单位主管领导审批",
    "account_application_decide": "用户申请业务管理员审批",
    "account_application_withdraw": "撤回用户申请",
    "permission_change": "权限变更",
    "org_profile_update": "修改机构基本信息",
    "branch_create": "新增分院",
    "branch_update": "修改分院",
    "branch_delete": "删除分院",
    "org_attachment_upload": "上传机构附件",
    "org_attachment_delete": "删除机构附件",
    "department_init": "初始化部门",
    "department_create": "新增部门",
    "department_update": "修改部门",
    "department_delete": "删除部门",
    "post_create": "新增岗位",
    "post_update": "修改岗位",
    "post_delete": "删除岗位",
    "post_map": "岗位映射",
    "standard_post_create": "新增标准岗位",
    "standard_post_update": "修改标准岗位",
    "standard_post_delete": "删除标准岗位",
    "quota_allocate": "分配机构编制",
    "quota_distribute": "分配科室编制",
    "staff_detail_delete": "删除人员详细信息",
    "staff_photo": "上传人员照片",
    "staff_attachment": "维护人员附件",
    "tag_create": "新增人员标签",
    "tag_update": "修改人员标签",
    "tag_seal": "封存人员标签",
    "tag_unseal": "解封人员标签",
    "tag_delete": "删除人员标签",
    "tag_export": "导出人员标签成员",
    "roster_export": "导出人员花名册",
    "trial_save": "试用期填报",
}
OUTCOME_LABELS = {"success": "成功", "failure": "失败", "denied": "拒绝"}


def _canonical(event):
    fields = {
        "at": event.at.isoformat(), "actor_id": event.actor_id, "actor_name": event.actor_name,
        "action": event.action, "outcome": event.outcome, "target_type": event.target_type,
        "target_id": event.target_id, "target_name": event.target_name, "org_id": event.org_id,
        "region_path": event.region_path, "ip": event.ip, "detail": event.detail,
    }
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def compute_hash(prev_hash, event):
    return hashlib.sha256((prev_hash + _canonical(event)).encode()).hexdigest()


def _scope_of(target, actor):
    """The organization and region path an event belongs to, for scoped searching."""
    org = None
    if isinstance(target, User):
        org = target.org
    elif isinstance(target, Organization):
        org = target
    elif target is not None and getattr(target, "org", None) is not None:
        org = target.org
    if org is None and actor is not None:
        org = actor.org
    if org is None:
        return None, None
    return org.id, org.region.path


def record(action, *, actor=None, target=None, outcome="success", detail=None,
           target_type=None, target_id=None, target_name=None, actor_name=None):
    """Append one event to the chain inside the current transaction."""
    return record_many([dict(action=action, actor=actor, target=target, outcome=outcome, detail=detail,
                             target_type=target_type, target_id=target_id, target_name=target_name,
                             actor_name=actor_name)])[0]


def record_many(entries):
    """Append several events (each a dict of ``record``'s arguments) to the chain in one go: the chain head is
    locked and written once and the events are inserted together, in order (set-based jobs use this)."""
    session = Session()
    head = session.execute(select(AuditChainHead).where(AuditChainHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditChainHead(id=1, last_hash=GENESIS_HASH, count=0)
        session.add(head)
    events = []
    now = utcnow()
    for entry in entries:
        events.append(_event(head, now, **entry))
    session.add_all(events)
    session.flush()
    return events


def _event(head, now, action, *, actor=None, target=None, outcome="success", detail=None,
           target_type=None, target_id=None, target_name=None, actor_name=None):
    if target is not None:
        target_type = target_type or type(target).__name__.lower()
        target_id = str(target.id) if target_id is None else target_id
        target_name = target_name or getattr(target, "username", None) or getattr(target, "name", None)
    org_id, region_path = _scope_of(target, actor)
    event = AuditEvent(
        at=now,
        actor_id=actor.id if actor is not None else None,
        actor_name=actor.username if actor is not None else actor_name,
        action=action, outcome=outcome, target_type=target_type, target_id=target_id,
        target_name=target_name, org_id=org_id, region_path=region_path, ip=client_ip.get(),
        detail=detail or {}, prev_hash=head.last_hash,
    )
    event.hash = compute_hash(head.last_hash, event)
    head.last_hash = event.hash
    head.count += 1
    return event


@dataclass
class ChainReport:
    ok: bool
    checked: int
    broken_at: int | None = None


def verify_chain(batch=1000):
    """Walk the whole chain in id order; report the first event whose hash or link does not match."""
    session = Session()
    prev = GENESIS_HASH
    checked = 0
    last_id = 0
    while True:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not rows:
            break
        for event in rows:
            if event.prev_hash != prev or compute_hash(prev, event) != event.hash:
                return ChainReport(False, checked, event.id)
            prev = event.hash
            checked += 1
            last_id = event.id
    head = session.get(AuditChainHead, 1)
    if head is not None and head.last_hash != prev:
        return ChainReport(False, checked, None)
    return ChainReport(True, checked)


@dataclass
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def search_query(viewer, flt: AuditFilter):
    """A SELECT of the events ``viewer`` may see, newest first: everything for the system administrator,
    the region subtree for a business admin, the own organization for anyone else."""
    from workflows.jurisdiction import is_business_admin, is_system_admin
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if is_business_admin(viewer):
        query = query.where(AuditEvent.region_path.startswith(viewer.org.region.path, autoescape=True))
    elif not is_system_admin(viewer):
        query = query.where(AuditEvent.org_id == viewer.org_id)
    if flt.actor:
        query = query.where(AuditEvent.actor_name.contains(flt.actor.strip(), autoescape=True))
    if flt.action:
        query = query.where(AuditEvent.action == flt.action)
    if flt.target:
        query = query.where(AuditEvent.target_name.contains(flt.target.strip(), autoescape=True))
    if flt.since:
        query = query.where(AuditEvent.at >= flt.since)
    if flt.until:
        query = query.where(AuditEvent.at < flt.until)
    return query
