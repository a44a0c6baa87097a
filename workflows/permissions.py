"""The permission tree (功能点) and the default roles.

The tree follows the menus of the Hubei guide (机构信息管理, 机构人力资源, 应急资源管理, 统计分析, 系统管理) and the
administration functions of Jiangsu 附表3, plus the approval centre. A stored set of codes always contains the
ancestors of every code in it: holding ``hr.staff.edit`` implies the ``hr.staff`` page and the ``hr`` menu.
Checking a parent in the role form checks its children (父子联动); that is a convenience of the form, the
server keeps exactly what was submitted plus ancestors.
"""
from functools import cache

CATALOGUE = [
    ("org", "机构信息管理", [
        ("org.info", "机构信息维护", [("org.info.change", "机构信息修改申请")]),
        ("org.dept", "部门管理", [("org.dept.edit", "新增/修改/删除部门")]),
        ("org.post", "机构岗位管理", [("org.post.edit", "新增/修改/删除岗位")]),
        ("org.quota", "机构编制管理", []),
    ]),
    ("hr", "机构人力资源", [
        ("hr.staff", "人员信息管理", [
            ("hr.staff.edit", "信息录入与修改"), ("hr.staff.import", "批量导入"), ("hr.staff.export", "导出"),
        ]),
        ("hr.tags", "人员标签管理", []),
        ("hr.personnel", "机构人事管理", [
            ("hr.personnel.resign", "员工离职"), ("hr.personnel.resign_review", "离职审核"),
        ]),
        ("hr.query", "人员信息查询", []),
    ]),
    ("emergency", "应急资源管理", [
        ("emergency.capacity", "机构能力上报", []),
        ("emergency.vehicles", "机构车辆上报管理", []),
        ("emergency.drugs", "机构药品上报", []),
        ("emergency.devices", "机构应急医疗设备管理", []),
        ("emergency.supplies", "应急物资资源", []),
        ("emergency.meds", "应急药械资源", []),
    ]),
    ("stats", "统计分析", [("stats.common", "常用统计", []), ("stats.reports", "常用报表", [])]),
    ("approval", "审批中心", [
        ("approval.inbox", "我的待办", []), ("approval.requests", "我的申请", []),
        ("approval.leader", "单位负责人审批", []),
    ]),
    ("sys", "系统管理", [
        ("sys.accounts", "人员账号管理", [
            ("sys.accounts.edit", "新增/修改/删除账号"), ("sys.accounts.lock", "锁定/解锁账号"),
            ("sys.accounts.reset", "重置密码"),
        ]),
        ("sys.locklist", "用户锁定一览表", []),
        ("sys.handover", "业务管理员交接", []),
        ("sys.roles", "角色管理", [("sys.roles.edit", "新增/修改/删除角色")]),
        ("sys.realname", "实名认证审核", []),
        ("sys.orgs", "用户单位管理", []),
        ("sys.standard_posts", "标准岗位维护", []),
        ("sys.audit", "系统日志", [("sys.audit.export", "导出日志")]),
        ("sys.codes", "码表维护", []),
        ("sys.regions", "行政区域代码维护", []),
        ("sys.jobs", "定时任务", []),
    ]),
]


def _walk(nodes, parent=None):
    for sort, node in enumerate(nodes):
        code, name, children = node if len(node) == 3 else (*node, [])
        yield code, name, parent, sort
        yield from _walk(children, code)


@cache
def flat():
    """``[(code, name, parent_code, sort)]`` in tree order."""
    return tuple(_walk(CATALOGUE))


@cache
def parents():
    return {code: parent for code, _, parent, _ in flat()}


@cache
def names():
    return {code: name for code, name, _, _ in flat()}


def all_codes():
    return set(parents())


def descendants(code):
    return {c for c in parents() if c.startswith(code + ".")}


def with_ancestors(codes):
    """``codes`` plus every ancestor of each; unknown codes raise ``KeyError``."""
    result = set()
    tree = parents()
    for code in codes:
        while code is not None and code not in result:
            tree[code]  # noqa: B018 - unknown codes must fail loudly
            result.add(code)
            code = tree[code]
    return result


def subtree(*roots):
    return with_ancestors({c for r in roots for c in {r} | descendants(r)})


SYSTEM_ONLY = {"sys.codes", "sys.regions", "sys.jobs"}
_ADMIN = frozenset(all_codes() - SYSTEM_ONLY)

# Default roles (code, name, role_type, permissions). Jiangsu 附表3 lost its check marks in the text we have;
# these grants are our reading of the duties in Jiangsu §一 and Hubei §7, documented in docs/roles.md.
DEFAULT_ROLES = [
    ("system_admin", "系统管理员", "系统管理员", frozenset(all_codes())),
    ("province_admin", "省级业务管理员", "卫健委管理员", _ADMIN),
    ("city_admin", "市级业务管理员", "卫健委管理员", _ADMIN),
    ("county_admin", "县级业务管理员", "卫健委管理员", _ADMIN),
    ("same_level_1", "本级用户1(数据质控员)", "本级用户",
     frozenset(subtree("stats", "hr.query", "approval", "sys.audit") - {"sys.audit.export"})),
    ("same_level_2", "本级用户2", "本级用户", frozenset(subtree("stats", "hr.query", "approval.requests"))),
    ("unit_leader", "单位负责人", "本级用户", frozenset(subtree("approval", "stats"))),
    ("direct_report", "直报用户", "直报用户",
     frozenset(subtree("org.info", "hr.staff", "hr.personnel.resign", "emergency", "approval.requests"))),
    ("master", "机构总账号", "医疗机构",
     frozenset(subtree("org", "hr", "emergency", "stats", "approval", "sys.accounts", "sys.roles", "sys.realname"))),
]
