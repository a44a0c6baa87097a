import pytest

from workflows.errors import InvalidInput
from workflows.naming import TYPE_PREFIXES, name_pinyin, region_initials, suggest_username


def nothing_taken(_name):
    return False


def test_type_prefixes():
    assert TYPE_PREFIXES == {"business_admin": "gly", "same_level_1": "bj", "same_level_2": "bj",
                             "direct_report": "zb"}


@pytest.mark.parametrize("user_type, region, person, expected", [
    ("business_admin", "南京市", "张三", "gly-nj-zhangsan"),
    ("same_level_1", "玄武区", "王五", "bj-xw-wangwu"),
    ("same_level_2", "玄武区", "王五", "bj-xw-wangwu"),
    ("direct_report", "玄武区", "李四", "zb-xw-lisi"),
    ("business_admin", "江苏省", "单田芳", "gly-js-shantianfang"),
])
def test_documented_examples(user_type, region, person, expected):
    assert suggest_username(user_type, region, person, nothing_taken) == expected


def test_collision_suffixes_in_order():
    taken = {"zb-xw-lisi", "zb-xw-lisi1", "zb-xw-lisi2"}
    asked = []

    def is_taken(name):
        asked.append(name)
        return name in taken

    assert suggest_username("direct_report", "玄武区", "李四", is_taken) == "zb-xw-lisi3"
    assert asked == ["zb-xw-lisi", "zb-xw-lisi1", "zb-xw-lisi2", "zb-xw-lisi3"]


def test_first_collision_gets_1():
    assert suggest_username("direct_report", "玄武区", "李四", {"zb-xw-lisi"}.__contains__) == "zb-xw-lisi1"


def test_unknown_user_type():
    with pytest.raises(InvalidInput) as info:
        suggest_username("superuser", "南京市", "张三", nothing_taken)
    assert info.value.code == "user_type_unknown"


@pytest.mark.parametrize("region, initials", [
    ("南京市", "nj"), ("玄武区", "xw"), ("江岸区", "ja"), ("湖北省", "hb"), ("武汉市", "wh"), ("江苏省", "js"),
    ("沛县", "px"),                              # one character left after stripping: keep the suffix
    ("和县", "hx"),
    ("睢宁县", "sn"),
    ("广西壮族自治区", "gx"), ("宁夏回族自治区", "nx"), ("新疆维吾尔自治区", "xj"), ("西藏自治区", "xz"),
    ("恩施土家族苗族自治州", "es"),
    ("大厂回族自治县", "dc"),
    ("香港特别行政区", "xg"),
    ("锡林郭勒盟", "xlgl"),
    ("阿里地区", "al"),
    ("神农架林区", "snj"),
    ("重庆市", "cq"), ("厦门市", "xm"),
    (" 南京市 ", "nj"),
    ("南京", "nj"),                              # no suffix
])
def test_region_initials(region, initials):
    assert region_initials(region) == initials


@pytest.mark.parametrize("region", ["", "123", "·", "\U000f0000"])
def test_region_not_romanizable(region):
    with pytest.raises(InvalidInput) as info:
        region_initials(region)
    assert info.value.code == "region_not_romanizable"


@pytest.mark.parametrize("name, pinyin", [
    ("张三", "zhangsan"), ("李四", "lisi"), ("王五", "wangwu"),
    ("单田芳", "shantianfang"), ("吕布", "lvbu"), ("曾国藩", "zengguofan"),
    ("解缙", "xiejin"), ("仇英", "qiuying"), ("朴树", "piaoshu"), ("区志", "ouzhi"), ("查良镛", "zhaliangyong"),
    ("盖聂", "genie"), ("缪斯", "miaosi"), ("覃明", "qinming"),
    ("女娲", "nvwa"), ("张女", "zhangnv"),                 # ü is written v anywhere in the name
    ("阿卜杜·热合曼", "abodureheman"),                    # the middle dot is dropped
    ("张 三", "zhangsan"), ("张三2", "zhangsan"),
    ("Tom", "tom"),
])
def test_name_pinyin(name, pinyin):
    assert name_pinyin(name) == pinyin


def test_override_only_applies_to_the_surname():
    assert name_pinyin("张单") == "zhangdan"


@pytest.mark.parametrize("name", ["", "·", "123", "\u00e9\u00e8", "\U000f0000"])
def test_name_not_romanizable(name):
    with pytest.raises(InvalidInput) as info:
        name_pinyin(name)
    assert info.value.code == "name_not_romanizable"


def test_suggest_username_propagates_name_error():
    with pytest.raises(InvalidInput) as info:
        suggest_username("direct_report", "玄武区", "·", nothing_taken)
    assert info.value.code == "name_not_romanizable"
