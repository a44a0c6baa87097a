"""The institution-data pages over HTTP: 机构信息维护 (基本信息/机构信息, 分院, 附件), 部门管理, 机构岗位管理 with 映射管理,
机构编制管理, and the business admins' 标准岗位维护 and 编制分配 — menus, status codes, Chinese messages on refusal,
and scoping (other institutions' records 404, pages without the function point 403)."""
import io
import re

import pytest
from sqlalchemy import select

from models import Session
from models.orgs import Department, Organization, OrgAttachment, Post, StandardPost
from tests.conftest import DEMO_PASSWORD

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture
def login(app, ready):
    ready("jahosp001", "wchosp001", "jaadmin01", "wcadmin01", "whadmin01", "jaleader01", verified=True)

    def make(username):
        client = app.test_client()
        response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 303
        return client
    return make


def text(response):
    return response.get_data(as_text=True)


def dept(name, org_name="测试医院"):
    return Session().scalars(select(Department).join(Organization).where(
        Organization.name == org_name, Department.name == name)).one()


def follow(client, response):
    assert response.status_code == 303, text(response)
    return client.get(response.headers["Location"])


def menu_labels(client):
    page = text(client.get("/"))
    nav = page[page.index('aria-label="主菜单"'):page.index("</nav>")]
    return re.findall(r">([^<>]+?)(?: <span|</a>)", nav)


def test_menus(login):
    hospital = menu_labels(login("jahosp001"))
    assert {"部门管理", "机构岗位管理", "机构编制管理"} <= set(hospital)
    assert not {"标准岗位维护", "编制分配"} & set(hospital)
    admin = menu_labels(login("jaadmin01"))
    assert {"标准岗位维护", "编制分配"} <= set(admin)


@pytest.mark.parametrize("path", ["/institution/departments", "/institution/posts", "/institution/quotas"])
def test_institution_pages_need_their_function_point(login, path):
    assert login("jahosp001").get(path).status_code == 200
    assert login("jaleader01").get(path).status_code == 403


@pytest.mark.parametrize("path", ["/admin/standard-posts", "/admin/quotas"])
def test_admin_pages_refused_to_institutions(login, path):
    assert login("jahosp001").get(path).status_code == 403
    assert login("jaadmin01").get(path).status_code == 200


# --- 机构信息维护 ---------------------------------------------------------------------------------------------------

def test_institution_page_shows_editable_sections_and_no_pending_note(login):
    page = text(login("jahosp001").get("/institution/"))
    for heading in ("主体信息", "基本信息", "机构信息", "分院信息", "附件信息", "机构信息修改"):
        assert heading in page
    assert "尚未开放" not in page


def test_profile_saved_and_refused_with_field_messages(login):
    client = login("jahosp001")
    assert client.get("/institution/profile").status_code == 200
    bad = client.post("/institution/profile", data={"longitude": "200", "postal_code": "4300", "grade": "特级"})
    assert bad.status_code == 422
    for message in ("须在 -180 到 180 之间", "邮政编码须为6位数字", "不是“医院等级”的可选值"):
        assert message in text(bad)
    good = client.post("/institution/profile", data={"address": "解放大道1号", "longitude": "114.305539",
                                                     "latitude": "30.593099", "postal_code": "430010",
                                                     "ownership": "国有", "beds": "300"})
    page = text(follow(client, good))
    assert "机构信息已保存" in page and "解放大道1号" in page and "114.305539, 30.593099" in page


def test_branches_add_edit_delete_and_foreign_404(login):
    client = login("jahosp001")
    response = client.post("/institution/branches/new", data={"name": "东院区", "beds": "50"})
    assert "东院区" in text(follow(client, response))
    assert client.post("/institution/branches/new", data={"name": ""}).status_code == 422
    branch_id = int(re.search(r"/institution/branches/(\d+)/edit", text(client.get("/institution/"))).group(1))
    assert login("wchosp001").get(f"/institution/branches/{branch_id}/edit").status_code == 404
    response = client.post(f"/institution/branches/{branch_id}/edit", data={"name": "东院"})
    assert "分院已修改" in text(follow(client, response))
    response = client.post(f"/institution/branches/{branch_id}/delete")
    assert "分院已删除" in text(follow(client, response))


def test_attachments_upload_download_scoped_and_deleted(login):
    client = login("jahosp001")
    response = client.post("/institution/attachments", content_type="multipart/form-data",
                           data={"kind": "医疗机构执业许可证", "file": (io.BytesIO(PDF), "许可证.pdf")})
    assert "附件已上传" in text(follow(client, response))
    row = Session().scalars(select(OrgAttachment)).one()
    download = client.get(f"/institution/attachments/{row.id}")
    assert download.status_code == 200 and download.data == PDF
    download.close()
    supervisor = login("jaadmin01").get(f"/institution/attachments/{row.id}")
    assert supervisor.status_code == 200
    supervisor.close()
    assert login("wchosp001").get(f"/institution/attachments/{row.id}").status_code == 404
    assert login("wcadmin01").get(f"/institution/attachments/{row.id}").status_code == 404
    refused = client.post("/institution/attachments", content_type="multipart/form-data",
                          data={"kind": "其他", "file": (io.BytesIO(b"plain text"), "a.txt")})
    assert "只接受 JPG、PNG 或 PDF 文件" in text(follow(client, refused))
    assert login("wchosp001").post(f"/institution/attachments/{row.id}/delete").status_code == 404
    response = client.post(f"/institution/attachments/{row.id}/delete")
    assert "附件已删除" in text(follow(client, response))


# --- 部门管理 -------------------------------------------------------------------------------------------------------

def test_departments_add_child_and_standard_name_rule(login):
    client = login("jahosp001")
    page = text(client.get("/institution/departments"))
    assert "内科" in page and "初始化部门" not in page           # the institution already has departments
    parent_id = dept("内科").id
    missing = client.post(f"/institution/departments/new?parent={parent_id}",
                          data={"name": "心内科", "category": "科室(部门)", "standard_name": ""})
    assert missing.status_code == 422 and "必须选择科室标准名称" in text(missing)
    response = client.post(f"/institution/departments/new?parent={parent_id}",
                           data={"name": "心内科", "category": "科室(部门)", "standard_name": "内科"})
    assert "部门已新增" in text(follow(client, response))
    assert dept("心内科").parent_id == parent_id
    duplicate = client.post("/institution/departments/new", data={"name": "外科", "category": "职能部门"})
    assert duplicate.status_code == 422 and "同一上级下已有名为“外科”的部门" in text(duplicate)


def test_department_deletion_refused_with_staff_count(login):
    client = login("jahosp001")
    surgery_id = dept("外科").id
    response = client.post(f"/institution/departments/{surgery_id}/delete",
                           headers={"Referer": "http://localhost/institution/departments"})
    page = text(follow(client, response))
    assert "该部门下还有 1 名在职人员，请先在人员信息中将其调整到其他部门后再删除" in page
    assert Session.get(Department, surgery_id) is not None


def test_department_init_and_foreign_department_404(login):
    assert login("jahosp001").post("/institution/departments/init").status_code == 303   # refused: flash
    other = dept("内科", "武昌测试医院")
    client = login("jahosp001")
    assert client.get(f"/institution/departments/{other.id}/edit").status_code == 404
    assert client.post(f"/institution/departments/{other.id}/delete").status_code == 404
    assert len(Session.scalars(select(Department).where(Department.org_id == dept("内科").org_id)).all()) == 3


# --- 机构岗位管理 ---------------------------------------------------------------------------------------------------

def test_posts_create_map_and_refused_delete(login):
    client = login("jahosp001")
    response = client.post("/institution/posts/new", data={"name": "主治医师岗"})
    assert "岗位已新增" in text(follow(client, response))
    post = Session().scalars(select(Post).where(Post.name == "主治医师岗")).one()
    post_id, org_id = post.id, post.org_id
    mapping = text(client.get(f"/institution/posts/{post_id}/mapping"))
    assert "临床医师" in mapping and "全国" in mapping
    standard = Session().scalars(select(StandardPost).where(StandardPost.name == "临床医师",
                                                            StandardPost.region_code.is_(None))).one().id
    response = client.post(f"/institution/posts/{post_id}/mapping", data={"standard_post_id": str(standard)})
    assert "岗位映射已保存" in text(follow(client, response))
    assert Session.get(Post, post_id).standard_post_id == standard
    doctor = Session().scalars(select(Post).where(Post.name == "医师", Post.org_id == org_id)).one()
    response = client.post(f"/institution/posts/{doctor.id}/delete",
                           headers={"Referer": "http://localhost/institution/posts"})
    assert "该岗位还有 1 名在职人员" in text(follow(client, response))
    assert login("wchosp001").get(f"/institution/posts/{post_id}/mapping").status_code == 404


def test_standard_posts_by_admin(login):
    admin = login("jaadmin01")
    response = admin.post("/admin/standard-posts/new", data={"name": "江岸家庭医生", "category": "卫生技术人员"})
    assert "江岸家庭医生" in text(follow(admin, response))
    created = Session().scalars(select(StandardPost).where(StandardPost.name == "江岸家庭医生")).one()
    assert created.region_code == "420102"
    created_id = created.id
    assert admin.post("/admin/standard-posts/new", data={"name": "", "category": ""}).status_code == 422
    assert login("wcadmin01").get(f"/admin/standard-posts/{created_id}/edit").status_code == 404
    nurse = Session().scalars(select(Post).join(Organization).where(Post.name == "护士",
                                                                    Organization.name == "测试医院")).one().id
    assert f'value="{created_id}"' in text(login("jahosp001").get(f"/institution/posts/{nurse}/mapping"))
    assert f'value="{created_id}"' not in text(login("wchosp001").get(
        f"/institution/posts/{Session().scalars(select(Post).join(Organization).where(Post.name == '护士', Organization.name == '武昌测试医院')).one().id}/mapping"))


# --- 编制 --------------------------------------------------------------------------------------------------------

def test_quota_distribution_page(login):
    client = login("jahosp001")
    page = text(client.get("/institution/quotas"))
    assert "核定编制" in page and ">120<" in page and ">75<" in page
    internal, surgery = dept("内科"), dept("外科")
    over = client.post("/institution/quotas", data={f"quota-{internal.id}": "90", f"quota-{surgery.id}": "30"})
    assert over.status_code == 422 and "各科室编制合计 125 超过本机构核定编制 120" in text(over)
    negative = client.post("/institution/quotas", data={f"quota-{internal.id}": "-3"})
    assert negative.status_code == 422 and "不能小于 0" in text(negative)
    response = client.post("/institution/quotas", data={f"quota-{internal.id}": "85"})
    assert "科室编制已保存" in text(follow(client, response))
    assert dept("内科").quota == 85
    other = dept("内科", "武昌测试医院")
    assert client.post("/institution/quotas", data={f"quota-{other.id}": "1"}).status_code == 404


def test_quota_allocation_by_admins(login):
    admin = login("jaadmin01")
    page = text(admin.get("/admin/quotas"))
    assert "测试医院" in page and "武昌测试医院" not in page
    hospital = dept("内科").org_id
    below = admin.post(f"/admin/quotas/{hospital}", data={"quota": "60"})
    assert below.status_code == 422 and "已分配到科室的编制为 75，核定编制数不能少于 75" in text(below)
    response = admin.post(f"/admin/quotas/{hospital}", data={"quota": "150"})
    assert "编制已分配" in text(follow(admin, response))
    assert Session.get(Organization, hospital).quota == 150
    other = dept("内科", "武昌测试医院").org_id
    assert admin.get(f"/admin/quotas/{other}").status_code == 404
    city = login("whadmin01")
    response = city.post(f"/admin/quotas/{other}", data={"quota": "40"})
    assert response.status_code == 303 and Session.get(Organization, other).quota == 40


# --- JSON API ----------------------------------------------------------------------------------------------------

@pytest.fixture
def api(client, ready, api_login):
    ready("jahosp001", "wchosp001", "jaadmin01", verified=True)

    def call(username, method, path, body=None):
        return client.open(f"/api/v1{path}", method=method, json=body, headers=api_login(username))
    return call


def test_api_profile_and_branches(api):
    response = api("jahosp001", "PUT", "/institution/profile", {"longitude": 114.305539, "latitude": "30.593099",
                                                                 "beds": 300, "postal_code": "430010"})
    assert response.status_code == 200, response.json
    assert response.json["profile"]["longitude"] == "114.305539" and response.json["profile"]["beds"] == 300
    bad = api("jahosp001", "PUT", "/institution/profile", {"postal_code": "abc", "beds": -1})
    assert bad.status_code == 422 and set(bad.json["fields"]) == {"postal_code", "beds"}
    created = api("jahosp001", "POST", "/institution/branches", {"name": "西院区"})
    assert created.status_code == 201
    assert api("wchosp001", "DELETE", f"/institution/branches/{created.json['id']}").status_code == 404
    shown = api("jahosp001", "GET", "/institution").json
    assert shown["branches"][0]["name"] == "西院区" and shown["profile"]["postal_code"] == "430010"


def test_api_departments_posts_and_quotas(api):
    items = api("jahosp001", "GET", "/departments").json["items"]
    internal = next(d for d in items if d["name"] == "内科")
    assert (internal["active_staff"], internal["quota"], internal["standard_name"]) == (1, 40, "内科")
    refused = api("jahosp001", "DELETE", f"/departments/{internal['id']}")
    assert refused.status_code == 409 and refused.json["error"] == "department_has_staff"
    assert "1 名在职人员" in refused.json["message"]
    assert api("jahosp001", "POST", "/departments/init").status_code == 409
    child = api("jahosp001", "POST", "/departments", {"name": "呼吸科", "category": "科室(部门)",
                                                      "standard_name": "内科", "parent_id": internal["id"]})
    assert child.status_code == 201 and child.json["parent_id"] == internal["id"]
    missing = api("jahosp001", "POST", "/departments", {"name": "康复科", "category": "科室(部门)"})
    assert missing.status_code == 422 and "standard_name" in missing.json["fields"]
    assert api("jahosp001", "DELETE", f"/departments/{child.json['id']}").status_code == 200

    post = api("jahosp001", "POST", "/posts", {"name": "技师"}).json
    candidates = api("jahosp001", "GET", f"/posts/{post['id']}/mapping").json["candidates"]
    technician = next(c for c in candidates if c["name"] == "检验技师")
    mapped = api("jahosp001", "PUT", f"/posts/{post['id']}/mapping", {"standard_post_id": technician["id"]})
    assert mapped.json["standard_post"]["name"] == "检验技师"

    quota = api("jahosp001", "GET", "/quotas").json
    assert (quota["allocated"], quota["distributed"]) == (120, 75)
    over = api("jahosp001", "PUT", "/quotas", {"departments": {str(internal["id"]): 100}})
    assert over.status_code == 422 and "超过本机构核定编制 120" in over.json["message"]
    saved = api("jahosp001", "PUT", "/quotas", {"departments": {str(internal["id"]): 50}})
    assert saved.status_code == 200 and saved.json["distributed"] == 85


def test_api_admin_allocation_and_standard_posts(api):
    rows = api("jaadmin01", "GET", "/quota-allocations").json["items"]
    hospital = next(r for r in rows if r["org"]["name"] == "测试医院")
    below = api("jaadmin01", "PUT", f"/quota-allocations/{hospital['org']['id']}", {"quota": 10})
    assert below.status_code == 422 and "不能少于 75" in below.json["fields"]["quota"][0]
    assert api("jaadmin01", "PUT", f"/quota-allocations/{hospital['org']['id']}", {"quota": 90}).json["allocated"] == 90
    assert api("jahosp001", "GET", "/quota-allocations").status_code == 403
    created = api("jaadmin01", "POST", "/standard-posts", {"name": "江岸社区护士", "category": "卫生技术人员"})
    assert created.status_code == 201 and created.json["region_code"] == "420102"
    assert api("jahosp001", "POST", "/standard-posts", {"name": "x", "category": "管理人员"}).status_code == 403
    listed = api("jaadmin01", "GET", "/standard-posts").json
    assert [s["name"] for s in listed["items"]] == ["江岸社区护士"] and listed["inherited"]
    assert api("jaadmin01", "DELETE", f"/standard-posts/{created.json['id']}").status_code == 200


def test_api_documented(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in ("/departments", "/departments/{dept_id}", "/posts/{post_id}/mapping", "/quotas",
                 "/quota-allocations/{org_id}",
                 "/standard-posts", "/institution/profile", "/institution/branches"):
        assert path in paths
