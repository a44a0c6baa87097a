"""The sample process bpmn/generic_request.bpmn: its contract with the engine, run with bare SpiffWorkflow.

No database and no project engine: the file is parsed with the validating Spiff parser and executed in memory,
so these tests pin down what the BPMN itself promises (ids, lanes, extensions, the reject loop, the reminder
timer, the forms and the diagram interchange).
"""
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest
import time_machine
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
BPMN_FILE = BPMN_DIR / "generic_request.bpmn"
FORMS = BPMN_DIR / "forms"
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
FLOW_NODES = {"start", "submit", "review", "review_reminder", "decision_gateway", "record_approval",
              "approved_end", "remind", "reminder_end"}
FLOWS = {"flow_start_submit", "flow_submit_review", "flow_review_decision", "flow_approve", "flow_reject",
         "flow_record_end", "flow_reminder_remind", "flow_remind_end"}
START = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))


class RecordingEngine(PythonScriptEngine):
    """Stands in for the registered service handlers: records every service call."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def call_service(self, task, operation_name, operation_params):
        self.calls.append((operation_name, operation_params, task.task_spec.bpmn_id))
        return json.dumps({"ok": True})


@pytest.fixture(scope="module")
def parsed():
    parser = SpiffBpmnParser(validator=BpmnValidator())
    parser.add_bpmn_file(str(BPMN_FILE))
    return parser.get_spec("generic_request"), parser.get_subprocess_specs("generic_request")


@pytest.fixture
def services():
    return RecordingEngine()


def start(parsed, engine, **data):
    spec, subprocess_specs = parsed
    wf = BpmnWorkflow(spec, subprocess_specs, script_engine=engine)
    [start_task] = wf.get_tasks(state=TaskState.READY)
    start_task.set_data(reminder_after="P3D", **data)     # the timer's duration expression reads this variable
    wf.do_engine_steps()
    return wf


def round_trip(wf, engine):
    """Store and reload, as the engine does between requests; the script engine is not serialized."""
    wf = SERIALIZER.deserialize_json(SERIALIZER.serialize_json(wf))
    wf.script_engine = engine
    return wf


def ready(wf):
    return [(t.task_spec.bpmn_id, t.task_spec.lane) for t in wf.get_tasks(state=TaskState.READY, manual=True)]


def complete(wf, bpmn_id, lane, **data):
    [task] = [t for t in wf.get_tasks(state=TaskState.READY, manual=True, lane=lane)
              if t.task_spec.bpmn_id == bpmn_id]
    task.set_data(**data)
    task.run()
    wf.do_engine_steps()
    return task.id


def test_process_and_collaboration(parsed):
    spec, subprocess_specs = parsed
    assert spec.name == "generic_request"
    assert spec.description == "通用申请"
    assert subprocess_specs == {}
    root = etree.parse(str(BPMN_FILE)).getroot()
    [participant] = root.findall("bpmn:collaboration/bpmn:participant", NS)
    assert participant.get("name") == "通用申请"
    assert participant.get("processRef") == "generic_request"
    [process] = root.findall("bpmn:process", NS)
    assert process.get("isExecutable") == "true"
    lanes = {lane.get("id"): lane.get("name") for lane in process.iterfind("bpmn:laneSet/bpmn:lane", NS)}
    assert lanes == {"lane_applicant": "applicant", "lane_supervising_admin": "supervising_admin"}


def test_task_specs_lanes_and_extensions(parsed):
    spec, _ = parsed
    tasks = spec.task_specs
    assert FLOW_NODES <= set(tasks)
    assert (tasks["submit"].bpmn_name, tasks["submit"].lane, tasks["submit"].manual) == ("填写申请", "applicant", True)
    assert (tasks["review"].bpmn_name, tasks["review"].lane, tasks["review"].manual) == ("审核", "supervising_admin",
                                                                                          True)
    assert tasks["submit"].extensions == {"properties": {
        "formJsonSchemaFilename": "generic_request_submit.schema.json",
        "formUiSchemaFilename": "generic_request_submit.uischema.json",
    }}
    assert tasks["review"].extensions == {"properties": {
        "formJsonSchemaFilename": "generic_request_review.schema.json",
        "formUiSchemaFilename": "generic_request_review.uischema.json",
        "dueIn": "P5D",
    }}
    assert tasks["decision_gateway"].bpmn_name == "审核结果"
    assert tasks["approved_end"].bpmn_name == "已通过"


def test_service_task_operators(parsed):
    spec, _ = parsed
    record, remind = spec.task_specs["record_approval"], spec.task_specs["remind"]
    assert (record.bpmn_name, record.operation_name, record.result_variable) == (
        "记录审核结果", "record_outcome", "approval_result")
    # Parameter values are Python expressions, evaluated against the task data when the task runs.
    assert record.operation_params == {"outcome": {"value": '"approved"', "type": "str"}}
    assert (remind.bpmn_name, remind.operation_name, remind.result_variable) == (
        "催办提醒", "notify_candidates", "reminder_result")
    assert remind.operation_params == {"task": {"value": '"review"', "type": "str"}}


def test_boundary_timer_spec(parsed):
    spec, _ = parsed
    reminder = spec.task_specs["review_reminder"]
    assert reminder.cancel_activity is False
    assert type(reminder.event_definition).__name__ == "DurationTimerEventDefinition"
    assert reminder.event_definition.expression == "reminder_after"
    assert [s.bpmn_id for s in reminder.outputs if s.bpmn_id] == ["remind"]   # plus the internal join


def test_reject_loop_then_approve(parsed, services):
    wf = start(parsed, services)
    assert ready(wf) == [("submit", "applicant")]
    first = complete(wf, "submit", "applicant", title="设备采购", description="申请采购一台超声设备")
    wf = round_trip(wf, services)
    assert ready(wf) == [("review", "supervising_admin")]
    complete(wf, "review", "supervising_admin", decision="reject", comment="请补充预算说明")
    wf = round_trip(wf, services)
    assert ready(wf) == [("submit", "applicant")]
    assert services.calls == []
    second = complete(wf, "submit", "applicant", description="申请采购一台超声设备，预算 50 万元")
    assert second != first                         # every pass through the loop is a new task
    wf = round_trip(wf, services)
    complete(wf, "review", "supervising_admin", decision="approve", comment="")
    assert wf.is_completed()
    # call_service receives the evaluated parameters: the expression '"approved"' became the string approved.
    assert services.calls == [
        ("record_outcome", {"outcome": {"value": "approved", "type": "str"}}, "record_approval")]
    [end] = wf.get_tasks(spec_name="approved_end", state=TaskState.COMPLETED)
    assert end.data["approval_result"] == {"ok": True}
    done = [t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED, manual=True)]
    assert sorted(done) == ["review", "review", "submit", "submit"]


def test_reminder_fires_after_three_days_and_review_stays_open(parsed, services):
    with time_machine.travel(START, tick=False) as clock:
        wf = start(parsed, services)
        complete(wf, "submit", "applicant", title="设备采购", description="说明")
        [event] = wf.waiting_events()
        assert datetime.fromisoformat(event.value) == START + timedelta(days=3)
        wf = round_trip(wf, services)

        [review] = wf.get_tasks(spec_name="review", state=TaskState.READY)

        clock.shift(timedelta(days=3) - timedelta(seconds=1))
        wf.refresh_timers()
        wf.do_engine_steps()
        assert services.calls == []

        clock.shift(timedelta(seconds=2))
        wf = round_trip(wf, services)
        wf.refresh_timers()
        wf.do_engine_steps()
        assert services.calls == [("notify_candidates", {"task": {"value": "review", "type": "str"}}, "remind")]
        assert ready(wf) == [("review", "supervising_admin")]
        assert [t.id for t in wf.get_tasks(spec_name="review", state=TaskState.READY)] == [review.id]
        [reminded] = wf.get_tasks(spec_name="reminder_end", state=TaskState.COMPLETED)
        assert reminded.data["reminder_result"] == {"ok": True}

        complete(wf, "review", "supervising_admin", decision="approve")
        assert wf.is_completed()
        assert [c[0] for c in services.calls] == ["notify_candidates", "record_outcome"]


def test_reminder_not_sent_when_reviewed_in_time(parsed, services):
    with time_machine.travel(START, tick=False) as clock:
        wf = start(parsed, services)
        complete(wf, "submit", "applicant", title="设备采购", description="说明")
        clock.shift(timedelta(days=1))
        complete(wf, "review", "supervising_admin", decision="approve")
        assert wf.is_completed()
        assert wf.waiting_events() == []
        clock.shift(timedelta(days=5))
        wf.refresh_timers()
        wf.do_engine_steps()
        assert [c[0] for c in services.calls] == ["record_outcome"]


def test_diagram_interchange_covers_every_node_and_flow():
    root = etree.parse(str(BPMN_FILE)).getroot()
    process = root.find("bpmn:process", NS)
    nodes = {el.get("id") for el in process if etree.QName(el).localname.endswith(("Event", "Task", "Gateway"))}
    flows = {el.get("id") for el in process.iterfind("bpmn:sequenceFlow", NS)}
    assert nodes == FLOW_NODES
    assert flows == FLOWS
    [plane] = root.findall("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
    assert plane.get("bpmnElement") == "collaboration_generic_request"
    shapes = {s.get("bpmnElement"): s for s in plane.iterfind("bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e for e in plane.iterfind("bpmndi:BPMNEdge", NS)}
    containers = {"participant_generic_request", "lane_applicant", "lane_supervising_admin"}
    assert set(shapes) == FLOW_NODES | containers
    assert set(edges) == FLOWS

    def box(element_id):
        b = shapes[element_id].find("dc:Bounds", NS)
        x, y, w, h = (float(b.get(k)) for k in ("x", "y", "width", "height"))
        assert w > 0 and h > 0
        return x, y, x + w, y + h

    pool = box("participant_generic_request")
    for element_id in FLOW_NODES:             # every node inside the pool and inside its own lane
        x1, y1, x2, y2 = box(element_id)
        assert pool[0] < x1 and x2 < pool[2] and pool[1] < y1 and y2 < pool[3]
    for lane in process.iterfind("bpmn:laneSet/bpmn:lane", NS):
        lx1, ly1, lx2, ly2 = box(lane.get("id"))
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            x1, y1, x2, y2 = box(ref.text)
            assert lx1 <= x1 and x2 <= lx2 and ly1 <= (y1 + y2) / 2 <= ly2, ref.text
    for flow_id, edge in edges.items():      # waypoints start and end on their source and target shapes
        flow = process.find(f"bpmn:sequenceFlow[@id='{flow_id}']", NS)
        points = [(float(p.get("x")), float(p.get("y"))) for p in edge.iterfind("di:waypoint", NS)]
        assert len(points) >= 2
        for (px, py), ref in ((points[0], flow.get("sourceRef")), (points[-1], flow.get("targetRef"))):
            x1, y1, x2, y2 = box(ref)
            assert x1 <= px <= x2 and y1 <= py <= y2, (flow_id, ref)
        for (ax, ay), (bx, by) in zip(points, points[1:]):
            assert ax == bx or ay == by, flow_id     # orthogonal routing
    reminder = process.find("bpmn:boundaryEvent", NS)
    assert (reminder.get("id"), reminder.get("attachedToRef"), reminder.get("cancelActivity")) == (
        "review_reminder", "review", "false")
    rx1, ry1, rx2, ry2 = box("review_reminder")
    tx1, ty1, tx2, ty2 = box("review")
    assert tx1 <= (rx1 + rx2) / 2 <= tx2 and ry1 < ty2 < ry2    # sits on the review task's border


def test_gateway_flows():
    root = etree.parse(str(BPMN_FILE)).getroot()
    gateway = root.find("bpmn:process/bpmn:exclusiveGateway", NS)
    assert (gateway.get("id"), gateway.get("name"), gateway.get("default")) == (
        "decision_gateway", "审核结果", "flow_reject")
    approve = root.find("bpmn:process/bpmn:sequenceFlow[@id='flow_approve']", NS)
    reject = root.find("bpmn:process/bpmn:sequenceFlow[@id='flow_reject']", NS)
    assert (approve.get("name"), approve.get("targetRef")) == ("通过", "record_approval")
    assert approve.findtext("bpmn:conditionExpression", namespaces=NS) == 'decision == "approve"'
    assert (reject.get("name"), reject.get("targetRef")) == ("退回修改", "submit")
    assert reject.find("bpmn:conditionExpression", NS) is None


# --- forms ------------------------------------------------------------------------------------------------------

def load(name):
    return json.loads((FORMS / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["generic_request_submit.schema.json", "generic_request_review.schema.json"])
def test_form_schemas_are_valid_draft_2020_12(name):
    schema = load(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("task_id", ["submit", "review"])
def test_every_form_named_by_a_task_exists(parsed, task_id):
    spec, _ = parsed
    properties = spec.task_specs[task_id].extensions["properties"]
    schema, ui = load(properties["formJsonSchemaFilename"]), load(properties["formUiSchemaFilename"])
    assert ui["ui:order"] == list(schema["properties"])


def errors(schema_name, data):
    validator = jsonschema.Draft202012Validator(load(schema_name))
    return sorted(".".join(map(str, e.absolute_path)) or e.validator for e in validator.iter_errors(data))


def test_submit_schema():
    schema = load("generic_request_submit.schema.json")
    props = schema["properties"]
    assert {k: v["title"] for k, v in props.items()} == {
        "title": "申请事项", "description": "申请说明", "contact_mobile": "联系电话", "attachment": "附件"}
    assert props["contact_mobile"]["format"] == "cn-mobile"
    assert (props["attachment"]["format"], props["attachment"]["type"]) == ("file-ref", ["integer", "null"])
    assert schema["required"] == ["title", "description"]
    name = "generic_request_submit.schema.json"
    assert errors(name, {"title": "设备采购", "description": "说明", "attachment": None}) == []
    assert errors(name, {"title": "设备采购", "description": "说明", "attachment": 12}) == []
    assert errors(name, {"title": "设", "description": "x" * 2001, "attachment": "a.pdf"}) == [
        "attachment", "description", "title"]
    assert errors(name, {}) == ["required", "required"]


def test_review_schema_requires_a_comment_when_rejecting():
    name = "generic_request_review.schema.json"
    schema = load(name)
    assert schema["properties"]["decision"]["oneOf"] == [
        {"const": "approve", "title": "通过"}, {"const": "reject", "title": "退回修改"}]
    assert schema["required"] == ["decision"]
    assert errors(name, {"decision": "approve"}) == []
    assert errors(name, {"decision": "reject", "comment": "请补充预算说明"}) == []
    assert errors(name, {"decision": "reject"}) == ["required"]
    assert errors(name, {"decision": "maybe"}) == ["decision"]
    assert errors(name, {}) == ["required"]                  # only the decision is reported missing
    assert errors(name, {"decision": "approve", "comment": "x" * 1001}) == ["comment"]


def test_ui_schemas():
    assert load("generic_request_submit.uischema.json") == {
        "ui:order": ["title", "description", "contact_mobile", "attachment"],
        "description": {"ui:widget": "textarea"},
        "attachment": {"ui:widget": "file", "ui:help": "可上传 JPG、PNG 或 PDF，单个文件不超过 3 MB"},
    }
    assert load("generic_request_review.uischema.json") == {
        "ui:order": ["decision", "comment"],
        "decision": {"ui:widget": "radio"},
        "comment": {"ui:widget": "textarea", "ui:help": "退回时必须填写修改意见"},
    }
