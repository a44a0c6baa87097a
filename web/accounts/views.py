"""Account administration pages (系统管理 → 人员账号管理)."""
from urllib.parse import urlencode

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from wtforms.fields.choices import SelectChoice

from models import Session, utcnow
from models.accounts import USER_TYPE_LABELS
from web.accounts.forms import UserCreateForm, UserEditForm
from web.forms import apply_field_errors
from web.security import requires
from workflows import accounts, jurisdiction, roles
from workflows.errors import InvalidInput

bp = Blueprint("accounts", __name__, url_prefix="/accounts")
PER_PAGE = 20


@bp.route("/")
@requires("sys.accounts")
def index():
    args = {k: v for k, v in request.args.items() if k in ("q", "org_id", "user_type", "locked") and v}
    page = request.args.get("page", 1, type=int)
    rows, total = accounts.search_users(g.actor, page=page, per_page=PER_PAGE, **args)
    orgs = list(Session().scalars(jurisdiction.visible_orgs_query(g.actor)))
    return render_template(
        "accounts/index.html", rows=rows, total=total, page=page, pages=max(1, -(-total // PER_PAGE)),
        args=args, orgs=orgs, user_types=USER_TYPE_LABELS, now=utcnow(),
        page_args=lambda p: urlencode({**args, "page": p}),
        can_manage=lambda u: jurisdiction.can_manage_user(g.actor, u))


def _create_choices(form):
    types = jurisdiction.manageable_types(g.actor)
    form.user_type.choices = [SelectChoice(t.value, USER_TYPE_LABELS[t]) for t, _ in types]
    orgs = {o.id: o for _, targets in types for o in targets}
    form.org_id.choices = [SelectChoice(o.id, f"{o.name}（{o.region.name}）") for o in orgs.values()]
    org = orgs.get(form.org_id.data) if form.org_id.data else next(iter(orgs.values()), None)
    form.roles.choices = [SelectChoice(r.id, r.name) for r in roles.assignable_roles(g.actor, org)] if org else []
    return types


@bp.route("/new", methods=["GET", "POST"])
@requires("sys.accounts.edit")
def create():
    form = UserCreateForm()
    types = _create_choices(form)
    if not types:
        flash("您没有可创建的账号类型", "error")
        return redirect(url_for("accounts.index"), code=303)
    if form.validate_on_submit():
        try:
            user, password = accounts.create_user(
                g.actor, user_type=form.user_type.data, org_id=form.org_id.data,
                display_name=form.display_name.data, username=form.username.data, role_ids=form.roles.data,
                phone=form.phone.data, email=form.email.data, department=form.department.data,
                valid_until=form.valid_until.data)
        except InvalidInput as exc:
            Session.rollback()
            apply_field_errors(form, exc)
        else:
            Session.commit()
            # Rendered, not redirected: the initial password is shown exactly once and never stored.
            return render_template("accounts/password_once.html", user=user, password=password,
                                   title="账号已创建")
    return render_template("accounts/form.html", form=form, user=None,
                           orgs_by_type={t.value: [o.id for o in targets] for t, targets in types})


def _edit_form(user):
    form = UserEditForm(obj=user)
    manageable = jurisdiction.can_manage_user(g.actor, user)
    choices = roles.assignable_roles(g.actor, user.org) if manageable else []
    form.roles.choices = [SelectChoice(r.id, r.name) for r in {r.id: r for r in [*choices, *user.roles]}.values()]
    if request.method == "GET":
        form.roles.data = [r.id for r in user.roles]
    return form, manageable


def _render_detail(user, form, manageable):
    return render_template("accounts/form.html", form=form, user=user, manageable=manageable, now=utcnow())


@bp.route("/<int:user_id>")
@requires("sys.accounts")
def detail(user_id):
    user = accounts.get_user(g.actor, user_id)
    return _render_detail(user, *_edit_form(user))


@bp.route("/<int:user_id>", methods=["POST"])
@requires("sys.accounts.edit")
def update(user_id):
    user = accounts.get_user_for_change(user_id)
    form, manageable = _edit_form(user)
    if form.validate_on_submit():
        try:
            accounts.update_user(g.actor, user, role_ids=form.roles.data, phone=form.phone.data,
                                 email=form.email.data, department=form.department.data,
                                 valid_until=form.valid_until.data)
        except InvalidInput as exc:
            Session.rollback()
            apply_field_errors(form, exc)
        else:
            Session.commit()
            flash("账号信息已保存", "success")
            return redirect(url_for("accounts.detail", user_id=user.id), code=303)
    return _render_detail(user, form, manageable), 422


def _action(user_id, service, done):
    user = accounts.get_user_for_change(user_id)
    result = service(g.actor, user)
    Session.commit()
    if done:
        flash(done, "success")
    return user, result


@bp.route("/<int:user_id>/lock", methods=["POST"])
@requires("sys.accounts.lock")
def lock(user_id):
    user, _ = _action(user_id, accounts.lock_user, "账号已锁定")
    return redirect(url_for("accounts.detail", user_id=user.id), code=303)


@bp.route("/<int:user_id>/unlock", methods=["POST"])
@requires("sys.accounts.lock")
def unlock(user_id):
    user, _ = _action(user_id, accounts.unlock_user, "账号已解锁")
    return redirect(url_for("accounts.detail", user_id=user.id), code=303)


@bp.route("/<int:user_id>/reset-password", methods=["POST"])
@requires("sys.accounts.reset")
def reset_password(user_id):
    user, password = _action(user_id, accounts.reset_password, None)
    return render_template("accounts/password_once.html", user=user, password=password, title="密码已重置")


@bp.route("/<int:user_id>/delete", methods=["POST"])
@requires("sys.accounts.edit")
def delete(user_id):
    _action(user_id, accounts.delete_user, "账号已删除")
    return redirect(url_for("accounts.index"), code=303)
