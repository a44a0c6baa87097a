"""The OpenAPI 3.1 description of the API, served at /api/v1/openapi.json."""
from flask import jsonify

from web.api import bp


def _error(description):
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _json(schema_ref, description="OK"):
    return {"description": description, "content": {"application/json": {"schema": {"$ref": schema_ref}}}}


USER_ID = [{"name": "user_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
COMMON_ERRORS = {"401": _error("缺少或无效的访问令牌"), "403": _error("无权限、须先修改密码或须先实名认证")}

SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "卫生健康基础资源与账号管理系统 API", "version": "1"},
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {
                "error": {"type": "string"}, "message": {"type": "string"},
                "violations": {"type": "array", "items": {"type": "string", "enum": [
                    "too_short", "too_long", "missing_upper", "missing_lower", "missing_digit", "missing_special",
                    "non_ascii", "forbidden_character", "sequential_run", "contains_username",
                    "is_default_password", "reused"]}},
                "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
                "locked_until": {"type": ["string", "null"], "format": "date-time"}}},
            "User": {"type": "object", "properties": {
                "id": {"type": "integer"}, "username": {"type": "string"}, "display_name": {"type": "string"},
                "user_type": {"type": "string", "enum": ["system_admin", "business_admin", "same_level_1",
                                                        "same_level_2", "direct_report", "master", "sub_account"]},
                "org": {"type": ["object", "null"]}, "status": {"type": "string"},
                "real_name_verified": {"type": "boolean"}, "must_change_password": {"type": "boolean"},
                "locked": {"type": "boolean"}, "lock_reason": {"type": ["string", "null"]},
                "locked_until": {"type": ["string", "null"], "format": "date-time"},
                "roles": {"type": "array", "items": {"type": "object"}},
                "permissions": {"type": "array", "items": {"type": "string"}}}},
            "UserPage": {"type": "object", "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/User"}},
                "total": {"type": "integer"}, "page": {"type": "integer"}, "per_page": {"type": "integer"}}},
            "NewUser": {"type": "object", "required": ["user_type", "org_id", "display_name"], "properties": {
                "user_type": {"type": "string"}, "org_id": {"type": "integer"}, "display_name": {"type": "string"},
                "username": {"type": "string", "description": "留空时按“类型-区划-姓名全拼”自动命名（江苏用户类型）"},
                "role_ids": {"type": "array", "items": {"type": "integer"}}, "phone": {"type": "string"},
                "email": {"type": "string"}, "department": {"type": "string"},
                "valid_until": {"type": "string", "format": "date"}}},
        },
    },
    "paths": {
        "/auth/login": {"post": {
            "summary": "登录，获取访问令牌", "security": [],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["username", "password"],
                "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}}}},
            "responses": {
                "200": {"description": "登录成功", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"token": {"type": "string"},
                                                     "must_change_password": {"type": "boolean"},
                                                     "user": {"$ref": "#/components/schemas/User"}}}}}},
                "401": _error("账号或密码错误（不区分账号是否存在）"), "403": _error("账号已停用"),
                "422": _error("请求缺少账号或密码"), "423": _error("账号已锁定，含 locked_until")}}},
        "/auth/logout": {"post": {"summary": "注销当前令牌", "responses": {"204": {"description": "已注销"},
                                                                         "401": _error("令牌无效")}}},
        "/me": {"get": {"summary": "当前用户及其功能权限", "responses": {
            "200": _json("#/components/schemas/User"), **COMMON_ERRORS}}},
        "/me/password": {"post": {
            "summary": "修改本人密码（其他会话和令牌随之失效）",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["current_password", "new_password"],
                "properties": {"current_password": {"type": "string"}, "new_password": {"type": "string"}}}}}},
            "responses": {"204": {"description": "已修改"}, "401": _error("令牌无效"),
                          "422": _error("当前密码错误（invalid_current_password）或不符合密码规则（password_policy）")}}},
        "/users": {
            "get": {"summary": "管辖范围内的账号", "parameters": [
                {"name": n, "in": "query", "schema": {"type": t}} for n, t in
                (("q", "string"), ("org_id", "integer"), ("user_type", "string"), ("locked", "string"),
                 ("page", "integer"), ("per_page", "integer"))],
                "responses": {"200": _json("#/components/schemas/UserPage"), **COMMON_ERRORS}},
            "post": {"summary": "创建账号（初始密码只返回这一次）",
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": {"$ref": "#/components/schemas/NewUser"}}}},
                     "responses": {"201": {"description": "已创建"}, **COMMON_ERRORS,
                                   "422": _error("输入有误")}}},
        "/users/{user_id}": {
            "parameters": USER_ID,
            "get": {"summary": "账号详情", "responses": {"200": _json("#/components/schemas/User"), **COMMON_ERRORS,
                                                      "404": _error("不存在或不在管辖范围内")}},
            "patch": {"summary": "修改账号（账号名和昵称不可改）", "requestBody": {"content": {"application/json": {
                "schema": {"type": "object"}}}}, "responses": {
                "200": _json("#/components/schemas/User"), **COMMON_ERRORS, "404": _error("不存在"),
                "422": _error("输入有误")}},
            "delete": {"summary": "删除账号", "responses": {"204": {"description": "已删除"}, **COMMON_ERRORS,
                                                         "404": _error("不存在")}}},
        **{f"/users/{{user_id}}/{action}": {"parameters": USER_ID, "post": {"summary": summary, "responses": {
            "200": {"description": "OK"}, **COMMON_ERRORS, "404": _error("不存在")}}}
           for action, summary in (("lock", "锁定账号"), ("unlock", "解锁账号"),
                                   ("reset-password", "重置密码（返回只显示一次的临时密码）"))},
    },
}


def _id(name):
    return [{"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}]


DATA_BODY = {"content": {"application/json": {"schema": {"type": "object", "properties": {
    "data": {"type": "object", "description": "按任务表单的 JSON Schema 填写的数据"}}}}}}
TASK_ERRORS = {**COMMON_ERRORS, "404": _error("任务不存在或不在管辖范围内"),
               "409": _error("任务已被处理（task_not_ready，含 completed_by、completed_at）")}

SPEC["components"]["schemas"].update({
    "Task": {"type": "object", "properties": {
        "id": {"type": "integer"}, "instance_id": {"type": "integer"}, "process_key": {"type": "string"},
        "name": {"type": "string", "description": "BPMN 任务 id"}, "title": {"type": "string"},
        "lane": {"type": "string"}, "assignee": {"type": ["string", "null"]}, "state": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "due_at": {"type": ["string", "null"], "format": "date-time"},
        "form": {"type": ["object", "null"], "properties": {"schema": {"type": "object"}, "ui": {"type": "object"}}},
        "data": {"type": "object"}}},
    "Instance": {"type": "object", "properties": {
        "id": {"type": "integer"}, "process_key": {"type": "string"}, "version": {"type": "integer"},
        "title": {"type": "string"}, "status": {"type": "string", "enum": ["running", "completed", "cancelled", "error"]},
        "tasks": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}},
        "history": {"type": "array", "items": {"type": "object", "properties": {
            "at": {"type": "string"}, "kind": {"type": "string"}, "actor": {"type": ["string", "null"]},
            "task": {"type": ["string", "null"]}, "outcome": {"type": ["string", "null"]},
            "comment": {"type": ["string", "null"]}}}}}},
    "ValidationError": {"type": "object", "properties": {
        "error": {"const": "validation"}, "fields": {"type": "object", "additionalProperties": {"type": "string"}}}},
})
SPEC["paths"].update({
    "/processes": {"get": {"summary": "可发起的流程（key、名称、当前版本）", "responses": {
        "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "array", "items": {
            "type": "object", "properties": {"key": {"type": "string"}, "name": {"type": "string"},
                                             "version": {"type": "integer"}}}}}}}, **COMMON_ERRORS}}},
    "/processes/{key}/instances": {"post": {
        "summary": "发起流程；带 data 时同时提交申请人的第一个表单，否则作为草稿留在“我的待办”",
        "parameters": [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}],
        "requestBody": DATA_BODY,
        "responses": {"201": _json("#/components/schemas/Instance", "已发起"), **COMMON_ERRORS,
                      "404": _error("流程不存在"), "422": _json("#/components/schemas/ValidationError", "表单有误")}}},
    "/instances/{instance_id}": {"get": {"summary": "流程实例：当前任务与审批记录", "parameters": _id("instance_id"),
                                         "responses": {"200": _json("#/components/schemas/Instance"), **COMMON_ERRORS,
                                                       "404": _error("不存在或无权查看")}}},
    "/instances/{instance_id}/diagram.svg": {"get": {
        "summary": "流程图（SVG，已完成与当前步骤高亮）", "parameters": _id("instance_id"),
        "responses": {"200": {"description": "SVG", "content": {"image/svg+xml": {}}}, **COMMON_ERRORS,
                      "404": _error("不存在或无权查看")}}},
    "/instances/{instance_id}/retry": {"post": {"summary": "重试处理异常的步骤（管理员）", "parameters": _id("instance_id"),
                                                "responses": {"200": _json("#/components/schemas/Instance"),
                                                              **COMMON_ERRORS, "404": _error("不存在或无权查看"),
                                                              "409": _error("没有需要重试的步骤")}}},
    "/tasks": {"get": {"summary": "任务列表", "parameters": [
        {"name": "view", "in": "query", "schema": {"type": "string", "enum": ["assigned", "claimable", "done", "requests"]}},
        {"name": "process", "in": "query", "schema": {"type": "string"}},
        {"name": "org_id", "in": "query", "schema": {"type": "integer"}},
        {"name": "since", "in": "query", "schema": {"type": "string", "format": "date"},
         "description": "起始日期（含，北京时间）"},
        {"name": "until", "in": "query", "schema": {"type": "string", "format": "date"},
         "description": "截止日期（含，北京时间）"},
        {"name": "page", "in": "query", "schema": {"type": "integer"}},
        {"name": "per_page", "in": "query", "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "items 与 total（requests 视图返回流程实例）"}, **COMMON_ERRORS}}},
    "/tasks/{task_id}": {"get": {"summary": "任务详情，含表单 schema/ui 与当前数据", "parameters": _id("task_id"),
                                 "responses": {"200": _json("#/components/schemas/Task"), **COMMON_ERRORS,
                                               "404": _error("不存在或不在管辖范围内")}}},
    "/tasks/{task_id}/claim": {"post": {"summary": "认领", "parameters": _id("task_id"),
                                        "responses": {"200": _json("#/components/schemas/Task"), **TASK_ERRORS}}},
    "/tasks/{task_id}/release": {"post": {"summary": "放回待认领", "parameters": _id("task_id"),
                                          "responses": {"200": _json("#/components/schemas/Task"), **TASK_ERRORS}}},
    "/tasks/{task_id}/reassign": {"post": {
        "summary": "转办给同单位的其他审核人", "parameters": _id("task_id"),
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
            "username": {"type": "string"}}}}}},
        "responses": {"200": _json("#/components/schemas/Task"), **TASK_ERRORS, "422": _error("该用户不能处理此任务")}}},
    "/tasks/{task_id}/draft": {"post": {
        "summary": "保存申请草稿（不提交）", "parameters": _id("task_id"), "requestBody": DATA_BODY,
        "responses": {"200": _json("#/components/schemas/Instance"), **TASK_ERRORS}}},
    "/tasks/{task_id}/complete": {"post": {
        "summary": "提交任务表单", "parameters": _id("task_id"), "requestBody": DATA_BODY,
        "responses": {"200": _json("#/components/schemas/Instance"), **TASK_ERRORS,
                      "422": _json("#/components/schemas/ValidationError", "表单有误")}}},
    "/files": {"post": {
        "summary": "上传文件（JPG/PNG/PDF，≤3 MB，按内容识别类型），返回可在表单中引用的 id",
        "requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object", "properties": {
            "file": {"type": "string", "format": "binary"}}}}}},
        "responses": {"201": {"description": "已上传"}, **COMMON_ERRORS, "422": _error("文件被拒绝")}}},
    "/files/{file_id}": {"get": {"summary": "下载文件（上传者或可查看所属流程的用户）", "parameters": _id("file_id"),
                                 "responses": {"200": {"description": "文件内容"}, **COMMON_ERRORS,
                                               "404": _error("不存在或无权查看")}}},
})


@bp.get("/openapi.json", endpoint="openapi")
def openapi():
    return jsonify(SPEC)
