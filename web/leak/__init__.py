"""账号泄露处置: the report page, the case list and page for administrators, and ``/api/v1/leaks``."""
