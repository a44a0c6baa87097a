"""Engine: N real-name verifications end to end (start → identity → stamped form → approve) through the
service layer, committed step by step like requests, against the same BPMN run by bare SpiffWorkflow in
memory with one serialize/deserialize round trip per step (its service tasks answered by stubs that give the
same results without doing the work)."""
import argparse
import io
import json

from stdnum.cn import ric

from tests.bench.harness import BenchDatabase, emit, ratio_result, timed

PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
TARGET = 1.5


def resident_id(n):
    body = f"420102198{n // 3650 % 10}{1 + n // 28 % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def make_applicants(count):
    from sqlalchemy import select

    from models import Session
    from models.accounts import Permission, Role, User, UserType
    from workflows import auth, files
    master = Session().scalars(select(User).where(User.username == "jahosp001")).one()
    master.real_name_verified, master.password_change_reason = True, None
    role = Role(name="基准测试角色", org_id=master.org_id, role_type="医疗机构",
                permissions=Session().scalars(select(Permission).where(Permission.code.in_(["hr", "hr.staff"]))).all())
    people = []
    for n in range(count):
        user = User(username=f"bench{n:05d}", display_name=f"基准{n}", org_id=master.org_id,
                    user_type=UserType.SUB_ACCOUNT, password_hash="x", session_token=auth.new_session_token(),
                    roles=[role])
        Session().add(user)
        Session().flush()
        uploads = {name: files.store_upload(user, f"{name}.{ext}", io.BytesIO(data)).id
                   for name, ext, data in (("id_front", "png", PNG), ("id_back", "png", PNG), ("scan", "pdf", PDF))}
        people.append((user.id, uploads, resident_id(n)))
    Session.commit()
    return master.id, people


def service_run(master_id, people):
    from sqlalchemy import select

    from models import Session
    from models.accounts import User
    from models.workflow import HumanTask, TaskStatus
    from workflows import realname
    for user_id, uploads, number in people:
        user = Session().get(User, user_id)
        instance = realname.submit_identity(user, {
            "real_name": "张伟", "id_type": "resident_id", "id_number": number, "phone": "13800138000",
            "id_front": uploads["id_front"], "id_back": uploads["id_back"]})
        Session.commit()
        realname.submit_scan(Session().get(User, user_id), {"stamped_form": uploads["scan"]})
        Session.commit()
        task = Session().scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                         HumanTask.state == TaskStatus.READY)).one()
        realname.review(Session().get(User, master_id), task.id, {"decision": "approve"})
        Session.commit()
        Session.remove()


STUB_RESULTS = {
    "realname_prepare_form": {"ok": True, "form_file": 1, "form_name": "申请表.pdf"},
    "realname_check_submission": {"ok": True, "route": "institution"},
    "realname_approve": {"verified": True, "corrections": {}},
    "realname_reject": {"rejected": True},
    "notify_candidates": {"notified": []},
}


def bare_run(spec_json, count):
    """The same spec in bare SpiffWorkflow: the floor our engine is measured against."""
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
    from SpiffWorkflow.util.task import TaskState

    from workflows.engine import SERIALIZER

    class StubEngine(PythonScriptEngine):
        def call_service(self, task, operation_name=None, operation_params=None, **_kwargs):
            return json.dumps(STUB_RESULTS[operation_name])

    script_engine = StubEngine()

    def load(state):
        wf = SERIALIZER.deserialize_json(state)
        wf.script_engine = script_engine
        return wf

    def step(state, data):
        wf = load(state)
        [task] = wf.get_tasks(state=TaskState.READY, manual=True)
        task.data.update(data)
        task.run()
        wf.do_engine_steps()
        return SERIALIZER.serialize_json(wf)

    for n in range(count):
        dct = json.loads(spec_json)
        spec = SERIALIZER.from_dict(dct["spec"])
        subs = {name: SERIALIZER.from_dict(sub) for name, sub in dct["subprocess_specs"].items()}
        wf = BpmnWorkflow(spec, subs, script_engine=script_engine)
        for task in wf.get_tasks(state=TaskState.READY):
            task.data["reminder_after"] = "P3D"
        wf.do_engine_steps()
        state = SERIALIZER.serialize_json(wf)
        state = step(state, {"real_name": "张伟", "id_type": "resident_id", "id_number": resident_id(n),
                             "phone": "13800138000", "id_front": 1, "id_back": 2})
        state = step(state, {"stamped_form": 3, "action": "submit"})
        state = step(state, {"decision": "approve", "comment": None, "corrected_real_name": None,
                             "corrected_id_type": None, "corrected_id_number": None, "corrected_phone": None})
        assert load(state).completed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("-n", type=int, default=200)
    args = parser.parse_args()
    database = BenchDatabase(args.db)
    try:
        database.app()
        database.load()
        from workflows import processes
        spec_json = processes.ensure_spec(processes.definition("real_name_verification")).spec_json
        master_id, people = make_applicants(args.n)
        bare_run(spec_json, 3)   # warm both paths (imports, caches, the PDF font)
        service_run(master_id, people[:3])
        measured, _ = timed(service_run, master_id, people[3:])
        baseline, _ = timed(bare_run, spec_json, len(people) - 3)
        count = len(people) - 3
        emit([ratio_result(f"engine: {count} real-name verifications ({args.db})", measured / count * 1000,
                           baseline / count * 1000, "ms per instance", TARGET,
                           "service layer with commits vs bare SpiffWorkflow with a serialize round trip per step")])
    finally:
        database.close()


if __name__ == "__main__":
    main()
