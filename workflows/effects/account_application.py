"""Service-task handlers of ``bpmn/account_application.bpmn`` (用户申请). The rules and their reasons are in
``workflows/applications.py``.

- ``application_check``: the submitted 附表1 checked again; a failed check returns it to the applicant with the
  reason on the timeline (never raises for bad input). Names the deciding lane (``route``).
- ``application_leader_decided``: the unit leader's opinion, audited; a return is told to the applicant.
- ``application_decided``: the admin's 审批情况, audited, changes recorded old → new; 其它 is told to the applicant.
- ``application_create_account``: 批准 creates the account (its initial password goes to the deciding answer only).
- ``application_receipt``: the receipt (附表2) of a final outcome, attached; the applicant is told the outcome.
- ``application_withdrawn``: the applicant withdrew a returned application.
"""
from workflows import applications
from workflows.handlers import handler


@handler("application_check")
def check(ctx, **values):
    return applications.check_submission(ctx, values)


@handler("application_leader_decided")
def leader_decided(ctx, decision, comment=None):
    return applications.record_leader(ctx, decision, comment)


@handler("application_decided")
def decided(ctx, application, decision, comment=None, **changes):
    return applications.record_decision(ctx, application, decision, comment, **changes)


@handler("application_create_account")
def create_account(ctx, application, decision_result):
    return applications.create_account(ctx, application, decision_result)


@handler("application_receipt")
def receipt(ctx, application, decision_result, account=None):
    return applications.issue_receipt(ctx, application, decision_result, account)


@handler("application_withdrawn")
def withdrawn(ctx):
    return applications.record_withdrawal(ctx)
