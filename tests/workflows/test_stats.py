"""统计分析 (workflows/stats.py): counts by department, title, education and age band (from the birth date, or
the resident ID when it is missing), and the roster of Hubei 图6-2 with its formula-safe Excel export."""
from datetime import date
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from models import Session
from models.audit import AuditEvent
from models.orgs import Staff
from tests.conftest import user
from tests.workflows.test_personnel import person
from workflows import personnel, stats

TODAY = date(2026, 11, 22)


@pytest.fixture
def master(ready):
    ready("jahosp001", verified=True)
    return user("jahosp001")


def staff(staff_no):
    return Session().scalars(select(Staff).where(Staff.staff_no == staff_no)).one()


@pytest.mark.parametrize("age, band", [
    (18, "30岁以下"), (29, "30岁以下"), (30, "30–39岁"), (39, "30–39岁"), (40, "40–49岁"), (49, "40–49岁"),
    (50, "50–59岁"), (59, "50–59岁"), (60, "60岁及以上"), (75, "60岁及以上"),
])
def test_age_bands(age, band):
    assert stats.age_band(age) == band


@pytest.mark.parametrize("born, today, age", [
    (date(1990, 11, 22), TODAY, 36), (date(1990, 11, 23), TODAY, 35), (date(1996, 11, 23), TODAY, 29),
    (date(2000, 2, 29), date(2026, 2, 28), 25), (date(2000, 2, 29), date(2026, 3, 1), 26),
])
def test_age_on_a_day(born, today, age):
    assert stats.age_on(born, today) == age


def test_birth_date_falls_back_to_the_resident_id():
    assert stats.birth_date_of(None, "resident_id", "42010219800101001X") == date(1980, 1, 1)
    assert stats.birth_date_of(date(1981, 2, 3), "resident_id", "42010219800101001X") == date(1981, 2, 3)
    assert stats.birth_date_of(None, "passport", "E12345678") is None


def test_common_counts(master):
    # demo: 张伟 1980 (46, 内科), 李娜 1985 (41, 外科), 王强 1992 (34, 人事科); no title or education yet
    personnel.save_basic(master, master.org, person(title="主治医师"))            # 赵敏 1990 (36, 内科)
    counts = stats.common(master, today=TODAY)
    assert counts["total"] == 4
    assert counts["department"] == [("内科", 2), ("外科", 1), ("人事科", 1)]
    assert counts["title"] == [("主治医师", 1), ("未填写", 3)]
    assert counts["education"] == [("大学本科", 1), ("未填写", 3)]
    assert counts["age"] == [("30岁以下", 0), ("30–39岁", 2), ("40–49岁", 2), ("50–59岁", 0), ("60岁及以上", 0)]


def test_left_staff_and_other_institutions_are_not_counted(master):
    wang = staff("JA0003")
    wang.employment_status, wang.left_on = "left", date(2026, 1, 31)
    Session().flush()
    assert stats.common(master, today=TODAY)["total"] == 2
    assert [r[2] for r in stats.roster(master)] == ["张伟", "李娜"]


def test_roster_rows_and_department_filter(master):
    zhang = staff("JA0001")
    zhang.title, zhang.practice_cert_no, zhang.mobile = "主任医师", "110420100001", "13800138000"
    Session().flush()
    rows = stats.roster(master)
    assert rows[0] == (1, "内科", "张伟", "男", "42010219800101001X", "主任医师", "110420100001", "", "13800138000", "")
    assert [r[1] for r in rows] == ["内科", "外科", "人事科"]
    assert [r[2] for r in stats.roster(master, staff("JA0002").department_id)] == ["李娜"]


def test_roster_export_is_text_formula_safe_and_audited(master):
    staff("JA0002").note = "=1+1"
    Session().flush()
    sheet = load_workbook(BytesIO(stats.roster_xlsx(master))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == stats.ROSTER_HEADERS
    assert rows[1][4] == "42010219800101001X" and sheet["E2"].number_format == "@"
    assert rows[2][9] == "'=1+1"
    event = Session().scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "roster_export" and event.detail["rows"] == 3


def test_no_institution_no_numbers(ready):
    ready("sysadmin01")
    admin = user("sysadmin01")
    assert stats.common(admin)["total"] == 0 and stats.roster(admin) == []
