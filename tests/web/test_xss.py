"""Script payloads typed into free-text fields (names, titles, descriptions, opinions, reasons) come back as
text on every page that shows them: escaped, never as markup."""
import pytest
from sqlalchemy import select

from models import Session
from models.accounts import UserType
from models.workflow import HumanTask
from workflows import accounts, processes

PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"


def assert_escaped(html):
    assert PAYLOAD not in html and "<script>alert" not in html and "<img src=x" not in html
    assert ESCAPED in html


@pytest.fixture
def world(ready, users):
    ready("jahosp001", "jaadmin01", verified=True)
    hospital, admin = users("jahosp001"), users("jaadmin01")
    instance = processes.start_instance(hospital, "generic_request", {"title": "申请" + PAYLOAD,
                                                                      "description": PAYLOAD})
    task = Session().scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                     HumanTask.state == "ready")).one()
    processes.complete_task(admin, task.id, {"decision": "reject", "comment": PAYLOAD})
    user, _ = accounts.create_user(admin, user_type=UserType.DIRECT_REPORT, org_id=hospital.org_id,
                                   display_name=PAYLOAD[:60], username="xsstest01")
    Session.commit()
    return instance, user


def test_titles_descriptions_and_opinions_on_the_instance_page(client, world, browser_login):
    instance, _ = world
    browser_login("jahosp001")
    html = client.get(f"/instances/{instance.id}").get_data(as_text=True)
    assert_escaped(html)
    assert html.count(ESCAPED) >= 2        # the reviewer's opinion and the submitted description


def test_titles_in_the_inbox_and_names_in_the_account_list_and_audit_log(client, world, browser_login):
    _, user = world
    browser_login("jahosp001")
    assert_escaped(client.get("/inbox/?view=requests").get_data(as_text=True))
    client.post("/logout")
    browser_login("jaadmin01")
    assert ESCAPED[:40] in client.get("/accounts/", query_string={"q": "xsstest01"}).get_data(as_text=True)
    page = client.get(f"/accounts/{user.id}").get_data(as_text=True)
    assert "<script>alert" not in page and ESCAPED[:40] in page
    audit = client.get("/audit/").get_data(as_text=True)
    assert "<script>alert" not in audit


def test_no_template_marks_text_as_safe_except_the_server_rendered_diagram():
    """Every page escapes what it prints: the one exception is the SVG the diagram module builds with lxml
    (which escapes all text itself)."""
    import pathlib
    import re
    root = pathlib.Path(__file__).resolve().parents[2] / "web" / "templates"
    found = {str(p.relative_to(root)): m.group(0) for p in root.rglob("*.html")
             for m in re.finditer(r"\|\s*safe\b|autoescape\s+false|Markup\(", p.read_text(encoding="utf-8"))}
    assert found == {"workflow/instance.html": "| safe"}
    sources = pathlib.Path(__file__).resolve().parents[2]
    python = [str(p.relative_to(sources)) for folder in ("web", "workflows") for p in (sources / folder).rglob("*.py")
              if re.search(r"\bMarkup\(|render_template_string\(", p.read_text(encoding="utf-8"))]
    assert python == []
