"""Test fixtures.

The schema is built once per run by the real migrations (``alembic upgrade head``) plus the demo dataset, on
SQLite by default or on PostgreSQL when ``TEST_DATABASE_URL`` is set (in a schema of its own, dropped and
recreated at the start of every run). Each test runs inside an outer transaction that is rolled back
afterwards (``join_transaction_mode="create_savepoint"``), so commits made by views and services stay
invisible to the next test. Tests marked ``live`` (browser and concurrency tests) need real commits seen by
other threads: they get a separate database of their own, built the same way.
"""
import os
import threading

import pytest
from sqlalchemy import text
from werkzeug.serving import make_server

from models import Session
from models.accounts import User
from models.db import make_engine
from web import create_app
from web.cli import upgrade_database
from workflows import demo

TEST_URL = os.environ.get("TEST_DATABASE_URL")
DEMO_PASSWORD = demo.DEMO_PASSWORD
FAST_HASHING = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024}
UNTHROTTLED = {"LOGIN_RATE_LIMIT": "100000 per minute"}   # the suite logs in far more often than people do


def is_postgres():
    return bool(TEST_URL and TEST_URL.startswith("postgresql"))


RUN_ID = os.getpid()   # parallel runs against one PostgreSQL never share a schema


def fresh_database(name, tmp_dir, **engine_kwargs):
    """An engine on a new, empty database: a SQLite file, or a PostgreSQL schema dropped and recreated."""
    if is_postgres():
        name = f"{name}_{RUN_ID}"
        admin = make_engine(TEST_URL)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        admin.dispose()
        return make_engine(TEST_URL, connect_args={"options": f"-csearch_path={name}"}, **engine_kwargs)
    path = os.path.join(tmp_dir, f"{name}.db")
    if os.path.exists(path):
        os.remove(path)
    return make_engine(f"sqlite:///{path}", **engine_kwargs)


def build_app(engine, tmp_dir, **overrides):
    config = {"TESTING": True, "ENGINE": engine, "DATABASE_URL": str(engine.url), "INSTANCE_PATH": tmp_dir,
              "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test-secret-key", **FAST_HASHING, **UNTHROTTLED,
              **overrides}
    return create_app(config)


def load_schema_and_demo(engine):
    upgrade_database(engine)
    demo.load()
    Session.commit()
    Session.remove()


@pytest.fixture(scope="session")
def tmp_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("hgov"))


@pytest.fixture(scope="session")
def engine(tmp_dir):
    engine = fresh_database("hgov_test", tmp_dir)
    build_app(engine, tmp_dir)   # configures settings (fast hashing) before the demo users are hashed
    load_schema_and_demo(engine)
    yield engine
    engine.dispose()
    drop_database("hgov_test")


def drop_database(name):
    if is_postgres():
        admin = make_engine(TEST_URL)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}_{RUN_ID}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def app(engine, tmp_dir):
    return build_app(engine, tmp_dir)


@pytest.fixture(autouse=True)
def db(request):
    """Bind the session to a connection whose outer transaction is rolled back after the test."""
    if request.node.get_closest_marker("live") or request.node.get_closest_marker("browser"):
        yield None
        return
    engine = request.getfixturevalue("engine")
    request.getfixturevalue("app")
    connection = engine.connect()
    outer = connection.begin()
    Session.remove()
    Session.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield Session
    finally:
        Session.remove()
        outer.rollback()
        connection.close()
        Session.session_factory.kw.pop("join_transaction_mode", None)
        Session.configure(bind=engine)


@pytest.fixture
def client(app):
    return app.test_client()


def user(username):
    return Session().query(User).filter_by(username=username).one()


@pytest.fixture
def users():
    """Look up a demo account by username: ``users("jaadmin01")``."""
    return user


@pytest.fixture
def ready(users):
    """Make demo accounts usable as-is (password already changed, so no forced change)."""
    def make_ready(*usernames, verified=None):
        for name in usernames:
            account = users(name)
            account.password_change_reason = None
            if verified is not None:
                account.real_name_verified = verified
        Session.commit()
        return [users(n) for n in usernames]
    return make_ready


@pytest.fixture
def api_login(client):
    """Log in through the API and return the Authorization header."""
    def login(username, password=DEMO_PASSWORD):
        response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['token']}"}
    return login


@pytest.fixture
def browser_login(client):
    def login(username, password=DEMO_PASSWORD):
        response = client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 303, response.data.decode()
        return response
    return login


# --- live databases and servers (committed data, several threads) ----------------------------------------

class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture(scope="module")
def live_app(tmp_dir, engine):
    """An app on a database of its own, with committed demo data, for tests that need real commits."""
    live_engine = fresh_database("hgov_live", tmp_dir, pool_size=25, max_overflow=5) if is_postgres() \
        else fresh_database("hgov_live", tmp_dir)
    app = build_app(live_engine, tmp_dir)
    load_schema_and_demo(live_engine)
    yield app
    Session.remove()
    live_engine.dispose()
    drop_database("hgov_live")
    build_app(engine, tmp_dir)   # rebind the shared session to the main test database


@pytest.fixture(scope="module")
def live_server(live_app):
    with LiveServer(live_app) as server:
        yield server
