"""Input from the outside stays within what the databases store.

A query argument read with ``type=int`` (``?page=``, ``?org_id=``) or a ``<int:...>`` URL part beyond a
32-bit id is treated as absent (the default) or not found (404), instead of reaching the database, where
SQLite cannot bind it and PostgreSQL refuses it. Text with a NUL character (which PostgreSQL cannot store) in
the URL, a form field or a JSON body is refused with a clear message before any view runs.
"""
from flask import Request, request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter

LIMIT = 2**31 - 1


def bounded_int(value):
    number = int(value)
    if not -LIMIT <= number <= LIMIT:
        raise ValueError(f"{value!r} is out of range")
    return number


class BoundedArgs(ImmutableMultiDict):
    def get(self, key, default=None, type=None):  # noqa: A002 - the Werkzeug signature
        return super().get(key, default, bounded_int if type is int else type)


class BoundedRequest(Request):
    parameter_storage_class = BoundedArgs


class BoundedIntConverter(IntegerConverter):
    def __init__(self, url_map, fixed_digits=0, min=None, max=LIMIT, signed=False):  # noqa: A002
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


NUL_MESSAGE = "提交的内容中含有不可见的控制字符（NUL），请删除后重新提交"


def _has_nul(value):
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def refuse_nul():
    from workflows.errors import InvalidInput
    texts = [*request.args.values(), *request.form.values(), *(request.view_args or {}).values(), request.path]
    body = request.get_json(silent=True) if request.is_json else None
    if any(_has_nul(v) for v in texts) or _has_nul(body):
        raise InvalidInput(NUL_MESSAGE, code="control_character")


def init_app(app):
    app.request_class = BoundedRequest
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(refuse_nul)
