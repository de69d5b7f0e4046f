"""The privacy guard: no published cell under k, and no differencing of published figures that isolates one.

The random test checks the guard's published cells against an independent recount (tests/analytics/truth.py);
the attacker test subtracts every published child from every published parent and looks at what is left.
"""

import random

import pandas as pd
import pytest

from daodian.accounts.models import User
from daodian.analytics import privacy, tables
from daodian.analytics.privacy import TOTAL, protect
from daodian.analytics.service import MERCHANT_REPORTS, Analytics, Params
from tests.analytics import truth
from tests.factories import principal_of

K = 10


def _cells(*rows) -> pd.DataFrame:
    return pd.DataFrame([dict(row=r, node=n, consumers=c, weight=w) for r, n, c, w in rows])


def _suppressed(cells: pd.DataFrame, parent_of=privacy.no_parent) -> set[tuple[str, str]]:
    flags, _ = protect(cells, K, parent_of)
    return {(r, n) for (r, n), s in zip(zip(cells["row"], cells["node"]), flags) if s}


# --- the rules on small tables ----------------------------------------------------------------------------


def test_a_total_and_all_but_one_item_is_a_differencing_pair_and_is_caught():
    cells = _cells((TOTAL, "all", 44, 900), ("item:a", "all", 12, 300), ("item:b", "all", 2, 100),
                   ("item:c", "all", 30, 500))
    # total - a - c would be b (2 consumers): the smallest publishable item goes too.
    assert _suppressed(cells) == {("item:b", "all"), ("item:a", "all")}


def test_two_small_cells_still_need_a_big_one_beside_them():
    cells = _cells((TOTAL, "all", 50, 900), ("item:a", "all", 3, 10), ("item:b", "all", 4, 10),
                   ("item:c", "all", 20, 500), ("item:d", "all", 23, 380))
    assert _suppressed(cells) == {("item:a", "all"), ("item:b", "all"), ("item:c", "all")}


def test_a_month_minus_its_days_is_caught_in_the_time_tree():
    cells = _cells((TOTAL, "all", 40, 0), (TOTAL, "year:2024-01-01", 40, 0), (TOTAL, "month:2024-03-01", 40, 0),
                   (TOTAL, "week:2024-03-04", 40, 0), (TOTAL, "day:2024-03-04", 25, 50),
                   (TOTAL, "day:2024-03-05", 3, 10), (TOTAL, "day:2024-03-06", 14, 40))
    hidden = _suppressed(cells, privacy.time_parent)
    assert (TOTAL, "day:2024-03-05") in hidden and (TOTAL, "day:2024-03-06") in hidden
    assert (TOTAL, "month:2024-03-01") not in hidden  # the month itself is a big enough figure


def test_a_suppressed_parent_is_not_the_sum_of_published_children():
    # The week is suppressed as a complement elsewhere; its days must not all be published.
    cells = _cells(("item:x", "week:2024-03-04", 30, 100), ("item:x", "day:2024-03-04", 15, 40),
                   ("item:x", "day:2024-03-05", 15, 60), ("item:y", "week:2024-03-04", 2, 1),
                   (TOTAL, "week:2024-03-04", 32, 101))
    hidden = _suppressed(cells, lambda n: "week:2024-03-04" if n.startswith("day:") else None)
    assert ("item:x", "week:2024-03-04") in hidden  # complement of item:y under the total
    assert {("item:x", "day:2024-03-04"), ("item:x", "day:2024-03-05")} <= hidden


def test_an_only_child_is_its_parent():
    cells = _cells((TOTAL, "all", 12, 0), ("store:1", "all", 12, 0), ("item:a", "all", 5, 1), ("item:b", "all", 11, 9))
    assert _suppressed(cells) == {("item:a", "all"), ("item:b", "all")}
    only = _cells((TOTAL, "all", 3, 0), ("store:1", "all", 3, 0))
    assert _suppressed(only) == {(TOTAL, "all"), ("store:1", "all")}


def test_time_buckets_nest_weeks_are_cut_at_month_ends():
    assert privacy.time_parent("day:2024-03-31") == "week:2024-03-25"
    assert privacy.time_parent("day:2024-04-02") == "week:2024-04-01"  # Monday 1 April
    assert privacy.time_parent("day:2024-05-01") == "week:2024-05-01"  # a Wednesday: the week is cut
    assert privacy.time_parent("week:2024-05-01") == "month:2024-05-01"


# --- on generated data ------------------------------------------------------------------------------------


@pytest.fixture
def guard(exported, analytics_settings, db):
    analytics = Analytics(analytics_settings)
    owner = principal_of(db, db.get(User, exported.owner))
    return analytics, owner


def _random_params(rng: random.Random, name: str, merchant_id: int) -> Params:
    period = rng.choice(["all", "2024", "2025", *(f"2024-{m:02d}" for m in range(1, 13))])
    item = rng.choice([None, None, f"sku:{merchant_id * 1000 + rng.randint(1, 12)}", "refund:0", "discount:0"])
    return Params(grain=rng.choice(["day", "week", "month"]), period=period, item=item if name == "sales" else None,
                  limit=rng.choice([5, 20, 200]), window_days=rng.choice([7, 30, 90]),
                  as_of=rng.choice([None, pd.Timestamp("2024-09-30").date(), pd.Timestamp("2024-05-15").date()]))


def test_a_thousand_random_queries_show_no_cell_under_k(guard, exported, db):
    analytics, owner = guard
    lines = truth.sales_lines(db)
    rng = random.Random(2024)
    published = 0
    for _ in range(1000):
        merchant_id = rng.choice(exported.merchants)
        name = rng.choice(MERCHANT_REPORTS)
        params = _random_params(rng, name, merchant_id)
        report = analytics.merchant_report(db, owner, merchant_id, name, params)
        for row in report.rows:
            if row.get("suppressed") or (row.get("withheld") == "issued,claimed,redeemed"):
                continue
            for column in ("customers", "members", "followers", "converted"):
                if row.get(column) is not None and not (column == "converted" and row[column] == 0):
                    assert row[column] >= K, (name, params, row)
            if name in ("sales", "stores", "sku-ranking"):
                published += 1
                _recount(lines, merchant_id, name, params, row)
    assert published > 300, "the random queries published something to check"


def _recount(lines: pd.DataFrame, merchant_id: int, name: str, params: Params, row: dict) -> None:
    """An independent count of distinct parties behind one published sales cell."""
    if name == "sku-ranking":
        first, last = truth.bucket_days("month" if len(params.period) == 7 else "year", params.period + "-01" * (
            3 - len(params.period.split("-"))) if params.period != "all" else "all")
        found = truth.parties(lines, merchant_id=merchant_id, first=first, last=last,
                              item=f"{row['item_type']}:{row['item_id']}")
    else:
        if row["bucket"] == "total":
            level = {4: "year", 7: "month"}.get(len(params.period), "all")
            bucket = "all" if level == "all" else params.period + "-01" * (3 - len(params.period.split("-")))
        else:
            level, bucket = params.grain, row["bucket"]
        first, last = truth.bucket_days(level, bucket)
        found = truth.parties(lines, merchant_id=merchant_id, first=first, last=last, item=params.item,
                              store_id=row.get("store_id"))
    assert len(found) == row["customers"] >= K, (name, params, row, len(found))


def test_no_published_parent_minus_its_published_children_isolates_fewer_than_k(guard, exported, db):
    """The attacker: for every parent figure shown, subtract the children shown; what is left must be two
    or more withheld cells covering at least k people (counted independently)."""
    analytics, _ = guard
    lines = truth.sales_lines(db)
    checked = 0
    for merchant_id in exported.merchants:
        table = analytics._table("sales", merchant_id, lambda e, m=merchant_id: tables.sales(e, m, K))
        if table.empty:
            continue
        cells = {(r, n): s for r, n, s in zip(table["row"], table["node"], table["suppressed"])}
        groups: dict[tuple, list[tuple[str, str]]] = {}
        for row, node in cells:
            parent = privacy.time_parent(node)
            if parent is not None:
                groups.setdefault((row, parent), []).append((row, node))
            if row != TOTAL:
                groups.setdefault((f"family:{privacy.family_of(row)}", node), []).append((row, node))
        for key, children in groups.items():
            parent = (TOTAL, key[1]) if key[0].startswith("family:") else key
            hidden = [c for c in children if cells[c]]
            if cells.get(parent, True) or not hidden:
                continue  # nothing to subtract from, or nothing withheld
            checked += 1
            assert len(hidden) >= 2, (merchant_id, parent, hidden)
            union = set()
            for row, node in hidden:
                level, bucket = (node.split(":", 1) + ["all"])[:2] if node != "all" else ("all", "all")
                first, last = truth.bucket_days(level, bucket)
                item = row.split(":", 1)[1] if row.startswith("item:") else None
                store = int(row.split(":")[1]) if row.startswith("store:") else None
                union |= truth.parties(lines, merchant_id=merchant_id, first=first, last=last, item=item, store_id=store)
            assert len(union) >= K, (merchant_id, parent, hidden, len(union))
    assert checked > 50
