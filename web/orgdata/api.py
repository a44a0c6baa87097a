"""The JSON API of the institution data (bearer tokens, as the rest of ``/api/v1``): the same services as the
pages, with the same rules and Chinese messages (``fields`` per field on 422, 409 for the refusals with counts).

- ``/departments`` (GET, POST; ``/departments/init`` POST; ``/departments/{id}`` PUT, DELETE)
- ``/posts`` (GET, POST; ``/posts/{id}`` PUT, DELETE; ``/posts/{id}/mapping`` GET candidates, PUT)
- ``/quotas`` (GET, PUT ``{"departments": {id: quota}}``) — the institution's distribution
- ``/standard-posts`` (GET, POST; ``/standard-posts/{id}`` PUT, DELETE) — business admins
- ``/quota-allocations`` (GET; ``/quota-allocations/{org_id}`` PUT ``{"quota": n}``) — business admins
"""
from flask import Blueprint, g, jsonify, request

from models import Session
from web.api import authenticate, json_body, openapi
from web.security import requires
from workflows import departments, posts, quotas
from workflows.errors import InvalidInput

api = Blueprint("orgdata_api", __name__, url_prefix="/api/v1")
api.before_request(authenticate)


def _done(body, status=200):
    Session.commit()
    return jsonify(body), status


def _dept(d, staff=0):
    return {"id": d.id, "parent_id": d.parent_id, "name": d.name, "category": d.category,
            "standard_name": d.standard_name, "sort": d.sort, "quota": d.quota, "active_staff": staff}


def _standard(s, mapped=None):
    body = {"id": s.id, "name": s.name, "category": s.category, "region_code": s.region_code, "sort": s.sort}
    return body if mapped is None else {**body, "mapped_posts": mapped}


def _post(p, staff=0):
    return {"id": p.id, "name": p.name, "sort": p.sort, "active_staff": staff,
            "standard_post": _standard(p.standard_post) if p.standard_post else None}


# --- departments ---------------------------------------------------------------------------------------------

@api.get("/departments", endpoint="departments")
@requires(departments.VIEW)
def list_departments():
    view = departments.tree_view(g.actor)
    return jsonify({"items": [{**_dept(r["dept"], r["staff"]), "depth": r["depth"]} for r in view["rows"]]})


@api.post("/departments/init", endpoint="init_departments")
@requires(departments.EDIT)
def init_departments():
    return _done({"created": departments.initialize(g.actor)}, 201)


@api.post("/departments", endpoint="create_department")
@requires(departments.EDIT)
def create_department():
    body = json_body()
    parent = body.get("parent_id")
    if parent is not None and (not isinstance(parent, int) or isinstance(parent, bool)):
        raise InvalidInput("parent_id 须为整数", fields={"parent_id": ["parent_id 须为整数"]})
    return _done(_dept(departments.add(g.actor, body, parent)), 201)


@api.put("/departments/<int:dept_id>", endpoint="update_department")
@requires(departments.EDIT)
def update_department(dept_id):
    return _done(_dept(departments.edit(g.actor, dept_id, json_body())))


@api.delete("/departments/<int:dept_id>", endpoint="delete_department")
@requires(departments.EDIT)
def delete_department(dept_id):
    departments.delete(g.actor, dept_id)
    return _done({"deleted": dept_id})


# --- posts ---------------------------------------------------------------------------------------------------

@api.get("/posts", endpoint="posts")
@requires(posts.VIEW)
def list_posts():
    view = posts.list_view(g.actor)
    return jsonify({"items": [_post(r["post"], r["staff"]) for r in view["rows"]], "has_mapped_post": view["mapped"]})


@api.post("/posts", endpoint="create_post")
@requires(posts.EDIT)
def create_post():
    return _done(_post(posts.create(g.actor, json_body())), 201)


@api.put("/posts/<int:post_id>", endpoint="update_post")
@requires(posts.EDIT)
def update_post(post_id):
    return _done(_post(posts.edit(g.actor, post_id, json_body())))


@api.delete("/posts/<int:post_id>", endpoint="delete_post")
@requires(posts.EDIT)
def delete_post(post_id):
    posts.delete(g.actor, post_id)
    return _done({"deleted": post_id})


@api.get("/posts/<int:post_id>/mapping", endpoint="post_mapping")
@requires(posts.VIEW)
def post_mapping(post_id):
    view = posts.mapping_view(g.actor, post_id)
    return jsonify({"post": _post(view["post"]), "candidates": [_standard(s) for s in view["candidates"]]})


@api.put("/posts/<int:post_id>/mapping", endpoint="map_post")
@requires(posts.EDIT)
def map_post(post_id):
    chosen = json_body().get("standard_post_id")
    if chosen is not None and (not isinstance(chosen, int) or isinstance(chosen, bool)):
        raise InvalidInput("standard_post_id 须为整数或 null", fields={"standard_post_id": ["须为整数或 null"]})
    return _done(_post(posts.map_post(g.actor, post_id, chosen)))


# --- quotas --------------------------------------------------------------------------------------------------

def _quota_view():
    view = quotas.institution_view(g.actor)
    return {"allocated": view["allocated"], "distributed": view["distributed"], "remaining": view["remaining"],
            "departments": [{"id": r["dept"].id, "name": r["dept"].name, "parent_id": r["dept"].parent_id,
                             "quota": r["dept"].quota} for r in view["rows"]]}


@api.get("/quotas", endpoint="quotas")
@requires(quotas.DISTRIBUTE)
def get_quotas():
    return jsonify(_quota_view())


@api.put("/quotas", endpoint="distribute_quotas")
@requires(quotas.DISTRIBUTE)
def distribute_quotas():
    wanted = json_body().get("departments")
    if not isinstance(wanted, dict):
        raise InvalidInput("departments 须为对象：{部门 id: 编制数}", fields={"departments": ["须为对象"]})
    quotas.distribute(g.actor, wanted)
    Session.commit()
    return jsonify(_quota_view())


@api.get("/quota-allocations", endpoint="quota_allocations")
@requires(quotas.ALLOCATE)
def quota_allocations():
    rows = quotas.allocation_view(g.actor, request.args.get("q"))
    return jsonify({"items": [{"org": {"id": r["org"].id, "name": r["org"].name, "region_code": r["org"].region_code},
                               "allocated": r["allocated"], "distributed": r["distributed"]} for r in rows]})


@api.put("/quota-allocations/<int:org_id>", endpoint="allocate_quota")
@requires(quotas.ALLOCATE)
def allocate_quota(org_id):
    org = quotas.allocate(g.actor, org_id, json_body())
    return _done({"org": {"id": org.id, "name": org.name}, "allocated": org.quota,
                  "distributed": quotas.distributed(org.id)})


# --- standard posts ------------------------------------------------------------------------------------------

@api.get("/standard-posts", endpoint="standard_posts")
@requires(posts.STANDARD)
def list_standard_posts():
    view = posts.standard_view(g.actor)
    return jsonify({"region_code": view["region"].code if view["region"] else None,
                    "items": [_standard(r["post"], r["mapped"]) for r in view["own"]],
                    "inherited": [_standard(s) for s in view["inherited"]]})


@api.post("/standard-posts", endpoint="create_standard_post")
@requires(posts.STANDARD)
def create_standard_post():
    return _done(_standard(posts.create_standard(g.actor, json_body())), 201)


@api.put("/standard-posts/<int:standard_id>", endpoint="update_standard_post")
@requires(posts.STANDARD)
def update_standard_post(standard_id):
    return _done(_standard(posts.edit_standard(g.actor, standard_id, json_body())))


@api.delete("/standard-posts/<int:standard_id>", endpoint="delete_standard_post")
@requires(posts.STANDARD)
def delete_standard_post(standard_id):
    posts.delete_standard(g.actor, standard_id)
    return _done({"deleted": standard_id})


_ERRORS = {"401": {"description": "缺少或无效的访问令牌"}, "403": {"description": "无权限、须先修改密码或须先实名认证"},
           "404": {"description": "不存在或不属于本单位 / 辖区"}}
_WRITE = {**_ERRORS, "409": {"description": "被拒绝：部门下有在职人员或下级部门、岗位有在职人员、标准岗位已被映射"
                                           "（message 给出人数）、已有部门时初始化、未分配编制时分配科室编制"},
          "422": {"description": "输入有误（fields 按字段给出中文说明），编制合计超过核定编制，核定编制少于已分配数"}}


def _path_id(name):
    return [{"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}]


_DOCS = {
    "/departments": {"get": ("部门管理：本单位部门（树的顺序，含 depth、在职人数、编制数）", None),
                     "post": ("新增部门（name、category、standard_name、sort，parent_id 可选）", None)},
    "/departments/init": {"post": ("初始化部门（仅在本单位没有任何部门时）", None)},
    "/departments/{dept_id}": {"put": ("修改部门（名称、类别、标准名称、排序；位置和编制不变）", _path_id("dept_id")),
                               "delete": ("删除部门（有在职人员或下级部门时 409）", _path_id("dept_id"))},
    "/posts": {"get": ("机构岗位（含映射的标准岗位、在职人数、has_mapped_post）", None),
               "post": ("新增岗位（name、sort）", None)},
    "/posts/{post_id}": {"put": ("修改岗位", _path_id("post_id")),
                         "delete": ("删除岗位（有在职人员时 409）", _path_id("post_id"))},
    "/posts/{post_id}/mapping": {"get": ("可映射的标准岗位（本地区、上级地区、全国）", _path_id("post_id")),
                                 "put": ("映射管理：standard_post_id（null 解除映射）", _path_id("post_id"))},
    "/quotas": {"get": ("机构编制：核定、已分配到科室、剩余及各部门编制", None),
                "put": ("分配科室编制：departments 为 {部门 id: 编制数}，合计不得超过核定编制", None)},
    "/quota-allocations": {"get": ("编制分配：辖区内机构的核定编制和已分配到科室的编制（业务管理员）", None)},
    "/quota-allocations/{org_id}": {"put": ("为机构分配核定编制：quota（不得少于已分配到科室的编制）", _path_id("org_id"))},
    "/standard-posts": {"get": ("标准岗位维护：本地区的标准岗位（含被映射数）及上级和全国的标准岗位", None),
                        "post": ("新增本地区标准岗位（name、category、sort）", None)},
    "/standard-posts/{standard_id}": {"put": ("修改本地区标准岗位", _path_id("standard_id")),
                                      "delete": ("删除标准岗位（已被映射时 409）", _path_id("standard_id"))},
}
openapi.document(_DOCS, _ERRORS, _WRITE)
