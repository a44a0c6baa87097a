"""The migrations build exactly the schema the models describe (the test database was built by them)."""
import pytest
from sqlalchemy import text
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from models import Base


@pytest.mark.live   # reads the schema outside the per-test transaction
def test_models_and_migrations_agree(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


@pytest.mark.live
def test_institution_data_migration_keeps_rows_and_maps_standard_posts(tmp_dir):
    """0004 rebuilds tables that others refer to (on SQLite by copying them): the rows that refer to them
    survive, and each old standard-post text becomes a standard post the post points at; downgrading
    brings the texts back."""
    from alembic import command

    from tests.conftest import drop_database, fresh_database
    from web.cli import alembic_config
    from models.db import migration_connection

    engine = fresh_database("hgov_migrate", tmp_dir)

    def migrate(verb, target):
        cfg = alembic_config()
        with migration_connection(engine) as connection:
            cfg.attributes["connection"] = connection
            getattr(command, verb)(cfg, target)

    try:
        migrate("upgrade", "0003")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO regions (code, name, level, parent_code, path) "
                              "VALUES ('420000', '湖北省', 'province', NULL, '420000/')"))
            org_id = conn.execute(text(
                "INSERT INTO organizations (kind, name, uscc, category, region_code, status, version, created_at, "
                "updated_at) VALUES ('medical_institution', '测试医院', '12420102MB1234567T', '综合医院', '420000', "
                "'active', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00') RETURNING id")).scalar_one()
            conn.execute(text("INSERT INTO departments (org_id, name, category, sort) "
                              "VALUES (:org, '内科', '科室(部门)', 0)"), {"org": org_id})
            conn.execute(text("INSERT INTO posts (org_id, name, standard_post) VALUES (:org, '医师', '临床医师'), "
                              "(:org, '护士', '护士'), (:org, '杂务', NULL)"), {"org": org_id})
        migrate("upgrade", "0004")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT name, quota FROM departments")).all() == [("内科", 0)]
            rows = conn.execute(text("SELECT p.name, s.name FROM posts p LEFT JOIN standard_posts s "
                                     "ON s.id = p.standard_post_id ORDER BY p.id")).all()
        assert rows == [("医师", "临床医师"), ("护士", "护士"), ("杂务", None)]
        migrate("downgrade", "0003")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT name, standard_post FROM posts ORDER BY id")).all() == [
                ("医师", "临床医师"), ("护士", "护士"), ("杂务", None)]
            assert conn.execute(text("SELECT count(*) FROM departments")).scalar_one() == 1
    finally:
        engine.dispose()
        drop_database("hgov_migrate")
