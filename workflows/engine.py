"""The SpiffWorkflow adapter: the only module that imports SpiffWorkflow.

It parses and validates the BPMN files at start-up, keeps a registry of processes, turns a stored spec and
instance state into a running workflow and back, and exposes plain data (``UserTaskInfo``) to the services.
Scripts and gateway conditions run in a sandbox: an AST check refuses imports, dunder names and private
attributes, and the builtins are a short safe list. Service tasks dispatch to ``workflows.handlers``.
"""
import ast
import builtins
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState
from lxml import etree

from workflows import effects, handlers, lanes  # noqa: F401  (effects registers the process handlers)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BPMN_DIR = os.path.join(ROOT, "bpmn")
FORMS_DIR = os.path.join(BPMN_DIR, "forms")
FORM_PROPERTY, UI_PROPERTY, DUE_PROPERTY = "formJsonSchemaFilename", "formUiSchemaFilename", "dueIn"

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
TIMER_EVENT_TYPES = {"TimeDateEventDefinition", "DurationTimerEventDefinition", "CycleTimerEventDefinition"}
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
SERIALIZER_VERSION = SERIALIZER.VERSION
SAFE_BUILTINS = {name: getattr(builtins, name) for name in (
    "abs", "all", "any", "bool", "dict", "enumerate", "filter", "float", "int", "isinstance", "len", "list",
    "map", "max", "min", "range", "reversed", "round", "set", "sorted", "str", "sum", "tuple", "zip",
    "True", "False", "None")}


class BpmnError(RuntimeError):
    """A BPMN file that cannot be used; the message names the file and the element."""


class ScriptRefused(RuntimeError):
    pass


class StepFailed(RuntimeError):
    """A service-task handler or a script raised: the step must roll back."""


# --- the sandbox -----------------------------------------------------------------------------------------

@lru_cache(maxsize=1024)
def check_script(source):
    """Refuse imports, dunder names and private attribute access before anything runs."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal)):
            raise ScriptRefused(f"not allowed in a script: {type(node).__name__}")
        if isinstance(node, ast.Name) and node.id.startswith("__"):
            raise ScriptRefused(f"name not allowed in a script: {node.id}")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise ScriptRefused(f"attribute not allowed in a script: {node.attr}")
    return True


class SandboxEnvironment(TaskDataEnvironment):
    def __init__(self):
        super().__init__({"__builtins__": SAFE_BUILTINS})

    def evaluate(self, expression, context, external_context=None):
        check_script(expression)
        return super().evaluate(expression, context, external_context)

    def execute(self, script, context, external_context=None):
        check_script(script)
        return super().execute(script, context, external_context)


class StepEngine(PythonScriptEngine):
    """A script engine bound to one step: service tasks call the registered handlers with its context."""

    def __init__(self, context=None):
        super().__init__(environment=SandboxEnvironment())
        self.context = context

    def call_service(self, task, operation_name=None, operation_params=None, **_kwargs):
        fn = handlers.get(operation_name)
        if fn is None:
            raise StepFailed(f"no handler named {operation_name!r}")
        params = {name: p["value"] for name, p in (operation_params or {}).items()}
        try:
            result = fn(self.context, **params)
            return json.dumps(result if result is not None else {})
        except Exception as exc:   # noqa: BLE001 - any handler failure aborts the step
            raise StepFailed(f"{operation_name}: {exc}") from exc


# --- the registry ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProcessDefinition:
    key: str
    name: str
    filename: str
    content_hash: str
    bpmn_xml: str
    spec_json: str
    forms: dict        # file name -> parsed JSON (schemas and UI schemas of the user tasks)
    startable: bool = True   # False: only the system starts it (process property startableBy = "system")


def _read_forms(filename, spec):
    forms = {}
    for task_spec in spec.task_specs.values():
        props = getattr(task_spec, "extensions", {}).get("properties", {})
        for key in (FORM_PROPERTY, UI_PROPERTY):
            name = props.get(key)
            if not name:
                continue
            path = os.path.join(FORMS_DIR, os.path.basename(name))
            try:
                with open(path, encoding="utf-8") as fh:
                    forms[name] = json.load(fh)
            except (OSError, ValueError) as exc:
                raise BpmnError(f"{filename}: element {task_spec.bpmn_id}: form file {name}: {exc}") from None
    return forms


def _check_semantics(filename, spec):
    for task_spec in spec.task_specs.values():
        if getattr(task_spec, "manual", False):
            if not task_spec.lane:
                raise BpmnError(f"{filename}: element {task_spec.bpmn_id}: a user task must lie in a lane")
            try:
                lanes.lane(task_spec.lane)
            except lanes.LaneError as exc:
                raise BpmnError(f"{filename}: element {task_spec.bpmn_id}: {exc}") from None
        operation = getattr(task_spec, "operation_name", None)
        if operation is not None and handlers.get(operation) is None:
            raise BpmnError(f"{filename}: element {task_spec.bpmn_id}: no service handler named {operation!r}")


SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def _process_property(process, name):
    """A ``spiffworkflow:property`` on the process element itself (not on a task)."""
    for prop in process.iterfind(f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}properties/{{{SPIFF_NS}}}property"):
        if prop.get("name") == name:
            return prop.get("value")
    return None


def parse_file(path):
    """``[ProcessDefinition]`` for the executable processes of one file, or ``BpmnError``."""
    filename = os.path.basename(path)
    with open(path, "rb") as fh:
        raw = fh.read()
    parser = SpiffBpmnParser(validator=BpmnValidator())
    try:
        parser.add_bpmn_str(raw, filename=filename)
        root = etree.fromstring(raw)
        definitions = []
        for process in root.iter(f"{{{BPMN_NS}}}process"):
            if process.get("isExecutable") != "true":
                continue
            key = process.get("id")
            spec = parser.get_spec(key)
            subprocess_specs = parser.get_subprocess_specs(key)
            _check_semantics(filename, spec)
            state = SERIALIZER.to_dict(BpmnWorkflow(spec, subprocess_specs))
            spec_json = json.dumps({"spec": state["spec"], "subprocess_specs": state["subprocess_specs"]})
            definitions.append(ProcessDefinition(
                key=key, name=process.get("name") or key, filename=filename,
                content_hash=hashlib.sha256(raw).hexdigest(), bpmn_xml=raw.decode("utf-8"),
                spec_json=spec_json, forms=_read_forms(filename, spec),
                startable=_process_property(process, "startableBy") != "system"))
    except ValidationException as exc:
        where = f"element {exc.tag} {exc.id}".strip() if getattr(exc, "tag", "") else "document"
        line = f" (line {exc.line_number})" if getattr(exc, "line_number", "") else ""
        raise BpmnError(f"{filename}: {where}{line}: {exc}") from None
    except (etree.XMLSyntaxError, SpiffWorkflowException) as exc:
        raise BpmnError(f"{filename}: {exc}") from None
    return definitions


def first_user_task(spec_json):
    """The first user task a new instance offers (its form is the start form), run in memory only."""
    flow = Workflow.start(spec_json, {"reminder_after": "P3D"})
    ready = flow.ready_user_tasks()
    return ready[0] if ready else None


def load_registry(directory=BPMN_DIR):
    registry = {}
    for name in sorted(os.listdir(directory)):
        if name.endswith(".bpmn"):
            for definition in parse_file(os.path.join(directory, name)):
                if definition.key in registry:
                    raise BpmnError(f"{name}: process {definition.key} is also defined in "
                                    f"{registry[definition.key].filename}")
                registry[definition.key] = definition
    return registry


# --- running instances -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class UserTaskInfo:
    guid: str
    bpmn_id: str
    name: str
    lane: str
    form: str | None
    ui: str | None
    due_in: str | None
    data: dict


def _spec_dict(spec_json):
    """A fresh dict each time: restoring consumes (mutates) the dict it is given."""
    return json.loads(spec_json)


class Workflow:
    """A live SpiffWorkflow instance behind plain methods."""

    def __init__(self, wf, context=None):
        self._wf = wf
        self._wf.script_engine = StepEngine(context)   # never serialized: attach after every load

    @classmethod
    def start(cls, spec_json, data=None, context=None):
        dct = _spec_dict(spec_json)
        spec = SERIALIZER.from_dict(dct["spec"])
        subprocess_specs = {name: SERIALIZER.from_dict(sub) for name, sub in dct["subprocess_specs"].items()}
        flow = cls(BpmnWorkflow(spec, subprocess_specs), context)
        for task in flow._wf.get_tasks(state=TaskState.READY):   # the start event: data flows on from it
            task.data.update(data or {})
        flow.run()
        return flow

    @classmethod
    def load(cls, spec_json, state, serializer_version, context=None):
        dct = {**json.loads(state), **_spec_dict(spec_json), SERIALIZER.VERSION_KEY: serializer_version}
        SERIALIZER.migrate(dct)
        return cls(SERIALIZER.from_dict(dct), context)

    def dump(self):
        """``(state JSON without the spec, serializer version)``."""
        SERIALIZER.registry._encoder_mode = True
        try:
            dct = SERIALIZER.to_dict(self._wf)
        finally:
            SERIALIZER.registry._encoder_mode = False
        dct.pop("spec", None)
        dct.pop("subprocess_specs", None)
        return json.dumps(dct, cls=SERIALIZER._encoder_cls), SERIALIZER_VERSION

    def run(self):
        try:
            self._wf.do_engine_steps()
        except StepFailed:
            raise
        except SpiffWorkflowException as exc:
            cause = exc.__cause__ or exc.__context__
            raise StepFailed(str(cause) if isinstance(cause, StepFailed) else str(exc)) from exc

    def ready_user_tasks(self):
        return [self._info(t) for t in self._wf.get_tasks(state=TaskState.READY, manual=True)]

    def _info(self, task):
        props = task.task_spec.extensions.get("properties", {}) if hasattr(task.task_spec, "extensions") else {}
        return UserTaskInfo(guid=str(task.id), bpmn_id=task.task_spec.bpmn_id,
                            name=task.task_spec.bpmn_name or task.task_spec.bpmn_id, lane=task.task_spec.lane,
                            form=props.get(FORM_PROPERTY), ui=props.get(UI_PROPERTY), due_in=props.get(DUE_PROPERTY),
                            data=dict(task.data))

    def task_data(self, guid):
        task = self._wf.get_task_from_id(UUID(guid))
        return dict(task.data) if task is not None else {}

    def latest_data(self):
        """The data as the most recently completed task left it."""
        last = self._wf.last_task
        return dict(last.data) if last is not None else {}

    def save_draft(self, guid, data):
        """Store form values on a ready task without completing it (草稿)."""
        task = self._wf.get_task_from_id(UUID(guid))
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise KeyError(guid)
        task.set_data(**data)

    def complete(self, guid, data):
        task = self._wf.get_task_from_id(UUID(guid))
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise KeyError(guid)
        task.set_data(**data)
        task.run()
        self.run()

    def fire_timers(self):
        self._wf.refresh_timers()
        self.run()

    def next_timer(self):
        times = [datetime.fromisoformat(e.value) for e in self._wf.waiting_events()
                 if e.event_type in TIMER_EVENT_TYPES and isinstance(e.value, str)]
        return min(times) if times else None

    @property
    def completed(self):
        return self._wf.is_completed()

    @property
    def data(self):
        return self._wf.data

    def task_guids_in_state(self, *states):
        wanted = {getattr(TaskState, s.upper()) for s in states}
        return {str(t.id) for t in self._wf.get_tasks() if t.state in wanted}

    def highlights(self):
        """``(completed BPMN ids, current BPMN ids)`` for the diagram; an id in a loop can be both."""
        done, now = set(), set()
        for task in self._wf.get_tasks():
            bpmn_id = getattr(task.task_spec, "bpmn_id", None)
            if not bpmn_id:
                continue
            if task.state == TaskState.COMPLETED:
                done.add(bpmn_id)
            elif task.state in (TaskState.READY, TaskState.STARTED, TaskState.ERROR) and task.task_spec.manual:
                now.add(bpmn_id)
        return done, now
