"""Integers from the outside stay within what the databases store.

A query argument read with ``type=int`` (``?page=``, ``?org_id=``) or a ``<int:...>`` URL part beyond a
32-bit id is treated as absent (the default) or not found (404), instead of reaching the database, where
SQLite cannot bind it and PostgreSQL refuses it.
"""
from flask import Request
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


def init_app(app):
    app.request_class = BoundedRequest
    app.url_map.converters["int"] = BoundedIntConverter
