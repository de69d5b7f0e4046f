"""pypinyin with its phrase dictionary held compactly: the same pinyin for a fraction of the memory.

pypinyin keeps its 47,000 phrases, and every beginning of one, as Python dicts and sets: about 40 MB in
each server process. Here pypinyin is imported without them (its PYPINYIN_NO_PHRASES switch) and given
`Phrases` instead, in the places its segmenter and converter look phrases up: the phrases as one
sorted string with their readings packed beside, searched by bisection. pypinyin's own code does the
rest, so the pinyin is pypinyin's (tests/search/test_pinyin.py compares it, phrase by phrase, with a
pypinyin that loaded its own dictionary, in another process). This module must be the first to import
pypinyin in the process, or pypinyin has loaded its dicts already (the pinyin is the same either way).
"""

import hashlib
import json
import os
import tempfile
from array import array
from pathlib import Path

import numpy as np

os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")  # read when pypinyin is imported, just below
os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "1")

import pypinyin  # noqa: E402
from pypinyin import Style, lazy_pinyin  # noqa: E402
from pypinyin import constants as _constants  # noqa: E402
from pypinyin import converter as _converter  # noqa: E402
from pypinyin.seg import mmseg as _mmseg  # noqa: E402
from pypinyin.seg import simpleseg as _simpleseg  # noqa: E402

__all__ = ["Phrases", "Style", "lazy_pinyin"]


class Phrases:
    """phrase -> readings per character, as pypinyin's PHRASES_DICT; also its prefix set (`beginning`)."""

    def __init__(self, keys: str, key_lengths: np.ndarray, values: str, value_lengths: np.ndarray):
        self._keys, self._values = keys, values
        self._key_at = array("q", np.r_[0, np.cumsum(key_lengths)].tolist())
        self._value_at = array("q", np.r_[0, np.cumsum(value_lengths)].tolist())
        self._n = len(key_lengths)

    def _key(self, i: int) -> str:
        return self._keys[self._key_at[i]:self._key_at[i + 1]]

    def _find(self, text: str) -> int:
        keys, at = self._keys, self._key_at
        lo, hi = 0, self._n
        while lo < hi:
            mid = (lo + hi) // 2
            if keys[at[mid]:at[mid + 1]] < text:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def __len__(self) -> int:
        return self._n

    def __contains__(self, phrase: object) -> bool:
        if not isinstance(phrase, str):
            return False
        i = self._find(phrase)
        return i < self._n and self._key(i) == phrase

    def __getitem__(self, phrase: str) -> list[list[str]]:
        i = self._find(phrase)
        if i >= self._n or self._key(i) != phrase:
            raise KeyError(phrase)
        packed = self._values[self._value_at[i]:self._value_at[i + 1]]
        return [readings.split(",") for readings in packed.split(";")]

    def keys(self) -> list[str]:
        return [self._key(i) for i in range(self._n)]

    def beginning(self, text: str) -> bool:
        """Whether some phrase starts with `text` (pypinyin's PrefixSet)."""
        i = self._find(text)
        return i < self._n and self._key(i).startswith(text)


class _Beginnings:
    """What pypinyin's segmenter asks of its PrefixSet."""

    def __init__(self, phrases: Phrases):
        self._phrases = phrases

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and self._phrases.beginning(text)

    def train(self, words) -> None:  # pypinyin's retrain(): the phrases are all there already
        pass


def _load() -> Phrases:
    """pypinyin's phrases, packed, from a cache file in the temporary directory when it is there."""
    source = Path(pypinyin.__file__).parent / "phrases_dict.json"
    stat = source.stat()
    key = hashlib.sha256(f"{source}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    cache = Path(tempfile.gettempdir()) / f"daodian-pinyin-phrases-{key}.npz"
    try:
        with np.load(cache, allow_pickle=False) as saved:
            return Phrases(saved["keys"].tobytes().decode("utf-8"), saved["key_lengths"],
                           saved["values"].tobytes().decode("utf-8"), saved["value_lengths"])
    except (OSError, KeyError, ValueError):
        pass
    raw = json.loads(source.read_text(encoding="utf-8"))
    keys = sorted(raw)
    values = [";".join(",".join(readings) for readings in raw[k]) for k in keys]
    packed = {"keys": "".join(keys), "key_lengths": np.array([len(k) for k in keys], dtype=np.int64),
              "values": "".join(values), "value_lengths": np.array([len(v) for v in values], dtype=np.int64)}
    partial = cache.with_name(f".{cache.name}.{os.getpid()}")
    with open(partial, "wb") as out:
        np.savez(out, **{k: np.frombuffer(v.encode("utf-8"), dtype=np.uint8) if isinstance(v, str) else v
                         for k, v in packed.items()})
    os.replace(partial, cache)
    return Phrases(**packed)


def _install(phrases: Phrases) -> None:
    """Give pypinyin the compact phrases wherever it reads them."""
    for module in (_constants, _converter, _simpleseg, _mmseg):
        module.PHRASES_DICT = phrases
    _mmseg.p_set = _mmseg.seg._prefix_set = _Beginnings(phrases)


_install(_load())
