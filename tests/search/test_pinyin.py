"""pypinyin on the compact phrase dictionary (search.pinyin) gives exactly the pinyin pypinyin gives on
its own dictionary: every phrase of it, our category names and synonyms, and random strings, compared
with a pypinyin loaded the ordinary way in another process."""

import json
import os
import subprocess
import sys

import numpy as np

from daodian.search import pinyin, text
from daodian.search.synonyms import PRODUCT_SYNONYMS, SERVICE_SYNONYMS
from daodian.taxonomy.tree import PRODUCT_TREE, SERVICE_TREE, walk

REFERENCE = """
import json, sys
from pypinyin import Style, lazy_pinyin
words = json.load(sys.stdin)
json.dump([[lazy_pinyin(w) for w in words], [lazy_pinyin(w, style=Style.FIRST_LETTER) for w in words]], sys.stdout)
"""


def corpus() -> list[str]:
    phrases = pinyin._constants.PHRASES_DICT.keys()
    names = [node.name_zh for tree in (PRODUCT_TREE, SERVICE_TREE) for node, *_ in walk(tree)]
    names += [w for words in (*PRODUCT_SYNONYMS.values(), *SERVICE_SYNONYMS.values()) for w in words]
    rng = np.random.default_rng(8)
    chars = sorted(set("".join(phrases[::20])))
    made = ["".join(rng.choice(chars, int(rng.integers(1, 9)))) for _ in range(3000)]
    return list(phrases) + names + made + ["轮胎 205/55R16 米其林", "长城银行行长重庆", "K歌", ""]


def test_same_pinyin_as_pypinyin_with_its_own_dictionary():
    words = corpus()
    assert len(pinyin._constants.PHRASES_DICT) > 40_000  # the whole dictionary is there, compactly
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYPINYIN_")}
    done = subprocess.run([sys.executable, "-c", REFERENCE], input=json.dumps(words), capture_output=True, text=True,
                          env=env, check=True, timeout=600)
    normal, initials = json.loads(done.stdout)
    assert [pinyin.lazy_pinyin(w) for w in words] == normal
    assert [pinyin.lazy_pinyin(w, style=pinyin.Style.FIRST_LETTER) for w in words] == initials


def test_search_text_uses_it():
    assert text.lazy_pinyin is pinyin.lazy_pinyin
    assert text.document_tokens("重庆轮胎", 1.0)["chongqingluntai"] == 1.0
