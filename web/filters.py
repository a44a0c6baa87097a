"""Template helpers: times are stored in UTC and shown in China Standard Time (UTC+8, no daylight saving)."""
from datetime import timedelta, timezone

CST = timezone(timedelta(hours=8), "Asia/Shanghai")


def local_time(value, fmt="%Y-%m-%d %H:%M:%S"):
    if value is None:
        return ""
    return value.astimezone(CST).strftime(fmt)


def init_app(app):
    app.add_template_filter(local_time, "local_time")
