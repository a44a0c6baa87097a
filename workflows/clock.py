"""China time for the services: stored times are UTC, people read Beijing time (DESIGN §3)."""
from datetime import datetime, timedelta, timezone

from models import utcnow

CST = timezone(timedelta(hours=8), "Asia/Shanghai")


def iso(value):
    """ISO 8601 in UTC with ``Z`` (for JSON), or None."""
    return value.isoformat().replace("+00:00", "Z") if value else None


def local(value):
    """``2026-03-02 16:00`` in Beijing time, from a datetime or an ISO string ("" for none)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.astimezone(CST).strftime("%Y-%m-%d %H:%M") if value else ""


def today_in_china():
    return utcnow().astimezone(CST).date()
