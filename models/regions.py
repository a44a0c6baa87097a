"""Administrative regions (行政区划): a tree of province / city / county.

Jurisdiction is decided by the tree, never by code prefixes: 省直辖县 such as 仙桃 (429004) hang directly under
their province and cities without counties such as 东莞 (441900) have no children. ``path`` is the
materialised chain of codes from the root (``/420000/420100/420102/``), so "within" is one indexed prefix test.
"""
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.db import Base


class RegionLevel(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"


LEVEL_LABELS = {RegionLevel.PROVINCE: "省级", RegionLevel.CITY: "市级", RegionLevel.COUNTY: "县级"}


class Region(Base):
    __tablename__ = "regions"
    __table_args__ = (
        CheckConstraint("level IN ('province', 'city', 'county')", name="level"),
        CheckConstraint("length(code) = 6", name="code_length"),
        CheckConstraint("(level = 'province') = (parent_code IS NULL)", name="root_is_province"),
    )

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    path: Mapped[str] = mapped_column(String(64), unique=True)

    parent: Mapped["Region | None"] = relationship(remote_side=[code], back_populates="children")
    children: Mapped[list["Region"]] = relationship(back_populates="parent")

    def __init__(self, code, name, level, parent=None):
        super().__init__(code=code, name=name, level=str(level), parent=parent)
        self.path = (parent.path if parent else "/") + code + "/"

    def is_within(self, other):
        """True when this region is ``other`` or lies in its subtree."""
        return self.path.startswith(other.path)

    @property
    def level_label(self):
        return LEVEL_LABELS[RegionLevel(self.level)]

    def __repr__(self):
        return f"<Region {self.code} {self.name}>"
