"""From text to search tokens, the same way for what is indexed and what is asked.

Chinese has no spaces, so a Chinese run yields (1) jieba's search-mode words (every dictionary word
inside the run, e.g. 轮胎安装 -> 轮胎, 安装, 轮胎安装), (2) character bigrams, which find words jieba
does not know, and (3) single characters, weakly, for one-character queries. Its pinyin is indexed
too, per word and for the whole run, in full ("luntai") and as initials ("lt"), because that is how
Chinese shoppers type. Latin words are lowercased, lose a plural "s" and fold British/American
spellings. Queries get prefix matching on their last Latin word, for typing in progress ("lunt").
"""

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import jieba

from daodian.search import dictionary
from daodian.search.pinyin import Style, lazy_pinyin
from daodian.search.synonyms import PRODUCT_SYNONYMS, SERVICE_SYNONYMS
from daodian.taxonomy.tree import PRODUCT_TREE, SERVICE_TREE, walk

UNIGRAM_WEIGHT = 0.3  # single characters match far too much to count like words
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_CJK}]+|[a-z0-9]+")
_CJK_RUN = re.compile(rf"[{_CJK}]+")
# Folded after the plural "s" is dropped; both the index and the query go through this.
SPELLINGS = {"tire": "tyre", "color": "colour", "center": "centre", "jewelry": "jewellery", "mic": "microphone"}

_segmenter: jieba.Tokenizer | None = None
_segmenter_lock = threading.Lock()


def segmenter() -> jieba.Tokenizer:
    """A private jieba instance (the global one is shared with other code) that knows our category words,
    on a compact copy of jieba's dictionary (search.dictionary: the same cuts, a tenth of the memory)."""
    global _segmenter
    with _segmenter_lock:
        if _segmenter is None:
            jieba.setLogLevel(logging.WARNING)
            tokenizer = dictionary.tokenizer()
            for word in _domain_words():
                tokenizer.add_word(word)
            _segmenter = tokenizer
        return _segmenter


def _domain_words() -> Iterable[str]:
    for tree in (PRODUCT_TREE, SERVICE_TREE):
        for node, _parent, _level, _order in walk(tree):
            yield from _CJK_RUN.findall(node.name_zh)
    for synonyms in (*PRODUCT_SYNONYMS.values(), *SERVICE_SYNONYMS.values()):
        for word in synonyms:
            yield from _CJK_RUN.findall(word)


def normalize(text: str) -> str:
    """Full-width to half-width, lowercase, control and format characters to spaces."""
    text = unicodedata.normalize("NFKC", text).lower()
    if not text.isprintable():  # the fast test; only then look at each character
        text = "".join(" " if unicodedata.category(c) in ("Cc", "Cf") else c for c in text)
    return " ".join(text.split())


def fold(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return SPELLINGS.get(word, word)


def search_words(run: str) -> tuple[list[str], list[str]]:
    """jieba's precise words of a Chinese run, and its search-mode words (the precise ones plus the
    dictionary words inside them), from one segmentation (what `cut_for_search` does, minus a pass)."""
    tokenizer = segmenter()
    # Dictionary words only (no HMM guesses): the same split for names and queries, and words that
    # recur across a catalogue, so their pinyin is cached; bigrams cover the words jieba lacks.
    precise = tokenizer.lcut(run, HMM=False)
    found: list[str] = []
    for word in precise:
        for n in (2, 3):
            if len(word) > n:
                found += [word[i:i + n] for i in range(len(word) - n + 1) if tokenizer.FREQ.get(word[i:i + n])]
        found.append(word)
    return precise, found


def _bigrams(run: str) -> list[str]:
    return [run[i:i + 2] for i in range(len(run) - 1)]


@lru_cache(maxsize=65536)  # names share words (category names repeat in every product)
def _pinyin_forms(word: str) -> tuple[str, str]:
    full = "".join(lazy_pinyin(word, errors="ignore"))
    initials = "".join(lazy_pinyin(word, style=Style.FIRST_LETTER, errors="ignore"))
    return full, initials


def document_tokens(text: str, weight: float = 1.0) -> dict[str, float]:
    """Tokens of one field with their weight (a token's best weight within the field)."""
    return {token: w * weight for token, w in _field_tokens(text)}


@lru_cache(maxsize=4096)  # category names and synonyms are tokenised again for every product
def _field_tokens(text: str) -> tuple[tuple[str, float], ...]:
    tokens: dict[str, float] = {}

    def add(token: str, w: float) -> None:
        if token and w > tokens.get(token, 0.0):
            tokens[token] = w

    for run in _RUN.findall(normalize(text)):
        if not _CJK_RUN.fullmatch(run):
            add(fold(run), 1.0)
            continue
        precise, words = search_words(run)
        for word in words:
            add(word, 1.0 if len(word) > 1 else UNIGRAM_WEIGHT)
        for gram in _bigrams(run):
            add(gram, 1.0)
        for char in run:
            add(char, UNIGRAM_WEIGHT)
        # Pinyin of words and of the whole run; single characters' pinyin ("you") is only noise. The
        # run's is put together from its words' (cached: words repeat across a catalogue, runs do not).
        for word in words:
            if len(word) > 1:
                for form in _pinyin_forms(word):
                    add(form, 1.0)
        if len(run) > 1:
            for form in _joined_pinyin(precise):
                add(form, 1.0)
    return tuple(tokens.items())


def _joined_pinyin(words: list[str]) -> tuple[str, str]:
    forms = [_pinyin_forms(w) for w in words]
    return "".join(f[0] for f in forms), "".join(f[1] for f in forms)


def exact_forms(text: str) -> set[str]:
    """What a query equal to this name looks like: the name without spaces, its pinyin, its initials."""
    compact = normalize(text).replace(" ", "")
    forms = {compact} if compact else set()
    words = [w for run in _CJK_RUN.findall(compact) for w in search_words(run)[0]]
    if words:
        forms.update(_joined_pinyin(words))
    return forms


@dataclass(frozen=True)
class Term:
    """One thing the query asks for; a document has it if it has any of the alternatives."""

    alternatives: tuple[str, ...]
    prefix: str | None = None  # also match tokens starting with this (the word being typed)


def query_terms(text: str) -> list[Term]:
    return list(_query_terms(text))


@lru_cache(maxsize=8192)  # shoppers ask the same things; segmenting costs more than a search
def _query_terms(text: str) -> tuple[Term, ...]:
    terms: list[Term] = []
    runs = _RUN.findall(normalize(text))
    for i, run in enumerate(runs):
        if not _CJK_RUN.fullmatch(run):
            last = i == len(runs) - 1
            terms.append(Term(tuple(dict.fromkeys((run, fold(run)))), run if last and len(run) >= 2 else None))
        elif len(run) == 1:
            terms.append(Term((run,)))
        else:
            words = [w for w in search_words(run)[1] if len(w) > 1]
            terms.extend(Term((token,)) for token in dict.fromkeys([*words, *_bigrams(run)]))
    return tuple(terms)


def compact_query(text: str) -> str:
    return normalize(text).replace(" ", "")
