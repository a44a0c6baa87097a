"""Password policy: composition rules, Chinese messages and temporary passwords.

Pure functions over a frozen :class:`PasswordPolicy`. Rules that need stored hashes (the current password and
the last ``history_depth`` ones) are checked by the account service; their message lives here too
(``violation("reused", policy)``) so that every password message comes from one table.

Passwords are never normalised: no NFKC, no stripping. A full-width character such as ``！`` or ``Ａ`` is
refused as ``non_ascii`` (with a hint to switch the input method to half-width) and counts towards no class.
"""

from __future__ import annotations

import dataclasses
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass

SPECIALS = string.punctuation  # printable ASCII punctuation; the space is not a special character
_FRIENDLY_SPECIALS = "!@#$^&*-_=+?"  # used in examples and temporary passwords (easy to read aloud)
_AMBIGUOUS = set("IOl01")  # left out of temporary passwords
_LOWER = frozenset(string.ascii_lowercase)
_DIGITS = frozenset(string.digits)


@dataclass(frozen=True)
class PasswordPolicy:
    """Every rule is configurable. ``0`` disables ``max_run`` and ``max_age_days``; with ``history_depth=0`` only
    the current password is refused. An empty ``forbidden_characters`` or ``default_password`` disables that rule.
    """

    min_length: int = 8
    max_length: int = 64
    require_upper: bool = True
    require_lower: bool = True
    require_digit: bool = True
    require_special: bool = True
    ascii_only: bool = True
    forbidden_characters: str = "%"
    max_run: int = 4
    forbid_username: bool = True
    default_password: str = "Zjrj@-2007"
    history_depth: int = 5
    max_age_days: int = 30
    warn_days: int = 7
    temporary_password_hours: int = 72

    def __post_init__(self):
        if self.min_length < 1 or self.max_length < self.min_length:
            raise ValueError("password policy: need 1 <= min_length <= max_length")
        if self.max_run != 0 and self.max_run < 2:
            raise ValueError("password policy: max_run must be 0 (disabled) or at least 2")
        for name in ("history_depth", "max_age_days", "warn_days", "temporary_password_hours"):
            if getattr(self, name) < 0:
                raise ValueError(f"password policy: {name} must not be negative")

    @classmethod
    def from_mapping(cls, cfg: Mapping) -> PasswordPolicy:
        """Build from configuration keys (``PASSWORD_MIN_LENGTH`` …); strings from the environment are converted."""
        values = {}
        for field in dataclasses.fields(cls):
            key = _CONFIG_KEYS[field.name]
            if cfg.get(key) is None:
                continue
            raw = cfg[key]
            if isinstance(field.default, bool):
                values[field.name] = _to_bool(key, raw)
            elif isinstance(field.default, int):
                values[field.name] = _to_int(key, raw)
            else:
                values[field.name] = raw if isinstance(raw, str) else "".join(raw)
        return cls(**values)


_CONFIG_KEYS = {f.name: "PASSWORD_" + f.name.upper() for f in dataclasses.fields(PasswordPolicy)}
_CONFIG_KEYS.update(default_password="DEFAULT_INITIAL_PASSWORD", temporary_password_hours="TEMPORARY_PASSWORD_HOURS")


def _to_bool(key, raw):
    if isinstance(raw, bool | int):
        return bool(raw)
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on", "y"):
        return True
    if text in ("0", "false", "no", "off", "n", ""):
        return False
    raise ValueError(f"{key}: not a boolean: {raw!r}")


def _to_int(key, raw):
    if isinstance(raw, bool):
        raise ValueError(f"{key}: not an integer: {raw!r}")
    try:
        return int(str(raw).strip()) if isinstance(raw, str) else int(raw)
    except ValueError:
        raise ValueError(f"{key}: not an integer: {raw!r}") from None


@dataclass(frozen=True)
class Violation:
    code: str
    message: str


def _quote(chars):
    return "、".join("空格" if c == " " else f"“{c}”" for c in chars)


def _special_examples(policy):
    return "".join(c for c in "!@#$&*" if c not in policy.forbidden_characters) or "!"


def _run_examples(n):
    return f"“{'123456789'[:n]}”“{string.ascii_lowercase[:n]}”“{string.ascii_uppercase[:n][::-1]}”"


_MESSAGES = {
    "too_short": lambda p: f"密码长度不得少于{p.min_length}位",
    "too_long": lambda p: f"密码长度不得超过{p.max_length}位",
    "missing_upper": lambda p: "密码须包含至少一个大写字母（A-Z）",
    "missing_lower": lambda p: "密码须包含至少一个小写字母（a-z）",
    "missing_digit": lambda p: "密码须包含至少一个数字（0-9）",
    "missing_special": lambda p: f"密码须包含至少一个特殊字符（如 {_special_examples(p)}）",
    "non_ascii": lambda p: "密码只能使用半角（英文）字符：全角字符如“！”“Ａ”“￥”不被接受，请切换到半角（英文）输入",
    "forbidden_character": lambda p: f"密码不得包含以下字符：{_quote(p.forbidden_characters)}",
    "sequential_run": lambda p: f"密码不得包含{p.max_run}个及以上连续的字母或数字（如{_run_examples(p.max_run)}）",
    "contains_username": lambda p: "密码不得包含用户名",
    "is_default_password": lambda p: "新密码不得与默认初始密码相同",
    "reused": lambda p: (f"新密码不得与当前密码或最近{p.history_depth}次使用过的密码相同"
                         if p.history_depth else "新密码不得与当前密码相同"),
}


def violation(code: str, policy: PasswordPolicy) -> Violation:
    """The violation ``code`` with its Chinese message for ``policy``."""
    if code not in _MESSAGES:
        raise ValueError(f"unknown password violation code: {code!r}")
    return Violation(code, _MESSAGES[code](policy))


def longest_run(password: str) -> int:
    """Length of the longest run of consecutive ascending or descending letters (case-insensitive) or digits."""
    best = asc = desc = 0
    prev = None
    for ch in password:
        low = ch.lower() if ch.isascii() else ""
        key = ("a", ord(low)) if low in _LOWER else ("d", ord(ch)) if low in _DIGITS else None
        if key is None:
            asc = desc = 0
        elif prev is not None and prev[0] == key[0] and key[1] - prev[1] in (1, -1):
            asc = asc + 1 if key[1] - prev[1] == 1 else 1
            desc = desc + 1 if key[1] - prev[1] == -1 else 1
        else:
            asc = desc = 1
        prev = key
        best = max(best, asc, desc)
    return best


def check_password(policy: PasswordPolicy, password: str, *, username: str | None = None) -> list[Violation]:
    """All violations of the hash-free rules, in a stable order; an empty list means acceptable."""
    failed = []
    if len(password) < policy.min_length:
        failed.append("too_short")
    if len(password) > policy.max_length:
        failed.append("too_long")
    classes = (
        ("missing_upper", policy.require_upper, string.ascii_uppercase),
        ("missing_lower", policy.require_lower, string.ascii_lowercase),
        ("missing_digit", policy.require_digit, string.digits),
        ("missing_special", policy.require_special, SPECIALS),
    )
    for code, required, chars in classes:
        if required and not any(c in chars for c in password):
            failed.append(code)
    if policy.ascii_only and not password.isascii():
        failed.append("non_ascii")
    if any(c in policy.forbidden_characters for c in password):
        failed.append("forbidden_character")
    if policy.max_run and longest_run(password) >= policy.max_run:
        failed.append("sequential_run")
    if policy.forbid_username and username and username.lower() in password.lower():
        failed.append("contains_username")
    if policy.default_password and password == policy.default_password:
        failed.append("is_default_password")
    return [violation(code, policy) for code in failed]


def describe_rules(policy: PasswordPolicy) -> list[str]:
    """The Chinese rule list for the password-change page (disabled rules are left out)."""
    rules = [f"长度为{policy.min_length}–{policy.max_length}位"]
    kinds = [name for name, on in (("大写字母", policy.require_upper), ("小写字母", policy.require_lower),
                                   ("数字", policy.require_digit), ("特殊字符", policy.require_special)) if on]
    if kinds:
        rules.append("须同时包含" + "、".join(kinds) + (f"（特殊字符如 {_special_examples(policy)}）"
                                                    if policy.require_special else ""))
    if policy.ascii_only:
        rules.append("只能使用半角（英文）字符，不接受全角字符，输入前请切换到半角（英文）输入法")
    if policy.forbidden_characters:
        rules.append(f"不得包含字符：{_quote(policy.forbidden_characters)}")
    if policy.max_run:
        rules.append(f"不得包含{policy.max_run}个及以上连续的字母或数字（如{_run_examples(policy.max_run)}）")
    if policy.forbid_username:
        rules.append("不得包含用户名")
    if policy.default_password:
        rules.append("不得与默认初始密码相同")
    rules.append(_MESSAGES["reused"](policy).removeprefix("新密码"))
    if policy.max_age_days:
        rules.append(f"密码有效期为{policy.max_age_days}天"
                     + (f"，到期前{policy.warn_days}天起提醒修改" if policy.warn_days else ""))
    return rules


def _pool(preferred, full, forbidden):
    """Characters of ``preferred`` not forbidden, else of ``full`` not forbidden."""
    return ([c for c in preferred if c not in forbidden and c not in _AMBIGUOUS]
            or [c for c in full if c not in forbidden])


def generate_temporary_password(policy: PasswordPolicy, length: int = 16) -> str:
    """A random ASCII password that satisfies ``check_password(policy, ...)``.

    ``length`` is clamped into the policy's bounds. Raises ``ValueError`` if the policy cannot be satisfied.
    """
    forbidden = policy.forbidden_characters
    pools = {
        "upper": _pool(string.ascii_uppercase, string.ascii_uppercase, forbidden),
        "lower": _pool(string.ascii_lowercase, string.ascii_lowercase, forbidden),
        "digit": _pool(string.digits, string.digits, forbidden),
        "special": _pool(_FRIENDLY_SPECIALS, SPECIALS, forbidden),
    }
    required = [k for k, on in (("upper", policy.require_upper), ("lower", policy.require_lower),
                                ("digit", policy.require_digit), ("special", policy.require_special)) if on]
    if any(not pools[k] for k in required):
        raise ValueError("password policy: a required character class is entirely forbidden")
    available = [k for k in pools if pools[k]]
    length = min(max(length, policy.min_length, len(required)), policy.max_length)
    if length < len(required) or not available:
        raise ValueError("password policy cannot be satisfied")
    rng = secrets.SystemRandom()
    for _ in range(1000):
        kinds = required + [rng.choice(available) for _ in range(length - len(required))]
        rng.shuffle(kinds)
        chars = []
        for kind in kinds:
            for _ in range(20):  # pick again if this character would complete a run
                ch = rng.choice(pools[kind])
                if not policy.max_run or longest_run("".join(chars[-policy.max_run + 1:]) + ch) < policy.max_run:
                    break
            chars.append(ch)
        candidate = "".join(chars)
        if not check_password(policy, candidate):
            return candidate
    raise ValueError("password policy cannot be satisfied")
