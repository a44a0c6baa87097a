"""Validators for identity numbers, unified social credit codes and mobile numbers.

Each ``normalize_*`` function returns the stored form or raises :class:`workflows.errors.InvalidInput` with a
Chinese message and a distinct ``code``. Identity fields are never silently converted from full-width input:
the user is asked to switch to half-width instead. Only surrounding whitespace is stripped.
"""

from __future__ import annotations

import re
from functools import lru_cache
from datetime import date

import phonenumbers
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidLength, ValidationError

from workflows.errors import InvalidInput

ID_TYPES = (
    ("resident_id", "居民身份证"),
    ("passport", "护照"),
    ("hk_macau_permit", "港澳居民来往内地通行证"),
    ("taiwan_permit", "台湾居民来往大陆通行证"),
    ("foreign_permanent", "外国人永久居留身份证"),
)
_LABELS = dict(ID_TYPES)
_CODES_BY_LABEL = {label: code for code, label in ID_TYPES}

# Current province-level codes (GB/T 2260); 83 is used by residence permits for Taiwan residents.
PROVINCE_CODES = frozenset(
    [*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55), *range(61, 66),
     71, 81, 82, 83]
)
_EARLIEST_BIRTH = date(1900, 1, 1)
_FULLWIDTH = re.compile("[\uff01-\uff5e\u3000]")
_HALF_WIDTH_HINT = "，请切换到半角（英文）输入后重新填写"


def _fail(message, code):
    raise InvalidInput(message, code=code)


def _refuse_fullwidth(value, what):
    if _FULLWIDTH.search(value):
        _fail(f"{what}中含有全角字符（如“１”“Ｘ”）{_HALF_WIDTH_HINT}", "id_fullwidth")


def _birth_date(number):
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def normalize_resident_id(value: str, *, allow_legacy: bool = False) -> str:
    """An 18-character resident ID number (GB 11643-1999), upper-case ``X``.

    15-digit legacy numbers are refused (``id_legacy``) unless ``allow_legacy`` is set (imports), in which
    case they are converted: ``19`` is inserted before the 2-digit year and the check character computed.
    The province is validated strictly; the rest of the 6-digit region is not (regions are renamed).
    """
    if not isinstance(value, str):
        _fail("请填写居民身份证号码", "id_format")
    number = value.strip()
    _refuse_fullwidth(number, "居民身份证号码")
    if re.fullmatch(r"[0-9]{15}", number):
        if not allow_legacy:
            _fail("15 位旧版身份证号码已停止使用，请填写 18 位居民身份证号码", "id_legacy")
        body = number[:6] + "19" + number[6:]
        number = body + ric.calc_check_digit(body + "0")
    if not re.fullmatch(r"[0-9]{17}[0-9Xx]", number):
        _fail("居民身份证号码应为 18 位：前 17 位为数字，最后一位为数字或 X", "id_format")
    number = number.upper()
    if int(number[:2]) not in PROVINCE_CODES:
        _fail("居民身份证号码的前两位不是有效的省级行政区划代码，请核对", "id_province")
    born = _birth_date(number)
    if born is None:
        _fail("居民身份证号码中的出生日期（第 7–14 位）不是有效日期，请核对", "id_birthdate")
    if not _EARLIEST_BIRTH <= born <= date.today():
        _fail("居民身份证号码中的出生日期（第 7–14 位）不在合理范围内，请核对", "id_birthdate")
    if ric.calc_check_digit(number) != number[-1]:
        _fail("居民身份证号码校验位（最后一位）不正确，请核对号码", "id_checksum")
    return number


def id_birth_date(resident_id: str) -> date:
    """Birth date encoded in a resident ID number (validated first; legacy numbers allowed)."""
    return _birth_date(normalize_resident_id(resident_id, allow_legacy=True))


def id_gender(resident_id: str) -> str:
    """``"男"`` when the sequence digit (17th) is odd, ``"女"`` when even."""
    number = normalize_resident_id(resident_id, allow_legacy=True)
    return "男" if int(number[16]) % 2 else "女"


def normalize_uscc(value: str) -> str:
    """An 18-character unified social credit code (GB 32100-2015), upper-case."""
    if not isinstance(value, str):
        _fail("请填写统一社会信用代码", "uscc_invalid")
    number = value.strip()
    if _FULLWIDTH.search(number):
        _fail(f"统一社会信用代码中含有全角字符{_HALF_WIDTH_HINT}", "uscc_invalid")
    try:
        return uscc.validate(number.upper())
    except InvalidLength:
        message = "统一社会信用代码应为 18 位"
    except InvalidChecksum:
        message = "统一社会信用代码校验位（最后一位）不正确，请核对"
    except ValidationError:
        message = "统一社会信用代码格式不正确：前 8 位为数字，其余为数字或大写字母（不含 I、O、S、V、Z）"
    _fail(message, "uscc_invalid")


def normalize_mobile(value: str) -> str:
    """Mainland China mobile number as 11 bare digits; ``+86``/``0086``, spaces and hyphens are removed."""
    message = "手机号码格式不正确，请填写 11 位中国大陆手机号码"
    if not isinstance(value, str):
        _fail(message, "mobile_invalid")
    number = re.sub(r"[\s-]", "", value)
    for prefix in ("+86", "0086"):
        if number.startswith(prefix):
            number = number[len(prefix):]
            break
    if not re.fullmatch(r"1[0-9]{10}", number) or not _mobile_segment(number[:7]):
        _fail(message, "mobile_invalid")
    return number


@lru_cache(maxsize=8192)
def _mobile_segment(segment):
    """Whether 11-digit numbers starting with this 7-digit segment (号段: network code and HLR code) are mobile
    numbers. China allocates mobile numbers by such segments and libphonenumber's patterns look no further, so
    the answer is worked out once per segment (a 10,000-row import parses a few hundred numbers, not 10,000)."""
    try:
        parsed = phonenumbers.parse(segment + "0000", "CN")
    except phonenumbers.NumberParseException:   # e.g. 11000000000: read as too short once a prefix is taken off
        return False
    kinds = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    return phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) in kinds


# Format-only checks for the other document types: (pattern, message).
_OTHER_FORMATS = {
    "passport": (r"[A-Z0-9]{5,17}", "护照号码应为 5–17 位字母或数字"),
    "hk_macau_permit": (r"[HM][0-9]{8}(?:[0-9]{2})?", "港澳居民来往内地通行证号码应为 H 或 M 开头，后接 8 位或 10 位数字"),
    "taiwan_permit": (r"[0-9]{8}|[A-Z0-9]{10}", "台湾居民来往大陆通行证号码应为 8 位数字或 10 位字符"),
    "foreign_permanent": (r"[A-Z]{3}[0-9]{12}|9[0-9]{16}[0-9X]",
                          "外国人永久居留身份证号码应为 15 位（3 位字母加 12 位数字）或以 9 开头的 18 位"),
}


def _resolve_type(id_type):
    code = _CODES_BY_LABEL.get(id_type, id_type)
    if code not in _LABELS:
        _fail("请选择有效的证件类型", "id_type_unknown")
    return code


def validate_other_id(id_type: str, value: str) -> str:
    """Check the format of a non-resident document number; ``id_type`` is a code or a Chinese label.

    Returns the number upper-cased with surrounding whitespace removed. Codes: ``<type>_invalid``.
    """
    code = _resolve_type(id_type)
    if code == "resident_id":
        raise ValueError("use normalize_resident_id for 居民身份证")
    pattern, message = _OTHER_FORMATS[code]
    if not isinstance(value, str):
        _fail(message, f"{code}_invalid")
    number = value.strip()
    _refuse_fullwidth(number, "证件号码")
    number = number.upper()
    if not re.fullmatch(pattern, number):
        _fail(message, f"{code}_invalid")
    return number


def normalize_id(id_type: str, value: str, *, allow_legacy: bool = False) -> str:
    """Dispatch on the document type (code or Chinese label) to the matching validator."""
    if _resolve_type(id_type) == "resident_id":
        return normalize_resident_id(value, allow_legacy=allow_legacy)
    return validate_other_id(id_type, value)
