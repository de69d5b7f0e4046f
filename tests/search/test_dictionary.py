"""The compact dictionary cuts Chinese exactly as jieba's own: for our category words, synonyms and
product-like names, and for random strings of the dictionary's own characters."""

import logging

import jieba
import numpy as np
import pytest

from daodian.search import dictionary, text
from daodian.taxonomy.tree import PRODUCT_TREE, SERVICE_TREE, walk


@pytest.fixture(scope="module")
def pair():
    jieba.setLogLevel(logging.WARNING)
    real = jieba.Tokenizer()
    real.initialize()
    compact = dictionary.tokenizer()
    for word in text._domain_words():
        real.add_word(word)
        compact.add_word(word)
    assert compact.total == real.total
    return real, compact


def runs(seed: int, n: int) -> list[str]:
    rng = np.random.default_rng(seed)
    names = [node.name_zh for tree in (PRODUCT_TREE, SERVICE_TREE) for node, *_ in walk(tree)]
    chars = sorted({c for name in names for c in name if text._CJK_RUN.fullmatch(c)} | set("的一是在不了有和人这中大为上个国我以要他"))
    made = ["".join(rng.choice(chars, int(rng.integers(1, 12)))) for _ in range(n)]
    glued = ["".join(rng.choice(names, 2)) + "轮胎安装全合成机油" for _ in range(n // 10)]
    return [r for r in text._CJK_RUN.findall(" ".join(names + made + glued))]


def test_the_same_cuts_and_lookups_as_jieba(pair):
    real, compact = pair
    for run in runs(seed=3, n=3000):
        assert compact.lcut(run, HMM=False) == real.lcut(run, HMM=False), run
        for i in range(len(run)):
            for j in range(i + 1, min(len(run), i + 5) + 1):
                fragment = run[i:j]
                assert compact.FREQ.get(fragment) == real.FREQ.get(fragment), fragment
                assert (fragment in compact.FREQ) == (fragment in real.FREQ), fragment


def test_search_words_use_it():
    assert isinstance(text.segmenter().FREQ, dictionary.Words)
    assert text.search_words("轮胎安装") == (["轮胎安装"], ["轮胎", "安装", "轮胎安装"])
