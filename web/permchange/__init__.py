"""权限变更申请 (Jiangsu 附表4): the account's own request pages under ``/permission-changes/`` and
``/api/v1/permission-changes``."""
