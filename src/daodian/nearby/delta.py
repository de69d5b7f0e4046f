"""Stores changed since the postings were built, searched one by one beside them.

A change (moved, re-rated, new hours, closed, another category, its merchant suspended) voids the
store's postings, whose order and bounds were worked out from its old values: it is marked dead there.
If it is still listed, it joins the delta with its categories, and every query looks at all delta
stores of its categories. The delta stays small: once it grows past a share of the postings, the index
builds new postings (nearby.index). Each change makes a new Delta, so a query reads one consistent one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from daodian.nearby.postings import ALL

_EMPTY = np.empty(0, dtype=np.int64)


@dataclass(frozen=True)
class Delta:
    dead: np.ndarray  # bool by slot: posted, but changed since
    member: dict[int, tuple[int, ...]] = field(default_factory=dict)  # slot -> category codes, ALL first
    by_code: dict[int, np.ndarray] = field(default_factory=dict)  # category code -> slots, sorted
    dead_count: int = 0  # none: a query need not look at `dead`

    @classmethod
    def empty(cls, slots: int) -> Delta:
        return cls(np.zeros(slots, dtype=bool))

    def __len__(self) -> int:
        return len(self.member)


    def changed(self, slots: list[int], codes: list[tuple[int, ...] | None]) -> Delta:
        """The delta after these stores changed: `codes` are each one's category codes, None if not listed."""
        dead = self.dead
        if slots:
            top = max(slots) + 1
            dead = np.concatenate((dead, np.zeros(max(top - len(dead), 0), dtype=bool)))  # a copy either way
            dead[slots] = True
        member = dict(self.member)
        for slot, these in zip(slots, codes):
            if these is None:
                member.pop(slot, None)
            else:
                member[slot] = (ALL, *these)
        by_code: dict[int, list[int]] = {}
        for slot, these in member.items():
            for code in these:
                by_code.setdefault(code, []).append(slot)
        return Delta(dead, member, {code: np.array(sorted(s), dtype=np.int64) for code, s in by_code.items()},
                     int(dead.sum()))

    def slots_for(self, codes: list[int]) -> np.ndarray:
        found = [self.by_code[c] for c in codes if c in self.by_code]
        if not found:
            return _EMPTY
        return found[0] if len(found) == 1 else np.unique(np.concatenate(found))
