"""试用期填报 (Hubei §4.2.6): the staff whose 在职状态 is 医师资格考试试用期考核人员 and their registration."""
from flask import flash, g, redirect, render_template, request, url_for

from web.people import common
from web.people.common import bp
from web.security import requires
from workflows import personnel, trials
from workflows.errors import InvalidInput


@bp.route("/personnel/trial/")
@requires("hr.staff.edit")
@common.org_page("试用期填报")
def trial_list():
    common.org()
    return render_template("people/trials.html", rows=trials.trial_staff(g.actor))


@bp.route("/personnel/trial/<int:staff_id>", methods=["GET", "POST"])
@requires("hr.staff.edit")
def trial_form(staff_id):
    common.org()
    staff = personnel.own_staff(g.actor, staff_id)
    reg = trials.registration(staff)
    values, errors = trials.values_of(reg), {}
    if request.method == "GET":
        try:
            trials.check_eligible(staff)
        except InvalidInput as exc:
            flash(exc.message, "error")
            return redirect(url_for("people.trial_list"), code=303)
    else:
        values = {key: request.form.get(key, "") for key, *_ in trials.FIELDS}
        _, errors = common.attempt(lambda: trials.save(g.actor, staff, values, common.upload("attachment")))
        if not errors:
            flash("试用期填报已保存", "success")
            return redirect(url_for("people.trial_list"), code=303)
    return render_template("people/trial_form.html", staff=staff, reg=reg, values=values, errors=errors,
                           fields=trials.FIELDS), 422 if errors else 200
