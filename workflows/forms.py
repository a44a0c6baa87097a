"""Task forms: a JSON Schema (draft 2020-12) per user task, validated here and rendered by the Jinja UI.

A form is a schema file in ``bpmn/forms`` plus an optional UI file (``ui:order``; per field ``ui:widget``,
``ui:enumNames``, ``ui:help``, ``ui:title``), found by default as ``<name>.ui.json`` or ``<name>.uischema.json``
next to ``<name>[.schema].json``. Extra formats: ``cn-resident-id``, ``cn-mobile``, ``cn-uscc``, ``date``
(strict ``YYYY-MM-DD``) and ``file-ref`` (an attachment id).
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from workflows import identity
from workflows.errors import FormInvalid, InvalidInput

FORMS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bpmn", "forms")

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INT = re.compile(r"[+-]?[0-9]{1,18}")
_NUMBER = re.compile(r"[+-]?(?:[0-9]{1,18}(?:\.[0-9]{0,18})?|\.[0-9]{1,18})")
_NORMALIZERS = {"cn-resident-id": identity.normalize_resident_id, "cn-mobile": identity.normalize_mobile,
                "cn-uscc": identity.normalize_uscc}
_FORMAT_MESSAGES = {"cn-resident-id": "居民身份证号码不正确", "cn-mobile": "手机号码不正确",
                    "cn-uscc": "统一社会信用代码不正确", "date": "日期格式应为 YYYY-MM-DD",
                    "file-ref": "附件不存在或无权使用"}
_CHOICE = "请选择有效的“{title}”"
_MESSAGES = {  # a "required" error is reported on the missing property
    "required": "请填写“{title}”", "type": "“{title}”格式不正确", "enum": _CHOICE, "const": _CHOICE,
    "pattern": "“{title}”格式不正确", "minLength": "“{title}”不得少于{limit}个字符",
    "maxLength": "“{title}”不得超过{limit}个字符", "minimum": "“{title}”不得小于{limit}",
    "maximum": "“{title}”不得大于{limit}", "exclusiveMinimum": "“{title}”必须大于{limit}",
    "exclusiveMaximum": "“{title}”必须小于{limit}", "minItems": "“{title}”至少需要{limit}项",
    "maxItems": "“{title}”最多{limit}项"}
_GENERIC = "“{title}”填写不正确"
# When one field has several errors, the lowest rank is shown.
_RANK = {name: i for i, name in enumerate(
    ["required", "type", "enum", "const", "oneOf", "anyOf", "format", "minLength",
     "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"])}


@dataclass(frozen=True)
class FormDefinition:
    name: str
    schema: dict
    ui: dict


def _read_json(forms_dir, filename):
    if not filename or any(bad in filename for bad in ("/", "\\", "..", "\0")):
        raise ValueError(f"invalid form file name: {filename!r}")
    try:
        with open(os.path.join(forms_dir, filename), encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise ValueError(f"form file {filename} is not valid JSON: {exc}") from exc


def form_from_dicts(name: str, schema: dict, ui: dict | None = None) -> FormDefinition:
    """A form from stored dicts; the schema is checked against the draft 2020-12 metaschema."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ValueError(f"form schema {name} is invalid: {exc.message}") from exc
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        raise ValueError(f"form schema {name} must be an object schema with properties")
    if not isinstance(ui or {}, dict):
        raise ValueError(f"form UI of {name} must be a JSON object")
    return FormDefinition(name, schema, ui or {})


@lru_cache(maxsize=256)
def load_form(schema_filename: str, ui_filename: str | None = None, *, forms_dir=FORMS_DIR) -> FormDefinition:
    """Load (once) a form from ``forms_dir``; the returned dicts are shared and must not be modified."""
    schema = _read_json(forms_dir, schema_filename)
    if ui_filename is None:
        stem = re.sub(r"(\.schema)?\.json$", "", schema_filename)
        ui_filename = next((stem + suffix for suffix in (".ui.json", ".uischema.json")
                            if os.path.isfile(os.path.join(forms_dir, stem + suffix))), None)
    ui = None if ui_filename is None else _read_json(forms_dir, ui_filename)
    return form_from_dicts(schema_filename, schema, ui)


# --- validation ---------------------------------------------------------------------------------------------

def _format_checker(file_exists):
    checker = FormatChecker()
    for fmt, normalize in _NORMALIZERS.items():
        checker.checks(fmt, raises=InvalidInput)(lambda v, f=normalize: not isinstance(v, str) or bool(f(v)))
    checker.checks("date", raises=ValueError)(
        lambda v: not isinstance(v, str) or bool(_DATE.fullmatch(v) and date.fromisoformat(v)))
    checker.checks("file-ref")(lambda v: v is None or (
        type(v) is int and v > 0 and (file_exists is None or bool(file_exists(v)))))
    return checker


def _clean(node, value):
    """Strip strings, normalise identity numbers, drop unknown keys and empty strings (recursively)."""
    if isinstance(value, str):
        value, normalize = value.strip(), _NORMALIZERS.get(node.get("format"))
        try:
            return normalize(value) if normalize and value else value
        except InvalidInput:
            return value   # left as typed: the format check reports it
    if isinstance(value, dict) and isinstance(node.get("properties"), dict):
        props = node["properties"]
        cleaned = {k: _clean(props[k], v) for k, v in value.items() if k in props}
        return {k: v for k, v in cleaned.items() if v != ""}
    if isinstance(value, list) and isinstance(node.get("items"), dict):
        return [_clean(node["items"], v) for v in value]
    return value


def _title(schema, path):
    node, title = schema, "表单"
    for part in path:
        node = node.get("items") if isinstance(part, int) else (node.get("properties") or {}).get(part)
        node = node if isinstance(node, dict) else {}
        title = node.get("title") or (f"{title}第{part + 1}项" if isinstance(part, int) else part)
    return title


def _paths(error):
    """The field paths an error is about: for a ``required`` error, the missing properties."""
    base, present = list(error.absolute_path), error.instance if isinstance(error.instance, dict) else {}
    if error.validator == "required":
        return [base + [p] for p in error.validator_value if p not in present]
    return [base]


def _is_choice(options):
    return isinstance(options, list) and all(isinstance(o, dict) and "const" in o for o in options)


def _message(schema, error, path):
    title, kind = _title(schema, path), error.validator
    if kind == "format":
        if error.validator_value == "cn-resident-id" and isinstance(error.cause, InvalidInput):
            return error.cause.message
        return _FORMAT_MESSAGES.get(error.validator_value, _MESSAGES["type"]).format(title=title)
    if kind == "const" and error.validator_value is True:
        return f"请勾选“{title}”"
    if kind in ("oneOf", "anyOf") and _is_choice(error.validator_value):
        return _CHOICE.format(title=title)
    return _MESSAGES.get(kind, _GENERIC).format(title=title, limit=error.validator_value)


def validate(form: FormDefinition, data: dict, *, file_exists=None) -> dict:
    """Check ``data`` against the form; return the cleaned data or raise ``FormInvalid`` listing every field."""
    if not isinstance(data, dict):
        raise FormInvalid({"_": "表单数据格式不正确"})
    cleaned = _clean(form.schema, data)
    validator = Draft202012Validator(form.schema, format_checker=_format_checker(file_exists))
    found = [(_RANK.get(e.validator, len(_RANK)), path, e) for e in validator.iter_errors(cleaned)
             for path in _paths(e)]
    fields = {}
    for _, path, error in sorted(found, key=lambda item: item[0]):
        fields.setdefault(".".join(str(p) for p in path) or "_", _message(form.schema, error, path))
    if fields:
        raise FormInvalid(fields)
    return cleaned


def file_ids(form: FormDefinition, data: dict) -> list[int]:
    """Attachment ids referenced by the top-level ``file-ref`` fields (single or arrays) of cleaned data."""
    ids = []
    for name, prop in form.schema["properties"].items():
        if "file-ref" in (prop.get("format"), (prop.get("items") or {}).get("format")):
            value = data.get(name)
            ids += [v for v in (value if isinstance(value, list) else [value]) if type(v) is int]
    return ids


# --- rendering ----------------------------------------------------------------------------------------------

@dataclass
class FieldView:
    name: str
    label: str
    widget: str
    required: bool
    options: list[tuple[str, str]]
    help: str | None
    value: object
    error: str | None
    max_length: int | None

    @property
    def value_text(self):  # the value as an HTML form sends it back, "" when empty
        return _as_text(self.value)


def _as_text(value):
    """A value as an HTML form sends it: ``true``/``false`` for booleans, ``""`` for None."""
    return ("true" if value else "false") if isinstance(value, bool) else "" if value is None else str(value)


def _types(prop):
    return [prop["type"]] if isinstance(prop.get("type"), str) else list(prop.get("type", []))


def _choices(prop, opts):
    """``[(value, label)]`` from a property's ``oneOf``/``anyOf`` constants or its ``enum`` (null left out)."""
    for key in ("oneOf", "anyOf"):
        if _is_choice(prop.get(key)):
            return [(o["const"], str(o.get("title", _as_text(o["const"])))) for o in prop[key]
                    if o["const"] is not None]
    names = opts.get("ui:enumNames") or []
    return [(v, str(names[i]) if i < len(names) else _as_text(v)) for i, v in enumerate(prop.get("enum") or [])
            if v is not None]


def _widget(prop, opts):
    kinds, fmt = _types(prop), prop.get("format")
    if opts.get("ui:widget") or _choices(prop, opts):
        return opts.get("ui:widget") or "select"
    if fmt in ("date", "file-ref"):
        return "date" if fmt == "date" else "file"
    if "boolean" in kinds or "integer" in kinds or "number" in kinds:
        return "checkbox" if "boolean" in kinds else "number"
    return "textarea" if (prop.get("maxLength") or 0) > 200 else "text"


def _condition_text(form, cond):
    """``当“审批结论”为“退回”时必填`` for an ``if`` of ``const``/``enum`` tests, else a generic hint."""
    parts = []
    for name, test in (cond.get("properties") or {}).items():
        prop = form.schema["properties"].get(name) or {}
        labels = {_as_text(v): label for v, label in _choices(prop, form.ui.get(name) or {})}
        values = [test["const"]] if isinstance(test, dict) and "const" in test else (test or {}).get("enum")
        if not values:
            return "特定情况下必填"
        shown = "或".join(f"“{labels.get(_as_text(v), _as_text(v))}”" for v in values)
        parts.append(f"“{prop.get('title', name)}”为{shown}")
    return f"当{'且'.join(parts)}时必填" if parts else "特定情况下必填"


def _conditional_hints(form):
    """``{field: hint}`` for the fields an ``if``/``then`` rule (top level or in ``allOf``) makes required."""
    hints = {}
    for rule in [form.schema, *form.schema.get("allOf", [])]:
        if isinstance(rule, dict) and isinstance(rule.get("if"), dict) and isinstance(rule.get("then"), dict):
            for name in rule["then"].get("required") or []:
                hints.setdefault(name, _condition_text(form, rule["if"]))
    return hints


def field_views(form: FormDefinition, values=None, errors=None) -> list[FieldView]:
    """The fields to render, in ``ui:order`` then schema order, with current values and errors."""
    values, errors, props = values or {}, errors or {}, form.schema["properties"]
    required, hints = set(form.schema.get("required") or []), _conditional_hints(form)
    order = [n for n in form.ui.get("ui:order", []) if n in props]
    views = []
    for name in order + [n for n in props if n not in order]:
        prop, opts = props[name], form.ui.get(name) or {}
        help_text = opts.get("ui:help") or prop.get("description")
        if name in hints and name not in required:
            help_text = f"{help_text}；{hints[name]}" if help_text else hints[name]
        error = errors.get(name) or next((m for k, m in errors.items() if k.startswith(name + ".")), None)
        views.append(FieldView(
            name=name, label=opts.get("ui:title") or prop.get("title") or name, widget=_widget(prop, opts),
            required=name in required, options=[(_as_text(v), label) for v, label in _choices(prop, opts)],
            help=help_text, value=values.get(name), error=error, max_length=prop.get("maxLength")))
    return views


def _coerce(prop, raw):
    kinds, text = _types(prop), raw.strip()
    choices = {_as_text(value): value for value, _ in _choices(prop, {})}
    if text in choices:
        return choices[text]
    if "integer" in kinds and _INT.fullmatch(text):
        return int(text)
    if "number" in kinds and _NUMBER.fullmatch(text):
        return int(text) if _INT.fullmatch(text) else float(text)
    return raw


def coerce_post(form: FormDefinition, multidict) -> dict:
    """Turn submitted HTML form strings into schema types; empty fields are omitted, files are not read."""
    get_list = getattr(multidict, "getlist", None) or (lambda key: [multidict[key]] if key in multidict else [])
    data = {}
    for name, prop in form.schema["properties"].items():
        widget, raw = _widget(prop, form.ui.get(name) or {}), [v for v in get_list(name) if isinstance(v, str)]
        if widget == "file":
            continue
        if widget == "checkbox" and "boolean" in _types(prop):
            data[name] = bool(raw) and raw[0].strip().lower() not in ("", "0", "false", "off")
        elif "array" in _types(prop) and any(v.strip() for v in raw):   # repeated inputs or a multiple select
            data[name] = [_coerce(prop.get("items") or {}, v) for v in raw if v.strip()]
        elif raw and raw[0].strip():
            data[name] = _coerce(prop, raw[0])
    return data
