"""Users, roles, the permission tree, password history and API tokens."""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (Boolean, CheckConstraint, Column, Date, ForeignKey, Index, Integer, String, Table,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.db import Base, UTCDateTime, utcnow
from models.orgs import Organization, Staff, _in


class UserType(StrEnum):
    SYSTEM_ADMIN = "system_admin"
    BUSINESS_ADMIN = "business_admin"
    SAME_LEVEL_1 = "same_level_1"
    SAME_LEVEL_2 = "same_level_2"
    DIRECT_REPORT = "direct_report"
    MASTER = "master"
    SUB_ACCOUNT = "sub_account"


USER_TYPE_LABELS = {
    UserType.SYSTEM_ADMIN: "系统管理员",
    UserType.BUSINESS_ADMIN: "业务管理员",
    UserType.SAME_LEVEL_1: "本级用户1(数据质控员)",
    UserType.SAME_LEVEL_2: "本级用户2",
    UserType.DIRECT_REPORT: "直报用户",
    UserType.MASTER: "机构总账号",
    UserType.SUB_ACCOUNT: "机构子账号",
}


class UserStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"
    DELETED = "deleted"


class LockReason(StrEnum):
    FAILED_LOGINS = "failed_logins"
    ADMIN = "admin"
    YEARLY_REVIEW = "yearly_review"
    LEAK = "leak"
    RESIGNED = "resigned"


LOCK_REASON_LABELS = {
    LockReason.FAILED_LOGINS: "连续登录失败",
    LockReason.ADMIN: "管理员锁定",
    LockReason.YEARLY_REVIEW: "年度审核锁定",
    LockReason.LEAK: "账号密码泄露",
    LockReason.RESIGNED: "人员离职",
}


class PasswordChangeReason(StrEnum):
    INITIAL = "initial"
    RESET = "reset"
    EXPIRED = "expired"


user_roles = Table(
    "user_roles", Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True, index=True),
)

role_permissions = Table(
    "role_permissions", Base.metadata,
    Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
    Column("permission_code", ForeignKey("permissions.code", ondelete="CASCADE"), primary_key=True),
)


class Permission(Base):
    """A function point (功能点). Permissions form a tree; granting a parent grants its children."""

    __tablename__ = "permissions"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("permissions.code"), index=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)

    parent: Mapped["Permission | None"] = relationship(remote_side=[code])


class Role(Base):
    """A set of function points. ``org_id`` NULL marks a system role; otherwise the role belongs to that
    organization and only that organization's administrators may edit or assign it."""

    __tablename__ = "roles"
    __table_args__ = (
        UniqueConstraint("org_id", "name"),
        CheckConstraint("status IN ('normal', 'disabled')", name="status"),
        CheckConstraint("code IS NULL OR org_id IS NULL", name="code_only_for_system_roles"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str | None] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    role_type: Mapped[str | None] = mapped_column(String(32))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    parent_role_id: Mapped[int | None] = mapped_column(ForeignKey("roles.id", ondelete="SET NULL"))
    sort: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="normal")
    description: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    org: Mapped[Organization | None] = relationship()
    parent_role: Mapped["Role | None"] = relationship(remote_side=[id])
    permissions: Mapped[list[Permission]] = relationship(secondary=role_permissions, order_by=Permission.sort)

    @property
    def permission_codes(self):
        return {p.code for p in self.permissions}


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(_in("user_type", UserType), name="user_type"),
        CheckConstraint(_in("status", UserStatus), name="status"),
        CheckConstraint(f"lock_reason IS NULL OR {_in('lock_reason', LockReason)}", name="lock_reason"),
        CheckConstraint("(lock_reason IS NULL) = (locked_at IS NULL)", name="lock_has_time"),
        CheckConstraint("locked_until IS NULL OR lock_reason IS NOT NULL", name="lock_until_needs_reason"),
        CheckConstraint("(lock_reason = 'failed_logins') = (locked_until IS NOT NULL)", name="timed_lock"),
        CheckConstraint(
            f"password_change_reason IS NULL OR {_in('password_change_reason', PasswordChangeReason)}",
            name="password_change_reason",
        ),
        CheckConstraint("failed_attempts >= 0", name="failed_attempts"),
        CheckConstraint("user_type = 'system_admin' OR org_id IS NOT NULL", name="org_required"),
        Index(
            "uq_users_one_master_per_org", "org_id", unique=True,
            postgresql_where=text("user_type = 'master' AND status <> 'deleted'"),
            sqlite_where=text("user_type = 'master' AND status <> 'deleted'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    user_type: Mapped[str] = mapped_column(String(32))
    department: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(128))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), index=True)

    password_hash: Mapped[str] = mapped_column(String(255))
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_change_reason: Mapped[str | None] = mapped_column(String(16))
    temporary_password_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    lock_reason: Mapped[str | None] = mapped_column(String(32))
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lock_detail: Mapped[str | None] = mapped_column(String(128))

    status: Mapped[str] = mapped_column(String(16), default=UserStatus.ACTIVE)
    real_name_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    real_name: Mapped[str | None] = mapped_column(String(64))
    id_type: Mapped[str | None] = mapped_column(String(32))
    id_number: Mapped[str | None] = mapped_column(String(32))
    valid_until: Mapped[date | None] = mapped_column(Date)

    session_token: Mapped[str] = mapped_column(String(64))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    org: Mapped[Organization | None] = relationship()
    staff: Mapped[Staff | None] = relationship()
    roles: Mapped[list[Role]] = relationship(secondary=user_roles, order_by=Role.sort)

    # The attributes Flask-Login expects of a user (duck-typed; models do not import Flask). The alternative
    # id carries ``session_token``: rotating it ends every browser session of the account.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self):
        return self.status == UserStatus.ACTIVE

    def get_id(self):
        return f"{self.id}:{self.session_token}"

    @property
    def must_change_password(self):
        return self.password_change_reason is not None

    @property
    def user_type_label(self):
        return USER_TYPE_LABELS[UserType(self.user_type)]

    @property
    def lock_reason_label(self):
        return LOCK_REASON_LABELS[LockReason(self.lock_reason)] if self.lock_reason else ""

    def is_locked(self, now):
        """Locked now? A timed lock whose end has passed counts as open, whatever the sweeper did."""
        if self.lock_reason is None:
            return False
        return self.locked_until is None or self.locked_until > now

    def __repr__(self):
        return f"<User {self.id} {self.username}>"


class PasswordHistory(Base):
    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    """A bearer token for the JSON API. Only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
