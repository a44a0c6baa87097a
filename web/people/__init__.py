"""机构人力资源 pages: 人员信息管理 (list, single entry, the person page with its detail sections, photo and
attachments), 附件批量导入, 人员标签管理, 试用期填报, 照片墙 (人员信息查询), 统计分析 (常用统计, 常用报表), and the
staff JSON API under ``/api/v1/staff``. Views parse and authorise, call one service, render."""
from web.people.common import api, bp
from web.people import staff, details, attachments, tags, trials, stats, staff_api  # noqa: F401,E402

__all__ = ["api", "bp"]
