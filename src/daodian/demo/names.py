"""Invented names for the demo: brands from auspicious characters (with pinyin), people, phone numbers.

Brands are two random characters, so none is a real company on purpose; the few pairs that spell a
well-known brand are blocked.
"""

import numpy as np

# (character, pinyin) — the sort of characters Chinese shop names are made of.
BRAND_CHARS: tuple[tuple[str, str], ...] = (
    ("鑫", "xin"), ("瑞", "rui"), ("佳", "jia"), ("福", "fu"), ("禾", "he"), ("悦", "yue"), ("嘉", "jia"),
    ("诚", "cheng"), ("锦", "jin"), ("博", "bo"), ("安", "an"), ("顺", "shun"), ("汇", "hui"), ("优", "you"),
    ("美", "mei"), ("康", "kang"), ("盛", "sheng"), ("华", "hua"), ("欣", "xin"), ("泰", "tai"), ("恒", "heng"),
    ("润", "run"), ("德", "de"), ("明", "ming"), ("宏", "hong"), ("骏", "jun"), ("凯", "kai"), ("豪", "hao"),
    ("晨", "chen"), ("星", "xing"), ("云", "yun"), ("青", "qing"), ("蓝", "lan"), ("橙", "cheng"), ("知", "zhi"),
    ("味", "wei"), ("香", "xiang"), ("甜", "tian"), ("乐", "le"), ("途", "tu"), ("驰", "chi"), ("速", "su"),
    ("捷", "jie"), ("宜", "yi"), ("尚", "shang"), ("雅", "ya"), ("丽", "li"), ("清", "qing"), ("源", "yuan"),
    ("满", "man"), ("喜", "xi"), ("合", "he"), ("兴", "xing"), ("旺", "wang"), ("隆", "long"), ("木", "mu"),
    ("小", "xiao"), ("老", "lao"), ("新", "xin"), ("湖", "hu"), ("塘", "tang"), ("江", "jiang"), ("南", "nan"),
    ("桥", "qiao"), ("荷", "he"), ("柳", "liu"), ("桂", "gui"), ("梅", "mei"), ("竹", "zhu"), ("朴", "pu"),
)
BLOCKED = frozenset({"汇源", "华润", "恒大", "新华", "喜茶", "美宜", "老乡", "康华", "途安"})

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严戴莫孔汤")
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉萍红鹏浩宇欣怡佳涵轩梓睿晨博思雨诺可嘉文俊婷雪琳晓悦航彤颖"

# Mainland mobile prefixes that real carriers hand out.
MOBILE_PREFIXES = np.array([130, 131, 132, 133, 135, 136, 137, 139, 150, 151, 152, 153, 155, 156, 157, 158, 159,
                            166, 173, 176, 177, 178, 180, 181, 182, 183, 185, 186, 187, 188, 189, 191, 198, 199])


def _brand_table() -> tuple[np.ndarray, np.ndarray]:
    """Every two-character pair (as object arrays indexed by a * k + b), blocked pairs swapped out."""
    k = len(BRAND_CHARS)
    zh, en = [], []
    for a in range(k):
        for b in range(k):
            while a == b or BRAND_CHARS[a][0] + BRAND_CHARS[b][0] in BLOCKED:
                b = (b + 1) % k
            zh.append(BRAND_CHARS[a][0] + BRAND_CHARS[b][0])
            en.append((BRAND_CHARS[a][1] + BRAND_CHARS[b][1]).capitalize())
    return np.array(zh, dtype=object), np.array(en, dtype=object)


_BRAND_ZH, _BRAND_EN = _brand_table()


def brands(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n brand names, Chinese and pinyin, as object arrays; repeats are fine in a city this size."""
    pick = rng.integers(0, _BRAND_ZH.size, n)
    return _BRAND_ZH[pick], _BRAND_EN[pick]


def people(rng: np.random.Generator, n: int) -> list[str]:
    """Two- and three-character personal names."""
    s = rng.integers(0, len(SURNAMES), n)
    g1 = rng.integers(0, len(GIVEN), n)
    g2 = rng.integers(0, len(GIVEN), n)
    two = rng.random(n) < 0.35
    return [SURNAMES[a] + GIVEN[b] + ("" if t else GIVEN[c])
            for a, b, c, t in zip(s.tolist(), g1.tolist(), g2.tolist(), two.tolist())]


def mobiles(rng: np.random.Generator, n: int, exclude: set[str] = frozenset()) -> list[str]:
    """n distinct random mobile numbers, none of them in `exclude`, in random order."""
    out: list[str] = []
    seen = set(exclude)
    while len(out) < n:
        want = int((n - len(out)) * 1.05) + 16
        numbers = rng.choice(MOBILE_PREFIXES, want) * 100_000_000 + rng.integers(0, 100_000_000, want)
        for number in map(str, numbers.tolist()):
            if number not in seen:
                seen.add(number)
                out.append(number)
                if len(out) == n:
                    break
    return out


def any_mobiles(rng: np.random.Generator, n: int) -> list[str]:
    """n random mobile numbers, repeats allowed (contact numbers, not logins)."""
    numbers = rng.choice(MOBILE_PREFIXES, n) * 100_000_000 + rng.integers(0, 100_000_000, n)
    return list(map(str, numbers.tolist()))


def landlines(rng: np.random.Generator, n: int) -> list[str]:
    """Hangzhou fixed lines, 0571 and eight digits."""
    numbers = rng.choice(np.array([8, 8, 8, 5, 2, 6]), n) * 10_000_000 + rng.integers(0, 10_000_000, n)
    return ["0571-" + s for s in map(str, numbers.tolist())]


def hotlines(rng: np.random.Generator, n: int) -> list[str]:
    """400 service numbers, as chains print them."""
    numbers = rng.integers(0, 10_000_000, n).tolist()
    return [f"400-{x // 10_000:03d}-{x % 10_000:04d}" for x in numbers]
