"""用户申请 (account_application) through the services, on the real BPMN file: the three routings, the unit
leader's return and the resubmission, 批准 / 批准，有变更 / 未获批准 / 其它 with their effects (the account, the
receipt PDF, the audit rows, the notifications), the initial password kept out of every record, the refusals at
submission and at the decision, and who is refused."""
import json
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import time_machine
from lxml import etree
from sqlalchemy import func, select
from stdnum.cn import ric

from models import Session
from models.accounts import LockReason, Permission, Role, User, UserType
from models.audit import AuditEvent
from models.scheduling import Notification
from models.workflow import Attachment, HumanTask, ProcessEvent
from workflows import accounts, applications, auth, engine, files, inbox, lanes, permissions, processes, receipts
from workflows.errors import Conflict, FormInvalid, InvalidInput, NotAuthorized, NotFound

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)        # 2026-03-02 16:00 in China
BPMN = Path(__file__).resolve().parents[2] / "bpmn" / "account_application.bpmn"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI"}
LOGIN = "https://hgov.example.cn/login"


def resident_id(body17):
    return body17 + ric.calc_check_digit(body17 + "0")


MALE = resident_id("42010219900101003")      # 17th digit odd: male
FEMALE = resident_id("42010219920202004")    # even: female
OTHER = resident_id("42010219850303005")


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def login_address():
    token = applications.login_url.set(LOGIN)
    yield
    applications.login_url.reset(token)


@pytest.fixture
def people(ready, users):
    ready("jaadmin01", "jaleader01", "whadmin01", "wcadmin01", "hbadmin01", "jahosp001", "wchosp001", verified=True)
    return users


def role(code):
    return Session().scalars(select(Role).where(Role.code == code)).one()


def add_user(username, user_type, org_of, role_code, *, verified=True):
    """An account created by the system administrator (e.g. a same-level user who files applications)."""
    admin = Session().scalars(select(User).where(User.username == "sysadmin01")).one()
    org_id = Session().scalars(select(User.org_id).where(User.username == org_of)).one()
    user, _ = accounts.create_user(admin, user_type=user_type, org_id=org_id, display_name=username,
                                   username=username, role_ids=[role(role_code).id] if role_code else [])
    user.password_change_reason, user.real_name_verified = None, verified
    Session().flush()
    return user


def form(**changes):
    values = {"applicant_name": "张三", "department": "办公室", "id_number": MALE, "gender": "男",
              "phone": "027-82345678", "mobile": "13800138000", "email": "zhangsan@example.cn",
              "unit_nature": "卫生行政部门", "mh_center": "no", "user_type": "business_admin", "purpose": "manage",
              "role_ids": [role("county_admin").id], "valid_from": "2026-03-02", "valid_until": "2027-03-01",
              "note": "原业务管理员调岗"}
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def open_task(instance):
    rows = Session().scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                     HumanTask.state == "ready")).all()
    assert len(rows) == 1, [t.bpmn_id for t in rows]
    return rows[0]


def kinds(instance):
    return [e.kind for e in Session().scalars(select(ProcessEvent).where(ProcessEvent.instance_id == instance.id)
                                              .order_by(ProcessEvent.id))]


def audits(action):
    return Session().scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def told(user):
    return Session().scalars(select(Notification).where(Notification.user_id == user.id,
                                                        Notification.kind == "account_application")
                             .order_by(Notification.id)).all()


def pdf_text(attachment):
    with open(files.attachment_path(attachment), "rb") as fh:
        data = fh.read()
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return "".join(out.stdout.decode().split())


def lead(people_, instance, decision="approve", comment=None, leader="jaleader01"):
    task = open_task(instance)
    assert task.bpmn_id == "leader_review"
    processes.complete_task(people_(leader), task.id, {"decision": decision, **({"comment": comment} if comment
                                                                                else {})})
    return task


def user_count():
    return Session().scalar(select(func.count()).select_from(User))


# --- the main path: a commission's new business admin, decided by the superior admin ----------------------------

def test_business_admin_application_signed_decided_and_created(people, clock):
    applicant, leader, city = people("jaadmin01"), people("jaleader01"), people("whadmin01")
    instance = applications.submit(applicant, form())
    assert instance.title == "用户申请：张三（业务管理员）" and instance.business_key == f"account_application:{MALE}"
    task = open_task(instance)
    assert (task.bpmn_id, task.lane, task.candidate_org_id) == ("leader_review", "unit_leader", applicant.org_id)
    assert [t.id for t in inbox.page(leader, "claimable")[0]] == [task.id]
    with pytest.raises(NotAuthorized):                       # 武汉市 sees the region's requests but does not sign
        processes.complete_task(city, task.id, {"decision": "approve"})
    assert applications.application_view(applicant, instance)["status"] == "leader"

    clock.shift(timedelta(hours=2))
    lead(people, instance)
    decide = open_task(instance)
    assert (decide.bpmn_id, decide.lane, decide.candidate_org_id) == ("decide_superior", "superior_admin",
                                                                     city.org_id)
    with pytest.raises(NotAuthorized):                       # the applicant never decides its own request
        applications.decide(applicant, decide.id, {"decision": "grant"})

    clock.shift(timedelta(hours=1))
    done, account, password = applications.decide(city, decide.id, {"decision": "grant"})
    assert done.status == "completed"
    assert account.username == "gly-ja-zhangsan" and account.user_type == UserType.BUSINESS_ADMIN
    assert account.org_id == applicant.org_id and [r.code for r in account.roles] == ["county_admin"]
    assert (account.phone, account.email, account.department) == ("13800138000", "zhangsan@example.cn", "办公室")
    assert account.valid_until.isoformat() == "2027-03-01" and account.created_by_id == city.id
    assert (account.real_name, account.id_type, account.id_number) == ("张三", "resident_id", MALE)
    assert account.real_name_verified is False and account.must_change_password
    login = auth.authenticate("gly-ja-zhangsan", password)
    assert login.ok and login.user.must_change_password

    # the password is nowhere but in that answer: not in the workflow, its timeline, the audit log or the receipt
    events = Session().scalars(select(ProcessEvent).where(ProcessEvent.instance_id == done.id)).all()
    assert password not in done.state
    assert all(password not in json.dumps(e.detail or {}, ensure_ascii=False) + (e.comment or "") for e in events)
    assert all(password not in json.dumps(a.detail, ensure_ascii=False) for a in Session().scalars(select(AuditEvent)))
    assert kinds(done) == ["started", "task_completed", "task_completed", "task_completed", "account_created",
                           "receipt_issued", "completed"]

    # the audit rows of the decisions and of the account
    [signed] = audits("account_application_leader")
    assert signed.actor_name == "jaleader01" and signed.detail["decision"] == "同意"
    [decided] = audits("account_application_decide")
    assert decided.actor_name == "whadmin01" and decided.detail == {"decision": "批准", "reason": "", "changes": []}
    created = [a for a in audits("account_create") if a.target_name == "gly-ja-zhangsan"]
    assert len(created) == 1 and created[0].actor_name == "whadmin01"

    # the receipt (附表2)
    view = applications.application_view(applicant, done)
    assert view["status"] == "granted" and view["decision"]["label"] == "批准"
    assert view["account"]["username"] == "gly-ja-zhangsan"
    receipt = Session().get(Attachment, view["receipt"]["file_id"])
    assert receipt.instance_id == done.id and receipt.content_type == "application/pdf"
    assert receipt.owner_id == city.id
    text = pdf_text(receipt)
    for expected in ("用户申请回执", "单位名称", "江岸区卫生健康局", "申请人姓名张三", "所在部门办公室", "联系电话027-82345678",
                     "■系统管理", "□业务操作", "■业务管理员", "□直报用户", "■批准", "□批准，有变更", "□未获批准",
                     "账号批准日期2026年03月02日", f"登录地址{LOGIN}", "用户账号名gly-ja-zhangsan",
                     "初始密码由业务管理员单独告知用户本人", "武汉市业务管理员（whadmin01）2026-03-0219:00",
                     "江岸区卫生健康局负责人（jaleader01）2026-03-0218:00",
                     "注意:初次登录使用时,必须更改初始密码!不得在公共计算机上登陆本系统!"):
        assert expected in text, expected
    assert password not in text

    # the applicant is told
    [outcome] = told(applicant)
    assert "gly-ja-zhangsan" in outcome.body and password not in outcome.body
    assert outcome.link == f"/account-applications/{done.id}"


def test_a_hospital_user_goes_to_the_supervising_admin_and_a_return_keeps_the_values(people):
    clerk = add_user("zb-ja-clerk", UserType.DIRECT_REPORT, "jahosp001", "direct_report")
    master, county = people("jahosp001"), people("jaadmin01")
    values = form(applicant_name="李四", id_number=FEMALE, gender="女", unit_nature="其他",
                  unit_nature_other="综合医院", user_type="direct_report", purpose="operate",
                  role_ids=[role("direct_report").id], department="内科")
    instance = applications.submit(clerk, values)
    leader_task = open_task(instance)
    assert leader_task.candidate_org_id == clerk.org_id                 # the hospital's master account signs
    with pytest.raises(NotAuthorized):
        processes.complete_task(county, leader_task.id, {"decision": "approve"})
    with pytest.raises(FormInvalid) as exc:                             # a return needs the opinion
        processes.complete_task(master, leader_task.id, {"decision": "reject"})
    assert set(exc.value.fields) == {"comment"}

    processes.complete_task(master, leader_task.id, {"decision": "reject", "comment": "部门填写有误，应为外科"})
    fill = open_task(instance)
    assert (fill.bpmn_id, fill.assignee_id) == ("fill", clerk.id)
    previous = processes.task_data(fill)
    assert previous["applicant_name"] == "李四" and previous["department"] == "内科"
    assert applications.application_view(clerk, instance)["status"] == "returned"
    returned = applications.last_return(instance)
    assert returned["role"] == "单位主管领导" and returned["comment"] == "部门填写有误，应为外科"
    [note] = told(clerk)
    assert "部门填写有误" in note.body and note.link == f"/account-applications/{instance.id}/edit"
    assert audits("account_application_leader")[-1].detail == {"decision": "退回", "comment": "部门填写有误，应为外科"}

    applications.resubmit(clerk, fill.id, {**values, "department": "外科"})
    processes.complete_task(master, open_task(instance).id, {"decision": "approve"})
    decide = open_task(instance)
    assert (decide.bpmn_id, decide.lane, decide.candidate_org_id) == ("decide_supervisor", "supervising_admin",
                                                                     county.org_id)
    with pytest.raises(NotFound):                                       # another county sees nothing
        applications.decide(people("wcadmin01"), decide.id, {"decision": "grant"})
    done, account, _password = applications.decide(county, decide.id, {"decision": "grant"})
    assert account.username == "zb-ja-lisi" and account.department == "外科"
    assert account.user_type == UserType.DIRECT_REPORT and done.status == "completed"


def test_grant_with_changes_records_old_and_new(people):
    clerk = add_user("bj-ja-clerk", UserType.SAME_LEVEL_2, "jaadmin01", "same_level_2")
    county = people("jaadmin01")
    instance = applications.submit(clerk, form(user_type="same_level_1", purpose="browse",
                                               role_ids=[role("same_level_1").id]))
    lead(people, instance)
    decide = open_task(instance)
    assert (decide.bpmn_id, decide.lane, decide.candidate_org_id) == ("decide_own", "leak_admin", county.org_id)
    with pytest.raises(InvalidInput) as exc:                            # 有变更 must change something
        applications.decide(county, decide.id, {"decision": "grant_changed", "comment": "调整"})
    assert exc.value.code == "no_change"
    with pytest.raises(FormInvalid) as exc:
        applications.decide(county, decide.id, {"decision": "grant_changed", "new_user_type": "same_level_2"})
    assert set(exc.value.fields) == {"comment"}
    with pytest.raises(InvalidInput) as exc:                            # a type this unit cannot have
        applications.decide(county, decide.id, {"decision": "grant_changed", "comment": "x",
                                                "new_user_type": "direct_report"})
    assert set(exc.value.fields) == {"new_user_type"}

    done, account, _ = applications.decide(county, decide.id, {
        "decision": "grant_changed", "comment": "仅需查阅，改为本级用户2，有效期半年", "new_user_type": "same_level_2",
        "new_role_ids": [role("same_level_2").id], "new_valid_until": "2026-09-01"})
    assert account.username == "bj-ja-zhangsan" and account.user_type == UserType.SAME_LEVEL_2
    assert [r.code for r in account.roles] == ["same_level_2"] and account.valid_until.isoformat() == "2026-09-01"
    changed = [e for e in Session().scalars(select(ProcessEvent).where(ProcessEvent.instance_id == done.id))
               if e.kind == "application_changed"]
    assert len(changed) == 1 and changed[0].actor_name == "jaadmin01"
    assert changed[0].detail["changes_text"] == ("账号的用户类型：本级用户1(数据质控员) → 本级用户2；"
                                                 "申请管理权限：本级用户1(数据质控员) → 本级用户2；"
                                                 "有效期（止）：2027-03-01 → 2026-09-01")
    decided = audits("account_application_decide")[-1]
    assert decided.detail["decision"] == "批准，有变更" and len(decided.detail["changes"]) == 3
    view = applications.application_view(clerk, done)
    text = pdf_text(Session().get(Attachment, view["receipt"]["file_id"]))
    for expected in ("审批情况□批准■批准，有变更□未获批准□其它", "■本级用户2", "□本级用户1(数据质控员)", "仅需查阅，改为本级用户2，有效期半年",
                     "变更：账号的用户类型本级用户1(数据质控员)→本级用户2", "有效期（止）2027-03-01→2026-09-01", "用户账号名bj-ja-zhangsan", "■业务查阅"):
        assert expected in text, expected


def test_refused_ends_with_a_receipt_and_no_account(people):
    applicant, city = people("jaadmin01"), people("whadmin01")
    instance = applications.submit(applicant, form())
    lead(people, instance)
    decide = open_task(instance)
    before = user_count()
    with pytest.raises(FormInvalid) as exc:                             # the reason is required
        applications.decide(city, decide.id, {"decision": "refuse"})
    assert set(exc.value.fields) == {"comment"}
    done, account, password = applications.decide(city, decide.id, {"decision": "refuse",
                                                                     "comment": "该区已有一名业务管理员"})
    assert (account, password) == (None, None) and done.status == "completed" and user_count() == before
    view = applications.application_view(applicant, done)
    assert view["status"] == "refused" and view["decision"]["reason"] == "该区已有一名业务管理员"
    assert view["account"] is None
    text = pdf_text(Session().get(Attachment, view["receipt"]["file_id"]))
    for expected in ("审批情况□批准□批准，有变更■未获批准□其它", "理由该区已有一名业务管理员", "账号批准日期—", "用户账号名—", "初始密码—",
                     "注意:初次登录使用时,必须更改初始密码!"):
        assert expected in text, expected
    assert "由业务管理员单独告知用户本人" not in text
    assert audits("account_application_decide")[-1].detail["decision"] == "未获批准"
    assert "未获批准" in told(applicant)[-1].title
    assert applications.open_application(MALE) is None                   # the ID number may be applied for again


def test_other_returns_to_the_applicant_who_may_withdraw(people):
    applicant, city = people("jaadmin01"), people("whadmin01")
    instance = applications.submit(applicant, form())
    lead(people, instance)
    applications.decide(city, open_task(instance).id, {"decision": "other", "comment": "请附上调岗文件后再申请"})
    fill = open_task(instance)
    assert fill.bpmn_id == "fill" and instance.status == "running"
    returned = applications.last_return(instance)
    assert (returned["role"], returned["by"], returned["comment"]) == ("业务管理员", "whadmin01", "请附上调岗文件后再申请")
    assert "请附上调岗文件" in told(applicant)[-1].body
    assert not Session().scalars(select(Attachment).where(Attachment.instance_id == instance.id)).all()   # no receipt
    with pytest.raises(InvalidInput):                                   # the ID number is still taken by this one
        applications.submit(applicant, form())
    with pytest.raises(Conflict):                                       # only the applicant withdraws
        applications.withdraw(people("whadmin01"), instance.id)

    applications.withdraw(applicant, instance.id)
    assert instance.status == "completed"
    assert applications.application_view(applicant, instance)["status"] == "withdrawn"
    assert kinds(instance)[-2:] == ["application_withdrawn", "completed"]
    assert audits("account_application_withdraw")[-1].actor_name == "jaadmin01"
    again = applications.submit(applicant, form())                      # free again
    assert open_task(again).bpmn_id == "leader_review"


def unit_role(name, codes, org_of="jaadmin01"):
    """A role of the unit itself (the system administrator's function points need not be the admins')."""
    org_id = Session().scalars(select(User.org_id).where(User.username == org_of)).one()
    made = Role(name=name, org_id=org_id)
    made.permissions = list(Session().scalars(select(Permission).where(
        Permission.code.in_(permissions.with_ancestors(codes)))))
    Session().add(made)
    Session().flush()
    return made


def test_an_admin_who_cannot_grant_a_role_is_refused_and_the_task_stays_open(people):
    applicant, city = people("jaadmin01"), people("whadmin01")
    codes = unit_role("码表维护员", {"sys.codes"})                       # 码表维护 is the system administrator's
    instance = applications.submit(applicant, form(role_ids=[role("county_admin").id, codes.id]))
    lead(people, instance)
    decide = open_task(instance)
    before = user_count()
    with pytest.raises(NotAuthorized) as exc:
        applications.decide(city, decide.id, {"decision": "grant"})
    assert exc.value.code == "cannot_grant" and "码表维护员" in exc.value.message
    assert exc.value.audit == ("account_application_decide", "process_instance", instance.id)
    Session().refresh(decide)
    assert decide.state == "ready" and user_count() == before and instance.status == "running"
    options = applications.decide_options(city, instance)
    assert {r["name"]: r["grantable"] for r in options["roles"]}["码表维护员"] is False

    _done, account, _ = applications.decide(city, decide.id, {
        "decision": "grant_changed", "comment": "码表维护由系统管理员负责", "new_role_ids": [role("county_admin").id]})
    assert [r.code for r in account.roles] == ["county_admin"]


def test_an_admin_outside_its_jurisdiction_for_the_type_is_refused(people):
    clerk = add_user("bj-ja-clerk", UserType.SAME_LEVEL_2, "jaadmin01", "same_level_2")
    county = people("jaadmin01")
    instance = applications.submit(clerk, form(user_type="same_level_1", role_ids=[role("same_level_1").id]))
    lead(people, instance)
    with pytest.raises(NotAuthorized) as exc:       # a county admin does not create business admins of its county
        applications.decide(county, open_task(instance).id, {"decision": "grant_changed", "comment": "x",
                                                             "new_user_type": "business_admin"})
    assert exc.value.code == "cannot_manage"


# --- refusals at submission -----------------------------------------------------------------------------------------

def test_form_errors_come_per_field(people):
    with pytest.raises(FormInvalid) as exc:
        applications.submit(people("jaadmin01"), form(id_number=MALE[:-1] + ("0" if MALE[-1] != "0" else "1"),
                                                      mobile="12345", applicant_name=None, unit_nature="其他"))
    assert set(exc.value.fields) == {"id_number", "mobile", "applicant_name", "unit_nature_other"}
    assert "校验位" in exc.value.fields["id_number"]
    with pytest.raises(FormInvalid) as exc:
        applications.submit(people("jaadmin01"), form(purpose="temporary", role_ids=[]))
    assert set(exc.value.fields) == {"purpose_other", "role_ids"}


def test_submission_rules(people, users):
    applicant = people("jaadmin01")

    def refused(**changes):
        with pytest.raises(InvalidInput) as exc:
            applications.submit(applicant, form(**changes))
        return {k: v[0] for k, v in exc.value.fields.items()}

    assert refused(gender="女")["gender"].startswith("性别与身份证号码不符")
    assert refused(user_type="direct_report")["user_type"].startswith("卫生健康行政部门不能申请“直报用户”账号")
    assert refused(valid_from="2026-05-01", valid_until="2026-04-01")["valid_until"] == "有效期止不能早于有效期起"
    assert refused(valid_from="2026-01-01", valid_until="2026-03-01")["valid_until"] == "有效期止不能早于今天"
    other_org = users("wchosp001").org_id
    foreign = Role(name="武昌测试医院专用角色", org_id=other_org)
    Session().add(foreign)
    Session().flush()
    assert "不能申请的角色：武昌测试医院专用角色" in refused(role_ids=[foreign.id])["role_ids"]
    assert "不能申请的角色" in refused(role_ids=[role("system_admin").id])["role_ids"]

    # 单人单号: an ID number with an active account, named without its unit
    holder = users("wchosp001")
    holder.id_type, holder.id_number = "resident_id", MALE
    Session().flush()
    message = refused()["id_number"]
    assert message == applications.ACTIVE_ACCOUNT and "武昌" not in message
    holder.lock_reason, holder.locked_at = LockReason.RESIGNED, T0      # its holder resigned: free again
    Session().flush()
    instance = applications.submit(applicant, form())
    assert refused()["id_number"] == applications.OPEN_APPLICATION     # one open application per ID number
    second = applications.submit(applicant, form(id_number=OTHER, applicant_name="王五"))
    assert second.id != instance.id


def test_who_may_apply(people, users):
    with pytest.raises(NotAuthorized):                                   # no unit
        applications.submit(users("sysadmin01"), form())
    unverified = add_user("bj-ja-newbie", UserType.SAME_LEVEL_2, "jaadmin01", "same_level_2", verified=False)
    with pytest.raises(NotAuthorized) as exc:
        applications.submit(unverified, form())
    assert exc.value.message == "请先完成实名认证"
    no_role = add_user("bj-ja-norole", UserType.SAME_LEVEL_2, "jaadmin01", None)
    with pytest.raises(NotAuthorized):
        applications.submit(no_role, form())
    # the only unit leader cannot sign its own application
    with pytest.raises(InvalidInput) as exc:
        applications.submit(people("jaleader01"), form())
    assert exc.value.message == applications.NO_LEADER
    # the province commission has no superior admin (and no unit leader)
    with pytest.raises(InvalidInput) as exc:
        applications.submit(people("hbadmin01"), form(role_ids=[role("province_admin").id]))
    assert exc.value.fields["user_type"] == ["本单位没有上级主管部门，无法确定审批的业务管理员，请联系系统管理员"]
    # a commission's same-level user needs an admin other than the applicant
    with pytest.raises(InvalidInput) as exc:
        applications.submit(people("jaadmin01"), form(user_type="same_level_1", role_ids=[role("same_level_1").id]))
    assert exc.value.fields["user_type"] == ["江岸区卫生健康局目前没有可以审批该申请的业务管理员"]


def test_the_generic_path_is_checked_again_inside_the_step(people):
    """A submission that skips the service's checks (the generic start) is sent back by the check handler."""
    applicant = people("jaadmin01")
    instance = processes.start_instance(applicant, applications.PROCESS, form(gender="女"))
    fill = open_task(instance)
    assert fill.bpmn_id == "fill" and instance.status == "running"
    [event] = [e for e in Session().scalars(select(ProcessEvent).where(ProcessEvent.instance_id == instance.id))
               if e.kind == "outcome"]
    assert event.outcome == "reject" and event.comment.startswith("性别与身份证号码不符")
    assert applications.last_return(instance)["role"] == "系统校验"
    with pytest.raises(InvalidInput):                                    # the pages' resubmission checks first
        applications.resubmit(applicant, fill.id, form(gender="女"))
    applications.resubmit(applicant, fill.id, form())
    assert open_task(instance).bpmn_id == "leader_review"


# --- the step stays atomic -----------------------------------------------------------------------------------------

def test_a_failing_receipt_undoes_the_account_and_a_retry_creates_it_without_showing_the_password(people,
                                                                                                 monkeypatch):
    applicant, city = people("jaadmin01"), people("whadmin01")
    instance = applications.submit(applicant, form())
    lead(people, instance)
    decide = open_task(instance)
    before = user_count()
    real = receipts.attach_receipt

    def broken(*args, **kwargs):
        raise OSError("upload directory not writable")
    monkeypatch.setattr(receipts, "attach_receipt", broken)
    done, account, password = applications.decide(city, decide.id, {"decision": "grant"})
    assert (done.status, account, password) == ("error", None, None)
    assert user_count() == before                                       # the account went with the failed step

    monkeypatch.setattr(receipts, "attach_receipt", real)
    retried = processes.retry_instance(city, instance.id)
    assert retried.status == "completed" and user_count() == before + 1
    [created] = [e for e in Session().scalars(select(ProcessEvent).where(ProcessEvent.instance_id == instance.id))
                 if e.kind == "account_created"]
    assert created.comment == applications.PASSWORD_NOT_SHOWN and created.actor_name == "whadmin01"


def test_the_account_name_takes_a_numeric_suffix_when_taken(people):
    add_user("gly-ja-zhangsan", UserType.SAME_LEVEL_2, "jaadmin01", "same_level_2")
    instance = applications.submit(people("jaadmin01"), form())
    lead(people, instance)
    _done, account, _ = applications.decide(people("whadmin01"), open_task(instance).id, {"decision": "grant"})
    assert account.username == "gly-ja-zhangsan1"


def test_a_decision_twice_answers_already_handled(people):
    applicant, city = people("jaadmin01"), people("whadmin01")
    instance = applications.submit(applicant, form())
    lead(people, instance)
    decide = open_task(instance)
    applications.decide(city, decide.id, {"decision": "refuse", "comment": "不予开通"})
    with pytest.raises(processes.TaskNotReady):
        applications.decide(city, decide.id, {"decision": "grant"})


# --- reminders, the file --------------------------------------------------------------------------------------------

def test_the_leader_is_reminded_after_three_days(people, clock):
    applicant, leader = people("jaadmin01"), people("jaleader01")
    instance = applications.submit(applicant, form())
    clock.shift(timedelta(days=3, minutes=1))
    processes.fire_due_timers()
    reminders = Session().scalars(select(Notification).where(Notification.user_id == leader.id,
                                                             Notification.kind == "reminder")).all()
    assert len(reminders) == 1 and "单位主管领导审批" in reminders[0].title
    assert open_task(instance).bpmn_id == "leader_review"


def test_the_bpmn_file_has_lanes_and_a_full_diagram():
    (definition,) = engine.parse_file(str(BPMN))
    assert (definition.key, definition.name, definition.startable) == ("account_application", "用户申请", True)
    root = etree.parse(str(BPMN)).getroot()
    process = root.find("bpmn:process", NS)
    nodes = {el.get("id") for el in process if el.get("id") and not el.tag.endswith(("sequenceFlow", "laneSet"))}
    flows = {el.get("id") for el in process.findall("bpmn:sequenceFlow", NS)}
    shapes = {el.get("bpmnElement") for el in root.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {el.get("bpmnElement") for el in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    lane_ids = {el.get("id") for el in process.iterfind("bpmn:laneSet/bpmn:lane", NS)}
    assert nodes <= shapes and flows <= edges and lane_ids <= shapes
    names = {el.get("name") for el in process.iterfind("bpmn:laneSet/bpmn:lane", NS)}
    assert names == {"applicant", "unit_leader", "superior_admin", "leak_admin", "supervising_admin"}
    assert all(name in lanes.LANES for name in names)
    in_lanes = {ref.text for ref in process.iterfind("bpmn:laneSet/bpmn:lane/bpmn:flowNodeRef", NS)}
    assert in_lanes == nodes
    reviews = {"leader_review", "decide_superior", "decide_own", "decide_supervisor"}
    timers = {el.get("attachedToRef") for el in process.iterfind("bpmn:boundaryEvent", NS)
              if el.get("cancelActivity") == "false"}
    assert timers == reviews

