"""In-app notifications, with room for other channels.

``notify`` adds the in-app message in the caller's transaction; channels registered with ``register_channel``
(e-mail, SMS, …) are handed the message only after the transaction commits, so nobody is told of a change that
was rolled back.
"""
from sqlalchemy import event, func, select, update

from models import Session, utcnow
from models.scheduling import Notification

_channels = []


def register_channel(send):
    """``send(notification)`` is called after commit for every new notification."""
    _channels.append(send)


def notify(user, kind, title, body=None, link=None):
    note = Notification(user_id=user.id if hasattr(user, "id") else user, kind=kind, title=title[:200], body=body,
                        link=link, created_at=utcnow())
    session = Session()
    session.add(note)
    if _channels:
        pending = session.info.setdefault("pending_notifications", [])
        pending.append(note)
    return note


@event.listens_for(Session, "after_commit")
def _deliver(session):
    for note in session.info.pop("pending_notifications", []):
        for send in _channels:
            send(note)


@event.listens_for(Session, "after_rollback")
def _forget(session):
    session.info.pop("pending_notifications", None)


def unread_count(user):
    return Session().scalar(select(func.count()).where(Notification.user_id == user.id,
                                                       Notification.read_at.is_(None)))


def page(user, page_no=1, per_page=20):
    query = select(Notification).where(Notification.user_id == user.id).order_by(Notification.id.desc())
    total = Session().scalar(select(func.count()).where(Notification.user_id == user.id))
    rows = Session().scalars(query.limit(per_page).offset((max(page_no, 1) - 1) * per_page)).all()
    return rows, total


def mark_read(user, ids=None):
    """Mark the user's notifications read (all, or those in ``ids``); returns how many changed."""
    query = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if ids is not None:
        query = query.where(Notification.id.in_(list(ids)))
    return Session().execute(query.values(read_at=utcnow()).execution_options(synchronize_session=False)).rowcount
