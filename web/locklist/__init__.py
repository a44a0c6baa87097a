"""The lock list page (系统管理 → 用户锁定一览表, Jiangsu 附表5) and its Excel download."""
