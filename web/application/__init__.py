"""用户申请: the application pages (list, 附表1 form, resubmission, the admin's decision, the receipt) and
``/api/v1/account-applications``."""
