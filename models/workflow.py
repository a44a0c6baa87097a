"""Workflow state: process spec versions, instances, the human-task index, the timeline and attachments.

Inbox queries read ``HumanTask`` only and never deserialize a workflow. An instance stores its own engine
state without the spec (the spec is stored once per version in ``ProcessSpec``), with the serializer version.
"""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.accounts import User
from models.db import Base, UTCDateTime, utcnow
from models.orgs import Organization, _in


class InstanceStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ERROR = "error"


INSTANCE_STATUS_LABELS = {InstanceStatus.RUNNING: "审批中", InstanceStatus.COMPLETED: "已办结",
                          InstanceStatus.CANCELLED: "已撤销", InstanceStatus.ERROR: "处理异常"}


class TaskStatus(StrEnum):
    READY = "ready"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ProcessSpec(Base):
    """One version of one process, stored once by the hash of its BPMN file."""

    __tablename__ = "process_specs"
    __table_args__ = (UniqueConstraint("process_key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    bpmn_xml: Mapped[str] = mapped_column(Text)
    spec_json: Mapped[str] = mapped_column(Text)
    forms: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProcessInstance(Base):
    __tablename__ = "process_instances"
    __table_args__ = (
        CheckConstraint(_in("status", InstanceStatus), name="status"),
        CheckConstraint("(status = 'error') = (error_message IS NOT NULL)", name="error_has_message"),
        Index("ix_process_instances_next_timer_at", "next_timer_at"),
        Index("ix_process_instances_status", "status"),
        Index("ix_process_instances_started_by", "started_by_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(64), index=True)
    spec_id: Mapped[int] = mapped_column(ForeignKey("process_specs.id"))
    status: Mapped[str] = mapped_column(String(16), default=InstanceStatus.RUNNING)
    title: Mapped[str] = mapped_column(String(200))
    business_key: Mapped[str | None] = mapped_column(String(64), index=True)
    started_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    region_path: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_message: Mapped[str | None] = mapped_column(Text)
    failed_step: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    spec: Mapped[ProcessSpec] = relationship()
    started_by: Mapped[User] = relationship()
    org: Mapped[Organization] = relationship()
    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self):
        return INSTANCE_STATUS_LABELS[InstanceStatus(self.status)]


class HumanTask(Base):
    """One row per ready or completed user task: the inbox reads these and nothing else.

    Candidates are the users of ``candidate_org_id`` who qualify for ``lane`` (``workflows.lanes``); a task of
    the ``applicant`` lane is assigned to the initiator from the start.
    """

    __tablename__ = "human_tasks"
    __table_args__ = (
        CheckConstraint(_in("state", TaskStatus), name="state"),
        CheckConstraint("(state = 'completed') = (completed_at IS NOT NULL)", name="completed_has_time"),
        CheckConstraint("state <> 'completed' OR completed_by_id IS NOT NULL", name="completed_has_actor"),
        # the claimable view: its rows in page order (due date, none last, then id), covering the other filters
        Index("ix_human_tasks_claimable", "candidate_org_id", "state", "due_at", "id", "lane", "assignee_id",
              "initiator_id", "instance_id"),
        Index("ix_human_tasks_assignee", "assignee_id", "state", "due_at"),
        Index("ix_human_tasks_completed_by", "completed_by_id", "completed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"), index=True)
    task_guid: Mapped[str] = mapped_column(String(36), unique=True)
    bpmn_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    lane: Mapped[str] = mapped_column(String(64))
    candidate_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    process_key: Mapped[str] = mapped_column(String(64))
    initiator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    form: Mapped[str | None] = mapped_column(String(128))
    ui_form: Mapped[str | None] = mapped_column(String(128))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(16), default=TaskStatus.READY)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)

    instance: Mapped[ProcessInstance] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    initiator: Mapped[User] = relationship(foreign_keys=[initiator_id])
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])
    candidate_org: Mapped[Organization] = relationship()


class ProcessEvent(Base):
    """The history timeline of an instance: who did what, when, with which outcome and opinion."""

    __tablename__ = "process_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str | None] = mapped_column(String(64))
    task_guid: Mapped[str | None] = mapped_column(String(36))
    bpmn_id: Mapped[str | None] = mapped_column(String(64))
    task_name: Mapped[str | None] = mapped_column(String(128))
    outcome: Mapped[str | None] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class Attachment(Base):
    """An uploaded file: stored under a random name, its type sniffed from the content."""

    __tablename__ = "attachments"
    __table_args__ = (CheckConstraint("size > 0", name="size"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id", ondelete="SET NULL"),
                                                     index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
