"""Shared form helpers."""
from flask import flash


def apply_field_errors(form, exc):
    """Show an ``InvalidInput``'s messages on the form's fields; messages for other fields become flashes."""
    for name, messages in exc.fields.items():
        target = getattr(form, name, None)
        if target is not None:
            target.errors = list(target.errors) + messages
        else:
            for message in messages:
                flash(message, "error")
    if not exc.fields:
        flash(exc.message, "error")


def field_errors(exc):
    """One message per field, from a form's ``FormInvalid`` or an ``InvalidInput`` (``"_"`` for the form)."""
    fields = getattr(exc, "fields", None) or {"_": exc.message}
    return {name: (value[0] if isinstance(value, list) else value) for name, value in fields.items()}
