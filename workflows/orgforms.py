"""Field definitions and cleaning for the institution-data forms (机构信息, 分院, 部门, 岗位, 标准岗位, 编制).

A form is a tuple of ``Field``; ``clean(fields, raw)`` turns what the user gave (strings from a page, or JSON
values) into typed values, or raises ``InvalidInput`` with one Chinese message per field and nothing applied.
``views`` gives the pages what ``forms/_schema_form.html``'s ``render_fields`` shows, so these forms look and
label like the process forms.
"""
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from workflows.errors import InvalidInput
from workflows.personnel import parse_date

INVALID_MESSAGE = "输入有误，请检查标红的项目"


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    kind: str = "text"            # text, textarea, int, decimal, date, choice, id
    required: bool = False
    max_length: int = 64
    choices: tuple = ()
    minimum: int | None = None
    maximum: int | None = None
    places: int = 6               # decimals: at most this many digits after the point
    pattern: str | None = None
    pattern_message: str | None = None
    hint: str | None = None


def _blank(value):
    return value is None or (isinstance(value, str) and value.strip() == "")


def _number(f, value):
    if isinstance(value, bool):
        raise ValueError(f"“{f.label}”须为数字")
    text = str(value).strip()
    if f.kind == "int":
        if not re.fullmatch(r"[+-]?\d{1,9}", text):
            raise ValueError(f"“{f.label}”须为整数")
        number = int(text)
    else:
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"“{f.label}”须为数字") from None
        if not number.is_finite():
            raise ValueError(f"“{f.label}”须为数字")
        if -number.as_tuple().exponent > f.places:
            raise ValueError(f"“{f.label}”最多保留{f.places}位小数")
        number = number.quantize(Decimal(1).scaleb(-f.places))
    low, high = f.minimum, f.maximum
    if low is not None and number < low or high is not None and number > high:
        if low is not None and high is not None and low < 0:       # a range such as a coordinate
            raise ValueError(f"“{f.label}”须在 {low:d} 到 {high:d} 之间")
        raise ValueError(f"“{f.label}”不能小于 {low:d}" if low is not None and number < low
                         else f"“{f.label}”不能大于 {high:d}")
    return number


def _value(f, value):
    if f.kind in ("int", "decimal"):
        return _number(f, value)
    if f.kind == "id":
        if isinstance(value, bool) or not re.fullmatch(r"\d{1,12}", str(value).strip()):
            raise ValueError(f"请选择“{f.label}”")
        return int(str(value).strip())
    if f.kind == "date":
        return parse_date(value)
    if not isinstance(value, str):
        raise ValueError(f"“{f.label}”须为文字")
    text = value.strip()
    if len(text) > f.max_length:
        raise ValueError(f"“{f.label}”不得超过{f.max_length}个字符")
    if f.kind == "choice" and text not in f.choices:
        raise ValueError(f"“{text}”不是“{f.label}”的可选值，请从下拉列表中选择")
    if f.pattern and not re.fullmatch(f.pattern, text):
        raise ValueError(f.pattern_message or f"“{f.label}”格式不正确")
    return text


def clean(fields, raw, *, errors=None):
    """``{key: value}`` for ``fields`` from ``raw`` (blank: None); raise ``InvalidInput`` listing every bad field.
    ``errors`` may carry messages found by the caller beforehand (they are reported together)."""
    raw = raw if isinstance(raw, dict) else {}
    values, errors = {}, dict(errors or {})
    for f in fields:
        value = raw.get(f.key)
        if _blank(value):
            values[f.key] = None
            if f.required:
                errors[f.key] = [f"请{'选择' if f.kind in ('choice', 'id') else '填写'}“{f.label}”"]
            continue
        try:
            values[f.key] = _value(f, value)
        except ValueError as exc:
            errors[f.key] = [str(exc)]
    if errors:
        raise InvalidInput(INVALID_MESSAGE, fields=errors)
    return values


def current(fields, row):
    """The values ``row`` holds now for ``fields`` (a form's starting values)."""
    return {f.key: getattr(row, f.key) for f in fields}


def invalid(key, message):
    """An ``InvalidInput`` for one field."""
    return InvalidInput(message, fields={key: [message]})


def _text(value):
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f").rstrip("0")
    return str(value)


WIDGETS = {"textarea": "textarea", "choice": "select", "id": "select", "date": "date", "int": "number"}


def views(fields, values=None, errors=None, *, options=None):
    """Field views for ``render_fields``; ``options`` gives ``[(value, title)]`` for ``id`` fields."""
    values, errors, options = values or {}, errors or {}, options or {}
    result = []
    for f in fields:
        value = values.get(f.key)
        choices = options.get(f.key) or [(c, c) for c in f.choices]
        result.append({"name": f.key, "label": f.label, "required": f.required, "widget": WIDGETS.get(f.kind, "text"),
                       "options": [(str(v), t) for v, t in choices], "value": value, "value_text": _text(value),
                       "error": errors.get(f.key), "help": f.hint,
                       "max_length": f.max_length if f.kind in ("text", "textarea") else None})
    return result
