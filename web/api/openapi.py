"""The OpenAPI 3.1 description of the API, served at /api/v1/openapi.json."""
from flask import jsonify

from web.api import bp


def error(description):
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _json(schema_ref, description="OK"):
    return {"description": description, "content": {"application/json": {"schema": {"$ref": schema_ref}}}}


USER_ID = [{"name": "user_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
COMMON_ERRORS = {"401": error("缺少或无效的访问令牌"), "403": error("无权限、须先修改密码或须先实名认证")}

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
                "401": error("账号或密码错误（不区分账号是否存在）"), "403": error("账号已停用"),
                "422": error("请求缺少账号或密码"), "423": error("账号已锁定，含 locked_until")}}},
        "/auth/logout": {"post": {"summary": "注销当前令牌", "responses": {"204": {"description": "已注销"},
                                                                         "401": error("令牌无效")}}},
        "/me": {"get": {"summary": "当前用户及其功能权限", "responses": {
            "200": _json("#/components/schemas/User"), **COMMON_ERRORS}}},
        "/me/password": {"post": {
            "summary": "修改本人密码（其他会话和令牌随之失效）",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["current_password", "new_password"],
                "properties": {"current_password": {"type": "string"}, "new_password": {"type": "string"}}}}}},
            "responses": {"204": {"description": "已修改"}, "401": error("令牌无效"),
                          "422": error("当前密码错误（invalid_current_password）或不符合密码规则（password_policy）")}}},
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
                                   "422": error("输入有误")}}},
        "/users/{user_id}": {
            "parameters": USER_ID,
            "get": {"summary": "账号详情", "responses": {"200": _json("#/components/schemas/User"), **COMMON_ERRORS,
                                                      "404": error("不存在或不在管辖范围内")}},
            "patch": {"summary": "修改账号（账号名和昵称不可改）", "requestBody": {"content": {"application/json": {
                "schema": {"type": "object"}}}}, "responses": {
                "200": _json("#/components/schemas/User"), **COMMON_ERRORS, "404": error("不存在"),
                "422": error("输入有误")}},
            "delete": {"summary": "删除账号", "responses": {"204": {"description": "已删除"}, **COMMON_ERRORS,
                                                         "404": error("不存在")}}},
        **{f"/users/{{user_id}}/{action}": {"parameters": USER_ID, "post": {"summary": summary, "responses": {
            "200": {"description": "OK"}, **COMMON_ERRORS, "404": error("不存在")}}}
           for action, summary in (("lock", "锁定账号"), ("unlock", "解锁账号"),
                                   ("reset-password", "重置密码（返回只显示一次的临时密码）"))},
    },
}


def _id(name):
    return [{"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}]


DATA_BODY = {"content": {"application/json": {"schema": {"type": "object", "properties": {
    "data": {"type": "object", "description": "按任务表单的 JSON Schema 填写的数据"}}}}}}
TASK_ERRORS = {**COMMON_ERRORS, "404": error("任务不存在或不在管辖范围内"),
               "409": error("任务已被处理（task_not_ready，含 completed_by、completed_at）")}

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
                      "404": error("流程不存在"), "422": _json("#/components/schemas/ValidationError", "表单有误")}}},
    "/instances/{instance_id}": {"get": {"summary": "流程实例：当前任务与审批记录", "parameters": _id("instance_id"),
                                         "responses": {"200": _json("#/components/schemas/Instance"), **COMMON_ERRORS,
                                                       "404": error("不存在或无权查看")}}},
    "/instances/{instance_id}/diagram.svg": {"get": {
        "summary": "流程图（SVG，已完成与当前步骤高亮）", "parameters": _id("instance_id"),
        "responses": {"200": {"description": "SVG", "content": {"image/svg+xml": {}}}, **COMMON_ERRORS,
                      "404": error("不存在或无权查看")}}},
    "/instances/{instance_id}/retry": {"post": {"summary": "重试处理异常的步骤（管理员）", "parameters": _id("instance_id"),
                                                "responses": {"200": _json("#/components/schemas/Instance"),
                                                              **COMMON_ERRORS, "404": error("不存在或无权查看"),
                                                              "409": error("没有需要重试的步骤")}}},
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
                                               "404": error("不存在或不在管辖范围内")}}},
    "/tasks/{task_id}/claim": {"post": {"summary": "认领", "parameters": _id("task_id"),
                                        "responses": {"200": _json("#/components/schemas/Task"), **TASK_ERRORS}}},
    "/tasks/{task_id}/release": {"post": {"summary": "放回待认领", "parameters": _id("task_id"),
                                          "responses": {"200": _json("#/components/schemas/Task"), **TASK_ERRORS}}},
    "/tasks/{task_id}/reassign": {"post": {
        "summary": "转办给同单位的其他审核人", "parameters": _id("task_id"),
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
            "username": {"type": "string"}}}}}},
        "responses": {"200": _json("#/components/schemas/Task"), **TASK_ERRORS, "422": error("该用户不能处理此任务")}}},
    "/tasks/{task_id}/draft": {"post": {
        "summary": "保存申请草稿（不提交）", "parameters": _id("task_id"), "requestBody": DATA_BODY,
        "responses": {"200": _json("#/components/schemas/Instance"), **TASK_ERRORS}}},
    "/tasks/{task_id}/complete": {"post": {
        "summary": "提交任务表单", "parameters": _id("task_id"), "requestBody": DATA_BODY,
        "description": "用户申请（account_application）的业务管理员审批以 grant 或 grant_changed 提交时，应答另含 account 与"
                       "只返回这一次的 initial_password（不保存）；见 /account-applications。",
        "responses": {"200": _json("#/components/schemas/Instance"), **TASK_ERRORS,
                      "422": _json("#/components/schemas/ValidationError", "表单有误")}}},
    "/files": {"post": {
        "summary": "上传文件（JPG/PNG/PDF，≤3 MB，按内容识别类型），返回可在表单中引用的 id",
        "requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object", "properties": {
            "file": {"type": "string", "format": "binary"}}}}}},
        "responses": {"201": {"description": "已上传"}, **COMMON_ERRORS, "422": error("文件被拒绝")}}},
    "/files/{file_id}": {"get": {"summary": "下载文件（上传者或可查看所属流程的用户）", "parameters": _id("file_id"),
                                 "responses": {"200": {"description": "文件内容"}, **COMMON_ERRORS,
                                               "404": error("不存在或无权查看")}}},
})


STAFF_ERRORS = {**COMMON_ERRORS, "404": error("不存在、不属于本机构，或账号不属于任何机构")}
STAFF_BODY = {"required": True, "content": {"application/json": {"schema": {"type": "object", "required": ["data"],
                                                                          "properties": {"data": {"$ref": "#/components/schemas/StaffInput"}}}}}}
SPEC["components"]["schemas"].update({
    "StaffInput": {"type": "object", "description": "基本信息（★ 必填：name、id_number、gender、birth_date、ethnicity、"
                   "department、post、staff_category、work_status、education、work_started_on、mobile）；编码值用中文"
                   "（gender：男性/女性，id_type：居民身份证等），department、post 为本机构部门、岗位名称；日期 YYYY-MM-DD 或 YYYY-MM",
                   "properties": {k: {"type": ["string", "null"]} for k in (
                       "name", "id_type", "id_number", "gender", "birth_date", "ethnicity", "political_status",
                       "staff_no", "department", "post", "staff_category", "work_status", "education", "degree",
                       "major", "work_started_on", "joined_on", "title", "practice_cert_no", "qualification_cert_no",
                       "mobile", "note")}},
    "Staff": {"allOf": [{"$ref": "#/components/schemas/StaffInput"}, {"type": "object", "properties": {
        "id": {"type": "integer"}, "employment_status": {"type": "string", "enum": ["active", "left"]},
        "left_on": {"type": ["string", "null"], "format": "date"}, "photo_id": {"type": ["integer", "null"]},
        "work_history": {"type": "array", "items": {"type": "object"}},
        "education": {"type": "array", "items": {"type": "object"}},
        "certificate": {"type": "array", "items": {"type": "object"}}}}]},
})
SPEC["paths"].update({
    "/staff": {
        "get": {"summary": "本机构人员（人员信息管理）：按姓名（模糊）、证件号码或工号（精确）查询，可按部门、在职情况筛选",
                "parameters": [{"name": n, "in": "query", "schema": {"type": t}} for n, t in (
                    ("q", "string"), ("department_id", "integer"), ("status", "string"), ("page", "integer"),
                    ("per_page", "integer"))],
                "responses": {"200": {"description": "items（基本信息，不含详细信息）、total、page、per_page"},
                              **STAFF_ERRORS}},
        "post": {"summary": "新增人员基本信息（须有 hr.staff.edit）", "requestBody": STAFF_BODY,
                 "responses": {"201": _json("#/components/schemas/Staff", "已新增"), **STAFF_ERRORS,
                               "422": error("输入有误（fields）；id_number_active_elsewhere：该证件号码已在其他机构在职"
                                             "（不透露是哪个机构）")}}},
    "/staff/{staff_id}": {
        "parameters": _id("staff_id"),
        "get": {"summary": "人员详情：基本信息与工作经历、学历学位、资格证书", "responses": {
            "200": _json("#/components/schemas/Staff"), **STAFF_ERRORS}},
        "put": {"summary": "修改基本信息（未给出的字段保持不变）", "requestBody": STAFF_BODY, "responses": {
            "200": _json("#/components/schemas/Staff"), **STAFF_ERRORS, "422": error("输入有误（fields）")}}},
})


PERMISSION_CHANGE_ERRORS = {**COMMON_ERRORS, "404": error("不存在或无权查看")}
SPEC["paths"].update({
    "/permission-changes/options": {"get": {
        "summary": "权限变更申请（江苏附表4）：本人当前角色、可申请的角色，以及现在能否申请",
        "description": "current：当前角色（临时角色含 temporary_until）；choices：可申请的角色（系统角色与本单位角色，held 表示"
                       "当前已有）；route / route_label：由哪一级业务管理员审批授权；open_request：办理中的申请编号；refusal："
                       "不能申请的原因。申请：POST /processes/permission_change/instances，data 为 requested_roles（变更后应"
                       "拥有的全部角色的 id，至少与当前角色有一处不同）、reason、valid_until（可选，临时使用截止日期 "
                       "YYYY-MM-DD，须晚于今天，新增角色使用至该日结束）。单位主管领导与业务管理员用 /tasks/{task_id}/"
                       "complete 办理：decision 为 approve（同意 / 批准）或 reject（退回 / 驳回，须填 comment）。错误码："
                       "request_open（409，已有办理中的申请）、no_approver（422，没有可以审批或授权的人）、cannot_grant"
                       "（422，业务管理员无权授予所列角色或不管理该账号，任务保持待办）、role_missing、validity_passed（422）。",
        "responses": {"200": {"description": "current、choices、route、route_label、open_request、refusal"},
                      **COMMON_ERRORS}}},
    "/permission-changes/{instance_id}": {"get": {
        "summary": "一项权限变更申请：流程实例与申请表内容（change：申请人、各角色变更前后、原因、期限、领导与业务管理员"
                   "意见、批准后生成的申请表 PDF 的 form_file）",
        "parameters": _id("instance_id"),
        "responses": {"200": _json("#/components/schemas/Instance", "流程实例，另含 change"),
                      **PERMISSION_CHANGE_ERRORS}}},
})

IMPORT_ERRORS = {**COMMON_ERRORS, "404": error("不存在、不属于本机构，或账号不属于任何机构")}
SPEC["components"]["schemas"]["ImportJob"] = {"type": "object", "properties": {
    "id": {"type": "integer"}, "section": {"type": "string", "enum": ["basic", "work_history", "education", "certificate"]},
    "section_label": {"type": "string"}, "status": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
    "status_label": {"type": "string"}, "update_existing": {"type": "boolean"}, "file": {"type": "string"},
    "total": {"type": "integer", "description": "数据行数（后台导入开始处理前为 0）"}, "processed": {"type": "integer"},
    "created": {"type": "integer"}, "updated": {"type": "integer"}, "failed": {"type": "integer"},
    "has_report": {"type": "boolean", "description": "有失败行时为 true，错误报告见 /imports/{job_id}/report"},
    "message": {"type": ["string", "null"], "description": "导入失败（status 为 failed）的原因"},
    "created_at": {"type": "string", "format": "date-time"},
    "started_at": {"type": ["string", "null"], "format": "date-time"},
    "finished_at": {"type": ["string", "null"], "format": "date-time"}}}
SPEC["paths"].update({
    "/imports": {"post": {
        "summary": "人员信息批量导入（须有“批量导入”功能权限）：上传按模板填写的 .xlsx",
        "description": "不超过 100 行的表格立即导入，返回 status 为 done 及各项计数；更多的转入后台（status 为 queued），"
                       "用 GET /imports/{job_id} 查看进度。须先有至少一个已映射标准岗位的机构岗位（否则 no_mapped_post）。"
                       "其他错误码：wrong_template（表头不是该类信息的模板）、upload_refused（不是 .xlsx、为空或超过 10 MB）、"
                       "empty_workbook、too_many_rows。",
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file", "section"], "properties": {
                "file": {"type": "string", "format": "binary"},
                "section": {"type": "string", "enum": ["basic", "work_history", "education", "certificate"]},
                "update_existing": {"type": "string", "description": "1/true：更新已存在的用户数据"}}}}}},
        "responses": {"201": _json("#/components/schemas/ImportJob", "已导入或已排队"), **IMPORT_ERRORS,
                      "422": error("文件或表格被拒绝（见错误码）")}}},
    "/imports/{job_id}": {"get": {"summary": "一次导入的状态与计数", "parameters": _id("job_id"),
                                  "responses": {"200": _json("#/components/schemas/ImportJob"), **IMPORT_ERRORS}}},
    "/imports/{job_id}/report": {"get": {
        "summary": "错误报告（.xlsx：第一列为错误原因，其余为失败行的原始内容，改正后可直接上传）",
        "parameters": _id("job_id"),
        "responses": {"200": {"description": "xlsx 文件"}, **IMPORT_ERRORS}}},
    "/imports/templates/{section}": {"get": {
        "summary": "本机构的导入模板（.xlsx，含下拉列表与填写须知）",
        "parameters": [{"name": "section", "in": "path", "required": True, "schema": {
            "type": "string", "enum": ["basic", "work_history", "education", "certificate"]}}],
        "responses": {"200": {"description": "xlsx 文件"}, **IMPORT_ERRORS}}},
})


HANDOVER_ERRORS = {**COMMON_ERRORS, "404": error("不存在或无权查看")}
SPEC["paths"].update({
    "/handovers": {"get": {
        "summary": "业务管理员交接列表（业务管理员：本辖区；系统管理员：全部）",
        "description": "交接用通用流程接口办理（流程 key：admin_handover）。发起：POST /processes/admin_handover/instances，"
                       "data：successor_id（接任人的用户 id，见 /handovers/successors）、reason、planned_date"
                       "（YYYY-MM-DD，不早于今天）；须为本单位业务管理员（403），每个单位同时只有一项进行中的交接"
                       "（409 handover_open）。随后原业务管理员（confirm_outgoing）与接任人（confirm_incoming，"
                       "只分配给接任人本人，不能认领、放回或转办）分别以 POST /tasks/{task_id}/complete 提交核对清单："
                       "account_info、password、user_info、documents（布尔，确认时四项须为 true）及各项备注 *_note、"
                       "decision（confirm 或 dispute，dispute 须填 comment）；任一方提出异议，双方均提交后重新核对。"
                       "单位负责人（leader_signoff）decision：approve 或 return（须填 comment）；上级业务管理员"
                       "（superior_approval）decision：approve 或 refuse，comment 必填。接任人账号已停用或被锁定时批准被拒绝"
                       "（409 successor_unavailable）。批准后原业务管理员账号取消管理员角色并锁定，接任人成为业务管理员，"
                       "书面交接报告（PDF）可由 /files/{file_id} 下载（handover.report_file）。",
        "parameters": [{"name": "page", "in": "query", "schema": {"type": "integer"}},
                       {"name": "per_page", "in": "query", "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "items（交接情况）与 total"}, **COMMON_ERRORS}}},
    "/handovers/successors": {"get": {
        "summary": "本单位可指定为接任人的账号（已实名认证、未锁定，且不是业务管理员或单位负责人）",
        "responses": {"200": {"description": "items（id、username、display_name、user_type）与 start_refusal"
                                             "（现在不能发起交接的原因，可发起时为 null）"}, **COMMON_ERRORS}}},
    "/handovers/{instance_id}": {"get": {
        "summary": "一项业务管理员交接：流程实例，含 handover（核对清单、双方确认、负责人签字、上级审批、书面交接报告）",
        "parameters": _id("instance_id"),
        "responses": {"200": {"description": "流程实例，含 handover"}, **HANDOVER_ERRORS}}},
})


APPLICATION_ID = _id("instance_id")
SPEC["paths"].update({
    "/account-applications": {"get": {
        "summary": "本单位的用户申请（江苏附表1）及其状态、审批情况",
        "description": "新申请：POST /processes/account_application/instances，data 为附表1（applicant_name、department、"
                       "id_number、gender、phone、mobile、email、unit_nature、unit_nature_other、mh_center、user_type、"
                       "purpose、purpose_other、role_ids、valid_from、valid_until、note；选项见 /account-applications/"
                       "options）。单位主管领导用 /tasks/{task_id}/complete 审批（decision：approve 或 reject，reject 须填 "
                       "comment）；业务管理员审批（decide_superior / decide_own / decide_supervisor）提交 decision：grant、"
                       "grant_changed（可带 new_user_type、new_role_ids、new_valid_from、new_valid_until）、refuse、other，"
                       "后三者须填 comment（理由）。批准时应答另含 account 与只返回这一次的 initial_password（不保存在流程"
                       "数据、回执和日志中）；业务管理员不能创建该类型账号或不能授予所申请的角色时 403（cannot_manage、"
                       "cannot_grant），任务保持待办。退回后申请人用原任务重新提交，或提交 {\"action\": \"withdraw\"} 撤回。",
        "parameters": [{"name": "page", "in": "query", "schema": {"type": "integer"}},
                       {"name": "per_page", "in": "query", "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "items 与 total"}, **COMMON_ERRORS}}},
    "/account-applications/options": {"get": {
        "summary": "附表1 的选项：本单位可申请的用户类型、可申请的角色（id）、部门、单位性质、申请用途",
        "responses": {"200": {"description": "选项；can_apply 为 false 时 refusal 说明原因"}, **COMMON_ERRORS,
                      "422": error("系统管理员不属于任何单位")}}},
    "/account-applications/{instance_id}": {"get": {
        "summary": "用户申请详情：申请内容、状态、审批情况、创建的账号与回执（receipt.file_id）",
        "parameters": APPLICATION_ID,
        "responses": {"200": {"description": "流程实例，另含 application"}, **COMMON_ERRORS,
                      "404": error("不存在或无权查看")}}},
    "/account-applications/{instance_id}/receipt": {"get": {
        "summary": "用户申请回执（附表2，PDF）", "parameters": APPLICATION_ID,
        "responses": {"200": {"description": "PDF", "content": {"application/pdf": {}}}, **COMMON_ERRORS,
                      "404": error("不存在、无权查看或尚未出具")}}},
})


def document(docs, read_errors, write_errors):
    """Add short entries for a blueprint's own endpoints: ``{path: {method: (summary, parameters)}}``; reads
    answer ``read_errors``, writes ``write_errors``; an entry already written in full is kept."""
    for path, operations in docs.items():
        entry = SPEC["paths"].setdefault(path, {})
        for method, (summary, parameters) in operations.items():
            ok = {"201" if method == "post" else "200": {"description": "OK"}}
            entry.setdefault(method, {"summary": summary, **({"parameters": parameters} if parameters else {}),
                                      "responses": {**ok, **(write_errors if method != "get" else read_errors)}})


@bp.get("/openapi.json", endpoint="openapi")
def openapi():
    return jsonify(SPEC)
