"""The account pages (人员账号管理) in the browser: list, create with a one-time password, edit, actions."""
import re

from sqlalchemy import select

from models import Session
from models.accounts import Role, User


def login(client, ready, username):
    ready(username, verified=True)
    client.post("/login", data={"username": username, "password": "Zjrj@-2007"})


def test_list_search_and_filters(client, ready):
    login(client, ready, "whadmin01")
    page = client.get("/accounts/?q=admin").data.decode()
    assert set(re.findall(r'data-username="([^"]+)"', page)) == {"whadmin01", "jaadmin01", "wcadmin01"}
    page = client.get("/accounts/?user_type=master").data.decode()
    assert set(re.findall(r'data-username="([^"]+)"', page)) == {"jahosp001", "wchosp001"}


def test_master_creates_sub_account_and_sees_the_password_once(client, ready):
    login(client, ready, "jahosp001")
    form = client.get("/accounts/new").data.decode()
    assert '<option value="sub_account">机构子账号</option>' in form and 'value="business_admin"' not in form
    role = Session().scalars(select(Role).where(Role.code == "direct_report")).one()
    master = Session().scalars(select(User).where(User.username == "jahosp001")).one()
    response = client.post("/accounts/new", data={
        "user_type": "sub_account", "org_id": master.org_id, "display_name": "药品管理部",
        "username": "xyyyypglb", "phone": "13800138000", "roles": [role.id]})
    page = response.data.decode()
    assert response.status_code == 200 and "xyyyypglb" in page
    password = re.search(r'id="one-time-password" class="secret">([^<]+)<', page).group(1)
    assert response.headers["Cache-Control"] == "no-store"
    user = Session().scalars(select(User).where(User.username == "xyyyypglb")).one()
    assert [r.code for r in user.roles] == ["direct_report"] and user.must_change_password
    assert password not in client.get(f"/accounts/{user.id}").data.decode()


def test_create_form_errors_are_shown_on_the_fields(client, ready):
    login(client, ready, "jahosp001")
    master = Session().scalars(select(User).where(User.username == "jahosp001")).one()
    response = client.post("/accounts/new", data={"user_type": "sub_account", "org_id": master.org_id,
                                                   "display_name": "x", "username": "short", "phone": "123"})
    page = response.data.decode()
    assert "账号必须以字母开头" in page and "手机号码" in page
    assert Session().scalars(select(User).where(User.username == "short")).first() is None


def test_edit_lock_unlock_reset_delete(client, ready):
    login(client, ready, "jaadmin01")
    target = Session().scalars(select(User).where(User.username == "jahosp001")).one()
    url = f"/accounts/{target.id}"
    assert "解锁" not in client.get(url).data.decode()
    assert client.post(url, data={"phone": "13800138000", "department": "院办"}).status_code == 303
    assert client.post(f"{url}/lock").status_code == 303
    assert "管理员锁定" in client.get(url).data.decode()
    assert client.post(f"{url}/unlock").status_code == 303
    reset = client.post(f"{url}/reset-password").data.decode()
    assert 'id="one-time-password"' in reset
    assert client.post(f"{url}/delete").status_code == 303
    assert client.get(url).status_code == 404
    user = Session().get(User, target.id)
    assert (user.phone, user.department, user.status) == ("13800138000", "院办", "deleted")


def test_actions_outside_the_jurisdiction_are_refused(client, ready):
    login(client, ready, "jaadmin01")
    other_id = Session().scalars(select(User.id).where(User.username == "wchosp001")).one()
    assert client.get(f"/accounts/{other_id}").status_code == 404
    assert client.post(f"/accounts/{other_id}/unlock").status_code == 403
