"""The menu: the seeds' menus, each entry shown only when the role holds its function point and the page
exists. Hiding is a convenience; the views refuse by themselves (``web.security.requires``)."""
from flask import current_app, g, request, url_for

from web.security import has_perm
from workflows import inbox, permissions

# (function point, endpoint, URL arguments[, label]) for every page that exists; the label comes from the
# tree unless given.
PAGES = [
    ("org.info", "institution.index", {}),
    ("approval.inbox", "inbox.index", {"view": "assigned"}),
    ("approval.requests", "inbox.index", {"view": "requests"}),
    ("approval.requests", "leak.report", {}, "报告账号泄露"),
    ("hr.personnel.resign", "personnel.resignations", {}),
    ("hr.personnel.resign_review", "personnel.reviews", {}),
    ("sys.accounts", "accounts.index", {}),
    ("sys.locklist", "locklist.index", {}),
    ("sys.locklist", "leak.index", {}, "账号泄露处置"),
    ("sys.roles", "roles.index", {}),
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


def _open_count():
    if "inbox_counts" not in g:
        g.inbox_counts = inbox.counts(g.actor)
    return sum(g.inbox_counts.values()) or None


def init_app(app):
    app.context_processor(lambda: {"menu": menu})
