"""权限变更申请 (permission_change) through the services, on the real BPMN file: the three routes to the granting
administrators, approval with permanent and temporary roles, removal, return and resubmission at both steps,
what an administrator may not grant (refused before the step and again in the handler), the start refusals,
the outsiders, the effect on the account, the audit row, the notification and the printed form."""
import subprocess
from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from models import Session
from models.accounts import Role, User, UserType
from models.audit import AuditEvent
from models.scheduling import Notification, TemporaryGrant
from models.workflow import Attachment, HumanTask, ProcessEvent
from workflows import accounts, files, inbox, maintenance, permissions, processes, roles
from workflows import permission_changes as changes
from workflows.errors import Conflict, FormInvalid, InvalidInput, NotAuthorized, NotFound

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)          # 2026-03-02 16:00 in China
CST = timezone(timedelta(hours=8))
REASON = "调任数据质控岗位，需要核查本辖区上报数据"


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def people(ready, users):
    ready("jaadmin01", "jaleader01", "whadmin01", "wcadmin01", "hbadmin01", "jahosp001", "sysadmin01", verified=True)
    return users


def role(code):
    return Session().scalars(select(Role).where(Role.code == code)).one()


def add_user(username, user_type, org_of, *codes):
    """An account created by the system administrator in the organization of ``org_of``."""
    admin = Session().scalars(select(User).where(User.username == "sysadmin01")).one()
    org_id = Session().scalars(select(User.org_id).where(User.username == org_of)).one()
    user, _ = accounts.create_user(admin, user_type=user_type, org_id=org_id, display_name=f"{username}用户",
                                   username=username, role_ids=[role(c).id for c in codes])
    user.password_change_reason, user.real_name_verified = None, True
    Session().flush()
    return user


def apply(actor, roles, reason=REASON, valid_until=None):
    data = {"requested_roles": [r.id for r in roles], "reason": reason}
    if valid_until:
        data["valid_until"] = valid_until
    return changes.submit_request(actor, data)


def open_task(instance):
    rows = Session().scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                     HumanTask.state == "ready").order_by(HumanTask.id)).all()
    assert len(rows) == 1, [t.bpmn_id for t in rows]
    return rows[0]


def decide(actor, instance, decision="approve", comment=None):
    task = open_task(instance)
    data = {"decision": decision, **({"comment": comment} if comment else {})}
    changes.complete(actor, task.id, data)
    return task


def audits(action, target=None):
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    if target:
        query = query.where(AuditEvent.target_name == target)
    return Session().scalars(query).all()


def events(instance):
    return Session().scalars(select(ProcessEvent).where(ProcessEvent.instance_id == instance.id)
                             .order_by(ProcessEvent.id)).all()


def role_names(user):
    Session().refresh(user, ["roles"])
    return sorted(r.name for r in user.roles)


def pdf_text(attachment):
    with open(files.attachment_path(attachment), "rb") as fh:
        data = fh.read()
    out = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return "".join(out.split())


# --- the main path ----------------------------------------------------------------------------------------------

def test_a_business_admin_asks_its_leader_then_the_superior_admin_grants(people, clock):
    admin, leader, superior = people("jaadmin01"), people("jaleader01"), people("whadmin01")
    session_token = admin.session_token
    instance = apply(admin, [role("county_admin"), role("same_level_1")])

    assert instance.title == "权限变更申请：江岸区业务管理员（jaadmin01）"
    assert instance.business_key == f"permission_change:{admin.id}"
    task = open_task(instance)
    assert (task.bpmn_id, task.lane, task.candidate_org_id) == ("leader_review", "unit_leader", admin.org_id)
    assert [t.id for t in inbox.page(leader, "claimable")[0]] == [task.id]
    prepared = processes.latest_data(instance)["change"]
    assert prepared["route"] == "superior" and prepared["current"] == ["县级业务管理员"]
    assert prepared["added"] == ["本级用户1(数据质控员)"] and prepared["removed"] == []

    decide(leader, instance, "approve", "同意调整")
    task = open_task(instance)
    assert (task.bpmn_id, task.lane, task.candidate_org_id) == ("grant_superior", "superior_admin", superior.org_id)
    assert task.due_at == T0 + timedelta(days=5)
    clock.shift(timedelta(hours=2))
    decide(superior, instance, "approve", "同意授予数据质控员角色")

    assert instance.status == "completed"
    assert role_names(admin) == ["县级业务管理员", "本级用户1(数据质控员)"]
    assert admin.session_token == session_token     # no new login needed: permissions are read per request
    assert Session().scalars(select(TemporaryGrant).where(TemporaryGrant.user_id == admin.id)).all() == []

    [row] = audits("permission_change", "jaadmin01")
    assert row.actor_name == "whadmin01" and row.outcome == "success"
    assert row.detail == {"instance_id": instance.id, "before": ["县级业务管理员"],
                          "after": ["县级业务管理员", "本级用户1(数据质控员)"], "added": ["本级用户1(数据质控员)"],
                          "removed": [], "valid_until": None, "temporary_until": None}
    note = Session().scalars(select(Notification).where(Notification.user_id == admin.id,
                                                        Notification.kind == "permission_change")).one()
    assert note.title == "权限变更已生效" and "新增角色：本级用户1(数据质控员)" in note.body

    # both opinions on the timeline, and the result
    completed = [(e.actor_name, e.bpmn_id, e.outcome, e.comment) for e in events(instance)
                 if e.kind == "task_completed"]
    assert completed == [("jaadmin01", "submit", "submitted", None),
                         ("jaleader01", "leader_review", "approve", "同意调整"),
                         ("whadmin01", "grant_superior", "approve", "同意授予数据质控员角色")]
    changed = [e for e in events(instance) if e.kind == "permission_changed"]
    assert len(changed) == 1 and changed[0].detail["summary"] == "新增角色：本级用户1(数据质控员)"

    view = changes.change_view(instance)
    assert view["applied"] and view["added"] == ["本级用户1(数据质控员)"] and view["removed"] == []
    assert view["opinions"]["leader"]["decision_label"] == "同意"
    assert view["opinions"]["admin"]["by"] == "whadmin01"
    assert view["form_file"]["name"].startswith("权限变更申请表")


def test_the_printed_form_holds_the_request_and_both_opinions(people, clock):
    admin = people("jaadmin01")
    instance = apply(admin, [role("county_admin"), role("same_level_1")], valid_until="2026-03-31")
    decide(people("jaleader01"), instance, "approve", "同意临时使用")
    clock.shift(timedelta(minutes=30))
    decide(people("whadmin01"), instance, "approve", "准予临时授权")

    [attachment] = Session().scalars(select(Attachment).where(Attachment.instance_id == instance.id)).all()
    assert attachment.owner_id == admin.id and attachment.content_type == "application/pdf"
    assert attachment.original_name == f"权限变更申请表（江岸区业务管理员，#{instance.id}）.pdf"
    text = pdf_text(attachment)
    for expected in ("权限变更申请表", f"申请编号：{instance.id}", "申请日期：2026-03-02", "江岸区业务管理员", "jaadmin01",
                     "江岸区卫生健康局", "业务管理员", "当前角色县级业务管理员",
                     "申请变更为县级业务管理员、本级用户1(数据质控员)", "新增角色本级用户1(数据质控员)", "取消角色（无）",
                     REASON, "临时使用，新增角色使用至2026-03-31（含当日）", "同意。同意临时使用",
                     "江岸区卫生健康局负责人（jaleader01）2026-03-0216:00", "批准。准予临时授权",
                     "武汉市业务管理员（whadmin01）2026-03-0216:30"):
        assert expected.replace(" ", "") in text, expected


# --- temporary and removed roles -------------------------------------------------------------------------------

def test_added_roles_with_a_date_are_temporary_and_the_scheduler_takes_them_back(people, clock):
    hospital = people("jahosp001")
    nurse = add_user("zbnurse01", UserType.SUB_ACCOUNT, "jahosp001", "direct_report")
    instance = apply(nurse, [role("direct_report"), role("same_level_2")], valid_until="2026-03-10")
    assert processes.latest_data(instance)["change"]["route"] == "supervising"
    decide(hospital, instance)                                  # the master account is the unit leader
    task = open_task(instance)
    assert (task.bpmn_id, task.candidate_org_id) == ("grant_supervising", people("jaadmin01").org_id)
    decide(people("jaadmin01"), instance)

    assert role_names(nurse) == ["本级用户2", "直报用户"]
    assert "stats.common" in roles.permissions_of(nurse)        # at once: permissions are read per request
    grant = Session().scalars(select(TemporaryGrant).where(TemporaryGrant.user_id == nurse.id)).one()
    end = datetime(2026, 3, 11, 0, 0, tzinfo=CST)
    assert (grant.role_id, grant.ends_at, grant.granted_by_id) == (role("same_level_2").id, end, people("jaadmin01").id)
    assert grant.reason.startswith(f"权限变更申请 #{instance.id}")
    detail = audits("permission_change", "zbnurse01")[-1].detail
    assert detail["valid_until"] == "2026-03-10" and detail["temporary_until"] == "2026-03-10T16:00:00Z"
    assert audits("temporary_grant", "zbnurse01")[-1].detail["role"] == "本级用户2"
    assert changes.options(nurse)["current"][0] == {"id": role("same_level_2").id, "name": "本级用户2",
                                                    "temporary_until": "2026-03-10T16:00:00Z"}

    assert maintenance.expire_temporary_grants(end - timedelta(seconds=1)) == 0
    assert maintenance.expire_temporary_grants(end) == 1
    assert role_names(nurse) == ["直报用户"] and "stats.common" not in roles.permissions_of(nurse)


def test_removing_a_role_closes_its_temporary_grant(people, clock):
    admin, superior = people("jaadmin01"), people("whadmin01")
    maintenance.grant_temporary_role(superior, admin, role("same_level_1"), T0 + timedelta(days=20), reason="临时核查")
    instance = apply(admin, [role("county_admin")], reason="核查工作已结束，交回数据质控员角色")
    assert processes.latest_data(instance)["change"]["removed"] == ["本级用户1(数据质控员)"]
    decide(people("jaleader01"), instance)
    decide(superior, instance)

    assert role_names(admin) == ["县级业务管理员"]
    grant = Session().scalars(select(TemporaryGrant).where(TemporaryGrant.user_id == admin.id)).one()
    assert grant.revoked_at == T0
    assert maintenance.expire_temporary_grants(T0 + timedelta(days=30)) == 0
    assert audits("permission_change", "jaadmin01")[-1].detail["removed"] == ["本级用户1(数据质控员)"]


def test_a_same_level_user_of_a_commission_is_granted_by_its_own_admins(people, clock):
    clerk = add_user("bjclerk01", UserType.SAME_LEVEL_2, "jaadmin01", "same_level_2")
    instance = apply(clerk, [role("same_level_1")])
    decide(people("jaleader01"), instance)
    task = open_task(instance)
    assert (task.bpmn_id, task.lane, task.candidate_org_id) == ("grant_own", "leak_admin", clerk.org_id)
    assert inbox.can_act(people("jaadmin01"), task) and not inbox.can_act(people("whadmin01"), task)
    decide(people("jaadmin01"), instance)
    assert role_names(clerk) == ["本级用户1(数据质控员)"]
    assert audits("permission_change", "bjclerk01")[-1].detail["removed"] == ["本级用户2"]


# --- return and resubmission ------------------------------------------------------------------------------------

def test_the_leader_returns_and_the_applicant_resubmits_with_its_previous_values(people, clock):
    admin, leader = people("jaadmin01"), people("jaleader01")
    instance = apply(admin, [role("county_admin"), role("same_level_2")], valid_until="2026-04-30")
    decide(leader, instance, "reject", "请说明需要的具体权限")

    task = open_task(instance)
    assert (task.bpmn_id, task.assignee_id) == ("submit", admin.id)
    values = processes.task_data(task)
    assert values["requested_roles"] == [role("county_admin").id, role("same_level_2").id]
    assert values["reason"] == REASON and values["valid_until"] == "2026-04-30"
    assert changes.last_return(instance)["comment"] == "请说明需要的具体权限"
    note = Session().scalars(select(Notification).where(Notification.user_id == admin.id,
                                                        Notification.title == "权限变更申请被退回")).one()
    assert "请说明需要的具体权限" in note.body
    with pytest.raises(NotFound):
        decide(leader, instance)                              # the open task is the applicant's own form

    changes.complete(admin, task.id, {"requested_roles": [role("county_admin").id, role("same_level_1").id],
                                      "reason": "需要核查本辖区上报数据的质量"})
    assert open_task(instance).bpmn_id == "leader_review"
    assert processes.latest_data(instance)["change"]["added"] == ["本级用户1(数据质控员)"]
    assert changes.opinions(instance) == {"leader": None, "admin": None}   # a new round
    decide(leader, instance)
    decide(people("whadmin01"), instance)
    assert role_names(admin) == ["县级业务管理员", "本级用户1(数据质控员)"]
    assert Session().scalars(select(TemporaryGrant).where(TemporaryGrant.user_id == admin.id)).all() == []


def test_the_admin_rejects_and_the_request_goes_back_to_the_applicant(people, clock):
    admin = people("jaadmin01")
    instance = apply(admin, [role("county_admin"), role("same_level_1")])
    decide(people("jaleader01"), instance)
    with pytest.raises(FormInvalid) as refused:
        decide(people("whadmin01"), instance, "reject")
    assert "comment" in refused.value.fields
    decide(people("whadmin01"), instance, "reject", "数据质控员应由本级用户担任")

    task = open_task(instance)
    assert task.bpmn_id == "submit" and instance.status == "running"
    assert role_names(admin) == ["县级业务管理员"]
    assert audits("permission_change", "jaadmin01") == []
    assert changes.last_return(instance)["decision_label"] == "驳回"
    returned = [e for e in events(instance) if e.kind == "task_completed"][-1]
    assert (returned.actor_name, returned.outcome, returned.comment) == ("whadmin01", "reject", "数据质控员应由本级用户担任")


# --- what an administrator may grant ----------------------------------------------------------------------------

def restrict(admin, *without):
    """Give ``admin`` a business-admin role without the function points ``without`` (and their children)."""
    sysadmin = Session().scalars(select(User).where(User.username == "sysadmin01")).one()
    codes = permissions.all_codes() - permissions.SYSTEM_ONLY - {c for w in without
                                                                 for c in {w} | permissions.descendants(w)}
    limited = roles.create_role(sysadmin, name="业务管理员（不含系统日志）", permission_codes=codes)
    accounts.update_user(sysadmin, admin, role_ids=[limited.id])


def test_an_admin_cannot_grant_a_role_beyond_its_own_function_points(people, clock):
    admin, superior = people("jaadmin01"), people("whadmin01")
    restrict(superior, "sys.audit")                     # 本级用户1(数据质控员) holds 系统日志
    instance = apply(admin, [role("county_admin"), role("same_level_1")])
    decide(people("jaleader01"), instance)
    task = open_task(instance)
    with pytest.raises(InvalidInput) as refused:
        decide(superior, instance)
    assert refused.value.code == "cannot_grant"
    assert refused.value.message.startswith("您不能授予角色：本级用户1(数据质控员)")
    Session().refresh(task)
    assert task.state == "ready" and task.completed_at is None and instance.status == "running"
    assert role_names(admin) == ["县级业务管理员"]
    decide(superior, instance, "reject", "请向有权授予数据质控员角色的管理员申请")
    assert open_task(instance).bpmn_id == "submit"


def test_an_admin_cannot_change_an_account_it_no_longer_manages(people, clock):
    nurse = add_user("zbnurse03", UserType.SUB_ACCOUNT, "jahosp001", "direct_report")
    instance = apply(nurse, [role("direct_report"), role("same_level_2")])
    decide(people("jahosp001"), instance)
    nurse.org.region_code = "420106"                    # the hospital moved to 武昌区 meanwhile
    Session().flush()
    with pytest.raises(InvalidInput) as refused:
        decide(people("jaadmin01"), instance)
    assert refused.value.code == "cannot_grant" and "不在您的管理范围内" in refused.value.message
    assert role_names(nurse) == ["直报用户"]


def test_the_handler_refuses_again_when_the_service_check_is_bypassed(people, clock):
    admin, superior = people("jaadmin01"), people("whadmin01")
    restrict(superior, "sys.audit")
    instance = apply(admin, [role("county_admin"), role("same_level_1")])
    decide(people("jaleader01"), instance)
    task = open_task(instance)
    processes.complete_task(superior, task.id, {"decision": "approve"})     # past the service's check

    assert role_names(admin) == ["县级业务管理员"] and audits("permission_change", "jaadmin01") == []
    again = open_task(instance)
    assert again.bpmn_id == "grant_superior" and again.id != task.id         # back to the same administrators
    result = processes.latest_data(instance)["apply_result"]
    assert result["applied"] is False and "本级用户1(数据质控员)" in result["reason"]
    assert changes.change_view(instance, again)["not_applied"] == result["reason"]
    assert [e.comment for e in events(instance) if e.kind == "outcome"][-1].endswith("（权限未变更）")


def test_a_temporary_date_that_passed_before_the_approval_is_refused(people, clock):
    admin = people("jaadmin01")
    instance = apply(admin, [role("county_admin"), role("same_level_1")], valid_until="2026-03-03")
    decide(people("jaleader01"), instance)
    clock.shift(timedelta(days=2))
    with pytest.raises(InvalidInput) as refused:
        decide(people("whadmin01"), instance)
    assert refused.value.code == "validity_passed" and "2026-03-03" in refused.value.message


def test_the_change_applies_to_the_roles_held_at_approval(people, clock):
    clerk = add_user("bjclerk02", UserType.SAME_LEVEL_2, "jaadmin01", "same_level_2")
    instance = apply(clerk, [role("same_level_2"), role("same_level_1")])
    decide(people("jaleader01"), instance)
    accounts.update_user(people("jaadmin01"), clerk, role_ids=[role("same_level_2").id, role("direct_report").id])
    task = open_task(instance)
    view = changes.change_view(instance, task)
    assert view["changed_since"] and view["removed"] == ["直报用户"] and view["added"] == ["本级用户1(数据质控员)"]
    decide(people("jaadmin01"), instance)
    assert role_names(clerk) == ["本级用户1(数据质控员)", "本级用户2"]


# --- refusals at the start --------------------------------------------------------------------------------------

@pytest.mark.parametrize("codes, valid_until, field, message", [
    (["county_admin"], None, "requested_roles", "申请的角色与当前角色相同"),
    (["county_admin", "system_admin"], None, "requested_roles", "不能申请编号为"),
    (["county_admin", "same_level_1"], "2026-03-02", "valid_until", "须晚于今天"),
    ([], None, "requested_roles", "申请角色"),
])
def test_a_request_must_change_something_allowed(people, clock, codes, valid_until, field, message):
    with pytest.raises((InvalidInput, FormInvalid)) as refused:
        apply(people("jaadmin01"), [role(c) for c in codes], valid_until=valid_until)
    assert message in str(refused.value.fields[field])
    assert changes.open_request(people("jaadmin01")) is None


def test_a_date_on_a_request_that_only_removes_is_refused(people, clock):
    clerk = add_user("bjclerk03", UserType.SAME_LEVEL_2, "jaadmin01", "same_level_2", "same_level_1")
    with pytest.raises(InvalidInput) as refused:
        apply(clerk, [role("same_level_2")], valid_until="2026-05-01")
    assert refused.value.fields == {"valid_until": ["只申请取消角色时不填写临时使用截止日期"]}


def test_only_system_roles_and_own_organization_roles_are_offered(people, clock, users):
    own = roles.create_role(people("jahosp001"), name="院内查询员", permission_codes=["stats.common"])
    other = roles.create_role(users("wchosp001"), name="武昌查询员", permission_codes=["stats.common"])
    nurse = add_user("zbnurse02", UserType.SUB_ACCOUNT, "jahosp001", "direct_report")
    offered = {c["name"]: c for c in changes.options(nurse)["choices"]}
    assert offered["院内查询员"]["scope"] == "org" and offered["直报用户"]["held"]
    assert "武昌查询员" not in offered and "系统管理员" not in offered     # nor system-administrator-only roles
    with pytest.raises(InvalidInput) as refused:
        apply(nurse, [role("direct_report"), other])
    assert f"不能申请编号为 {other.id} 的角色" in refused.value.fields["requested_roles"][0]
    assert apply(nurse, [role("direct_report"), own]).status == "running"


def test_one_open_request_per_account(people, clock):
    admin = people("jaadmin01")
    first = apply(admin, [role("county_admin"), role("same_level_1")])
    with pytest.raises(Conflict) as refused:
        apply(admin, [role("county_admin"), role("same_level_2")])
    assert refused.value.code == "request_open" and refused.value.detail["instance_id"] == first.id
    assert changes.refusal(admin) == changes.RequestOpen.message
    assert changes.options(admin)["open_request"] == first.id


def test_nobody_to_approve_refuses_the_start(people, clock):
    with pytest.raises(InvalidInput) as refused:        # the master account is its unit's only leader
        apply(people("jahosp001"), [role("master"), role("same_level_2")])
    assert refused.value.code == "no_approver" and "单位负责人审批" in refused.value.message
    with pytest.raises(InvalidInput) as refused:        # 江岸区 has one unit leader: the applicant itself
        apply(people("jaleader01"), [role("unit_leader"), role("same_level_2")])
    assert refused.value.code == "no_approver"
    with pytest.raises(NotAuthorized):
        changes.check_start(people("sysadmin01"))
    deputy = add_user("jafzr00001", UserType.SUB_ACCOUNT, "jahosp001", "unit_leader")
    assert changes.leaders(people("jahosp001")) == [deputy]
    assert apply(people("jahosp001"), [role("master"), role("same_level_2")]).status == "running"


def test_a_province_admin_has_nobody_above_to_grant(people, clock):
    add_user("hbleader01", UserType.SAME_LEVEL_2, "hbadmin01", "unit_leader")
    assert changes.refusal(people("hbadmin01")).startswith("上级单位没有可以为您授权的业务管理员")


# --- outsiders --------------------------------------------------------------------------------------------------

def test_outsiders_and_the_applicant_are_refused_at_every_step(people, clock):
    admin, leader, superior = people("jaadmin01"), people("jaleader01"), people("whadmin01")
    instance = apply(admin, [role("county_admin"), role("same_level_1")])
    task = open_task(instance)
    with pytest.raises(NotAuthorized):
        changes.complete(admin, task.id, {"decision": "approve"})       # never the applicant itself
    with pytest.raises(NotFound):
        changes.complete(people("wcadmin01"), task.id, {"decision": "approve"})
    with pytest.raises(NotAuthorized):
        changes.complete(superior, task.id, {"decision": "approve"})    # sees the region's requests, not a leader
    decide(leader, instance)
    task = open_task(instance)
    for outsider, refusal in ((leader, NotFound), (people("wcadmin01"), NotFound), (admin, NotAuthorized),
                              (people("hbadmin01"), NotAuthorized)):
        with pytest.raises(refusal):
            changes.complete(outsider, task.id, {"decision": "approve"})
    assert role_names(admin) == ["县级业务管理员"]
    denied = Session().scalars(select(HumanTask).where(HumanTask.id == task.id)).one()
    assert denied.state == "ready"


def test_the_reminder_reaches_the_leader(people, clock):
    instance = apply(people("jaadmin01"), [role("county_admin"), role("same_level_1")])
    clock.shift(timedelta(days=3, seconds=1))
    assert processes.fire_due_timers() == 1
    reminder = [e for e in events(instance) if e.kind == "reminder"]
    assert reminder and reminder[0].detail["notified"] == ["jaleader01"]
    assert open_task(instance).bpmn_id == "leader_review"


def test_today_is_counted_in_china_time():
    with time_machine.travel(datetime(2026, 3, 2, 17, 0, tzinfo=timezone.utc), tick=False):
        assert changes.today() == date(2026, 3, 3)
    assert changes.ends_at(date(2026, 3, 10)) == datetime(2026, 3, 10, 16, 0, tzinfo=timezone.utc)
