"""Service-task handlers: BPMN service tasks name one of these by its operator id.

A handler runs inside the step's transaction with a ``StepContext`` and the evaluated parameters, and returns
a JSON-serialisable result stored in the task data. If it raises, the whole step rolls back and the instance
is marked ``error`` until an administrator retries it.
"""
from dataclasses import dataclass, field

from models import Session
from models.workflow import HumanTask, ProcessEvent, TaskStatus

_HANDLERS = {}


@dataclass
class StepContext:
    instance: object
    actor: object | None
    events: list = field(default_factory=list)

    def event(self, kind, **values):
        event = ProcessEvent(instance_id=self.instance.id, kind=kind, **values)
        Session().add(event)
        self.events.append(event)
        return event


def handler(name):
    def register(fn):
        if name in _HANDLERS:
            raise ValueError(f"handler {name!r} registered twice")
        _HANDLERS[name] = fn
        return fn
    return register


def get(name):
    return _HANDLERS.get(name)


def names():
    return set(_HANDLERS)


@handler("notify_candidates")
def notify_candidates(ctx, task):
    """Remind the candidates (or the assignee) of an open task; recorded on the timeline (催办)."""
    from workflows import inbox, notifications
    rows = Session().query(HumanTask).filter_by(instance_id=ctx.instance.id, bpmn_id=task,
                                                 state=TaskStatus.READY).all()
    people = {u.id: u for row in rows for u in inbox.candidates(row)}
    for row in rows:
        for user in inbox.candidates(row):
            notifications.notify(user, "reminder", f"催办：{ctx.instance.title}（{row.name}）待处理",
                                 body=f"{ctx.instance.org.name} 提交的申请已等待处理，请及时办理。",
                                 link=f"/tasks/{row.id}")
    notified = sorted(u.username for u in people.values())
    ctx.event("reminder", bpmn_id=task, task_name=rows[0].name if rows else task,
              detail={"notified": notified})
    return {"notified": notified}


@handler("record_outcome")
def record_outcome(ctx, outcome):
    ctx.event("outcome", outcome=outcome, actor_id=ctx.actor.id if ctx.actor else None,
              actor_name=ctx.actor.username if ctx.actor else None)
    return {"outcome": outcome}
