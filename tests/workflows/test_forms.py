import os
import re

import pytest
from flask import render_template_string
from werkzeug.datastructures import MultiDict

from workflows import forms
from workflows.errors import FormInvalid

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
RESIDENT_ID = "42010219800101001X"
USCC = "91110108MA01ABCDEN"


@pytest.fixture
def form():
    return forms.load_form("sample.schema.json", forms_dir=FIXTURES)


def valid_data(**changes):
    data = {"applicant_name": "张三", "resident_id": RESIDENT_ID, "mobile": "13800138000", "category": "new",
            "decision": "approve"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def errors_of(form, data, **kw):
    with pytest.raises(FormInvalid) as info:
        forms.validate(form, data, **kw)
    assert info.value.status == 422
    return info.value.fields


def error_of(form, field, value):
    fields = errors_of(form, valid_data(**{field: value}))
    assert list(fields) == [field]
    return fields[field]


# --- loading ------------------------------------------------------------------------------------------------

def test_forms_dir_is_under_the_project_root():
    root = os.path.dirname(os.path.dirname(os.path.abspath(forms.__file__)))
    assert forms.FORMS_DIR == os.path.join(root, "bpmn", "forms")


def test_load_form_finds_the_sibling_ui_file_and_caches(form):
    assert form.name == "sample.schema.json"
    assert form.ui["ui:order"][0] == "decision"
    assert forms.load_form("sample.schema.json", forms_dir=FIXTURES) is form
    explicit = forms.load_form("sample.schema.json", "sample.ui.json", forms_dir=FIXTURES)
    assert explicit.ui == form.ui
    assert forms.load_form("plain.json", forms_dir=FIXTURES).ui == {}
    assert forms.load_form("plain_alt.schema.json", forms_dir=FIXTURES).ui == {"ui:order": ["note"]}


@pytest.mark.parametrize("name", ["../sample.schema.json", "sub/x.json", "a\\b.json", "..", ""])
def test_load_form_refuses_paths(name):
    with pytest.raises(ValueError):
        forms.load_form(name, forms_dir=FIXTURES)
    with pytest.raises(ValueError):
        forms.load_form("sample.schema.json", name or "../x", forms_dir=FIXTURES)


@pytest.mark.parametrize("name", ["broken.schema.json", "truncated.schema.json"])
def test_broken_schema_is_refused_naming_the_file(name):
    with pytest.raises(ValueError, match=re.escape(name)):
        forms.load_form(name, forms_dir=FIXTURES)


def test_form_from_dicts_checks_the_schema():
    form = forms.form_from_dicts("stored", {"type": "object", "properties": {"a": {"type": "string"}}}, None)
    assert form.ui == {} and form.name == "stored"
    with pytest.raises(ValueError, match="stored"):
        forms.form_from_dicts("stored", {"type": "object", "properties": {"a": {"minLength": -1}}}, {})
    with pytest.raises(ValueError, match="stored"):
        forms.form_from_dicts("stored", {"type": "string"}, {})


# --- validation ---------------------------------------------------------------------------------------------

def test_valid_data_is_cleaned(form):
    data = valid_data(applicant_name="  李四 ", resident_id=" 42010219800101001x ", mobile="+86 138-0013-8000",
                      org_code=USCC.lower(), unknown="dropped", comment="   ")
    cleaned = forms.validate(form, data)
    assert cleaned == {"applicant_name": "李四", "resident_id": RESIDENT_ID, "mobile": "13800138000",
                       "org_code": USCC, "category": "new", "decision": "approve"}


def test_non_object_data_is_refused(form):
    for data in (None, [], "x", 5):
        assert errors_of(form, data) == {"_": "表单数据格式不正确"}


def test_all_errors_at_once(form):
    fields = errors_of(form, {"applicant_name": "张", "mobile": "12345", "start_date": "2024-2-1",
                              "staff_count": 0, "category": "other"})
    assert fields == {
        "applicant_name": "“申请人姓名”不得少于2个字符",
        "resident_id": "请填写“身份证号码”",
        "mobile": "手机号码不正确",
        "start_date": "日期格式应为 YYYY-MM-DD",
        "staff_count": "“在岗人数”不得小于1",
        "category": "请选择有效的“申请类别”",
        "decision": "请填写“审批结论”",
    }


def test_whitespace_only_counts_as_missing(form):
    assert error_of(form, "applicant_name", "   ") == "请填写“申请人姓名”"


@pytest.mark.parametrize("field, value, message", [
    ("applicant_name", "张" * 21, "“申请人姓名”不得超过20个字符"),
    ("applicant_name", 12, "“申请人姓名”格式不正确"),
    ("category", "other", "请选择有效的“申请类别”"),
    ("level", "4", "请选择有效的“机构等级”"),
    ("agree", False, "请勾选“承诺所填信息属实”"),
    ("staff_count", "abc", "“在岗人数”格式不正确"),
    ("staff_count", 2.5, "“在岗人数”格式不正确"),
    ("staff_count", 1001, "“在岗人数”不得大于1000"),
    ("area", 0, "“业务用房面积”必须大于0"),
    ("bed_count", -1, "“床位数”不得小于0"),
    ("project_code", "ab1234", "“项目编号”格式不正确"),
    ("mobile", "23800138000", "手机号码不正确"),
    ("org_code", "91110108MA01ABCDE0", "统一社会信用代码不正确"),
    ("org_code", "123", "统一社会信用代码不正确"),
    ("start_date", "2024-02-30", "日期格式应为 YYYY-MM-DD"),
    ("start_date", "20240201", "日期格式应为 YYYY-MM-DD"),
    ("start_date", "2024-02-01T00:00:00", "日期格式应为 YYYY-MM-DD"),
    ("license_file", 0, "附件不存在或无权使用"),
    ("license_file", True, "“许可证扫描件”格式不正确"),
])
def test_validator_kinds(form, field, value, message):
    assert error_of(form, field, value) == message


@pytest.mark.parametrize("value, fragment", [
    ("420102198001010010", "校验位"),
    ("420102800101001", "15 位"),
    ("42010219801301001X", "出生日期"),
    ("9901021980010100", "18 位"),
    ("４２010219800101001X", "全角"),
])
def test_resident_id_messages_come_from_identity(form, value, fragment):
    message = error_of(form, "resident_id", value)
    assert "身份证号码" in message and fragment in message


@pytest.mark.parametrize("field, value", [
    ("level", "2"), ("staff_count", 1000), ("area", 0.5), ("bed_count", None), ("agree", True),
    ("start_date", "2024-02-29"), ("project_code", "AB1234"), ("org_code", USCC), ("license_file", 7),
])
def test_good_values_pass(form, field, value):
    data = valid_data(**{field: value})
    if value is None:
        data[field] = None
    assert forms.validate(form, data)[field] == value


def test_file_ref_checks_existence_through_the_callback(form):
    seen = []

    def exists(attachment_id):
        seen.append(attachment_id)
        return attachment_id == 7

    assert forms.validate(form, valid_data(license_file=7), file_exists=exists)["license_file"] == 7
    assert errors_of(form, valid_data(license_file=8), file_exists=exists) == {"license_file": "附件不存在或无权使用"}
    assert seen == [7, 8]
    fields = errors_of(form, valid_data(license_file="7"), file_exists=exists)
    assert fields == {"license_file": "“许可证扫描件”格式不正确"} and seen == [7, 8]


def test_if_then_requires_the_comment_on_reject(form):
    assert errors_of(form, valid_data(decision="reject")) == {"comment": "请填写“审批意见”"}
    assert errors_of(form, valid_data(decision="reject", comment="  ")) == {"comment": "请填写“审批意见”"}
    assert forms.validate(form, valid_data(decision="reject", comment="材料不全"))["comment"] == "材料不全"
    assert "comment" not in forms.validate(form, valid_data(decision="approve"))


def test_nested_and_array_errors_use_dotted_paths():
    form = forms.form_from_dicts("nested", {
        "type": "object",
        "properties": {
            "contact": {"type": "object", "title": "联系人", "required": ["name"],
                        "properties": {"name": {"type": "string", "title": "姓名"},
                                       "mobile": {"type": "string", "format": "cn-mobile"}}},
            "members": {"type": "array", "title": "成员", "maxItems": 2,
                        "items": {"type": "string", "title": "成员姓名", "minLength": 2}},
            "files": {"type": "array", "items": {"type": "integer", "format": "file-ref"}},
        },
    })
    fields = errors_of(form, {"contact": {"mobile": " 138 0013 8000 ", "x": 1}, "members": ["王五", "李"]})
    assert fields == {"contact.name": "请填写“姓名”", "members.1": "“成员姓名”不得少于2个字符"}
    assert errors_of(form, {"members": ["张三", "李四", "王五"]}) == {"members": "“成员”最多2项"}
    cleaned = forms.validate(form, {"contact": {"name": "赵六", "mobile": "138 0013 8000", "x": 1},
                                    "files": [3, 4]})
    assert cleaned["contact"] == {"name": "赵六", "mobile": "13800138000"}
    assert forms.file_ids(form, cleaned) == [3, 4]


def test_file_ids_of_single_fields(form):
    assert forms.file_ids(form, valid_data(license_file=5)) == [5]
    assert forms.file_ids(form, valid_data()) == []


# --- field views and posted forms ---------------------------------------------------------------------------

def test_field_views_order_widgets_and_options(form):
    views = forms.field_views(form)
    names = [v.name for v in views]
    assert names[:3] == ["decision", "comment", "applicant_name"]
    assert sorted(names) == sorted(form.schema["properties"])
    assert names[3:6] == ["resident_id", "mobile", "org_code"]
    by = {v.name: v for v in views}
    widgets = {name: v.widget for name, v in by.items()}
    assert widgets == {"decision": "radio", "comment": "textarea", "applicant_name": "text",
                       "resident_id": "text", "mobile": "text", "org_code": "text", "start_date": "date",
                       "category": "select", "level": "select", "staff_count": "number", "area": "number",
                       "bed_count": "number", "agree": "checkbox", "license_file": "file",
                       "project_code": "text"}
    assert by["category"].options == [("new", "新办"), ("renew", "延续")]
    assert by["level"].options == [("1", "一级"), ("2", "二级"), ("3", "三级")]
    assert by["decision"].required and by["applicant_name"].required and not by["comment"].required
    assert by["comment"].help == "当“审批结论”为“退回”时必填"
    assert by["mobile"].help == "填写 11 位手机号码"
    assert by["area"].help == "单位：平方米"
    assert by["applicant_name"].label == "申请人姓名" and by["applicant_name"].max_length == 20
    assert by["comment"].max_length == 500 and by["staff_count"].max_length is None


def test_field_views_carry_values_and_errors(form):
    views = forms.field_views(form, {"decision": "reject", "staff_count": 3, "agree": True},
                              {"comment": "请填写“审批意见”"})
    by = {v.name: v for v in views}
    assert by["decision"].value == "reject" and by["staff_count"].value_text == "3"
    assert by["agree"].value_text == "true" and by["applicant_name"].value_text == ""
    assert by["comment"].error == "请填写“审批意见”" and by["decision"].error is None


def test_widget_from_ui_and_array_errors():
    form = forms.form_from_dicts("w", {"type": "object", "properties": {
        "kind": {"enum": ["a", "b"]}, "note": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}}}}, {"kind": {"ui:widget": "radio"},
                                                                   "note": {"ui:widget": "textarea"}})
    views = forms.field_views(form, errors={"tags.1": "错误"})
    assert [(v.name, v.widget) for v in views] == [("kind", "radio"), ("note", "textarea"), ("tags", "text")]
    assert views[2].error == "错误" and views[0].label == "kind"


def test_coerce_post(form):
    posted = MultiDict([("applicant_name", " 张三 "), ("staff_count", "12"), ("area", "35.5"), ("bed_count", ""),
                        ("agree", "1"), ("license_file", "99"), ("level", "2"), ("comment", ""),
                        ("project_code", "x"), ("unknown", "1"), ("decision", "reject")])
    assert forms.coerce_post(form, posted) == {
        "applicant_name": " 张三 ", "staff_count": 12, "area": 35.5, "agree": True, "level": "2",
        "project_code": "x", "decision": "reject"}
    assert forms.coerce_post(form, MultiDict([("staff_count", "十二"), ("area", "7"), ("bed_count", "4")])) == {
        "staff_count": "十二", "area": 7, "bed_count": 4, "agree": False}
    assert forms.coerce_post(form, {"area": "nan", "staff_count": "1e3"}) == {
        "area": "nan", "staff_count": "1e3", "agree": False}


def test_coerce_post_maps_choices_and_lists():
    form = forms.form_from_dicts("c", {"type": "object", "properties": {
        "grade": {"oneOf": [{"const": 1, "title": "一"}, {"const": 2, "title": "二"}]},
        "ok": {"type": "boolean", "oneOf": [{"const": True, "title": "是"}, {"const": False, "title": "否"}]},
        "days": {"type": "array", "items": {"type": "integer"}}}})
    posted = MultiDict([("grade", "2"), ("ok", "false"), ("days", "1"), ("days", ""), ("days", "3")])
    assert forms.coerce_post(form, posted) == {"grade": 2, "ok": False, "days": [1, 3]}
    assert forms.field_views(form)[1].options == [("true", "是"), ("false", "否")]
    assert forms.validate(form, forms.coerce_post(form, posted)) == {"grade": 2, "ok": False, "days": [1, 3]}


def test_posted_form_round_trip(form):
    posted = MultiDict([("applicant_name", "张三"), ("resident_id", RESIDENT_ID.lower()), ("agree", "true"),
                        ("mobile", "138 0013 8000"), ("category", "renew"), ("decision", "approve"),
                        ("staff_count", "8"), ("comment", "")])
    assert forms.validate(form, forms.coerce_post(form, posted)) == {
        "applicant_name": "张三", "resident_id": RESIDENT_ID, "mobile": "13800138000", "category": "renew",
        "decision": "approve", "staff_count": 8, "agree": True}
    posted.setlist("agree", [])
    assert errors_of(form, forms.coerce_post(form, posted)) == {"agree": "请勾选“承诺所填信息属实”"}


# --- the Jinja macro ----------------------------------------------------------------------------------------

TEMPLATE = '{% from "forms/_schema_form.html" import render_fields %}{{ render_fields(fields) }}'


def render(app, fields):
    with app.test_request_context():
        return render_template_string(TEMPLATE, fields=fields)


def test_macro_renders_values_errors_and_escapes(app, form):
    values = {"decision": "reject", "applicant_name": '<script>alert("x")</script>', "category": "renew",
              "agree": True, "license_file": 42, "staff_count": 5, "start_date": "2024-03-01",
              "comment": "</textarea><b>"}
    html = render(app, forms.field_views(form, values, {"comment": "请填写“审批意见”"}))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "</textarea><b>" not in html and "&lt;/textarea&gt;&lt;b&gt;" in html
    assert re.search(r'<input type="radio" id="f-decision-1" name="decision" value="reject"[^>]* checked', html)
    assert not re.search(r'value="approve"[^>]* checked', html)
    assert re.search(r'<option value="renew" selected>延续</option>', html)
    assert '<option value="">请选择</option>' in html
    assert re.search(r'<input type="checkbox" id="f-agree" name="agree" value="true"[^>]* checked', html)
    assert re.search(r'name="staff_count" value="5"', html) and 'type="number"' in html
    assert re.search(r'<input type="date" id="f-start_date" name="start_date" value="2024-03-01"', html)
    assert '<input type="file" id="f-license_file" name="license_file" accept=".jpg,.jpeg,.png,.pdf"' in html
    assert '<a href="/files/42">已上传的附件</a>' in html
    assert '<div class="field has-error">' in html
    assert '<div class="field-error" id="f-comment-error">请填写“审批意见”</div>' in html
    assert '<label for="f-applicant_name">申请人姓名</label><span class="req">*</span>' in html
    assert '<p class="muted small" id="f-mobile-help">填写 11 位手机号码</p>' in html
    assert 'maxlength="20"' in html
    assert "style=" not in html and "<script" not in html


def test_macro_without_values(app, form):
    html = render(app, forms.field_views(form))
    assert html.count('class="field"') == len(form.schema["properties"])
    assert "checked" not in html and "selected" not in html and "/files/" not in html
    assert "has-error" not in html
