"""Template helpers: times are stored in UTC and shown in China Standard Time (UTC+8, no daylight saving)."""
from datetime import datetime

from workflows.clock import CST


def local_time(value, fmt="%Y-%m-%d %H:%M:%S"):
    if value is None:
        return ""
    return value.astimezone(CST).strftime(fmt)


def iso_local(value, fmt="%Y-%m-%d %H:%M:%S"):
    """An ISO-8601 UTC string (as the services hand out) shown in China Standard Time."""
    if not value:
        return ""
    return local_time(datetime.fromisoformat(value.replace("Z", "+00:00")), fmt)


def init_app(app):
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(iso_local, "iso_local")
