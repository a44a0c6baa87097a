"""The one create/edit page of the institution-data forms: show the fields, save through a service call,
commit and redirect on success, show the messages on the fields (422) on refusal."""
from flask import flash, redirect, render_template, request

from models import Session
from web.forms import field_errors
from workflows import orgforms
from workflows.errors import InvalidInput


def done(message, back):
    """After a service call on a POST: commit, say so, and go back (303)."""
    Session.commit()
    flash(message, "success")
    return redirect(back, code=303)


def posted(fields):
    return {f.key: request.form.get(f.key, "") for f in fields}


def edit_page(sections, initial, save, *, heading, back, message, options=None, template="orgdata/form.html",
              **context):
    """``sections``: ``[(title or None, fields)]``; ``save(values)`` is the service call."""
    fields = [f for _, group in sections for f in group]
    values, errors = initial or {}, {}
    if request.method == "POST":
        values = posted(fields)
        try:
            save(values)
        except InvalidInput as exc:
            Session.rollback()
            errors = field_errors(exc)
        else:
            return done(message, back)
    views = [(title, orgforms.views(group, values, errors, options=options)) for title, group in sections]
    return render_template(template, heading=heading, sections=views, errors=errors, back=back,
                           **context), 422 if errors else 200
