"""实名认证: the applicant's wizard (``/realname``, reachable before verification), the reviewers' list and review
page (系统管理 → 实名认证审核, ``/realname/reviews``), the task-page additions, and ``/api/v1/realname``."""
