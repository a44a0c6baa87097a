import dataclasses
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.passwords import (
    PasswordPolicy,
    Violation,
    check_password,
    describe_rules,
    generate_temporary_password,
    longest_run,
    violation,
)

DEFAULT = PasswordPolicy()


def codes(password, policy=DEFAULT, **kw):
    return [v.code for v in check_password(policy, password, **kw)]


# --- the decision table of NOTES-SECURITY -------------------------------------------------------------------

@pytest.mark.parametrize("password, expected", [
    ("Aa1!bcdx", []),                        # bcd is a run of 3
    ("Aa1!bcde", ["sequential_run"]),
    ("Xy7!wvut", ["sequential_run"]),        # descending
    ("ABCD1!xq", ["sequential_run"]),        # upper case
    ("aB3$efGh", ["sequential_run"]),        # mixed case
    ("Qz@7890k", []),                        # no wrap-around 9 → 0
    ("Aa1%bcdx", ["forbidden_character"]),
    ("Ａa1!xyzQ", ["non_ascii"]),             # full-width Ａ
])
def test_decision_table(password, expected):
    assert codes(password) == expected


def test_fullwidth_exclamation_is_non_ascii_and_not_special():
    assert codes("Aa1！xyzQ") == ["missing_special", "non_ascii"]


@pytest.mark.parametrize("password", ["Aa1！xyzQ", "Ａa1!xyzQ", "Aa1!xyzQ￥"])
def test_fullwidth_message_hints_half_width(password):
    [message] = [v.message for v in check_password(DEFAULT, password) if v.code == "non_ascii"]
    assert "半角" in message and "全角" in message


def test_fullwidth_upper_does_not_count_as_upper():
    assert codes("ａｂ1!xyzq") == ["missing_upper", "non_ascii"]
    assert codes("Ａb1!xyzq") == ["missing_upper", "non_ascii"]


@pytest.mark.parametrize("length, expected", [
    (7, ["too_short"]), (8, []), (64, []), (65, ["too_long"]),
])
def test_length_bounds(length, expected):
    password = ("Aa1!" + "xq" * 40)[:length]
    assert len(password) == length
    assert codes(password) == expected


@pytest.mark.parametrize("password, code", [
    ("aa1!xqzq", "missing_upper"),
    ("AA1!XQZQ", "missing_lower"),
    ("Aa!!xqzq", "missing_digit"),
    ("Aa11xqzq", "missing_special"),
    ("Aa1 xqzq", "missing_special"),        # a space is not a special character
    ("Aa1!xqzqé", "non_ascii"),
    ("Aa1!xq密码", "non_ascii"),
    ("Aa1!1234", "sequential_run"),
    ("Aa1!9876", "sequential_run"),
    ("Aa1!DCBA", "sequential_run"),
])
def test_single_rule(password, code):
    assert codes(password) == [code]


@pytest.mark.parametrize("text, run", [
    ("", 0), ("!", 0), ("a", 1), ("ab", 2), ("abc", 3), ("aBcD", 4), ("zyx", 3), ("za", 1), ("90", 1),
    ("a1b2", 1), ("ab!cd", 2), ("9a", 1), ("aa", 1), ("1234567890", 9), ("xyzabc", 3),
])
def test_longest_run(text, run):
    assert longest_run(text) == run


def test_all_violations_at_once_in_stable_order():
    assert codes("abcd%") == ["too_short", "missing_upper", "missing_digit", "forbidden_character",
                              "sequential_run"]
    assert codes("abcd ", username="cd") == ["too_short", "missing_upper", "missing_digit", "missing_special",
                                             "sequential_run", "contains_username"]
    assert codes("ａ") == ["too_short", "missing_upper", "missing_lower", "missing_digit", "missing_special",
                          "non_ascii"]


def test_four_rules_broken_gives_four_codes():
    assert codes("aaaa", username=None) == ["too_short", "missing_upper", "missing_digit", "missing_special"]


def test_password_is_never_normalised():
    assert codes(" Aa1!xqzq ") == []          # surrounding spaces are part of the password
    assert codes("Aa1!xqzq\u3000") == ["non_ascii"]  # ideographic space is not stripped


@pytest.mark.parametrize("username, password, refused", [
    ("zhangsan", "Zhangsan@9", True),
    ("zhangsan", "x1!ZHANGSANq", True),
    ("gly-nj-zhangsan", "Gly-nj-zhangsan1", True),
    ("zhangsan", "Zhang@san9", False),
    ("", "Aa1!xqzq", False),
    (None, "Aa1!xqzq", False),
])
def test_contains_username(username, password, refused):
    assert ("contains_username" in codes(password, username=username)) is refused


def test_username_rule_can_be_disabled():
    assert codes("Zhangsan@9", dataclasses.replace(DEFAULT, forbid_username=False), username="zhangsan") == []


def test_default_password_exact_equality():
    assert codes("Zjrj@-2007") == ["is_default_password"]
    assert codes("Zjrj@-20071") == []
    assert codes("zjrj@-2007") == ["missing_upper"]
    assert codes("Zjrj@-2007", dataclasses.replace(DEFAULT, default_password="")) == []


# --- configurability --------------------------------------------------------------------------------------------

def test_min_length_10():
    policy = PasswordPolicy(min_length=10)
    assert codes("Aa1!xqzqwp", policy) == []
    [v] = check_password(policy, "Aa1!xqzqw")
    assert v.code == "too_short" and "10" in v.message


def test_forbidden_hash_instead_of_percent():
    policy = PasswordPolicy(forbidden_characters="#")
    assert codes("Aa1%xqzq", policy) == []
    assert codes("Aa1#xqzq", policy) == ["forbidden_character"]
    assert "#" in check_password(policy, "Aa1#xqzq")[0].message


def test_max_run_zero_disables():
    assert codes("Abcdefg1!", PasswordPolicy(max_run=0)) == []


def test_max_run_three():
    policy = PasswordPolicy(max_run=3)
    assert codes("Aa1!bcdx", policy) == ["sequential_run"]
    assert "3个" in check_password(policy, "Aa1!bcdx")[0].message


def test_require_special_false():
    policy = PasswordPolicy(require_special=False)
    assert codes("Aa1xqzqw", policy) == []


def test_ascii_only_false_accepts_fullwidth_but_it_counts_for_nothing():
    policy = PasswordPolicy(ascii_only=False)
    assert codes("Aa1!xqzq密", policy) == []
    assert codes("Aa1！xqzq", policy) == ["missing_special"]


@pytest.mark.parametrize("kwargs", [
    {"min_length": 0}, {"min_length": 10, "max_length": 9}, {"max_run": 1}, {"history_depth": -1},
])
def test_invalid_policy(kwargs):
    with pytest.raises(ValueError):
        PasswordPolicy(**kwargs)


def test_from_mapping_defaults():
    assert PasswordPolicy.from_mapping({}) == DEFAULT


def test_from_mapping_env_strings():
    policy = PasswordPolicy.from_mapping({
        "PASSWORD_MIN_LENGTH": "10", "PASSWORD_MAX_LENGTH": " 32 ", "PASSWORD_REQUIRE_UPPER": "false",
        "PASSWORD_REQUIRE_LOWER": "0", "PASSWORD_REQUIRE_DIGIT": "yes", "PASSWORD_REQUIRE_SPECIAL": "False",
        "PASSWORD_ASCII_ONLY": "1", "PASSWORD_FORBIDDEN_CHARACTERS": "#%", "PASSWORD_MAX_RUN": "0",
        "PASSWORD_FORBID_USERNAME": "off", "DEFAULT_INITIAL_PASSWORD": "Init#2024", "PASSWORD_HISTORY_DEPTH": "3",
        "PASSWORD_MAX_AGE_DAYS": "0", "PASSWORD_WARN_DAYS": "5", "TEMPORARY_PASSWORD_HOURS": "24",
        "UNRELATED": "x",
    })
    assert policy == PasswordPolicy(
        min_length=10, max_length=32, require_upper=False, require_lower=False, require_digit=True,
        require_special=False, ascii_only=True, forbidden_characters="#%", max_run=0, forbid_username=False,
        default_password="Init#2024", history_depth=3, max_age_days=0, warn_days=5, temporary_password_hours=24,
    )


def test_from_mapping_native_types_and_none():
    policy = PasswordPolicy.from_mapping({"PASSWORD_MIN_LENGTH": 12, "PASSWORD_REQUIRE_SPECIAL": False,
                                          "PASSWORD_MAX_RUN": None})
    assert (policy.min_length, policy.require_special, policy.max_run) == (12, False, 4)


@pytest.mark.parametrize("cfg", [{"PASSWORD_MIN_LENGTH": "eight"}, {"PASSWORD_REQUIRE_UPPER": "maybe"}])
def test_from_mapping_rejects_garbage(cfg):
    with pytest.raises(ValueError):
        PasswordPolicy.from_mapping(cfg)


# --- messages and rules -----------------------------------------------------------------------------------------

def test_messages_name_the_limits():
    by_code = {v.code: v.message for v in check_password(DEFAULT, "a" * 65 + "%")}
    assert by_code["too_long"] == "密码长度不得超过64位"
    assert check_password(DEFAULT, "Aa1!")[0].message == "密码长度不得少于8位"
    assert "%" in by_code["forbidden_character"]


def test_violation_table_includes_reused():
    assert violation("reused", DEFAULT) == Violation("reused", "新密码不得与当前密码或最近5次使用过的密码相同")
    assert "3次" in violation("reused", PasswordPolicy(history_depth=3)).message
    with pytest.raises(ValueError):
        violation("no_such_rule", DEFAULT)


def test_every_code_has_a_chinese_message():
    for code in ["too_short", "too_long", "missing_upper", "missing_lower", "missing_digit", "missing_special",
                 "non_ascii", "forbidden_character", "sequential_run", "contains_username",
                 "is_default_password", "reused"]:
        message = violation(code, DEFAULT).message
        assert any("\u4e00" <= c <= "\u9fff" for c in message)


def test_describe_rules_default():
    rules = describe_rules(DEFAULT)
    assert rules[0] == "长度为8–64位"
    text = "\n".join(rules)
    for fragment in ["大写字母", "小写字母", "数字", "特殊字符", "半角", "%", "4个", "用户名", "默认初始密码",
                     "最近5次", "30天"]:
        assert fragment in text
    assert "Zjrj@-2007" not in text


def test_describe_rules_omits_disabled_rules():
    policy = PasswordPolicy(require_upper=False, require_lower=False, require_digit=False,
                            require_special=False, ascii_only=False, forbidden_characters="", max_run=0,
                            forbid_username=False, default_password="", max_age_days=0)
    text = "\n".join(describe_rules(policy))
    for fragment in ["大写", "特殊字符", "半角", "不得包含字符", "连续", "用户名", "默认", "有效期"]:
        assert fragment not in text


# --- temporary passwords ----------------------------------------------------------------------------------------

def test_generated_password_default_policy():
    for _ in range(50):
        password = generate_temporary_password(DEFAULT)
        assert len(password) == 16 and password.isascii()
        assert check_password(DEFAULT, password) == []


def test_generated_passwords_differ():
    assert len({generate_temporary_password(DEFAULT) for _ in range(20)}) == 20


def test_generated_length_is_clamped():
    assert len(generate_temporary_password(PasswordPolicy(min_length=20))) == 20
    assert len(generate_temporary_password(PasswordPolicy(max_length=10))) == 10


def test_generator_refuses_impossible_policy():
    with pytest.raises(ValueError):
        generate_temporary_password(PasswordPolicy(forbidden_characters=string.punctuation))


@settings(max_examples=50, deadline=None)
@given(
    min_length=st.integers(4, 20),
    extra=st.integers(0, 50),
    length=st.integers(1, 80),
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()),
    forbidden=st.text(alphabet=string.punctuation + string.ascii_letters + "0123456", max_size=12),
    max_run=st.sampled_from([0, 2, 3, 4, 5]),
)
def test_generated_password_satisfies_any_policy(min_length, extra, length, flags, forbidden, max_run):
    upper, lower, digit, special = flags
    policy = PasswordPolicy(min_length=min_length, max_length=min_length + extra, require_upper=upper,
                            require_lower=lower, require_digit=digit, require_special=special,
                            forbidden_characters=forbidden, max_run=max_run)
    password = generate_temporary_password(policy, length)
    assert password.isascii()
    assert not any(c in forbidden for c in password)
    assert check_password(policy, password) == []
