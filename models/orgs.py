"""Organizations (机构 / 单位), their departments, posts and staff.

The core fields (主体信息: name, credit code, licence number, supervising department, category) are read-only
for the institution itself; ``version`` lets a change request detect that the record moved meanwhile.
Staff are kept to what resignation and account linking need; the full personnel record comes with the
institution-data pages.
"""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
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
    __table_args__ = (UniqueConstraint("org_id", "parent_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32), default="科室(部门)")
    standard_name: Mapped[str | None] = mapped_column(String(64))
    sort: Mapped[int] = mapped_column(Integer, default=0)

    org: Mapped[Organization] = relationship()
    parent: Mapped["Department | None"] = relationship(remote_side=[id])


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    standard_post: Mapped[str | None] = mapped_column(String(64))

    org: Mapped[Organization] = relationship()


class Staff(Base):
    """A person employed by an institution. One ID number is active in at most one institution."""

    __tablename__ = "staff"
    __table_args__ = (
        UniqueConstraint("org_id", "staff_no"),
        CheckConstraint(_in("employment_status", EmploymentStatus), name="employment_status"),
        CheckConstraint("(employment_status = 'left') = (left_on IS NOT NULL)", name="left_has_date"),
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

    org: Mapped[Organization] = relationship()
    department: Mapped[Department | None] = relationship()
    post: Mapped[Post | None] = relationship()
