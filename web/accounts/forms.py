from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class _ProfileFields:
    phone = StringField("手机号码", validators=[Optional(), Length(max=20)])
    email = StringField("电子邮箱", validators=[Optional(), Length(max=128)])
    department = StringField("所在部门", validators=[Optional(), Length(max=64)])
    valid_until = DateField("账号有效期至", validators=[Optional()])
    roles = MultiCheckboxField("角色", coerce=int)


class UserCreateForm(_ProfileFields, FlaskForm):
    user_type = SelectField("用户类型", validators=[DataRequired("请选择用户类型")])
    org_id = SelectField("所属单位", coerce=int, validators=[DataRequired("请选择所属单位")])
    display_name = StringField("姓名/昵称", validators=[DataRequired("请填写姓名或昵称"), Length(max=64)])
    username = StringField("账号", validators=[Optional(), Length(max=64)],
                           description="以字母开头，不少于8位；业务管理员、本级用户和直报用户可留空，按“类型-区划-姓名全拼”自动命名")


class UserEditForm(_ProfileFields, FlaskForm):
    pass
