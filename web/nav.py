"""The menu: the seeds' menus, each entry shown only when the role holds its function point and the page
exists. Hiding is a convenience; the views refuse by themselves (``web.security.requires``)."""
from flask import current_app, g, request, url_for

from web.security import has_perm
from workflows import inbox, permissions

# (function point, endpoint, URL arguments[, label]) for every page that exists; the label comes from the
# tree unless given.
PAGES = [
    ("org.info", "institution.index", {}),
    ("org.dept", "orgdata.departments", {}),
    ("org.post", "orgdata.posts", {}),
    ("org.quota", "orgdata.quotas", {}),
    ("approval.inbox", "inbox.index", {"view": "assigned"}),
    ("approval.requests", "inbox.index", {"view": "requests"}),
    ("approval.requests", "leak.report", {}, "报告账号泄露"),
    ("approval.requests", "permchange.index", {}, "权限变更申请"),
    ("approval.requests", "application.index", {}, "用户申请"),
    ("hr.staff", "people.staff_list", {}),
    ("hr.staff.edit", "people.trial_list", {}, "试用期填报"),
    ("hr.staff.edit", "people.attachments", {}, "附件批量导入"),
    ("hr.staff.import", "imports.index", {}, "人员信息导入管理"),
    ("hr.tags", "people.tags_index", {}),
    ("hr.personnel.resign", "personnel.resignations", {}),
    ("hr.personnel.resign_review", "personnel.reviews", {}),
    ("hr.query", "people.wall", {}),
    ("stats.common", "people.stats_common", {}),
    ("stats.reports", "people.stats_reports", {}),
    ("sys.accounts", "accounts.index", {}),
    ("sys.locklist", "locklist.index", {}),
    ("sys.locklist", "leak.index", {}, "账号泄露处置"),
    ("sys.handover", "handover.index", {}),
    ("sys.roles", "roles.index", {}),
    ("sys.orgs", "orgdata.allocations", {}, "编制分配"),
    ("sys.standard_posts", "orgdata.standard_posts", {}),
    ("sys.realname", "realname.reviews", {}),
    ("sys.audit", "audit.index", {}),
    ("sys.jobs", "scheduler.index", {}),
]


def _active(endpoint, args):
    return request.endpoint == endpoint and all(request.args.get(k, v if k == "view" and v == "assigned" else None)
                                                == v for k, v in args.items())


def menu():
    """``[(group label, [(label, url, active, badge)])]`` for the current actor."""
    groups = []
    names = permissions.names()
    for group_code, group_name, _children in permissions.CATALOGUE:
        items = []
        for code, endpoint, args, *label in PAGES:
            if code.split(".")[0] != group_code or not has_perm(code) or endpoint not in current_app.view_functions:
                continue
            badge = _open_count() if code == "approval.inbox" else None
            items.append((label[0] if label else names[code], url_for(endpoint, **args), _active(endpoint, args),
                          badge))
        if items:
            groups.append((group_name, items))
    return groups


def inbox_counts():
    """The actor's open counts per view, asked once per request (the menu badge and the inbox tabs)."""
    if "inbox_counts" not in g:
        g.inbox_counts = inbox.counts(g.actor)
    return g.inbox_counts


def _open_count():
    return sum(inbox_counts().values()) or None


def init_app(app):
    app.context_processor(lambda: {"menu": menu})
