"""SQLAlchemy models. Nothing here imports Flask.

Import the model modules so that ``Base.metadata`` knows every table (Alembic and tests rely on it).
"""
from models.db import Base, Session, utcnow  # noqa: F401
from models import regions, orgs, accounts, audit, workflow, scheduling, personnel  # noqa: F401
