"""The 用户申请回执 (Jiangsu 附表2) of an account application, as a PDF with the embedded Chinese font of
``workflows.pdf``, attached to the request.

The receipt carries what Jiangsu lists: the unit, the applicant, department, telephone, purpose, user type and
the 审批情况 with the chosen box marked, the reason, the approval date, the login address, the account name, the
deciding admin's and the unit leader's names with times, and the closing warning. The initial password itself is
never printed: Jiangsu §三.(二).2 has the admin tell it to the user alone, so the receipt says just that.
"""
import hashlib
import io

from reportlab.lib.units import mm
from sqlalchemy import select

from models import Session
from models.workflow import Attachment
from workflows import files, pdf, settings
from workflows.clock import CST as CHINA

TITLE = ("卫生健康基础资源与账号管理系统", "用户申请回执")
WARNING = "注意:初次登录使用时,必须更改初始密码!不得在公共计算机上登陆本系统!"
PASSWORD_NOTE = "由业务管理员单独告知用户本人"
CHOSEN, NOT_CHOSEN = "■", "□"
RECEIPT_TYPES = (("business_admin", "业务管理员"), ("same_level_1", "本级用户1(数据质控员)"),
                 ("same_level_2", "本级用户2"), ("direct_report", "直报用户"))
RECEIPT_PURPOSES = (("manage", "系统管理"), ("operate", "业务操作"), ("browse", "业务查阅"), ("temporary", "临时使用"))
RECEIPT_DECISIONS = (("grant", "批准"), ("grant_changed", "批准，有变更"), ("refuse", "未获批准"), ("other", "其它"))


def boxes(options, chosen, separator="  "):
    """``■批准  □批准，有变更 …``: every option, the chosen one marked."""
    return separator.join(f"{CHOSEN if value == chosen else NOT_CHOSEN}{label}" for value, label in options)


def _when(moment):
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if moment else ""


def _signature(user, moment):
    if user is None:
        return "—"
    return f"{user.display_name}（{user.username}）    {_when(moment)}"


def _approval_day(account):
    if not account or not account.get("approved_on"):
        return "—"
    year, month, day = account["approved_on"].split("-")
    return f"{year}年{month}月{day}日"


def receipt_rows(*, application, decision, account, admin, leader, login):
    """``[(label, text)]`` of the receipt, in Jiangsu's order."""
    purpose = boxes(RECEIPT_PURPOSES, application.get("purpose"))
    if application.get("purpose") == "temporary" and application.get("purpose_other"):
        purpose += f"：{application['purpose_other']}"
    final = decision.get("final") or {}
    reason = decision.get("reason") or "—"
    changes = decision.get("changes") or []
    if changes:
        reason += "\n变更：" + "；".join(f"{c['label']} {c['old']} → {c['new']}" for c in changes)
    return [
        ("单位名称", application.get("org_name") or ""),
        ("申请人姓名", application.get("applicant_name") or ""),
        ("所在部门", application.get("department") or "—"),
        ("联系电话", application.get("phone") or application.get("mobile") or "—"),
        ("申请用途", purpose),
        ("账号的用户类型", boxes(RECEIPT_TYPES, final.get("user_type") or application.get("user_type"), "\n")),
        ("审批情况", boxes(RECEIPT_DECISIONS, decision.get("decision"))),
        ("理由", reason),
        ("账号批准日期", _approval_day(account)),
        ("登录地址", login or "—"),
        ("用户账号名", account["username"] if account else "—"),
        ("初始密码", PASSWORD_NOTE if account else "—"),
        ("业务管理员签字", _signature(*admin)),
        ("单位主管领导签字", _signature(*leader)),
    ]


def receipt_pdf(instance_id, **values):
    """The receipt as PDF bytes (the same values give the same bytes)."""
    rows = receipt_rows(**values)
    story = [pdf.paragraph(TITLE[0], "title"), pdf.paragraph(TITLE[1], "subtitle"),
             pdf.paragraph(f"申请编号：{instance_id}", "right"), pdf.spacer(3),
             pdf.form_table(rows, label_width=38 * mm), pdf.spacer(5), pdf.paragraph(WARNING, "body")]
    return pdf.build(story, title=TITLE[1], subject=f"{values['application'].get('org_name')} "
                                                    f"{values['application'].get('applicant_name')}")


def attach_receipt(instance, issuer, **values):
    """Generate the receipt and attach it to ``instance`` (issued by the deciding admin); the same receipt
    generated again (a retried step) reuses the stored file."""
    data = receipt_pdf(instance.id, **values)
    digest = hashlib.sha256(data).hexdigest()
    existing = Session().scalars(select(Attachment).where(Attachment.instance_id == instance.id,
                                                          Attachment.sha256 == digest)).first()
    if existing is not None:
        return existing
    name = f"用户申请回执（{values['application'].get('applicant_name')}）.pdf"
    attachment = files.store_upload(issuer, name, io.BytesIO(data), kinds=("application/pdf",),
                                    max_bytes=max(len(data), settings.current().upload_max_bytes))
    files.link_to_instance([attachment.id], instance)
    return attachment
