"""Process-specific additions to the task and instance pages.

A process module registers a function giving extra template values for its tasks; the task page includes
``workflow/partials/<process key>.html`` (when it exists) with those values, e.g. old and new values side by
side for an institution change, or the generated form to download for a real-name verification.
"""
_PROVIDERS = {}


def provider(process_key):
    def register(fn):
        _PROVIDERS[process_key] = fn
        return fn
    return register


def extras_for(actor, task, instance):
    fn = _PROVIDERS.get(instance.process_key)
    return fn(actor, task, instance) if fn else {}
