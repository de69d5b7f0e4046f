"""An in-memory inverted index with BM25 ranking, safe to update while requests read it.

Ranking, in short: each query term scores BM25 (k1=1.2, b=0.5: names are short, so length matters
little) with the term's idf taken over all documents that have any of its alternatives; a prefix
completion counts PREFIX_DISCOUNT of an exact token. A document is a match only if the terms it has
carry at least MIN_COVERAGE of the query's idf mass, so "全合成机油" does not return every product
sharing one character with it; terms no document has are left out of that mass, so a stray word
does not empty the results. A query equal to the whole name (or its pinyin) multiplies the score
by EXACT_BOOST.
"""

import bisect
import math
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from daodian.search.text import Term

DocKey = tuple[str, int]  # (kind, id)

K1, B = 1.2, 0.5
PREFIX_DISCOUNT = 0.7
MAX_PREFIX_EXPANSIONS = 50
MIN_COVERAGE = 0.5
EXACT_BOOST = 2.0


@dataclass
class Doc:
    key: DocKey
    tokens: dict[str, float]  # token -> weighted term frequency
    exact: frozenset[str] = frozenset()
    payload: Any = None  # what the caller needs back, e.g. a product's category id
    length: float = field(init=False)

    def __post_init__(self) -> None:
        self.length = sum(self.tokens.values()) or 1.0


@dataclass(frozen=True)
class Hit:
    key: DocKey
    score: float
    payload: Any


class InvertedIndex:
    def __init__(self) -> None:
        self._docs: dict[DocKey, Doc] = {}
        self._postings: dict[str, dict[DocKey, float]] = defaultdict(dict)
        self._vocabulary: list[str] = []  # sorted, for prefix completion
        self._total_length = 0.0
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, key: DocKey) -> bool:
        return key in self._docs

    def put(self, doc: Doc) -> None:
        with self._lock:
            self._remove(doc.key)
            self._docs[doc.key] = doc
            self._total_length += doc.length
            for token, tf in doc.tokens.items():
                postings = self._postings[token]
                if not postings:
                    bisect.insort(self._vocabulary, token)
                postings[doc.key] = tf

    def put_many(self, docs: list[Doc]) -> None:
        """Bulk load: one vocabulary sort instead of one insertion per new token."""
        with self._lock:
            for doc in docs:
                self._remove(doc.key)
                self._docs[doc.key] = doc
                self._total_length += doc.length
                for token, tf in doc.tokens.items():
                    self._postings[token][doc.key] = tf
            self._vocabulary = sorted(t for t, p in self._postings.items() if p)

    def remove(self, key: DocKey) -> None:
        with self._lock:
            self._remove(key)

    def _remove(self, key: DocKey) -> None:
        doc = self._docs.pop(key, None)
        if doc is None:
            return
        self._total_length -= doc.length
        for token in doc.tokens:
            postings = self._postings.get(token)
            if postings is None:
                continue
            postings.pop(key, None)
            if not postings:
                del self._postings[token]
                i = bisect.bisect_left(self._vocabulary, token)
                if i < len(self._vocabulary) and self._vocabulary[i] == token:
                    del self._vocabulary[i]

    def _completions(self, prefix: str) -> list[str]:
        start = bisect.bisect_left(self._vocabulary, prefix)
        found = []
        for token in self._vocabulary[start:start + MAX_PREFIX_EXPANSIONS + 1]:
            if not token.startswith(prefix):
                break
            if token != prefix:
                found.append(token)
        return found

    def search(self, terms: list[Term], exact_query: str = "") -> list[Hit]:
        """Matching documents of every kind, best first."""
        with self._lock:
            n = len(self._docs)
            if n == 0:
                return []
            avg_length = self._total_length / n
            scores: dict[DocKey, float] = defaultdict(float)
            covered: dict[DocKey, float] = defaultdict(float)
            mass = 0.0
            for term in terms:
                alternatives = [(t, 1.0) for t in term.alternatives if t in self._postings]
                if term.prefix:
                    exact = {t for t, _ in alternatives}
                    alternatives += [(t, PREFIX_DISCOUNT) for t in self._completions(term.prefix) if t not in exact]
                if not alternatives:
                    continue
                df = len(set().union(*(self._postings[t].keys() for t, _ in alternatives)))
                idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                mass += idf
                best: dict[DocKey, float] = {}
                for token, discount in alternatives:
                    for key, tf in self._postings[token].items():
                        norm = K1 * (1 - B + B * self._docs[key].length / avg_length)
                        s = idf * discount * tf * (K1 + 1) / (tf + norm)
                        if s > best.get(key, 0.0):
                            best[key] = s
                for key, s in best.items():
                    scores[key] += s
                    covered[key] += idf
            hits = []
            for key, score in scores.items():
                if covered[key] < MIN_COVERAGE * mass - 1e-9:
                    continue
                doc = self._docs[key]
                if exact_query and exact_query in doc.exact:
                    score *= EXACT_BOOST
                hits.append(Hit(key, score, doc.payload))
        hits.sort(key=lambda h: (-h.score, h.key))
        return hits
