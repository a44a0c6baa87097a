"""Command line: ``flask --app wsgi db upgrade | seed-demo | create-admin USERNAME | scheduler``."""
import os

import click
from alembic import command
from alembic.config import Config
from flask import current_app
from flask.cli import AppGroup

from models import Session
from models.db import migration_connection
from models.accounts import User, UserType
from scheduler import scheduler_command
from workflows import audit, auth, demo, reference
from workflows.errors import PolicyViolation

db_cli = AppGroup("db", help="Database schema.")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def alembic_config():
    cfg = Config(os.path.join(ROOT, "alembic.ini"))
    cfg.set_main_option("script_location", os.path.join(ROOT, "migrations"))
    return cfg


def upgrade_database(engine):
    """Migrate to the newest schema and sync the permission tree and default roles."""
    cfg = alembic_config()
    with migration_connection(engine) as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
    reference.sync()
    Session.commit()


@db_cli.command("upgrade")
def upgrade_command():
    """Apply all migrations."""
    upgrade_database(current_app.extensions["engine"])
    click.echo("数据库已升级到最新版本")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only when the database has no accounts yet.")
def seed_demo_command(if_empty):
    """Load the demo dataset (idempotent)."""
    if if_empty and not demo.is_empty():
        click.echo("数据库已有账号，跳过演示数据")
        return
    demo.load()
    Session.commit()
    click.echo("演示数据已就绪（初始密码 %s，首次登录须修改）" % demo.DEMO_PASSWORD)


@click.command("create-admin")
@click.argument("username")
@click.option("--display-name", default="系统管理员")
@click.password_option(prompt="密码", confirmation_prompt="再次输入密码")
def create_admin_command(username, display_name, password):
    """Create a system administrator with the given password (asked for, never echoed)."""
    username = auth.normalize_username(username)
    if Session().query(User).filter_by(username=username).first() is not None:
        raise click.ClickException("该账号已存在")
    user = User(username=username, display_name=display_name, user_type=UserType.SYSTEM_ADMIN,
                password_hash="", session_token=auth.new_session_token(), real_name_verified=True)
    Session().add(user)
    Session().flush()
    try:
        found = auth.policy_violations(user, password)
        if found:
            raise PolicyViolation(found)
    except PolicyViolation as exc:
        Session.rollback()
        raise click.ClickException("密码不符合规则：" + "；".join(exc.detail["messages"])) from None
    auth.set_password(user, password)
    roles = reference.sync()
    user.roles = [roles["system_admin"]]
    audit.record("admin_create", target=user, actor_name="cli")
    Session.commit()
    click.echo(f"系统管理员 {username} 已创建")


def init_app(app):
    app.cli.add_command(db_cli)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_admin_command)
    app.cli.add_command(scheduler_command)
