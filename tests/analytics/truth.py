"""An independent recount, in plain pandas from the facts table, of who bought what where and when: the
privacy tests check the guard's published cells against it, not against the SQL they test."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from daodian.kit.facts import Fact

SHANGHAI = ZoneInfo("Asia/Shanghai")


def sales_lines(db: Session) -> pd.DataFrame:
    """One row per sold or returned line: merchant, store, party (the identified consumer, None for an
    anonymous receipt), local day, item, signed amount."""
    facts = db.execute(select(Fact.id, Fact.kind, Fact.occurred_at, Fact.merchant_id, Fact.store_id,
                              Fact.consumer_id, Fact.payload)).all()
    created = {f.payload["order_id"]: f for f in facts if f.kind == "order.created"}
    rows = []
    for f in facts:
        day = f.occurred_at.astimezone(SHANGHAI).date()
        if f.kind in ("consumption.recorded", "consumption.refunded"):
            sign = -1 if f.kind == "consumption.refunded" else 1
            rows += [(f.merchant_id, f.store_id, f.consumer_id, day, f"sku:{ln['sku_id']}", sign * ln["amount_fen"])
                     for ln in f.payload["lines"]]
        elif f.kind == "order.paid":
            order = created[f.payload["order_id"]]
            lines = order.payload["lines"]
            rows += [(f.merchant_id, f.store_id, f.consumer_id, day, f"sku:{ln['sku_id']}", ln["amount_fen"])
                     for ln in lines]
            gap = f.payload["amount_fen"] - sum(ln["amount_fen"] for ln in lines)
            if gap:
                rows.append((f.merchant_id, f.store_id, f.consumer_id, day, "discount:0", gap))
        elif f.kind == "order.refunded":
            rows.append((f.merchant_id, f.store_id, f.consumer_id, day, "refund:0", -f.payload["amount_fen"]))
    return pd.DataFrame(rows, columns=["merchant_id", "store_id", "party", "day", "item", "amount_fen"])


def bucket_days(level: str, bucket: str) -> tuple[date, date]:
    """[first, last] day of a bucket as the reports name it ("all", a day, a clipped week, month, year)."""
    if bucket in ("all", "total"):
        return date.min, date.max
    start = date.fromisoformat(bucket)
    if level == "day":
        return start, start
    if level == "week":
        end = start + timedelta(days=6 - start.weekday())
        month_end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return start, min(end, month_end)
    if level == "month":
        return start, (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return start, start.replace(month=12, day=31)


def parties(lines: pd.DataFrame, *, merchant_id: int, first: date, last: date, item: str | None = None,
            store_id: int | None = None) -> set[int]:
    mask = (lines["merchant_id"] == merchant_id) & (lines["day"] >= first) & (lines["day"] <= last)
    if item is not None:
        mask &= lines["item"] == item
    if store_id is not None:
        mask &= lines["store_id"] == store_id
    return set(lines.loc[mask, "party"].dropna().astype("int64"))  # identified consumers: anonymous receipts are nobody
