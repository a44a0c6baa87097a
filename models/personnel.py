"""The detailed personnel record (work history, education, qualification certificates), personnel tags
(人员标签 / 关键人员组), trial-period registrations (试用期填报) and batch imports.

Each detail row belongs to one ``Staff`` record and may carry one attachment (a JPG scan of the diploma or
certificate). Imports keep their upload, progress and error report so the import-management page can show them.
"""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (Boolean, CheckConstraint, Column, Date, ForeignKey, Index, Integer, String, Table, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.db import Base, UTCDateTime, utcnow
from models.orgs import Organization, Staff


def _in(column, values):
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class _Detail:
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class WorkHistory(_Detail, Base):
    """工作经历. An open end (至今) is NULL ``ended_on``."""

    __tablename__ = "staff_work_history"
    __table_args__ = (CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="period"),)

    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    unit: Mapped[str] = mapped_column(String(128))
    department: Mapped[str | None] = mapped_column(String(64))
    position: Mapped[str | None] = mapped_column(String(64))

    staff: Mapped[Staff] = relationship()
    attachment = relationship("Attachment")


class Education(_Detail, Base):
    """学历学位."""

    __tablename__ = "staff_education"
    __table_args__ = (CheckConstraint("ended_on IS NULL OR started_on IS NULL OR ended_on >= started_on",
                                      name="period"),)

    started_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    school: Mapped[str] = mapped_column(String(128))
    major: Mapped[str | None] = mapped_column(String(64))
    education: Mapped[str] = mapped_column(String(16))
    degree: Mapped[str | None] = mapped_column(String(16))
    certificate_no: Mapped[str | None] = mapped_column(String(64))

    staff: Mapped[Staff] = relationship()
    attachment = relationship("Attachment")


class Certificate(_Detail, Base):
    """资格证书 (physician qualification, practising certificate, nurse licence, professional title ...)."""

    __tablename__ = "staff_certificates"

    kind: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(64))
    issued_on: Mapped[date | None] = mapped_column(Date)
    issuer: Mapped[str | None] = mapped_column(String(128))
    speciality: Mapped[str | None] = mapped_column(String(64))

    staff: Mapped[Staff] = relationship()
    attachment = relationship("Attachment")


tag_members = Table(
    "staff_tag_members", Base.metadata,
    Column("tag_id", ForeignKey("staff_tags.id", ondelete="CASCADE"), primary_key=True),
    Column("staff_id", ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class StaffTag(Base):
    """A personnel tag (关键人员组): a named group of the institution's staff; sealed (封存) groups are kept
    read-only until unsealed."""

    __tablename__ = "staff_tags"
    __table_args__ = (UniqueConstraint("org_id", "year", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(String(255))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    org: Mapped[Organization] = relationship()
    members: Mapped[list[Staff]] = relationship(secondary=tag_members, order_by=Staff.name)


class TrialRegistration(Base):
    """试用期填报: the registration of a staff member on the physician-exam trial period (在职状态
    医师资格考试试用期考核人员)."""

    __tablename__ = "trial_registrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), unique=True)
    exam_category: Mapped[str] = mapped_column(String(16))
    exam_level: Mapped[str] = mapped_column(String(16))
    trial_started_on: Mapped[date] = mapped_column(Date)
    trial_ended_on: Mapped[date | None] = mapped_column(Date)
    supervisor_name: Mapped[str | None] = mapped_column(String(64))
    assessment: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(255))
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    staff: Mapped[Staff] = relationship()
    attachment = relationship("Attachment")


class ImportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


IMPORT_STATUS_LABELS = {ImportStatus.QUEUED: "排队中", ImportStatus.RUNNING: "导入中", ImportStatus.DONE: "已完成",
                        ImportStatus.FAILED: "导入失败"}


class ImportJob(Base):
    """One batch import of one section's workbook (人员信息导入管理)."""

    __tablename__ = "import_jobs"
    __table_args__ = (
        CheckConstraint(_in("status", ImportStatus), name="status"),
        CheckConstraint("processed <= total AND created_count + updated_count + failed_count <= total",
                        name="counts"),
        Index("ix_import_jobs_org_created", "org_id", "created_at"),
        Index("ix_import_jobs_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    section: Mapped[str] = mapped_column(String(32))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    upload_id: Mapped[int] = mapped_column(ForeignKey("attachments.id"))
    update_existing: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=ImportStatus.QUEUED)
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    org: Mapped[Organization] = relationship()
    created_by = relationship("User")
    upload = relationship("Attachment", foreign_keys=[upload_id])
    report = relationship("Attachment", foreign_keys=[report_id])
