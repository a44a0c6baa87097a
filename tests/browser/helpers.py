"""Small helpers shared by the browser tests."""
import re

from playwright.sync_api import Page, expect

from models import Session
from models.accounts import User
from tests.conftest import DEMO_PASSWORD


def path_is(path):
    """A URL pattern for ``path`` on the live server, with any query string."""
    return re.compile(r"^https?://[^/]+" + re.escape(path) + r"(\?.*)?$")


def log_in(page: Page, username, password=DEMO_PASSWORD):
    """Log in through the login page; the account must already be past the forced password change."""
    page.goto("/login")
    page.get_by_label("账号", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(path_is("/"))
    expect(page.locator("header.topbar .user-name")).to_contain_text(f"（{username}）")


def menu(page: Page):
    return page.get_by_role("navigation", name="主菜单")


def ready_accounts(app, *usernames):
    """Mark demo accounts of the live database verified and past the forced password change."""
    with app.app_context():
        for account in Session().query(User).filter(User.username.in_(usernames)):
            account.real_name_verified = True
            account.password_change_reason = None
        Session.commit()
        Session.remove()
