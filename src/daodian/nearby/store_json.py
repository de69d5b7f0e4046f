"""Store views as JSON, kept per process, for putting a nearby page together without the database.

A store's view (merchants.stores.store_views) changes only when the store's row is stamped, which the
nearby index hears of within about a second (it polls every change, nearby.index). So each process keeps
the views it has shown, as JSON split around their `open_now` (which is the one the ranking used,
written in per answer), and forgets a store's as soon as the index applies a change to it. A view read
from a database snapshot older than a change the index has applied meanwhile is shown but not kept: a
request notes `generation` before its first read, and a view is kept only if nothing was forgotten since.

An index mapped from a snapshot reads the views written with it (nearby.shared_views, shared by every process)
first: those of the stores it has applied no change to since, which are as the snapshot saw them. Only the
others are read from the database and kept here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import pydantic_core
from sqlalchemy.orm import Session

from daodian.geo import ranking
from daodian.merchants import stores
from daodian.nearby.shared_views import SharedViews

Hit = Any  # nearby.index.Hit (imported by nothing here: the index holds a StoreJson)

# JSON kept per process, by its bytes (a view is about 1.2 KB: some 27,000 stores); the oldest tenth goes
# when full. Counted by bytes rather than views: 50,000 views took some 60 MB of each worker, plus the
# allocator's slack around them (bench/nearby_http.py).
MAX_BYTES = 32 * 2**20
_PER_VIEW = 120  # a view's overhead besides its bytes: the tuple, two bytes objects, the dict's entry
_OPEN, _OPEN_TRUE = b'"open_now":false', b'"open_now":true'


class StoreJson:
    """Store views as JSON, by store id, split around their `open_now`."""

    def __init__(self, shared: SharedViews | None = None) -> None:
        self._shared = shared
        self._changed: set[int] = set()  # stores changed since the shared views were written: not read there
        self._kept: dict[int, tuple[bytes, bytes]] = {}
        self._bytes = 0  # of the views kept, by _size
        self._generation = 0  # moves on every forget: a view read before a change is then not kept
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._kept)

    @property
    def bytes(self) -> int:
        """About how much memory the views kept take (their JSON and a little for each)."""
        return self._bytes

    @property
    def generation(self) -> int:
        """Note it before a request's first database read; pass it to `items_json`."""
        return self._generation

    def forget(self, store_ids: Iterable[int]) -> None:
        with self._lock:
            self._generation += 1
            store_ids = list(store_ids)
            if self._shared is not None:
                self._changed.update(store_ids)
            for store_id in store_ids:
                gone = self._kept.pop(store_id, None)
                if gone is not None:
                    self._bytes -= _size(gone)

    def items_json(self, session: Session, hits: list[Hit], slots: list[int], generation: int) -> bytes:
        """nearby.views.items(session, hits) as a JSON array; `slots` the hits' slots in the index,
        `generation` as noted before the request's first read from `session`."""
        kept = self._kept
        views = self._shared_views(session, hits, slots)
        missing = [h.store_id for h, v in zip(hits, views) if v is None and h.store_id not in kept]
        read = self._read(session, missing, generation) if missing else {}
        shown = [(h, v or kept.get(h.store_id) or read.get(h.store_id)) for h, v in zip(hits, views)]
        shown = [(h, view) for h, view in shown if view is not None]  # else deleted since the index looked
        # One join of every piece: a page is some 30 KB, and each concatenation would copy what it holds so far.
        pieces = [b"["]
        for (h, view), fields in zip(shown, _hit_fields([h for h, _ in shown])):
            pieces += (b'{"store":', view[0], _OPEN_TRUE if h.open_now else _OPEN, view[1], b",", fields, b",")
        if len(pieces) == 1:
            return b"[]"
        pieces[-1] = b"]"  # the last item's comma
        return b"".join(pieces)

    def _shared_views(self, session: Session, hits: list[Hit], slots: list[int]) -> list[tuple[bytes, bytes] | None]:
        if self._shared is None:
            return [None] * len(hits)
        changed = self._changed
        return [None if view is None or h.store_id in changed else view
                for h, view in zip(hits, self._shared.views(session, slots))]

    def _read(self, session: Session, store_ids: list[int], generation: int) -> dict[int, tuple[bytes, bytes]]:
        """Read these stores' views; keep them unless a store was forgotten since `generation` (they may
        be older than the change the index applied: shown this once, not kept)."""
        found = {}
        for view in stores.store_views(session, store_ids, open_now=dict.fromkeys(store_ids, False)):
            before, after = pydantic_core.to_json(view).split(_OPEN, 1)
            found[view["id"]] = (before, after)
        with self._lock:
            if generation == self._generation:
                kept = self._kept
                for store_id, view in found.items():
                    before = kept.get(store_id)
                    self._bytes += _size(view) - (_size(before) if before is not None else 0)
                    kept[store_id] = view
                if self._bytes > MAX_BYTES:  # the oldest go, down to nine tenths (dicts keep insertion order)
                    for store_id in list(kept):
                        self._bytes -= _size(kept.pop(store_id))
                        if self._bytes <= MAX_BYTES * 9 // 10:
                            break
        return found


def _hit_fields(hits: list[Hit]) -> list[bytes]:
    """Each hit's own fields, as NearbyItem shows them after the store: its numbers serialised in one call and
    cut apart again (a number has no comma), then put in a template of the rest; dicts for the score's parts
    of twenty hits cost more than the page's other JSON together."""
    if not hits:
        return []
    # v: raw x4, normalised x4, points x4, score, the parts in WEIGHTS' order (nearby.kernel; Hit's properties)
    rows = pydantic_core.to_json([[round(v[0]), v[3] == 1.0, v[12], round(v[0], 3), v[4], v[8], round(v[1], 3), v[5], v[9],
                                   round(v[2], 3), v[6], v[10], round(v[3], 3), v[7], v[11], promoted]
                                  for _, promoted, v in hits])
    return [_FIELDS % tuple(row.split(b",")) for row in rows[2:-2].split(b"],[")]


def _fields_template() -> bytes:
    parts = b",".join(b'"%s":{"value":%%s,"normalized":%%s,"weight":%s,"points":%%s}' % (name.encode(), pydantic_core.to_json(w))
                      for name, w in ranking.WEIGHTS.items())
    return b'"distance_m":%s,"open_now":%s,"score":%s,"score_parts":{' + parts + b'},"promoted":%s}'


_FIELDS = _fields_template()
assert list(ranking.WEIGHTS) == ["distance", "rating", "popularity", "open_now"]  # the order _hit_fields writes


def _size(view: tuple[bytes, bytes]) -> int:
    return len(view[0]) + len(view[1]) + _PER_VIEW
