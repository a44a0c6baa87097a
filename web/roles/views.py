"""Role pages (系统管理 → 角色管理): roles with the permission tree and parent-child linkage (父子联动)."""
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from models import Session
from web.forms import apply_field_errors
from web.security import current_permissions, requires
from workflows import permissions, roles
from workflows.errors import InvalidInput

bp = Blueprint("roles", __name__, url_prefix="/roles")


class RoleForm(FlaskForm):
    name = StringField("角色名称", validators=[DataRequired("请填写角色名称"), Length(max=64)])
    role_type = StringField("角色类型", validators=[Optional(), Length(max=32)], description="仅作说明，不影响账号的使用")
    sort = IntegerField("角色序号", validators=[Optional()])
    status = SelectField("状态", choices=[SelectChoice("normal", "正常"), SelectChoice("disabled", "停用")],
                         default="normal")
    description = StringField("说明", validators=[Optional(), Length(max=256)])


def _tree(checked, grantable):
    """Nested ``[{code, name, checked, enabled, children}]`` for the template."""
    def build(nodes):
        out = []
        for code, name, children in nodes:
            out.append({"code": code, "name": name, "checked": code in checked, "enabled": code in grantable,
                        "children": build([c if len(c) == 3 else (*c, []) for c in children])})
        return out
    return build(permissions.CATALOGUE)


def _render(form, role, checked):
    return render_template("roles/form.html", form=form, role=role,
                           tree=_tree(checked, current_permissions()),
                           editable=role is None or roles.can_edit_role(g.actor, role))


def _save(form, role):
    codes = request.form.getlist("permissions")
    fields = dict(name=form.name.data, permission_codes=codes, role_type=form.role_type.data or None,
                  sort=form.sort.data or 0, status=form.status.data, description=form.description.data or None)
    try:
        saved = roles.update_role(g.actor, role, **fields) if role else roles.create_role(g.actor, **fields)
    except InvalidInput as exc:
        Session.rollback()
        apply_field_errors(form, exc)
        return None, codes
    Session.commit()
    return saved, codes


@bp.route("/")
@requires("sys.roles")
def index():
    rows = Session().scalars(roles.visible_roles_query(g.actor)).all()
    return render_template("roles/index.html", rows=rows, can_edit=lambda r: roles.can_edit_role(g.actor, r))


@bp.route("/new", methods=["GET", "POST"])
@requires("sys.roles.edit")
def create():
    form = RoleForm()
    checked = set()
    if form.validate_on_submit():
        role, checked = _save(form, None)
        if role:
            flash("角色已创建", "success")
            return redirect(url_for("roles.edit", role_id=role.id), code=303)
        return _render(form, None, set(checked)), 422
    return _render(form, None, checked)


@bp.route("/<int:role_id>")
@requires("sys.roles")
def edit(role_id):
    role = roles.get_role(g.actor, role_id)
    return _render(RoleForm(obj=role), role, role.permission_codes)


@bp.route("/<int:role_id>", methods=["POST"])
@requires("sys.roles.edit")
def update(role_id):
    role = roles.get_role(g.actor, role_id)
    form = RoleForm(obj=role)
    checked = role.permission_codes
    if form.validate_on_submit():
        saved, checked = _save(form, role)
        if saved:
            flash("角色已保存", "success")
            return redirect(url_for("roles.edit", role_id=role.id), code=303)
    return _render(form, role, set(checked)), 422


@bp.route("/<int:role_id>/delete", methods=["POST"])
@requires("sys.roles.edit")
def delete(role_id):
    role = roles.get_role(g.actor, role_id)
    roles.delete_role(g.actor, role)
    Session.commit()
    flash("角色已删除", "success")
    return redirect(url_for("roles.index"), code=303)
