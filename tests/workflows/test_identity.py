from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.errors import InvalidInput
from workflows.identity import (
    ID_TYPES,
    PROVINCE_CODES,
    id_birth_date,
    id_gender,
    normalize_id,
    normalize_mobile,
    normalize_resident_id,
    normalize_uscc,
    validate_other_id,
)

WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]  # 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2


def check_char(body17):
    """The GB 11643-1999 check character, computed independently of the module under test."""
    return "10X98765432"[sum(int(d) * w for d, w in zip(body17, WEIGHTS, strict=True)) % 11]


def make_id(body17):
    return body17 + check_char(body17)


VALID = make_id("42010219800101001")  # 武汉市江岸区, 1980-01-01, sequence 001 (male)


def error_code(func, *args, **kw):
    with pytest.raises(InvalidInput) as info:
        func(*args, **kw)
    assert any("\u4e00" <= c <= "\u9fff" for c in info.value.message)
    return info.value.code


# --- resident ID ------------------------------------------------------------------------------------------------

def test_valid_resident_id():
    assert normalize_resident_id(VALID) == VALID
    assert normalize_resident_id(f"  {VALID}\n") == VALID


def test_lower_case_x_is_stored_upper_case():
    body = next(b for b in (f"11010519850601{i:03d}" for i in range(100)) if check_char(b) == "X")
    assert normalize_resident_id(body + "x") == body + "X"
    assert normalize_resident_id(body + "X") == body + "X"


def test_known_real_format_example():
    assert normalize_resident_id("11010519491231002X") == "11010519491231002X"


def test_wrong_check_character():
    wrong = VALID[:-1] + ("0" if VALID[-1] != "0" else "1")
    assert error_code(normalize_resident_id, wrong) == "id_checksum"


@pytest.mark.parametrize("value", [
    VALID.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    VALID[:-1] + chr(ord(VALID[-1]) + 0xFEE0),   # last character full-width
    "11010519491231002Ｘ",
])
def test_fullwidth_refused_not_converted(value):
    assert error_code(normalize_resident_id, value) == "id_fullwidth"


def test_fullwidth_message_says_half_width():
    with pytest.raises(InvalidInput) as info:
        normalize_resident_id("１" * 18)
    assert "半角" in info.value.message


@pytest.mark.parametrize("value", [
    "", "4201021980010100", "4201021980010100123", "42010219800101001A", "X2010219800101001X",
    "420102 19800101 0011", "42010219800101001Y", None, 420102198001010011,
])
def test_bad_format(value):
    assert error_code(normalize_resident_id, value) == "id_format"


@pytest.mark.parametrize("province", ["99", "00", "10", "16", "20", "24", "38", "47", "55", "60", "66", "72",
                                      "80", "84", "90"])
def test_bad_province(province):
    assert error_code(normalize_resident_id, make_id(province + "010219800101001")) == "id_province"


@pytest.mark.parametrize("province", sorted(PROVINCE_CODES))
def test_every_province_accepted_with_any_region(province):
    assert normalize_resident_id(make_id(f"{province}999919800101001"))


def test_province_list():
    assert {71, 81, 82, 83, 11, 65} <= PROVINCE_CODES and 99 not in PROVINCE_CODES and len(PROVINCE_CODES) == 35


@pytest.mark.parametrize("birth", ["19800230", "19810229", "19801301", "19800001", "19800100", "18991231",
                                   "29990101"])
def test_bad_birth_date(birth):
    assert error_code(normalize_resident_id, make_id(f"420102{birth}001")) == "id_birthdate"


def test_tomorrow_is_in_the_future_today_is_not():
    tomorrow = (date.today() + timedelta(days=1)).strftime("%Y%m%d")
    today = date.today().strftime("%Y%m%d")
    assert error_code(normalize_resident_id, make_id(f"420102{tomorrow}001")) == "id_birthdate"
    assert normalize_resident_id(make_id(f"420102{today}001"))


def test_leap_day_and_earliest_date():
    assert normalize_resident_id(make_id("42010220000229001"))
    assert normalize_resident_id(make_id("42010219000101001"))


def test_legacy_15_digit_refused_by_default():
    assert error_code(normalize_resident_id, "420102800101001") == "id_legacy"


def test_legacy_15_digit_converted_on_import():
    assert normalize_resident_id("420102800101001", allow_legacy=True) == VALID
    assert normalize_resident_id(" 420102800101001 ", allow_legacy=True) == VALID


def test_legacy_conversion_still_validates():
    assert error_code(normalize_resident_id, "990102800101001", allow_legacy=True) == "id_province"
    assert error_code(normalize_resident_id, "420102800230001", allow_legacy=True) == "id_birthdate"


def test_birth_date_and_gender():
    assert id_birth_date(VALID) == date(1980, 1, 1)
    assert id_gender(VALID) == "男"
    assert id_gender(make_id("42010219800101002")) == "女"
    assert id_birth_date("420102800101001") == date(1980, 1, 1)
    wrong = VALID[:-1] + ("X" if VALID[-1] != "X" else "0")
    assert error_code(id_gender, wrong) == "id_checksum"
    assert error_code(id_birth_date, wrong) == "id_checksum"


_dates = st.dates(min_value=date(1900, 1, 1), max_value=date.today())


@settings(max_examples=100, deadline=None)
@given(province=st.sampled_from(sorted(PROVINCE_CODES)), region=st.integers(0, 9999), born=_dates,
       sequence=st.integers(0, 999), other=st.sampled_from("0123456789X"))
def test_property_check_character(province, region, born, sequence, other):
    body = f"{province}{region:04d}{born:%Y%m%d}{sequence:03d}"
    good = check_char(body)
    assert normalize_resident_id(body + good) == body + good
    if other != good:
        assert error_code(normalize_resident_id, body + other) == "id_checksum"


# --- unified social credit code ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("91350100M000100Y43", "91350100M000100Y43"),
    ("91310110666007217T", "91310110666007217T"),
    ("91310110666007217t", "91310110666007217T"),
    (" 91350100m000100y43 ", "91350100M000100Y43"),
])
def test_uscc_valid(value, expected):
    assert normalize_uscc(value) == expected


@pytest.mark.parametrize("value, fragment", [
    ("91350100M000100Y44", "校验"),
    ("91350100M000100Y4", "18"),
    ("91350100M000100Y433", "18"),
    ("9135010OM000100Y43", "格式"),
    ("91350100I000100Y43", "格式"),
    ("９1350100M000100Y43", "半角"),
    ("", "18"),
])
def test_uscc_invalid(value, fragment):
    with pytest.raises(InvalidInput) as info:
        normalize_uscc(value)
    assert info.value.code == "uscc_invalid" and fragment in info.value.message


# --- mobile numbers ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "+86 138-0013-8000", "13800138000", "0086 13800138000", "+8613800138000", " 138 0013 8000 ",
])
def test_mobile_valid(value):
    assert normalize_mobile(value) == "13800138000"


@pytest.mark.parametrize("value", [
    "12345678901", "1380013800", "138001380001", "23800138000", "010-12345678", "+1 13800138000",
    "１３８００１３８０００", "1380013800a", "", None,
])
def test_mobile_invalid(value):
    assert error_code(normalize_mobile, value) == "mobile_invalid"


# --- other documents --------------------------------------------------------------------------------------------

def test_id_types():
    assert ID_TYPES == (
        ("resident_id", "居民身份证"),
        ("passport", "护照"),
        ("hk_macau_permit", "港澳居民来往内地通行证"),
        ("taiwan_permit", "台湾居民来往大陆通行证"),
        ("foreign_permanent", "外国人永久居留身份证"),
    )


@pytest.mark.parametrize("id_type, value, expected", [
    ("passport", "E12345678", "E12345678"),
    ("passport", " g1234567 ", "G1234567"),
    ("passport", "AB123", "AB123"),
    ("护照", "12345678901234567", "12345678901234567"),
    ("hk_macau_permit", "H12345678", "H12345678"),
    ("hk_macau_permit", "m1234567890", "M1234567890"),
    ("港澳居民来往内地通行证", "M12345678", "M12345678"),
    ("taiwan_permit", "12345678", "12345678"),
    ("taiwan_permit", "1234567890", "1234567890"),
    ("台湾居民来往大陆通行证", "12345678A1", "12345678A1"),
    ("foreign_permanent", "usa123456789012", "USA123456789012"),
    ("foreign_permanent", "911840199001010011", "911840199001010011"),
    ("foreign_permanent", "91184019900101001x", "91184019900101001X"),
])
def test_other_id_valid(id_type, value, expected):
    assert validate_other_id(id_type, value) == expected
    assert normalize_id(id_type, value) == expected


@pytest.mark.parametrize("id_type, value, code", [
    ("passport", "E123", "passport_invalid"),
    ("passport", "E1234567890123456X", "passport_invalid"),
    ("passport", "E1234-5678", "passport_invalid"),
    ("hk_macau_permit", "A12345678", "hk_macau_permit_invalid"),
    ("hk_macau_permit", "H1234567", "hk_macau_permit_invalid"),
    ("hk_macau_permit", "H123456789", "hk_macau_permit_invalid"),
    ("taiwan_permit", "1234567", "taiwan_permit_invalid"),
    ("taiwan_permit", "123456789", "taiwan_permit_invalid"),
    ("foreign_permanent", "US1234567890123", "foreign_permanent_invalid"),
    ("foreign_permanent", "811840199001010011", "foreign_permanent_invalid"),
    ("foreign_permanent", "9118401990010100", "foreign_permanent_invalid"),
    ("passport", "Ｅ12345678", "id_fullwidth"),
    ("driving_licence", "12345678", "id_type_unknown"),
])
def test_other_id_invalid(id_type, value, code):
    assert error_code(validate_other_id, id_type, value) == code


def test_normalize_id_dispatches_resident_id():
    assert normalize_id("resident_id", VALID.lower()) == VALID
    assert normalize_id("居民身份证", VALID) == VALID
    assert error_code(normalize_id, "resident_id", "420102800101001") == "id_legacy"
    assert normalize_id("resident_id", "420102800101001", allow_legacy=True) == VALID
    with pytest.raises(ValueError):
        validate_other_id("resident_id", VALID)


def test_error_codes_are_distinct():
    seen = {
        error_code(normalize_resident_id, "１" * 18),
        error_code(normalize_resident_id, "abc"),
        error_code(normalize_resident_id, make_id("99010219800101001")),
        error_code(normalize_resident_id, make_id("42010219800230001")),
        error_code(normalize_resident_id, VALID[:-1] + ("1" if VALID[-1] == "0" else "0")),
        error_code(normalize_resident_id, "420102800101001"),
        error_code(normalize_uscc, "x"),
        error_code(normalize_mobile, "x"),
    }
    assert seen == {"id_fullwidth", "id_format", "id_province", "id_birthdate", "id_checksum", "id_legacy",
                    "uscc_invalid", "mobile_invalid"}
