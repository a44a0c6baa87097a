"""Domain exceptions, mapped to HTTP in one place (``web.errors``).

Each carries a machine-readable ``code`` (the JSON ``error`` value) and a Chinese ``message`` for the user.
"""


class DomainError(Exception):
    code = "error"
    status = 400
    message = "请求无法处理"

    def __init__(self, message=None, *, code=None, **detail):
        super().__init__(message or self.message)
        self.message = message or self.message
        if code:
            self.code = code
        self.detail = detail

    def to_json(self):
        body = {"error": self.code, "message": self.message}
        body.update(self.detail)
        return body


class InvalidInput(DomainError):
    """Bad input. ``fields`` maps field name to a list of Chinese messages."""

    code = "invalid_input"
    status = 422
    message = "输入有误，请检查后重新提交"

    def __init__(self, message=None, *, fields=None, code=None):
        super().__init__(message, code=code)
        self.fields = fields or {}
        if self.fields:
            self.detail["fields"] = self.fields


class PolicyViolation(DomainError):
    """A new password breaks one or more rules of the password policy."""

    code = "password_policy"
    status = 422
    message = "新密码不符合密码规则"

    def __init__(self, violations):
        super().__init__(None)
        self.violations = list(violations)
        self.detail["violations"] = [v.code for v in self.violations]
        self.detail["messages"] = [v.message for v in self.violations]


class NotAuthorized(DomainError):
    """The actor may not do this. ``audit`` (action, target_type, target_id) is recorded after rollback."""

    code = "forbidden"
    status = 403
    message = "您没有执行此操作的权限"

    def __init__(self, message=None, *, audit=None, code=None):
        super().__init__(message, code=code)
        self.audit = audit


class NotFound(DomainError):
    """Missing, or outside the actor's jurisdiction (the two are indistinguishable on purpose)."""

    code = "not_found"
    status = 404
    message = "未找到该记录"

    def __init__(self, message=None, *, audit=None):
        super().__init__(message)
        self.audit = audit


class Conflict(DomainError):
    code = "conflict"
    status = 409
    message = "该记录已被他人修改，请刷新后重试"


class FormInvalid(DomainError):
    """A task form failed its JSON Schema: ``fields`` maps each field to one Chinese message."""

    code = "validation"
    status = 422
    message = "表单填写有误，请检查标红的项目"

    def __init__(self, fields):
        super().__init__(None)
        self.fields = dict(fields)
        self.detail["fields"] = self.fields
