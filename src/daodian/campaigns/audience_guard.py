"""Audience sizes a merchant may see, safe against differencing.

Two allowed sizes of nested audiences give a third by subtraction: "all members" minus "new" is the
members who are not new, "inactive 30 days" minus "inactive 60 days" those whose last purchase was 30 to
59 days ago. If such a difference is a group of fewer than k consumers (but not empty), releasing both
sizes would describe that small group; so the inner (smaller) one is withheld, and "all members" is
always shown. The nested families are "all" over every
segment, and the inactive ladder (one over the other). `inactive_days` takes only the ladder's values,
which keeps the family finite: with any number of days, d and d + 1 would isolate a single day's lapsed
members.

The rule is computed from every size the merchant could ask for, so what is withheld does not depend on
which audience was asked first; every pair of shown nested sizes differs by none or at least k.
"""

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

INACTIVE_LADDER = (7, 14, 30, 60, 90, 180, 365)


def key(segment: str, inactive_days: int | None = None) -> str:
    return f"inactive:{inactive_days}" if segment == "inactive" else segment


def condition(cols, segment: str, inactive_days: int | None = None):
    """Who is in a segment, over member rows (`cols`: MemberSegment or a subquery's columns); None: all."""
    if segment == "new":
        return cols.segment == "new"
    if segment == "returning":
        return cols.frequency >= 2
    if segment == "inactive":
        return cols.recency_days >= inactive_days
    if segment == "high_value":
        return cols.m_score >= 4
    return None


def sizes(session: Session, audience_query) -> dict[str, int]:
    """Every requestable audience's size, in one pass over the merchant's members (`audience_query`: the
    member rows, opted-out consumers already removed)."""
    rows = audience_query.subquery()
    cols = rows.c
    flag = lambda segment, days=None: func.coalesce(func.sum(case((condition(cols, segment, days), 1), else_=0)), 0)  # noqa: E731
    named = {"all": func.count(), **{name: flag(name) for name in ("new", "returning", "high_value")},
             **{key("inactive", d): flag("inactive", d) for d in INACTIVE_LADDER}}
    values = session.execute(select(*named.values()).select_from(rows)).one()
    return {name: int(value) for name, value in zip(named, values)}


def _nested_pairs() -> list[tuple[str, str]]:
    inactive = [key("inactive", d) for d in INACTIVE_LADDER]
    pairs = [("all", other) for other in ("new", "returning", "high_value", *inactive)]
    return pairs + [(a, b) for i, a in enumerate(inactive) for b in inactive[i + 1:]]


def withheld(all_sizes: dict[str, int], k: int) -> set[str]:
    """Audiences whose size is not shown although it is at least k: an audience containing it is larger by
    fewer than k consumers (and more than none)."""
    out: set[str] = set()
    for outer, inner in _nested_pairs():
        if all_sizes[outer] >= k and all_sizes[inner] >= k and 0 < all_sizes[outer] - all_sizes[inner] < k:
            out.add(inner)
    return out
