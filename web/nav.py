"""The menu: the seeds' menus, each entry shown only when the role holds its function point and the page
exists. Hiding is a convenience; the views refuse by themselves (``web.security.requires``)."""
from flask import current_app, request

from web.security import has_perm
from workflows import permissions

# (function point, endpoint) for every page that exists; the label comes from the permission tree.
PAGES = [
    ("sys.accounts", "accounts.index"),
    ("sys.roles", "roles.index"),
    ("sys.audit", "audit.index"),
]


def menu():
    """``[(group label, [(label, url, active)])]`` for the current actor."""
    from flask import url_for
    groups = []
    names = permissions.names()
    for group_code, group_name, _children in permissions.CATALOGUE:
        items = [
            (names[code], url_for(endpoint), request.endpoint == endpoint)
            for code, endpoint in PAGES
            if code.split(".")[0] == group_code and has_perm(code) and endpoint in current_app.view_functions
        ]
        if items:
            groups.append((group_name, items))
    return groups


def init_app(app):
    app.context_processor(lambda: {"menu": menu})
