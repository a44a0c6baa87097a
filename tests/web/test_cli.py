"""The command line: create-admin (password asked for and checked), seed-demo, db upgrade."""
import pytest
from sqlalchemy import select

from models import Session
from models.accounts import User


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def test_create_admin_asks_for_a_policy_password(cli):
    result = cli.invoke(args=["create-admin", "opsadmin01"], input="short\nshort\n")
    assert result.exit_code != 0 and "密码不符合规则" in result.output
    assert Session().scalars(select(User).where(User.username == "opsadmin01")).first() is None
    result = cli.invoke(args=["create-admin", "opsadmin01"], input="Op#9Lm@2Qw\nOp#9Lm@2Qw\n")
    assert result.exit_code == 0, result.output
    admin = Session().scalars(select(User).where(User.username == "opsadmin01")).one()
    assert admin.user_type == "system_admin" and admin.real_name_verified and not admin.must_change_password
    assert cli.invoke(args=["create-admin", "opsadmin01"], input="Op#9Lm@2Qw\nOp#9Lm@2Qw\n").exit_code != 0


def test_seed_demo_is_idempotent(cli):
    before = Session().scalars(select(User)).all()
    assert cli.invoke(args=["seed-demo"]).exit_code == 0
    assert cli.invoke(args=["seed-demo", "--if-empty"]).output.strip() == "数据库已有账号，跳过演示数据"
    assert len(Session().scalars(select(User)).all()) == len(before)
