"""Rules the database itself enforces, whatever the Python code does."""
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import Session, utcnow
from models.accounts import User
from models.orgs import Organization, Staff


def violates(change):
    nested = Session().begin_nested()
    with pytest.raises(IntegrityError):
        change()
        Session.flush()
    nested.rollback()


def hospital():
    return Session().scalars(select(Organization).where(Organization.name == "测试医院")).one()


def test_credit_code_length_and_uniqueness():
    def bad_length():
        hospital().uscc = "123"
    violates(bad_length)

    def duplicate():
        Session().add(Organization(kind="medical_institution", name="重复", uscc=hospital().uscc, category="综合医院",
                                   region_code="420102"))
    violates(duplicate)


def test_one_master_account_per_organization(users):
    def second_master():
        Session().add(User(username="secondmaster", display_name="x", org_id=hospital().id, user_type="master",
                           password_hash="x", session_token="t"))
    violates(second_master)


def test_one_active_id_number_across_institutions():
    first = Session().scalars(select(Staff).where(Staff.staff_no == "JA0001")).one()
    other = Session().scalars(select(Organization).where(Organization.name == "武昌测试医院")).one()

    def duplicate_active():
        Session().add(Staff(org_id=other.id, staff_no="WC9999", name=first.name, id_number=first.id_number))
    violates(duplicate_active)
    first.employment_status, first.left_on = "left", utcnow().date()
    Session().add(Staff(org_id=other.id, staff_no="WC9999", name=first.name, id_number=first.id_number))
    Session.flush()   # free again once the first record has left


@pytest.mark.parametrize("change", [
    {"user_type": "boss"},
    {"lock_reason": "failed_logins"},                         # a lock needs its time
    {"lock_reason": "admin", "locked_at": "now", "locked_until": "now"},   # admin locks have no end
    {"failed_attempts": -1},
    {"password_change_reason": "because"},
])
def test_user_checks(users, change):
    user = users("jaadmin01")

    def apply():
        for key, value in change.items():
            setattr(user, key, utcnow() if value == "now" else value)
    violates(apply)


def test_region_root_must_be_a_province():
    from models.regions import Region

    def orphan_city():
        Session().add(Region("990100", "孤立市", "city"))
    violates(orphan_city)
