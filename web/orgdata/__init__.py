"""机构信息管理 → 部门管理, 机构岗位管理, 机构编制管理 (``/institution/...``) and, for business admins under 系统管理,
标准岗位维护 and 编制分配 (``/admin/...``). Views parse and authorise, call one service of ``workflows.departments``,
``workflows.posts`` or ``workflows.quotas``, and render; refusals come back as Chinese messages."""
from flask import Blueprint

bp = Blueprint("orgdata", __name__)

from web.orgdata import departments, posts, quotas  # noqa: E402,F401  (routes register on bp)
