"""The notifications page, the unread count in the top bar, opening (same-site links only) and marking read;
the password-expiry warning in the inbox; the monthly permission check reached from its notification."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import Session, utcnow
from models.accounts import User
from models.scheduling import Notification
from models.workflow import HumanTask
from tests.conftest import DEMO_PASSWORD
from workflows import maintenance, notifications


def account(username):
    return Session().scalars(select(User).where(User.username == username)).one()


def login(client, ready, username):
    ready(username, verified=True)
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 303
    return Session().scalars(select(User).where(User.username == username)).one()


def send(user, title="测试消息", link=None, body=None):
    note = notifications.notify(user, "test", title, body=body, link=link)
    Session.commit()
    return note


def unread_badge(html):
    match = re.search(r'id="unread-count">(\d+)<', html)
    return int(match.group(1)) if match else 0


def rows(html):
    return re.findall(r'<tr data-notification="(\d+)"( class="unread")?>', html)


def test_top_bar_counts_unread_messages_and_links_to_the_page(client, ready):
    user = login(client, ready, "jaadmin01")
    home = client.get("/").get_data(as_text=True)
    assert 'id="notifications-link"' in home and unread_badge(home) == 0
    send(user, "第一条")
    send(user, "第二条")
    send(account("wcadmin01"), "别人的")
    home = client.get("/").get_data(as_text=True)
    assert unread_badge(home) == 2 and 'href="/notifications/"' in home


def test_list_shows_own_messages_newest_first_with_unread_highlighted(client, ready):
    user = login(client, ready, "jaadmin01")
    first = send(user, "旧消息", body="正文<script>")
    second = send(user, "新消息")
    Session().get(Notification, first.id).read_at = utcnow()
    Session.commit()
    send(account("wcadmin01"), "别人的消息")
    page = client.get("/notifications/").get_data(as_text=True)
    assert rows(page) == [(str(second.id), ' class="unread"'), (str(first.id), "")]
    assert "别人的消息" not in page and "正文&lt;script&gt;" in page
    assert 'id="unread-total">1<' in page and "全部标为已读" in page


def test_list_pages(client, ready):
    user = login(client, ready, "jaadmin01")
    for n in range(25):
        notifications.notify(user, "test", f"消息{n}")
    Session.commit()
    assert len(rows(client.get("/notifications/").get_data(as_text=True))) == 20
    second = client.get("/notifications/?page=2").get_data(as_text=True)
    assert len(rows(second)) == 5 and "第 2 / 2 页" in second


def test_opening_marks_read_and_follows_a_same_site_link(client, ready):
    user = login(client, ready, "jaadmin01")
    note = send(user, "去处理", link="/inbox/?view=assigned")
    other = send(user, "另一条")
    response = client.post(f"/notifications/{note.id}/open")
    assert response.status_code == 303 and response.headers["Location"] == "/inbox/?view=assigned"
    assert Session().get(Notification, note.id).read_at is not None
    assert Session().get(Notification, other.id).read_at is None
    assert unread_badge(client.get("/").get_data(as_text=True)) == 1
    plain = client.post(f"/notifications/{other.id}/open")   # no link: back to the list
    assert plain.headers["Location"] == "/notifications/"


@pytest.mark.parametrize("link", [
    "https://evil.example/x", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "http:/evil.example",
    "/ok\r\nLocation: //evil.example", "evil.example"])
def test_opening_never_leaves_the_site(client, ready, link):
    user = login(client, ready, "jaadmin01")
    note = send(user, "可疑链接", link=link)
    response = client.post(f"/notifications/{note.id}/open")
    assert response.status_code == 303 and response.headers["Location"] == "/notifications/"
    assert Session().get(Notification, note.id).read_at is not None


def test_someone_elses_message_is_not_found(client, ready):
    login(client, ready, "jaadmin01")
    theirs = send(account("wcadmin01"), "别人的", link="/x").id
    assert client.post(f"/notifications/{theirs}/open").status_code == 404
    assert client.post("/notifications/999999/open").status_code == 404
    assert Session().get(Notification, theirs).read_at is None


def test_opening_and_marking_need_post(client, ready):
    user = login(client, ready, "jaadmin01")
    note = send(user, "消息", link="/")
    assert client.get(f"/notifications/{note.id}/open").status_code == 405
    assert client.get("/notifications/read-all").status_code == 405
    assert Session().get(Notification, note.id).read_at is None


def test_mark_all_read(client, ready):
    user = login(client, ready, "jaadmin01")
    for n in range(3):
        send(user, f"消息{n}")
    theirs = send(account("wcadmin01"), "别人的")
    response = client.post("/notifications/read-all")
    assert response.status_code == 303 and response.headers["Location"] == "/notifications/"
    page = client.get("/notifications/").get_data(as_text=True)
    assert "已将 3 条消息标为已读" in page and all(cls == "" for _, cls in rows(page))
    assert unread_badge(page) == 0 and "全部标为已读" not in page
    assert Session().get(Notification, theirs.id).read_at is None


def test_the_page_needs_a_login(client):
    response = client.get("/notifications/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_no_count_while_a_gate_is_active(client, ready):
    user = login(client, ready, "jaadmin01")
    send(user, "消息")
    user.password_change_reason = "expired"
    Session.commit()
    page = client.get("/password").get_data(as_text=True)
    assert 'id="notifications-link"' not in page
    assert client.get("/notifications/").status_code == 302   # the gate sends the user to change its password
    master = login(client, ready, "jahosp001")
    master.real_name_verified = False
    Session.commit()
    assert 'id="notifications-link"' not in client.get("/realname").get_data(as_text=True)


def test_inbox_warns_in_the_last_days_before_the_password_expires(client, ready):
    user = login(client, ready, "jaadmin01")
    user.password_changed_at = utcnow() - timedelta(days=24)
    Session.commit()
    page = client.get("/inbox/").get_data(as_text=True)
    assert 'id="password-expiry-warning"' in page and "您的密码将在 5 天后过期" in page
    account("jaadmin01").password_changed_at = utcnow() - timedelta(days=20)
    Session.commit()
    assert 'id="password-expiry-warning"' not in client.get("/inbox/").get_data(as_text=True)


def test_monthly_check_reached_from_its_notification(client, ready):
    admin = login(client, ready, "jaadmin01")
    assert maintenance.monthly_permission_check(utcnow()) == 4
    Session.commit()
    [note] = Session().scalars(select(Notification).where(Notification.user_id == admin.id,
                                                          Notification.kind == "permission_check")).all()
    task_url = client.post(f"/notifications/{note.id}/open").headers["Location"]
    assert re.fullmatch(r"/tasks/\d+", task_url)
    page = client.get(task_url).get_data(as_text=True)
    assert 'id="users-snapshot"' in page and '<tr data-username="jahosp001">' in page
    assert "wchosp001" not in page and "已核对本辖区用户及其角色" in page
    assert "核查用户权限" in client.get("/inbox/").get_data(as_text=True)
    refused = client.post(task_url, data={"corrections": "无"})
    assert refused.status_code == 422 and "请勾选“已核对本辖区用户及其角色”" in refused.get_data(as_text=True)
    done = client.post(task_url, data={"confirmed": "true", "corrections": "无需调整"})
    assert done.status_code == 303
    assert 'id="task-done"' in client.get(task_url).get_data(as_text=True)


def test_other_task_pages_show_no_snapshot(client, ready):
    login(client, ready, "jahosp001")
    response = client.post("/processes/generic_request/start", data={"title": "测试申请", "description": "说明"})
    assert response.status_code == 303
    task = Session().scalars(select(HumanTask).where(HumanTask.process_key == "generic_request")
                             .order_by(HumanTask.id.desc())).first()
    page = client.get(f"/tasks/{task.id}")
    assert page.status_code == 200 and 'id="users-snapshot"' not in page.get_data(as_text=True)
