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
