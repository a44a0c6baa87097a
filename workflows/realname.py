"""Real-name verification (实名认证, Hubei §2.1 and §7.4): the services behind the wizard, the review pages and
the handlers of ``bpmn/real_name_verification.bpmn`` (``workflows/effects/realname.py``).

- One open verification per account, started by the system for the account itself (``start``); accounts
  already verified, and accounts whose reviewer cannot be determined, are refused.
- Step 1 (``submit_identity``): the form's JSON Schema checks the fields (the resident ID by GB 11643, the other
  documents by format); ``identity_problems`` adds the document-specific messages and checks the photos by
  content (JPG or PNG, at most 3 MB). The same checks run again in the process (``prepare_form`` handler), so a
  client of the generic task API cannot skip them: a refused step goes back to the applicant with the reason.
- Step 2 (``submit_scan``): the stamped scan of the generated form (PDF or JPG), or back to step 1.
- Review: the business admins of the supervising health commission for master accounts and everyone else, the
  own unit's master account (or holders of 实名认证审核, ``sys.realname``) for sub-accounts and same-level users
  (``review_route``). The reviewer approves, possibly correcting fields (recorded, field by field), or rejects
  with an opinion.
- Approval (``apply_approval``) stores the identity on the account, marks it verified and freezes the four
  identity fields: a flush guard refuses any later change to them, whichever service attempts it.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, event, exists, func, inspect, or_, select, true
from sqlalchemy.orm import aliased

from models import Session
from models.accounts import User, UserType
from models.orgs import Organization
from models.workflow import Attachment, HumanTask, InstanceStatus, ProcessInstance, TaskStatus
from workflows import audit, files, forms, identity, inbox, lanes, notifications, pdf, processes
from workflows.errors import Conflict, FormInvalid, InvalidInput, NotAuthorized, NotFound
from workflows.jurisdiction import is_system_admin
from workflows.clock import today_in_china

KEY = "real_name_verification"
FILL, UPLOAD = "fill_identity", "upload_form"
REVIEW_TASKS = ("review_by_supervisor", "review_by_master")
IDENTITY_FIELDS = ("real_name", "id_type", "id_number", "phone")
FIELD_LABELS = {"real_name": "姓名", "id_type": "证件类别", "id_number": "证件号码", "phone": "手机号码"}
ID_TYPE_LABELS = dict(identity.ID_TYPES)
IMAGE_KINDS = ("image/jpeg", "image/png")
SCAN_KINDS = ("application/pdf", "image/jpeg")
MAX_BYTES = 3 * 1024 * 1024
# Reviewed inside the own unit (lane institution_master); every other account type by the supervising admin.
OWN_UNIT_REVIEW = frozenset({UserType.SUB_ACCOUNT, UserType.SAME_LEVEL_1, UserType.SAME_LEVEL_2})
FORM_TITLE = ("卫生人力基础资源管理系统", "单位注册及人事管理账号授权申请表")
FORM_NOTE = "备注：人事管理账号具有人员信息录入、机构信息管理、业务账号授权、统计数据查看等功能。"

STATUS_LABELS = {"pending": "待审核", "returned": "审核不通过", "approved": "审核通过", "filling": "待提交",
                 "error": "处理异常"}
STATUS_FILTERS = ("pending", "returned", "approved", "filling", "all")


class IdentityFrozen(InvalidInput):
    code = "identity_frozen"


# --- who reviews -----------------------------------------------------------------------------------------------

def review_route(user):
    """``"institution"`` (the unit's master account) or ``"supervisor"`` (the supervising health commission)."""
    return "institution" if user.user_type in OWN_UNIT_REVIEW else "supervisor"


def review_lane(user):
    return "institution_master" if review_route(user) == "institution" else "supervising_admin"


def reviewer_org(user):
    """The organization whose members review ``user``'s verification (None when there is none)."""
    if user.org is None:
        return None
    return user.org if review_route(user) == "institution" else user.org.supervisor


# --- reading ---------------------------------------------------------------------------------------------------

def open_verification(user):
    """The account's verification still under way (running or stopped by an error), if any."""
    return Session().scalars(select(ProcessInstance).where(
        ProcessInstance.process_key == KEY, ProcessInstance.started_by_id == user.id,
        ProcessInstance.status.in_([InstanceStatus.RUNNING, InstanceStatus.ERROR]))
        .order_by(ProcessInstance.id.desc())).first()


def latest_verification(user):
    return Session().scalars(select(ProcessInstance).where(
        ProcessInstance.process_key == KEY, ProcessInstance.started_by_id == user.id)
        .order_by(ProcessInstance.id.desc())).first()


def applicant_task(instance):
    """The applicant's open task of ``instance`` (step 1 or 2), if it is waiting for the applicant."""
    return Session().scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.state == TaskStatus.READY,
        HumanTask.lane == "applicant")).first()


def is_own_applicant_task(user, task_id):
    """Is ``task_id`` a step of ``user``'s own verification (what an unverified account may work on)?"""
    task = Session().get(HumanTask, task_id) if isinstance(task_id, int) else None
    return (task is not None and task.process_key == KEY and task.initiator_id == user.id
            and task.lane == "applicant")


def is_own_verification(user, instance_id):
    instance = Session().get(ProcessInstance, instance_id) if isinstance(instance_id, int) else None
    return instance is not None and instance.process_key == KEY and instance.started_by_id == user.id


def owns_file(user, file_id):
    attachment = files.get_attachment(file_id)
    return attachment is not None and attachment.owner_id == user.id


def id_type_label(code):
    return ID_TYPE_LABELS.get(code, code or "")


def mask_id(number):
    """``420102********001X``: enough to recognise a number, not enough to reuse it."""
    if not number:
        return ""
    keep_head, keep_tail = (6, 4) if len(number) >= 15 else (2, 2)
    if len(number) <= keep_head + keep_tail:
        return number[:1] + "*" * (len(number) - 1)
    return number[:keep_head] + "*" * (len(number) - keep_head - keep_tail) + number[-keep_tail:]


def _attachment(value):
    return files.get_attachment(value) if type(value) is int else None


@dataclass
class Submission:
    """What the applicant submitted (the latest values of the instance), for the wizard and the reviewers."""
    real_name: str | None
    id_type: str | None
    id_number: str | None
    phone: str | None
    id_front: Attachment | None
    id_back: Attachment | None
    form_file: Attachment | None
    stamped_form: Attachment | None

    @property
    def id_type_label(self):
        return id_type_label(self.id_type)

    def identity(self):
        return {name: getattr(self, name) for name in IDENTITY_FIELDS}


def submission(instance, data=None):
    data = processes.latest_data(instance) if data is None else data
    prepared = data.get("prepare_result") if isinstance(data.get("prepare_result"), dict) else {}
    return Submission(real_name=data.get("real_name"), id_type=data.get("id_type"), id_number=data.get("id_number"),
                      phone=data.get("phone"), id_front=_attachment(data.get("id_front")),
                      id_back=_attachment(data.get("id_back")),
                      form_file=_attachment(prepared.get("form_file")) if prepared.get("ok") else None,
                      stamped_form=_attachment(data.get("stamped_form")))


def review_prefill(instance):
    """The reviewer's form starts with the submitted identity (what the reviewer may correct)."""
    values = submission(instance).identity()
    return {f"corrected_{name}": _normalized(name, value, values.get("id_type")) for name, value in values.items()}


def last_return(instance):
    """The latest event that sent the request back to the applicant: a reviewer's 不通过 with its opinion, or
    the system refusing the submitted material."""
    for item in reversed(processes.history(instance)):
        if item["kind"] == "task_completed" and item["bpmn_id"] in REVIEW_TASKS and item["outcome"] == "reject":
            return item
        if item["kind"] == "outcome" and item["outcome"] == "reject":
            return item
        if item["kind"] == "task_completed" and item["bpmn_id"] in (FILL, UPLOAD):
            return None
    return None


@dataclass
class Status:
    """Where an account stands, for the wizard and ``GET /api/v1/realname``."""
    user: User
    step: str                       # verified / identity / upload / review / error
    instance: ProcessInstance | None = None
    task: HumanTask | None = None
    values: dict = field(default_factory=dict)
    submitted: Submission | None = None
    returned: dict | None = None

    @property
    def verified(self):
        return self.step == "verified"

    @property
    def reviewer(self):
        org = reviewer_org(self.user)
        return {"lane": review_lane(self.user), "lane_label": lanes.LANES[review_lane(self.user)].label,
                "org": org.name if org else None}


def status(user):
    if user.real_name_verified:
        return Status(user, "verified", latest_verification(user))
    instance = open_verification(user)
    if instance is None:
        return Status(user, "identity", values={"phone": user.phone} if user.phone else {})
    if instance.status == InstanceStatus.ERROR:
        return Status(user, "error", instance, submitted=submission(instance))
    task = applicant_task(instance)
    if task is None:
        return Status(user, "review", instance, submitted=submission(instance))
    data = processes.task_data(task)
    step = "identity" if task.bpmn_id == FILL else "upload"
    values = {k: v for k, v in data.items() if k in _form_fields(task)}
    return Status(user, step, instance, task, values=values, submitted=submission(instance, data),
                  returned=last_return(instance) if step == "identity" else None)


def _form_fields(task):
    form = processes.task_form(task)
    return set(form.schema.get("properties", {})) if form else set()


def identity_form(user):
    """The step-1 form: of the open verification's own process version, else of the newest one."""
    instance = open_verification(user)
    task = applicant_task(instance) if instance else None
    if task is not None and task.bpmn_id == FILL:
        return processes.task_form(task)
    return processes.start_form(KEY)


# --- checks beyond the form schema ---------------------------------------------------------------------------

def _file_problem(owner, value, kinds, what):
    if value is None:
        return None   # a missing file is the form's "required" message
    attachment = _attachment(value)
    if attachment is None or attachment.owner_id != owner.id:
        return "附件不存在或无权使用"
    if attachment.content_type not in kinds:
        names = "、".join(files.SIGNATURES[k][1] for k in kinds[:-1]) + " 或 " + files.SIGNATURES[kinds[-1]][1]
        return f"{what}只接受 {names} 文件"
    if attachment.size > MAX_BYTES:
        return f"{what}不能超过 3 MB"
    return None


def identity_problems(owner, values):
    """``{field: message}`` for what the schema cannot say: the document number checked by its type (with the
    precise message), the photos' kinds by content and their size."""
    problems = {}
    id_type, number = values.get("id_type"), values.get("id_number")
    if id_type in ID_TYPE_LABELS and isinstance(number, str) and number.strip():
        try:
            identity.normalize_id(id_type, number)
        except InvalidInput as exc:
            problems["id_number"] = exc.message
    for name, what in (("id_front", "身份证正面"), ("id_back", "身份证反面")):
        problem = _file_problem(owner, values.get(name), IMAGE_KINDS, what)
        if problem:
            problems[name] = problem
    return problems


def scan_problem(owner, stamped_form, form_file_id=None):
    """Why the stamped scan cannot be accepted, or None."""
    if stamped_form is None:
        return "请上传加盖单位人事部门公章的授权申请表扫描件"
    problem = _file_problem(owner, stamped_form, SCAN_KINDS, "盖章后的授权申请表")
    if problem:
        return problem
    generated = _attachment(form_file_id)
    if generated is not None and _attachment(stamped_form).sha256 == generated.sha256:
        return "请上传打印并加盖单位人事部门公章后的扫描件，而不是系统生成的原始申请表"
    return None


def _check(user, task, data, extra):
    """Validate ``data`` against the task's form plus ``extra`` problems; all messages at once."""
    form = processes.task_form(task)
    try:
        forms.validate(form, data, file_exists=files.file_exists_for(user, task.instance))
        errors = {}
    except FormInvalid as exc:
        errors = dict(exc.fields)
    for name, prop in form.schema["properties"].items():   # a missing file is uploaded, not typed in
        if prop.get("format") == "file-ref" and errors.get(name, "").startswith("请填写"):
            errors[name] = "请上传" + errors[name].removeprefix("请填写")
    errors.update(extra)
    if errors:
        raise FormInvalid(errors)


# --- the applicant's steps ------------------------------------------------------------------------------------

def _lock_user(user):
    return Session().scalars(select(User).where(User.id == user.id).with_for_update()
                             .execution_options(populate_existing=True)).one()


def start(user):
    """``(instance, created)``: the account's open verification, or a new one. Refused when the account is
    verified already or nobody can review it."""
    _lock_user(user)   # two tabs starting at once: the second waits, then finds the first one's instance
    if user.real_name_verified:
        raise Conflict("您的账号已完成实名认证，无需再次认证", code="already_verified")
    if user.org is None:
        raise NotAuthorized("系统管理员账号无需实名认证")
    instance = open_verification(user)
    if instance is not None:
        return instance, False
    if reviewer_org(user) is None:
        raise InvalidInput("您的单位没有上级主管部门，无法确定实名认证审核人，请联系系统管理员", code="no_reviewer")
    instance = processes.start_instance(user, KEY, by_system=True)
    instance.title = f"实名认证：{user.display_name}（{user.username}）"[:200]
    instance.business_key = f"real_name:{user.id}"
    Session().flush()
    return instance, True


def _open_step(user, bpmn_id):
    instance = open_verification(user)
    if instance is None:
        raise NotFound("没有进行中的实名认证")
    if instance.status == InstanceStatus.ERROR:
        raise Conflict("实名认证处理异常，请联系管理员", code="instance_error")
    task = applicant_task(instance)
    if task is None or task.bpmn_id != bpmn_id:
        raise Conflict("实名认证已进入其他步骤，请刷新页面后重试", code="wrong_step")
    return task


def submit_identity(user, data):
    """Step 1 (保存): starts the verification if needed; the PDF is generated by the process."""
    start(user)
    task = _open_step(user, FILL)
    _check(user, task, data, identity_problems(user, data))
    return processes.complete_task(user, task.id, data)


def _scan_problems(user, task, data):
    if data.get("stamped_form") is None:
        return {}   # the form's own message
    generated = (processes.task_data(task).get("prepare_result") or {}).get("form_file")
    problem = scan_problem(user, data.get("stamped_form"), generated)
    return {"stamped_form": problem} if problem else {}


def submit_scan(user, data):
    """Step 2 (提交证明材料): the stamped scan goes to review."""
    task = _open_step(user, UPLOAD)
    data = {**data, "action": "submit"}
    _check(user, task, data, _scan_problems(user, task, data))
    return processes.complete_task(user, task.id, data)


def precheck(user, task_id, data):
    """The wizard's checks for a step of the applicant's own verification completed through the generic task
    API: ``FormInvalid`` listing every problem, before anything is written. Other tasks pass untouched."""
    task = Session().get(HumanTask, task_id) if isinstance(task_id, int) else None
    if (task is None or task.process_key != KEY or task.state != TaskStatus.READY or task.lane != "applicant"
            or task.assignee_id != user.id):
        return
    if task.bpmn_id == FILL:
        _check(user, task, data, identity_problems(user, data))
    elif task.bpmn_id == UPLOAD and data.get("action") != "edit":
        _check(user, task, data, _scan_problems(user, task, data))


def back_to_identity(user):
    """From step 2 back to step 1 to change the data (a new form is generated on saving)."""
    task = _open_step(user, UPLOAD)
    current = processes.task_data(task).get("stamped_form")   # kept for the next round
    return processes.complete_task(user, task.id, {"action": "edit", **({"stamped_form": current} if current else {})})


# --- review ------------------------------------------------------------------------------------------------------

def get_review_task(actor, task_id):
    """A review task of this process that ``actor`` may see (404 otherwise)."""
    task = processes.get_task(actor, task_id)
    if task.process_key != KEY or task.bpmn_id not in REVIEW_TASKS:
        raise NotFound()
    return task


def review(actor, task_id, data):
    """Approve (optionally correcting fields) or reject with an opinion; the lane and jurisdiction checks are
    the engine's (``processes.complete_task``)."""
    task = get_review_task(actor, task_id)
    return processes.complete_task(actor, task.id, data)


def _normalized(name, value, id_type=None):
    if value in (None, ""):
        return None
    value = value.strip() if isinstance(value, str) else value
    try:
        if name == "id_number" and id_type in ID_TYPE_LABELS:
            return identity.normalize_id(id_type, value)
        if name == "phone":
            return identity.normalize_mobile(value)
    except InvalidInput:
        return value
    return value


def corrections(submitted, corrected):
    """``[{"field", "label", "old", "new"}]`` for each corrected value that differs from the submitted one
    (compared in normalised form; the ID type is shown by its name)."""
    final_type = corrected.get("id_type") or submitted.get("id_type")
    changes = []
    for name in IDENTITY_FIELDS:
        new = _normalized(name, corrected.get(name), final_type)
        if new is None:
            continue
        old = _normalized(name, submitted.get(name), submitted.get("id_type"))
        if new != old:
            shown = id_type_label if name == "id_type" else (lambda v: v)
            changes.append({"field": name, "label": FIELD_LABELS[name], "old": shown(old) if old else "",
                            "new": shown(new)})
    return changes


def corrections_text(changes):
    return "；".join(f"{c['label']}：{c['old'] or '（空）'} → {c['new']}" for c in changes)


def apply_approval(instance, reviewer, submitted, corrected):
    """The approval effect, in the step's transaction: the identity (with the reviewer's corrections) is stored
    on the account, which becomes verified; audited and notified. Returns the corrections."""
    applicant = _lock_user(instance.started_by)
    if applicant.real_name_verified:
        raise Conflict("该账号已完成实名认证", code="already_verified")
    changes = corrections(submitted, corrected)
    final = {name: corrected.get(name) or submitted.get(name) for name in IDENTITY_FIELDS}
    if final["id_type"] not in ID_TYPE_LABELS:
        raise InvalidInput("证件类别无效")
    final["real_name"] = (final["real_name"] or "").strip()
    final["id_number"] = identity.normalize_id(final["id_type"], final["id_number"])
    final["phone"] = identity.normalize_mobile(final["phone"])
    if not final["real_name"]:
        raise InvalidInput("姓名不能为空")
    for name, value in final.items():
        setattr(applicant, name, value)
    applicant.real_name_verified = True
    Session().flush()
    audit.record("real_name_approve", actor=reviewer, target=applicant, detail={
        "instance": instance.id, "id_type": final["id_type"], "id_number": mask_id(final["id_number"]),
        "corrections": [{**c, "old": mask_id(c["old"]), "new": mask_id(c["new"])} if c["field"] == "id_number"
                        else c for c in changes]})
    notifications.notify(applicant, "real_name", "实名认证已通过",
                         body=f"您的账号已通过实名认证（审核人：{reviewer.username if reviewer else '系统'}）。"
                              + (f"审核人更正了：{corrections_text(changes)}。" if changes else ""),
                         link="/")
    return changes


def record_rejection(instance, reviewer, comment):
    """The rejection effect: audited, and the applicant is told the opinion."""
    applicant = instance.started_by
    audit.record("real_name_reject", actor=reviewer, target=applicant,
                 detail={"instance": instance.id, "comment": comment or ""})
    notifications.notify(applicant, "real_name", "实名认证未通过",
                         body=f"审核意见：{comment or '（无）'}。请修改后重新提交。", link="/realname")


# --- the authorisation form (单位注册及人事管理账号授权申请表) ---------------------------------------------------

def consent_sentence(name, id_number):
    return (f"本单位同意授权 {name} (证件号码:{id_number}) 办理卫生人力资源管理系统单位用户注册申请,"
            f"并授予{name}在系统中管理账号权限。")


def authorization_pdf(org, name, id_number, on: date):
    """The form of Hubei §2.1 (图 2-2), filled in, as PDF bytes (the same input gives the same bytes)."""
    supervisor = org.supervisor.name if org.supervisor else ""
    opinion = [pdf.paragraph(consent_sentence(name, id_number), "cell"), pdf.spacer(22),
               pdf.paragraph(f"人事部门盖章  {on.year}年{on.month:02d}月{on.day:02d}日", "right")]
    story = [pdf.paragraph(FORM_TITLE[0], "title"), pdf.paragraph(FORM_TITLE[1], "subtitle"), pdf.spacer(6),
             pdf.form_table([("单位名称（第一名称）", org.name), ("统一社会信用代码", org.uscc),
                             ("医疗机构许可证", org.licence_no or ""), ("单位业务主管部门", supervisor),
                             ("申请单位所属类别", org.category or ""), ("申请单位人事部门意见", opinion)],
                            min_height={5: 150}),
             pdf.spacer(4), pdf.paragraph(FORM_NOTE, "note")]
    return pdf.build(story, title=FORM_TITLE[1], subject=f"{org.name} {name}")


def attach_authorization_form(instance, applicant, name, id_number):
    """Generate the filled-in form and attach it to ``instance`` (owned by the applicant, who downloads it);
    the same content generated again (same data, same day) reuses the stored file."""
    data = authorization_pdf(applicant.org, name, id_number, today_in_china())
    digest = hashlib.sha256(data).hexdigest()
    existing = Session().scalars(select(Attachment).where(
        Attachment.instance_id == instance.id, Attachment.sha256 == digest,
        Attachment.owner_id == applicant.id)).first()
    if existing is not None:
        return existing
    filename = f"单位注册及人事管理账号授权申请表（{name}）.pdf"
    attachment = files.store_upload(applicant, filename, io.BytesIO(data), kinds=("application/pdf",),
                                    max_bytes=max(len(data), MAX_BYTES))
    files.link_to_instance([attachment.id], instance)
    return attachment


# --- the reviewers' list (系统管理 → 实名认证审核) ----------------------------------------------------------------

def _scope(actor, applicant, org):
    """Which verifications ``actor`` reviews: its own unit's sub-accounts and same-level users (as master
    account or holder of 实名认证审核), the other accounts of the units it supervises (as business admin)."""
    if is_system_admin(actor):
        return true()
    mine = lanes.lanes_for(actor)
    conditions = []
    if "institution_master" in mine:
        conditions.append(and_(applicant.user_type.in_(sorted(OWN_UNIT_REVIEW)),
                               ProcessInstance.org_id == actor.org_id))
    if "supervising_admin" in mine:
        conditions.append(and_(applicant.user_type.not_in(sorted(OWN_UNIT_REVIEW)),
                               org.supervisor_id == actor.org_id))
    return or_(*conditions) if conditions else None


def _status_condition(name):
    open_review = exists().where(HumanTask.instance_id == ProcessInstance.id, HumanTask.state == TaskStatus.READY,
                                 HumanTask.bpmn_id.in_(REVIEW_TASKS))
    rejected = exists().where(HumanTask.instance_id == ProcessInstance.id,
                              HumanTask.state == TaskStatus.COMPLETED, HumanTask.bpmn_id.in_(REVIEW_TASKS),
                              HumanTask.outcome == "reject")
    running = ProcessInstance.status == InstanceStatus.RUNNING
    return {"pending": and_(running, open_review),
            "returned": and_(running, ~open_review, rejected),
            "filling": and_(running, ~open_review, ~rejected),
            "approved": ProcessInstance.status == InstanceStatus.COMPLETED,
            "all": true()}[name]


@dataclass
class ReviewRow:
    instance: ProcessInstance
    applicant: User
    status: str
    task: HumanTask | None
    viewable: bool          # the instance page opens for the reviewer (not before a first submission, for masters)

    @property
    def status_label(self):
        return STATUS_LABELS[self.status]


def review_list(actor, status_filter="pending", page_no=1, per_page=20):
    """``(rows, total, counts)`` of the verifications ``actor`` reviews, newest first, filtered by status."""
    if status_filter not in STATUS_FILTERS:
        raise InvalidInput("无效的状态筛选", code="invalid_input")
    applicant, org = aliased(User), aliased(Organization)
    scope = _scope(actor, applicant, org)
    if scope is None:
        return [], 0, {name: 0 for name in STATUS_FILTERS}
    base = (select(ProcessInstance).join(applicant, ProcessInstance.started_by_id == applicant.id)
            .join(org, ProcessInstance.org_id == org.id)
            .where(ProcessInstance.process_key == KEY, ProcessInstance.started_by_id != actor.id, scope))
    counts = {name: Session().scalar(select(func.count()).select_from(
        base.where(_status_condition(name)).subquery())) for name in STATUS_FILTERS}
    query = base.where(_status_condition(status_filter)).order_by(ProcessInstance.updated_at.desc(),
                                                                  ProcessInstance.id.desc())
    instances = Session().scalars(query.limit(per_page).offset((max(page_no, 1) - 1) * per_page)).all()
    ids = [i.id for i in instances]
    open_reviews = {t.instance_id: t for t in Session().scalars(select(HumanTask).where(
        HumanTask.instance_id.in_(ids), HumanTask.state == TaskStatus.READY,
        HumanTask.bpmn_id.in_(REVIEW_TASKS)))} if ids else {}
    rejected = set(Session().scalars(select(HumanTask.instance_id).where(
        HumanTask.instance_id.in_(ids), HumanTask.state == TaskStatus.COMPLETED,
        HumanTask.bpmn_id.in_(REVIEW_TASKS), HumanTask.outcome == "reject"))) if ids else set()
    rows = []
    for instance in instances:
        if instance.status == InstanceStatus.COMPLETED:
            state = "approved"
        elif instance.status == InstanceStatus.ERROR:
            state = "error"
        elif instance.id in open_reviews:
            state = "pending"
        else:
            state = "returned" if instance.id in rejected else "filling"
        rows.append(ReviewRow(instance, instance.started_by, state, open_reviews.get(instance.id),
                              inbox.can_see_instance(actor, instance)))
    return rows, counts[status_filter], counts


# --- the identity freeze -----------------------------------------------------------------------------------------

def identity_frozen(user):
    """Verified through this process: the identity fields never change again (Hubei §7.4 审核通过后信息不支持修改)."""
    return bool(user.real_name_verified and user.id_number)


@event.listens_for(Session, "before_flush")
def _refuse_identity_changes(session, _flush_context, _instances):
    """Whatever service changes a user, the identity fields of an account verified through this process stay
    as approved. The stored row decides (what the database holds before this flush)."""
    for obj in list(session.dirty):
        if not isinstance(obj, User) or obj.id is None:
            continue
        state = inspect(obj)
        touched = [name for name in IDENTITY_FIELDS if state.attrs[name].history.has_changes()]
        if not touched:
            continue
        stored = session.execute(select(User.real_name_verified, *[getattr(User, n) for n in IDENTITY_FIELDS])
                                 .where(User.id == obj.id)).one_or_none()
        if stored is None or not (stored[0] and stored[3]):
            continue
        changed = [name for i, name in enumerate(IDENTITY_FIELDS, start=1)
                   if name in touched and getattr(obj, name) != stored[i]]
        if changed:
            raise IdentityFrozen("实名认证通过后，姓名、证件类别、证件号码和手机号码不能修改",
                                 fields={name: [f"实名认证通过后{FIELD_LABELS[name]}不能修改"] for name in changed})
