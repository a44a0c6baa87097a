"""机构人力资源 → 机构人事管理: the personnel pages of an institution (人事调动 → 员工离职) and their JSON API."""
