"""jieba's word list held compactly: the same segmentation for a tenth of the memory.

jieba keeps its dictionary as a dict of every word and every beginning of a word: half a million Python
strings, about 60 MB in each server process. `Words` holds the words as one sorted string with their
frequencies in an array, and answers jieba's questions about a fragment ("a word, or the beginning of
one? how frequent?") by binary search, so a Tokenizer given it as its FREQ cuts exactly as with its own
dict (tests/search/test_dictionary.py compares them). Words added later (our category words) are kept
in a small dict beside it, as jieba's add_word would. The sorted words are read from jieba's dict.txt
once and kept in a cache file in the temporary directory, as jieba keeps its own.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from array import array
from pathlib import Path

import jieba
import numpy as np

_MISSING = object()
_CACHE_LIMIT = 200_000  # fragments whose answers are kept (queries and names repeat them)


class Words:
    """A read-mostly mapping of word -> frequency, in which every beginning of a word is present with 0."""

    def __init__(self, text: str, lengths: np.ndarray, freqs: np.ndarray):
        """The words, sorted, as one string and their lengths, with their frequencies."""
        self._text = text
        self._starts = array("q", np.r_[0, np.cumsum(lengths)].tolist())
        self._freqs = array("q", np.asarray(freqs, dtype=np.int64).tolist())
        self._n = len(lengths)
        self._added: dict[str, int] = {}
        self._known: dict[str, int | None] = {}

    def _word(self, i: int) -> str:
        return self._text[self._starts[i]:self._starts[i + 1]]

    def _lookup(self, fragment: str) -> int | None:
        """Its frequency if a word, 0 if only the beginning of one, else None."""
        found = self._known.get(fragment, _MISSING)
        if found is not _MISSING:
            return found
        text, starts = self._text, self._starts
        lo, hi = 0, self._n
        while lo < hi:
            mid = (lo + hi) // 2
            if text[starts[mid]:starts[mid + 1]] < fragment:
                lo = mid + 1
            else:
                hi = mid
        word = self._word(lo) if lo < self._n else ""
        found = self._freqs[lo] if word == fragment else 0 if word.startswith(fragment) and fragment else None
        if len(self._known) >= _CACHE_LIMIT:
            self._known.clear()
        self._known[fragment] = found
        return found

    def get(self, fragment: str, default=None):
        found = self._added.get(fragment, _MISSING)
        if found is _MISSING:
            found = self._lookup(fragment)
        return default if found is None else found

    def __contains__(self, fragment: object) -> bool:
        return isinstance(fragment, str) and self.get(fragment) is not None

    def __getitem__(self, fragment: str) -> int:
        found = self.get(fragment, _MISSING)
        if found is _MISSING:
            raise KeyError(fragment)
        return found

    def __setitem__(self, word: str, freq: int) -> None:
        self._added[word] = freq


def _read_dict(path: Path) -> tuple[list[str], list[int], int]:
    """jieba's dict.txt as jieba reads it: the last frequency of a word counts, every line adds to the total."""
    freq: dict[str, int] = {}
    total = 0
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            word, count = line.strip().split(" ")[:2]
            freq[word] = int(count)
            total += int(count)
    words = sorted(freq)
    return words, [freq[w] for w in words], total


def load() -> tuple[Words, int]:
    """The words of jieba's dictionary and its total frequency, from the cache when it is there."""
    path = Path(jieba.__file__).parent / "dict.txt"
    stat = path.stat()
    key = hashlib.sha256(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    cache = Path(tempfile.gettempdir()) / f"daodian-jieba-words-{key}.npz"
    try:
        with np.load(cache, allow_pickle=False) as saved:
            return (Words(saved["text"].tobytes().decode("utf-8"), saved["lengths"], saved["freqs"]),
                    int(saved["total"]))
    except (OSError, KeyError, ValueError):
        pass
    words, freqs, total = _read_dict(path)
    text, lengths = "".join(words), np.array([len(w) for w in words], dtype=np.int64)
    partial = cache.with_name(f".{cache.name}.{os.getpid()}")
    with open(partial, "wb") as out:
        np.savez(out, text=np.frombuffer(text.encode("utf-8"), dtype=np.uint8), lengths=lengths,
                 freqs=np.array(freqs, dtype=np.int64), total=np.array(total))
    os.replace(partial, cache)
    return Words(text, lengths, np.array(freqs, dtype=np.int64)), total


def tokenizer() -> jieba.Tokenizer:
    """A jieba Tokenizer on `Words` instead of its own dict (not initialised from its files)."""
    words, total = load()
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ, tokenizer.total, tokenizer.initialized = words, total, True
    return tokenizer
