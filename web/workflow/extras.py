"""Process-specific additions to the task and instance pages.

A process module registers a function giving extra template values for its tasks; the task page includes
``workflow/partials/<process key>.html`` (when it exists) with those values, e.g. old and new values side by
side for an institution change, or the generated form to download for a real-name verification.
"""
from functools import wraps

from flask import request

_PROVIDERS = {}


def provider(process_key):
    def register(fn):
        _PROVIDERS[process_key] = fn
        return fn
    return register


def extras_for(actor, task, instance):
    fn = _PROVIDERS.get(instance.process_key)
    return fn(actor, task, instance) if fn else {}


def guard_endpoints(blueprint, guards):
    """Put a process's checks in front of generic approval-centre endpoints.

    ``guards`` maps an endpoint (``"api.complete_task"``) to ``guard(**view_args)``; a guard returns None to let
    the generic view run, or an answer (a redirect, a JSON error) that replaces it. Installed when
    ``blueprint`` is registered, so it must be registered after the approval centre and the API.
    """
    @blueprint.record_once
    def _install(state):
        views = state.app.view_functions
        for endpoint, guard in guards.items():
            if endpoint in views:
                views[endpoint] = _guarded(views[endpoint], guard)


def _guarded(view, guard):
    @wraps(view)
    def wrapped(**kwargs):
        answer = guard(**kwargs)
        return answer if answer is not None else view(**kwargs)
    return wrapped


def posted_data():
    """The ``data`` object of the JSON body a guard of ``api.start_instance`` / ``api.complete_task`` looks at
    (None when there is no body or it is not a JSON object; the generic view then answers the error itself)."""
    body = request.get_json(silent=True) if request.data else {}
    return body.get("data") if isinstance(body, dict) else None
