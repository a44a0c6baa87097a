"""业务管理员交接: the handover list and report pages for business administrators, and ``/api/v1/handovers``."""
