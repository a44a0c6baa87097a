"""机构信息管理 → 机构信息维护: the institution's own information, and the 机构信息修改 request that changes its
core fields (主体信息). Pages under ``/institution/``, a read-only JSON view at ``/api/v1/institution``."""
