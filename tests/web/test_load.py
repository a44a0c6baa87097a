"""Load and concurrency through gunicorn: many API clients race to complete the same review tasks.

Every client holds a bearer token of one of several business admins of the reviewing organization and works
like a reviewer: it reads the claimable list, picks one of its tasks at random and completes it without
claiming it first, until the list is empty, so many tasks are raced by several clients at once. Afterwards: every task was completed exactly once (one 200, every other
attempt 409), no answer was a 5xx, every instance completed, and the effects, timeline and audit rows match
one for one. ``make test`` runs a short version (LOAD_CLIENTS, LOAD_TASKS); ``make bench`` the long one
(50 clients, 1,000 tasks)."""
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

import pytest
from sqlalchemy import func, select

from models import Session
from models.accounts import Role, User, UserType
from models.audit import AuditEvent
from models.workflow import HumanTask, ProcessEvent, ProcessInstance
from tests.conftest import DEMO_PASSWORD, TEST_URL, build_app, drop_database, fresh_database, is_postgres, \
    load_schema_and_demo
from workflows import accounts, auth, processes

pytestmark = [pytest.mark.live, pytest.mark.load]
CLIENTS = int(os.environ.get("LOAD_CLIENTS", "10"))
TASKS = int(os.environ.get("LOAD_TASKS", "40"))
ADMINS = 5
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def load_db(tmp_dir, engine):
    db = fresh_database("hgov_load", tmp_dir, pool_size=10, max_overflow=5) if is_postgres() \
        else fresh_database("hgov_load", tmp_dir)
    app = build_app(db, tmp_dir)
    load_schema_and_demo(db)
    with app.app_context():
        yield app, db
    Session.remove()
    db.dispose()
    drop_database("hgov_load")
    build_app(engine, tmp_dir)   # rebind the shared session to the main test database


def prepare(task_count):
    """``ADMINS`` verified business admins of 江岸区卫生健康局 and ``task_count`` open review tasks there."""
    applicant = Session().scalars(select(User).where(User.username == "jahosp001")).one()
    applicant.real_name_verified, applicant.password_change_reason = True, None
    boss = Session().scalars(select(User).where(User.username == "jaadmin01")).one()
    boss.password_change_reason = None
    city = Session().scalars(select(User).where(User.username == "whadmin01")).one()   # creates county admins
    county_role = Session().scalars(select(Role).where(Role.code == "county_admin")).one()
    names = ["jaadmin01"]
    for n in range(1, ADMINS):
        user, _ = accounts.create_user(city, user_type=UserType.BUSINESS_ADMIN, org_id=boss.org_id,
                                       display_name=f"江岸区管理员{n}", username=f"jaload{n:02d}",
                                       role_ids=[county_role.id])
        auth.set_password(user, DEMO_PASSWORD)
        user.real_name_verified = True
        names.append(user.username)
    Session.commit()
    for n in range(task_count):
        processes.start_instance(applicant, "generic_request",
                                 {"title": f"压力测试申请{n}", "description": "并发审核"})
        if n % 50 == 49:
            Session.commit()
    Session.commit()
    return names


def gunicorn(app, tmp_dir):
    url = app.config["DATABASE_URL"]
    if is_postgres():
        schema = f"hgov_load_{os.getpid()}"
        url = f"{TEST_URL}?options=-csearch_path%3D{schema}"
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "INSTANCE_PATH": tmp_dir, "SECRET_KEY": "l" * 40,
           "APP_ENV": "production", "LOGIN_RATE_LIMIT": "100000 per minute", "ARGON2_TIME_COST": "1",
           "ARGON2_MEMORY_COST": "1024"}
    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "gunicorn"), "-w", "2", "--threads",
                             "4", "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2).close()
            return proc, base
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode()[-3000:])
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def call(method, url, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_concurrent_clients_complete_every_task_exactly_once(load_db, tmp_dir):
    app, _ = load_db
    names = prepare(TASKS)
    task_ids = Session().scalars(select(HumanTask.id).where(HumanTask.process_key == "generic_request",
                                                            HumanTask.state == "ready")).all()
    Session.remove()
    assert len(task_ids) == TASKS
    proc, base = gunicorn(app, tmp_dir)
    try:
        tokens = {}
        for name in names:
            status, body = call("POST", f"{base}/api/v1/auth/login", body={"username": name, "password": DEMO_PASSWORD})
            assert status == 200, body
            tokens[name] = body["token"]
        answers, lock = Counter(), threading.Lock()
        winners = Counter()
        barrier = threading.Barrier(CLIENTS)

        def client(n):
            """Like a reviewer: read the claimable list, pick a task, complete it; again until none is left."""
            token, rnd = tokens[names[n % len(names)]], random.Random(n)
            barrier.wait()
            while True:
                status, body = call("GET", f"{base}/api/v1/tasks?view=claimable&per_page=50", token)
                assert status == 200, body
                if not body["items"]:
                    return
                task_id = rnd.choice(body["items"])["id"]
                status, _ = call("POST", f"{base}/api/v1/tasks/{task_id}/complete", token,
                                 {"data": {"decision": "approve", "comment": f"客户端{n}"}})
                with lock:
                    answers[status] += 1
                    if status == 200:
                        winners[task_id] += 1

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
        assert not any(t.is_alive() for t in threads)
    finally:
        proc.terminate()
        proc.wait(20)
        proc.stderr.close()
    assert set(answers) <= {200, 409}, answers                     # no 5xx, no refusals, nothing else
    assert answers[200] == TASKS                                   # the losers of each race got 409
    assert set(winners) == set(task_ids) and set(winners.values()) == {1}
    instances = Session().scalars(select(ProcessInstance).where(ProcessInstance.process_key == "generic_request")).all()
    assert len(instances) == TASKS and {i.status for i in instances} == {"completed"}
    ids = [i.id for i in instances]
    outcomes = Session().execute(select(ProcessEvent.instance_id, func.count()).where(
        ProcessEvent.instance_id.in_(ids), ProcessEvent.kind == "outcome").group_by(ProcessEvent.instance_id)).all()
    assert len(outcomes) == TASKS and {count for _, count in outcomes} == {1}          # one effect each
    completed_events = Session().scalar(select(func.count()).where(
        ProcessEvent.instance_id.in_(ids), ProcessEvent.kind == "completed"))
    audits = Session().scalar(select(func.count()).where(AuditEvent.action == "task_complete",   # the reviews
                                                         AuditEvent.actor_name.in_(names),
                                                         AuditEvent.target_id.in_([str(i) for i in ids])))
    done = Session().scalar(select(func.count()).where(HumanTask.id.in_(task_ids), HumanTask.state == "completed"))
    assert completed_events == TASKS and audits == TASKS and done == TASKS
    from workflows import audit
    assert audit.verify_chain().ok
