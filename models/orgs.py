"""Organizations (机构 / 单位), their departments, posts and staff.

The core fields (主体信息: name, credit code, licence number, supervising department, category) are read-only
for the institution itself; ``version`` lets a change request detect that the record moved meanwhile.
The rest of the institution record (address, contacts, branches, attachments, staffing quota) is edited by
the institution itself. Detailed personnel sections, tags, trial-period registrations and imports live in
``models.personnel``.
"""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (CheckConstraint, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint,
                        text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.db import Base, UTCDateTime, utcnow
from models.regions import Region


class OrgKind(StrEnum):
    HEALTH_COMMISSION = "health_commission"
    MENTAL_HEALTH_CENTER = "mental_health_center"
    MEDICAL_INSTITUTION = "medical_institution"


ORG_KIND_LABELS = {
    OrgKind.HEALTH_COMMISSION: "卫生健康行政部门",
    OrgKind.MENTAL_HEALTH_CENTER: "精防机构",
    OrgKind.MEDICAL_INSTITUTION: "医疗机构",
}


class OrgStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class EmploymentStatus(StrEnum):
    ACTIVE = "active"
    LEFT = "left"


def _in(column, enum):
    return f"{column} IN ({', '.join(repr(str(m)) for m in enum)})"


class Organization(Base):
    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint(_in("kind", OrgKind), name="kind"),
        CheckConstraint(_in("status", OrgStatus), name="status"),
        CheckConstraint("length(uscc) = 18", name="uscc_length"),
        CheckConstraint("supervisor_id IS NULL OR supervisor_id <> id", name="not_own_supervisor"),
        CheckConstraint("quota IS NULL OR quota >= 0", name="quota"),
        CheckConstraint("beds IS NULL OR beds >= 0", name="beds"),
        CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude"),
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(128))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    licence_no: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=OrgStatus.ACTIVE)
    # basic and institution information (not core: the institution edits these itself)
    address: Mapped[str | None] = mapped_column(String(255))
    longitude: Mapped[float | None] = mapped_column(Numeric(9, 6))
    latitude: Mapped[float | None] = mapped_column(Numeric(8, 6))
    postal_code: Mapped[str | None] = mapped_column(String(6))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(128))
    website: Mapped[str | None] = mapped_column(String(255))
    legal_representative: Mapped[str | None] = mapped_column(String(64))
    principal: Mapped[str | None] = mapped_column(String(64))
    ownership: Mapped[str | None] = mapped_column(String(32))
    grade: Mapped[str | None] = mapped_column(String(32))
    beds: Mapped[int | None] = mapped_column(Integer)
    established_on: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(Text)
    # staffing quota (编制) allocated by the business admins of the region
    quota: Mapped[int | None] = mapped_column(Integer)
    quota_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    region: Mapped[Region] = relationship()
    supervisor: Mapped["Organization | None"] = relationship(remote_side=[id])
    __mapper_args__ = {"version_id_col": version}

    @property
    def kind_label(self):
        return ORG_KIND_LABELS[OrgKind(self.kind)]

    @property
    def is_institution(self):
        return self.kind == OrgKind.MEDICAL_INSTITUTION

    def __repr__(self):
        return f"<Organization {self.id} {self.name}>"


class Department(Base):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("org_id", "parent_id", "name"),
                      CheckConstraint("quota >= 0", name="quota"))

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32), default="科室(部门)")
    standard_name: Mapped[str | None] = mapped_column(String(64))
    quota: Mapped[int] = mapped_column(Integer, default=0)
    sort: Mapped[int] = mapped_column(Integer, default=0)

    org: Mapped[Organization] = relationship()
    parent: Mapped["Department | None"] = relationship(remote_side=[id])


class StandardPost(Base):
    """A standard post (标准岗位) kept by the business admins of a region (NULL region: nationwide); an
    institution maps its own posts to the standard posts of its region and the regions above."""

    __tablename__ = "standard_posts"
    __table_args__ = (UniqueConstraint("region_code", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    sort: Mapped[int] = mapped_column(Integer, default=0)

    region: Mapped[Region | None] = relationship()


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    standard_post_id: Mapped[int | None] = mapped_column(ForeignKey("standard_posts.id", ondelete="SET NULL"),
                                                         index=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)

    org: Mapped[Organization] = relationship()
    standard_post: Mapped[StandardPost | None] = relationship()


class Branch(Base):
    """A branch (分院) of an institution."""

    __tablename__ = "org_branches"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    address: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    longitude: Mapped[float | None] = mapped_column(Numeric(9, 6))
    latitude: Mapped[float | None] = mapped_column(Numeric(8, 6))
    beds: Mapped[int | None] = mapped_column(Integer)

    org: Mapped[Organization] = relationship()


class OrgAttachment(Base):
    """A file kept with the institution record (执业许可证副本, 法人证书, ...)."""

    __tablename__ = "org_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    org: Mapped[Organization] = relationship()
    attachment = relationship("Attachment")


class Staff(Base):
    """A person employed by an institution. One ID number is active in at most one institution."""

    __tablename__ = "staff"
    __table_args__ = (
        UniqueConstraint("org_id", "staff_no"),
        CheckConstraint(_in("employment_status", EmploymentStatus), name="employment_status"),
        CheckConstraint("(employment_status = 'left') = (left_on IS NOT NULL)", name="left_has_date"),
        Index("ix_staff_org_name", "org_id", "name"),
        Index("ix_staff_id_number", "id_number"),
        Index(
            "uq_staff_active_id_number", "id_type", "id_number", unique=True,
            postgresql_where=text("employment_status = 'active'"),
            sqlite_where=text("employment_status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    staff_no: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    gender: Mapped[str | None] = mapped_column(String(4))
    id_type: Mapped[str] = mapped_column(String(32), default="resident_id")
    id_number: Mapped[str] = mapped_column(String(32))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    employment_status: Mapped[str] = mapped_column(String(16), default=EmploymentStatus.ACTIVE)
    left_on: Mapped[date | None] = mapped_column(Date)
    # basic information (基本信息); the required (★) ones are enforced by the service, not the table, because
    # records that predate them (and resignation drafts) exist without them
    birth_date: Mapped[date | None] = mapped_column(Date)
    ethnicity: Mapped[str | None] = mapped_column(String(16))
    political_status: Mapped[str | None] = mapped_column(String(16))
    education: Mapped[str | None] = mapped_column(String(16))
    degree: Mapped[str | None] = mapped_column(String(16))
    major: Mapped[str | None] = mapped_column(String(64))
    work_started_on: Mapped[date | None] = mapped_column(Date)
    joined_on: Mapped[date | None] = mapped_column(Date)
    work_status: Mapped[str | None] = mapped_column(String(32))
    staff_category: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str | None] = mapped_column(String(32))
    practice_cert_no: Mapped[str | None] = mapped_column(String(32))
    qualification_cert_no: Mapped[str | None] = mapped_column(String(32))
    mobile: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(255))
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id", ondelete="SET NULL", use_alter=True))
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    org: Mapped[Organization] = relationship()
    department: Mapped[Department | None] = relationship()
    post: Mapped[Post | None] = relationship()
    photo = relationship("Attachment")
