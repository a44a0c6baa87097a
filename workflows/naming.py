"""Jiangsu account naming rule: 用户类型首字母缩写-所在区划名称首字母缩写-用户姓名全拼.

Examples: 南京市 business admin 张三 → ``gly-nj-zhangsan``; 玄武区 direct-report user 李四 → ``zb-xw-lisi``
(``zb-xw-lisi1``, ``zb-xw-lisi2`` … when taken).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pypinyin import Style, lazy_pinyin

from workflows.errors import InvalidInput

TYPE_PREFIXES = {"business_admin": "gly", "same_level_1": "bj", "same_level_2": "bj", "direct_report": "zb"}

# Longest first, so that 自治县 wins over 县 and 特别行政区 over 区.
_REGION_SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "自治旗", "新区", "林区", "地区",
                    "省", "市", "盟", "区", "县", "旗")
# Minority names (without 族) as they appear in autonomous prefecture / county / banner names.
_ETHNIC = ("蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 拉祜 水 "
           "东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 "
           "俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺 各").split()
_ETHNIC_TAIL = re.compile("(?:(?:" + "|".join(sorted(_ETHNIC, key=len, reverse=True)) + ")族)+$")

# Readings of characters used as surnames that differ from their common reading.
SURNAME_OVERRIDES = {
    "单": "shan", "曾": "zeng", "解": "xie", "仇": "qiu", "朴": "piao", "区": "ou",
    "查": "zha", "盖": "ge", "缪": "miao", "吕": "lv", "覃": "qin",
}

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_NOT_NAME_CHAR = re.compile(f"[^{_CJK}A-Za-z]")
_ROMAN = re.compile("[a-z]+")


def _core_region_name(region_name: str) -> str:
    """The region name without its administrative suffix (and without the ethnic part of autonomous areas)."""
    name = region_name.strip()
    for suffix in _REGION_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            core = name[: -len(suffix)]
            if suffix == "自治区":
                core = core[:2]  # 广西壮族自治区 → 广西, 新疆维吾尔自治区 → 新疆
            elif suffix.startswith("自治"):
                core = _ETHNIC_TAIL.sub("", core) or core  # 恩施土家族苗族自治州 → 恩施
            if len(core) < 2:
                core += suffix[0]  # 沛县 → 沛县, not 沛
            return core
    return name


def region_initials(region_name: str) -> str:
    """Lower-case pinyin initials of the region name without its suffix (南京市 → ``nj``, 玄武区 → ``xw``)."""
    core = _NOT_NAME_CHAR.sub("", _core_region_name(region_name or ""))
    initials = "".join(syllable[:1] for syllable in lazy_pinyin(core, style=Style.NORMAL)).lower()
    if not _ROMAN.fullmatch(initials):
        raise InvalidInput(f"无法根据区划名称“{region_name}”生成拼音缩写", code="region_not_romanizable")
    return initials


def name_pinyin(name: str) -> str:
    """Lower-case full pinyin of a person's name without tones or separators (张三 → ``zhangsan``).

    The first character uses the surname reading (单田芳 → ``shantianfang``); ü is written ``v`` (吕 → ``lv``);
    characters other than Chinese characters and ASCII letters (such as the middle dot) are dropped.
    Raises ``InvalidInput(code="name_not_romanizable")`` if nothing usable remains.
    """
    clean = _NOT_NAME_CHAR.sub("", name or "")
    if clean and clean[0] in SURNAME_OVERRIDES:
        syllables = [SURNAME_OVERRIDES[clean[0]], *lazy_pinyin(clean[1:], style=Style.NORMAL)]
    else:
        syllables = lazy_pinyin(clean, style=Style.NORMAL)
    result = "".join(syllables).lower().replace("ü", "v")
    if not _ROMAN.fullmatch(result):
        raise InvalidInput(f"无法将姓名“{name}”转换为拼音，请联系管理员手动指定用户名", code="name_not_romanizable")
    return result


def suggest_username(user_type: str, region_name: str, person_name: str,
                     is_taken: Callable[[str], bool]) -> str:
    """The first free name among ``base``, ``base1``, ``base2`` … where ``base`` follows the naming rule."""
    if user_type not in TYPE_PREFIXES:
        raise InvalidInput("未知的用户类型", code="user_type_unknown")
    base = f"{TYPE_PREFIXES[user_type]}-{region_initials(region_name)}-{name_pinyin(person_name)}"
    candidate, n = base, 0
    while is_taken(candidate):
        n += 1
        candidate = f"{base}{n}"
    return candidate
