"""The sidebar menu, direct requests for hidden pages, and the two gates (forced password change, real-name
verification) for browser pages and the JSON API (web/nav.py, web/security.py, web/api/__init__.py)."""
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from models import Session
from models.accounts import Role, User, UserType
from tests.conftest import DEMO_PASSWORD
from workflows import accounts, auth

NEW_PASSWORD = "Hg#5207tkW"
INSTITUTION = ["机构信息维护", "部门管理", "机构岗位管理", "机构编制管理", "人员信息管理", "试用期填报", "附件批量导入",
               "人员信息导入管理", "人员标签管理", "员工离职", "离职审核", "人员信息查询", "常用统计", "常用报表"]
APPROVAL = ["我的待办", "我的申请", "报告账号泄露", "权限变更申请", "用户申请"]
ADMIN_MENU = ["工作台", *INSTITUTION, *APPROVAL, "人员账号管理", "用户锁定一览表", "账号泄露处置", "业务管理员交接", "角色管理",
              "编制分配", "标准岗位维护", "实名认证审核", "系统日志"]
SYSADMIN_MENU = ADMIN_MENU + ["定时任务"]
MASTER_MENU = ["工作台", *INSTITUTION, *APPROVAL, "人员账号管理", "角色管理", "实名认证审核"]
PAGES = {  # path: the function point it needs
    "/accounts/": "sys.accounts",
    "/accounts/new": "sys.accounts.edit",
    "/roles/": "sys.roles",
    "/roles/new": "sys.roles.edit",
    "/audit/": "sys.audit",
    "/audit/export": "sys.audit.export",
    "/locklist/": "sys.locklist",
    "/locklist/export": "sys.locklist",
    "/leaks/": "sys.locklist",
    "/handovers/": "sys.handover",
    "/institution/departments": "org.dept",
    "/institution/posts": "org.post",
    "/personnel/staff/": "hr.staff",
    "/personnel/tags/": "hr.tags",
    "/stats/common": "stats.common",
    "/admin/standard-posts": "sys.standard_posts",
    "/admin/quotas": "sys.orgs",
}


class SidebarLinks(HTMLParser):
    """The texts of the ``<a>`` elements inside ``<nav class="sidebar">``."""

    def __init__(self):
        super().__init__()
        self.depth = 0          # open elements inside the sidebar nav
        self.in_link = False
        self.found = False
        self.links = []

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += tag not in ("input", "br", "img", "meta", "link")
            if tag == "a":
                self.in_link = True
                self.links.append("")
        elif tag == "nav" and "sidebar" in (dict(attrs).get("class") or "").split():
            self.depth, self.found = 1, True

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1
            if tag == "a":
                self.in_link = False

    def handle_data(self, data):
        if self.in_link:
            self.links[-1] += data.strip()


def sidebar(html):
    """Menu labels in order, or None when the page has no sidebar."""
    parser = SidebarLinks()
    parser.feed(html)
    return parser.links if parser.found else None


def add_user(username, user_type, org_of, role_code):
    actor = Session().scalars(select(User).where(User.username == "sysadmin01")).one()
    org_id = Session().scalars(select(User.org_id).where(User.username == org_of)).one()
    role_id = Session().scalars(select(Role.id).where(Role.code == role_code)).one()
    user, _ = accounts.create_user(actor, user_type=user_type, org_id=org_id, display_name=username,
                                   username=username, role_ids=[role_id])
    auth.set_password(user, DEMO_PASSWORD)
    user.real_name_verified = True
    Session.commit()


def login(client, username):
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 303
    return response


def bearer(client, username):
    response = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200
    return {"Authorization": f"Bearer {response.json['token']}"}


# --- the menu follows the role ---------------------------------------------------------------------------

MASTER_PAGES = {"sys.accounts", "sys.accounts.edit", "sys.roles", "sys.roles.edit", "org.dept", "org.post", "hr.staff",
                "hr.tags", "stats.common"}
ACCOUNTS = {  # username: (menu, function points of the pages in PAGES it may open)
    "sysadmin01": (SYSADMIN_MENU, set(PAGES.values())),
    "hbadmin01": (ADMIN_MENU, set(PAGES.values())),
    "whadmin01": (ADMIN_MENU, set(PAGES.values())),
    "jaadmin01": (ADMIN_MENU, set(PAGES.values())),
    "wcadmin01": (ADMIN_MENU, set(PAGES.values())),
    "jahosp001": (MASTER_MENU, MASTER_PAGES),
    "wchosp001": (MASTER_MENU, MASTER_PAGES),
    "jaleader01": (["工作台", "常用统计", "常用报表", *APPROVAL], {"stats.common"}),
    # accounts of the default roles that the demo lacks
    "jabj00001": (["工作台", "人员信息查询", "常用统计", "常用报表", *APPROVAL, "系统日志"], {"sys.audit", "stats.common"}),
    "jabj00002": (["工作台", "人员信息查询", "常用统计", "常用报表", "我的申请", "报告账号泄露", "权限变更申请", "用户申请"],
                  {"stats.common"}),
    "jazb00001": (["工作台", "机构信息维护", "人员信息管理", "试用期填报", "附件批量导入", "人员信息导入管理", "员工离职", "我的申请",
                   "报告账号泄露", "权限变更申请", "用户申请"], {"hr.staff"}),
}
EXTRA = [("jabj00001", UserType.SAME_LEVEL_1, "jaadmin01", "same_level_1"),
         ("jabj00002", UserType.SAME_LEVEL_2, "jaadmin01", "same_level_2"),
         ("jazb00001", UserType.DIRECT_REPORT, "jahosp001", "direct_report")]


@pytest.fixture
def usable(ready):
    ready("sysadmin01", "hbadmin01", "whadmin01", "jaadmin01", "wcadmin01", "jahosp001", "wchosp001",
          "jaleader01", verified=True)
    for spec in EXTRA:
        add_user(*spec)


@pytest.mark.parametrize("username", ACCOUNTS)
def test_menu_shows_exactly_what_the_role_allows(client, usable, username):
    login(client, username)
    response = client.get("/")
    assert response.status_code == 200
    assert sidebar(response.get_data(as_text=True)) == ACCOUNTS[username][0]


@pytest.mark.parametrize("username", ACCOUNTS)
def test_hidden_pages_are_refused_when_requested_directly(client, usable, username):
    login(client, username)
    allowed = ACCOUNTS[username][1]
    for path, code in PAGES.items():
        assert client.get(path).status_code == (200 if code in allowed else 403), path


@pytest.mark.parametrize("username", ACCOUNTS)
def test_menu_links_open(client, usable, username):
    """Every menu entry leads to a page the account may open, marked active there."""
    login(client, username)
    home = client.get("/").get_data(as_text=True)
    hrefs = [href for href in _hrefs(home) if href != "/"]
    assert len(hrefs) == len(ACCOUNTS[username][0]) - 1
    for href in hrefs:
        page = client.get(href)
        assert page.status_code == 200, href
        assert f'href="{href}" class="active"' in page.get_data(as_text=True)


def _hrefs(html):
    start = html.index('<nav class="sidebar"')
    nav = html[start:html.index("</nav>", start)]
    return [part.split('"', 1)[0] for part in nav.split('href="')[1:]]


# --- real-name gate ----------------------------------------------------------------------------------------

@pytest.fixture
def unverified(ready):
    ready("jahosp001")   # password changed, real name not verified


@pytest.mark.parametrize("path", ["/", "/accounts/", "/accounts/new", "/roles/", "/roles/new", "/audit/"])
def test_unverified_master_is_sent_to_realname(client, unverified, path):
    login(client, "jahosp001")
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/realname"


def test_realname_page_has_no_menu(client, unverified):
    login(client, "jahosp001")
    page = client.get("/realname")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="real-name-required"' in html
    assert sidebar(html) is None


@pytest.mark.parametrize("method, path, body", [
    ("get", "/api/v1/users", None),
    ("get", "/api/v1/users/{self}", None),
    ("post", "/api/v1/users", {"user_type": "sub_account", "org_id": 0, "display_name": "子账号"}),
    ("patch", "/api/v1/users/{self}", {"department": "办公室"}),
    ("post", "/api/v1/users/{self}/lock", None),
])
def test_unverified_master_api_calls_need_real_name(client, unverified, users, method, path, body):
    headers = bearer(client, "jahosp001")
    url = path.format(self=users("jahosp001").id)
    response = getattr(client, method)(url, json=body, headers=headers)
    assert response.status_code == 403
    assert response.json["error"] == "real_name_required"


def test_unverified_master_may_still_use_me_password_and_logout(client, unverified):
    headers = bearer(client, "jahosp001")
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert (me.json["username"], me.json["real_name_verified"]) == ("jahosp001", False)
    wrong = client.post("/api/v1/me/password", json={"current_password": "Wrong@pass9", "new_password": NEW_PASSWORD},
                        headers=headers)
    assert wrong.status_code == 422 and wrong.json["error"] == "invalid_current_password"
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


# --- forced password change ------------------------------------------------------------------------------

@pytest.fixture(params=["initial", "reset", "expired"])
def must_change(request, ready, users):
    """jaadmin01 (real-name verified) with a pending password change for each reason."""
    ready("jaadmin01")
    users("jaadmin01").password_change_reason = request.param
    Session.commit()
    return "jaadmin01"


@pytest.mark.parametrize("path", ["/", "/accounts/", "/accounts/new", "/roles/", "/roles/1", "/audit/",
                                  "/audit/export", "/realname"])
def test_forced_change_redirects_every_page_to_password(client, must_change, path):
    login(client, must_change)
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/password"


def test_forced_change_comes_before_real_name(client):
    """The demo master account has both gates pending: the password comes first."""
    login(client, "jahosp001")
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/password"


def test_password_page_opens_without_menu(client, must_change):
    login(client, must_change)
    page = client.get("/password")
    assert page.status_code == 200
    assert sidebar(page.get_data(as_text=True)) is None


@pytest.mark.parametrize("method, path", [
    ("get", "/api/v1/me"),
    ("get", "/api/v1/users"),
    ("get", "/api/v1/users/{self}"),
    ("post", "/api/v1/users"),
    ("post", "/api/v1/users/{self}/unlock"),
    ("post", "/api/v1/users/{self}/reset-password"),
    ("delete", "/api/v1/users/{self}"),
])
def test_forced_change_blocks_the_api(client, must_change, users, method, path):
    headers = bearer(client, must_change)
    response = getattr(client, method)(path.format(self=users(must_change).id), json={}, headers=headers)
    assert response.status_code == 403
    assert response.json["error"] == "password_change_required"


def test_forced_change_allows_changing_the_password_then_everything(client, must_change):
    headers = bearer(client, must_change)
    changed = client.post("/api/v1/me/password",
                          json={"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD}, headers=headers)
    assert changed.status_code == 204
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200 and me.json["must_change_password"] is False
    assert client.get("/api/v1/users", headers=headers).status_code == 200


def test_forced_change_allows_logout(client, must_change):
    headers = bearer(client, must_change)
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401
