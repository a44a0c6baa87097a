"""Property-based tests (hypothesis): the password policy, the identity validators, the JSON-schema forms and
the personnel row validator hold their promises for any input, not just the examples elsewhere."""
import string
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st
from stdnum.cn import ric, uscc

from workflows import forms, identity, passwords, personnel
from workflows.errors import FormInvalid, InvalidInput
from workflows.excel import FORMULA_TRIGGERS, safe_cell

POLICY = passwords.PasswordPolicy()
PRINTABLE = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)
ASCII = st.text(st.sampled_from(string.printable), max_size=80)


# --- password policy ---------------------------------------------------------------------------------------

@given(ASCII | PRINTABLE)
def test_every_password_gets_an_answer_and_codes_are_known(password):
    found = passwords.check_password(POLICY, password, username="jaadmin01")
    assert all(v.code in passwords._MESSAGES and v.message for v in found)
    assert len({v.code for v in found}) == len(found)


@given(PRINTABLE)
def test_non_ascii_is_always_refused_never_normalised(password):
    assume(not password.isascii())
    assert "non_ascii" in {v.code for v in passwords.check_password(POLICY, password)}


@given(st.text(st.sampled_from(string.ascii_letters + string.digits), min_size=1, max_size=40))
def test_the_longest_run_is_a_real_run(text):
    run = passwords.longest_run(text)
    assert 1 <= run <= len(text)
    # a run of length k exists: some window of k characters steps by exactly one each time
    def steps(window):
        keys = [ord(c.lower()) for c in window]
        same_class = all(c.isdigit() for c in window) or all(c.isalpha() for c in window)
        diffs = {b - a for a, b in zip(keys, keys[1:])}
        return same_class and (diffs in ({1}, {-1}) or len(window) == 1)
    assert any(steps(text[i:i + run]) for i in range(len(text) - run + 1))
    assert not any(steps(text[i:i + run + 1]) for i in range(len(text) - run))


@settings(max_examples=200)
@given(st.integers(min_value=8, max_value=64))
def test_generated_temporary_passwords_always_pass(length):
    password = passwords.generate_temporary_password(POLICY, length)
    assert len(password) == length and passwords.check_password(POLICY, password) == []


# --- identity validators -----------------------------------------------------------------------------------

BIRTHS = st.dates(min_value=date(1900, 1, 1), max_value=date.today())


@st.composite
def resident_ids(draw):
    province = draw(st.sampled_from(sorted(identity.PROVINCE_CODES)))
    body = f"{province:02d}{draw(st.integers(0, 9999)):04d}{draw(BIRTHS):%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return body + ric.calc_check_digit(body + "0")


@given(resident_ids())
def test_valid_resident_ids_are_accepted_and_stable(number):
    normalized = identity.normalize_resident_id(number)
    assert normalized == number.upper() and identity.normalize_resident_id(normalized) == normalized
    assert identity.id_gender(normalized) in ("男", "女")


@given(resident_ids(), st.integers(0, 16), st.sampled_from(string.digits))
def test_one_changed_digit_is_caught(number, position, digit):
    assume(number[position] != digit)
    changed = number[:position] + digit + number[position + 1:]
    with pytest.raises(InvalidInput):
        identity.normalize_resident_id(changed)


@given(PRINTABLE)
def test_any_text_as_an_id_is_accepted_or_refused_with_a_message(text):
    for id_type, _ in identity.ID_TYPES:
        try:
            identity.normalize_id(id_type, text)
        except InvalidInput as exc:
            assert exc.message and exc.code


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"   # GB 32100: no I, O, S, V, Z


@given(st.text(st.sampled_from(USCC_ALPHABET), min_size=17, max_size=17))
def test_credit_codes_with_their_check_character_pass(body):
    try:
        code = body + uscc.calc_check_digit(body)
    except Exception:   # noqa: BLE001 - bodies stdnum cannot complete are not codes
        return
    try:
        assert identity.normalize_uscc(code) == code
    except InvalidInput as exc:   # a registration authority or organization code that is not issued
        assert exc.code == "uscc_invalid"


@given(st.text(st.sampled_from(string.digits + " -+"), max_size=20))
def test_mobile_numbers_normalise_to_eleven_digits_or_are_refused(text):
    try:
        number = identity.normalize_mobile(text)
    except InvalidInput as exc:
        assert exc.code == "mobile_invalid"
    else:
        assert len(number) == 11 and number.isdigit() and number.startswith("1")


# --- forms --------------------------------------------------------------------------------------------------

FORM_FILES = ["generic_request_submit.schema.json", "generic_request_review.schema.json",
              "real_name_review.schema.json", "resignation_submit.schema.json",
              "institution_change_submit.schema.json"]
JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | PRINTABLE,
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(PRINTABLE, inner, max_size=3),
                       max_leaves=8)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FORM_FILES), st.dictionaries(st.sampled_from(
    ["title", "description", "decision", "comment", "corrected_real_name", "corrected_id_number", "staff_no",
     "resignation_type", "left_on", "name", "uscc", "reason", "contact_mobile", "attachment"]) | PRINTABLE,
    JSONISH, max_size=8))
def test_forms_accept_or_refuse_any_data_with_field_messages(filename, data):
    form = forms.load_form(filename)
    try:
        cleaned = forms.validate(form, data, file_exists=lambda _id: False)
    except FormInvalid as exc:
        assert exc.fields and all(isinstance(m, str) and m for m in exc.fields.values())
    else:
        assert set(cleaned) <= set(form.schema["properties"])


# --- Excel cells and the personnel row validator ------------------------------------------------------------

@given(PRINTABLE)
def test_a_safe_cell_never_starts_a_formula_and_keeps_the_text(text):
    cell = safe_cell(text)
    assert not (isinstance(cell, str) and cell.startswith(FORMULA_TRIGGERS))
    assert cell in (text, "'" + text)


CELL = st.none() | PRINTABLE | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | \
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], max_examples=150)
@given(row=st.fixed_dictionaries({}, optional={f.key: CELL for f in personnel.BASIC.fields}))
def test_the_basic_row_validator_types_every_field_or_names_its_problem(hospital_org, row):
    values, errors = personnel.clean(personnel.BASIC, hospital_org, row)
    for key, messages in errors.items():
        assert key in {f.key for f in personnel.BASIC.fields} and messages and all(messages)
    if not errors:
        assert values["birth_date"] <= date.today() and values["mobile"].isdigit()
        assert values["department"].org_id == hospital_org.id and values["post"].org_id == hospital_org.id


@settings(max_examples=300)
@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)), st.booleans())
def test_dates_round_trip_in_both_written_forms(day, month_only):
    text = f"{day:%Y-%m}" if month_only else f"{day:%Y-%m-%d}"
    assert personnel.parse_date(text) == (day.replace(day=1) if month_only else day)


@pytest.fixture
def hospital_org(users):
    return users("jahosp001").org


