"""Every listed store's view as JSON, written with the nearby snapshot and read by every server process, so
that a page of results is put together without the database and without each process keeping its own copies
(nearby.store_json reads these first). The records are read a few hundred bytes at a time (os.pread: they stay
in the page cache, shared, as the database's pages do); their offsets are mapped like the index's arrays.

A view (merchants.stores.store_views, as JSON with `open_now` false) is kept in three pieces:

- the store's own head, `{"id": ... "status": ...}` less its closing brace, and tail, `,"rating_avg": ...}`,
  one record per slot, in the snapshot's slot order (stores near each other sit near each other, so the pages
  a city's queries touch are a part of the file);
- a part many stores share: the codes of its primary and other service categories and its hours, written once
  for all the stores that have the same. Each process renders a part with the categories' names as they are
  now (read once, and again when taxonomy.watch sees an operator's edit), so a renamed category shows on
  every store at once, as a view read from the database would.

A store changed since the snapshot is not read from here: the index forgets it (nearby.store_json), as it
does the views a process keeps.
"""

from __future__ import annotations

import os
from typing import BinaryIO

import numpy as np
import pydantic_core
from sqlalchemy.orm import Session

from daodian.merchants import stores
from daodian.taxonomy import repository as taxonomy
from daodian.taxonomy.models import ServiceCategory
from daodian.taxonomy.watch import TreeWatch

_PRIMARY, _HOURS, _OPEN = b',"primary_category":', b',"hours":', b',"open_now":false'
_BATCH = 2_000  # stores read per query while writing
_MAX_PARTS_KEPT = 50_000  # rendered parts per process (a demo city of a million stores has some thousands)


def arrays(session: Session, ids: np.ndarray, listed: np.ndarray) -> dict[str, np.ndarray]:
    """The views of the stores in these slots (their ids; only the listed ones: any other is read from the
    database if it is ever shown), as a snapshot's arrays. Read after the index's columns, so each view is at
    least as new as its store's row there."""
    n = len(ids)
    records = bytearray()  # appended in slot order, so a slot's record starts where the ones before end
    length = np.zeros(n, dtype=np.int64)
    cut = np.zeros(n, dtype=np.int32)  # the head's length within the record
    part_of = np.full(n, -1, dtype=np.int32)  # -1: not written here
    parts: dict[bytes, int] = {}
    for start in range(0, n, _BATCH):
        slots = (np.flatnonzero(listed[start:start + _BATCH]) + start).tolist()
        batch = ids[slots].tolist()
        views = {v["id"]: v for v in stores.store_views(session, batch, open_now=dict.fromkeys(batch, False))}
        for slot, store_id in zip(slots, batch):
            view = views.get(store_id)
            if view is None:  # deleted since the columns were read
                continue
            whole = pydantic_core.to_json(view)
            i = whole.index(_PRIMARY)
            j = whole.index(_OPEN, i)
            hours = whole[whole.index(_HOURS, i) + len(_HOURS):j]
            codes = " ".join([view["primary_category"]["code"], *(c["code"] for c in view["categories"])])
            part_of[slot] = parts.setdefault(codes.encode() + b"\n" + hours, len(parts))
            cut[slot] = i
            records += whole[:i]
            records += whole[j + len(_OPEN):]
            length[slot] = len(whole) - (j + len(_OPEN) - i)
    at = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(length, out=at[1:])
    part_bytes = list(parts)
    part_at = np.zeros(len(part_bytes) + 1, dtype=np.int64)
    part_at[1:] = np.cumsum([len(p) for p in part_bytes])
    return {"views_records": np.frombuffer(records, dtype=np.uint8), "views_at": at, "views_cut": cut,
            "views_part": part_of, "views_parts": np.frombuffer(b"".join(part_bytes), dtype=np.uint8),
            "views_parts_at": part_at}


class SharedViews:
    """A snapshot's store views, by slot; the parts rendered in this process as the categories are named now."""

    def __init__(self, arrays: dict[str, np.ndarray], records: tuple[BinaryIO, int]):
        """`arrays` as the snapshot maps them; `records` the records' file and where they start in it, read a
        record at a time (nearby.snapshot.open_for_reads: mapped, they would swell every worker)."""
        self._file, self._start = records
        self._at, self._cut, self._part = arrays["views_at"], arrays["views_cut"], arrays["views_part"]
        self._parts, self._parts_at = memoryview(arrays["views_parts"]), arrays["views_parts_at"]
        self._rendered: dict[int, bytes | None] = {}
        self._categories: dict[str, bytes] = {}
        self._watch = TreeWatch()

    def __len__(self) -> int:
        return len(self._part)

    def views(self, session: Session, slots: list[int]) -> list[tuple[bytes, bytes] | None]:
        """Each slot's view split around its `open_now` (as nearby.store_json keeps them), or None where
        there is none here (a store added since, or one not listed then)."""
        if self._watch.changed(session) or not self._categories:
            self._read_categories(session)
        n = len(self._part)
        inside = [s for s in slots if 0 <= s < n]
        if not inside:
            return [None] * len(slots)
        picked = np.array(inside, dtype=np.int64)
        found = dict(zip(inside, zip(self._at[picked].tolist(), self._at[picked + 1].tolist(),
                                     self._cut[picked].tolist(), self._part[picked].tolist())))
        fd, base, rendered = self._file.fileno(), self._start, self._rendered
        out: list[tuple[bytes, bytes] | None] = []
        for slot in slots:
            record = found.get(slot)
            if record is None or record[3] < 0:
                out.append(None)
                continue
            start, end, cut, part = record
            middle = rendered[part] if part in rendered else self._render(part)
            if middle is None:
                out.append(None)
                continue
            record = os.pread(fd, end - start, base + start)
            out.append((record[:cut] + middle, record[cut:]))
        return out

    def _read_categories(self, session: Session) -> None:
        self._watch.remember(session)
        self._categories = {c.code: pydantic_core.to_json({"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en,
                                                            "level": c.level})
                            for c in taxonomy.all_categories(session, ServiceCategory)}
        self._rendered = {}

    def _render(self, part: int) -> bytes | None:
        """The part between a store's head and its `open_now`, or None if it names a category that is gone
        (the store's view is then read from the database)."""
        raw = self._parts[self._parts_at[part]:self._parts_at[part + 1]].tobytes()
        codes, hours = raw.split(b"\n", 1)
        primary, *others = codes.decode().split(" ")
        cats = self._categories
        if primary not in cats or any(c not in cats for c in others):
            middle = None
        else:
            middle = (_PRIMARY + cats[primary] + b',"categories":[' + b",".join(cats[c] for c in others) + b"]"
                      + _HOURS + hours + b",")
        if len(self._rendered) >= _MAX_PARTS_KEPT:
            self._rendered = {}
        self._rendered[part] = middle
        return middle
