"""``/api/v1/staff``: the institution's staff for API clients, through the same services as the pages.

Only the caller's own institution is visible (others' records are 404, so no ID number of another institution
ever leaves). Bodies carry ``data`` with the basic-information fields keyed as in ``personnel.BASIC``.
"""
from flask import g, jsonify, request

from models import Session
from web.api import json_body
from web.people import common
from web.people.common import api
from web.security import requires
from workflows import personnel
from workflows.errors import InvalidInput


def _data():
    data = json_body().get("data")
    if not isinstance(data, dict):
        raise InvalidInput("data 必须是 JSON 对象", code="invalid_input")
    return data


def _detail(staff):
    body = personnel.staff_json(staff)
    for key, sec in personnel.DETAIL_SECTIONS.items():
        body[key] = [{"id": row.id, "attachment_id": row.attachment_id, **personnel.detail_values(sec, row)}
                     for row in personnel.detail_rows(staff, sec)]
    return body


@api.get("", endpoint="list")
@requires("hr.staff")
def list_staff():
    page = common.page_arg()
    per_page = min(max(request.args.get("per_page", common.PER_PAGE, type=int) or common.PER_PAGE, 1),
                   common.PER_PAGE_MAX)
    status = request.args.get("status")
    rows, total = personnel.list_staff(g.actor, q=request.args.get("q"), status=status,
                                       department_id=request.args.get("department_id", type=int),
                                       page=page, per_page=per_page)
    return jsonify({"items": [personnel.staff_json(s) for s in rows], "total": total, "page": page,
                    "per_page": per_page})


@api.post("", endpoint="create")
@requires("hr.staff.edit")
def create_staff():
    org = common.org()
    staff, _ = personnel.save_basic(g.actor, org, _data(), source="api")
    Session.commit()
    return jsonify(_detail(staff)), 201


@api.get("/<int:staff_id>", endpoint="get")
@requires("hr.staff")
def get_staff(staff_id):
    return jsonify(_detail(personnel.own_staff(g.actor, staff_id)))


@api.put("/<int:staff_id>", endpoint="update")
@requires("hr.staff.edit")
def update_staff(staff_id):
    staff = personnel.own_staff(g.actor, staff_id)
    data = {**personnel.basic_values(staff), **_data()}   # a field left out keeps its value
    staff, _ = personnel.save_basic(g.actor, staff.org, data, staff=staff, source="api")
    Session.commit()
    return jsonify(_detail(staff))
