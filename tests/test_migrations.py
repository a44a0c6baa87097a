"""The migrations build exactly the schema the models describe (the test database was built by them)."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from models import Base


@pytest.mark.live   # reads the schema outside the per-test transaction
def test_models_and_migrations_agree(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
