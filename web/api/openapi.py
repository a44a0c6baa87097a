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


@bp.get("/openapi.json", endpoint="openapi")
def openapi():
    return jsonify(SPEC)
