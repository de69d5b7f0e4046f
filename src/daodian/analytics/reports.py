"""The merchant-facing reports: selections from the protected tables (analytics.tables), never new sums.

A report is columns and rows of plain values (JSON and CSV alike). Suppressed figures are null, with
`suppressed` true; totals are cells of the same protected table, not sums of the rows shown.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from daodian.analytics import privacy
from daodian.analytics.privacy import TOTAL

GRAINS = {"day": "day", "week": "week", "month": "month"}
PERIOD = re.compile(r"^(all|\d{4}|\d{4}-(0[1-9]|1[0-2]))$")


@dataclass
class Report:
    name: str
    columns: list[str]
    rows: list[dict[str, Any]]
    notes: dict[str, Any] = field(default_factory=dict)

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=self.columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({c: "" if row.get(c) is None else row[c] for c in self.columns})
        return out.getvalue()


def period_node(period: str) -> str:
    if not PERIOD.match(period):
        raise ValueError("period must be all, YYYY or YYYY-MM")
    if period == "all":
        return "all"
    return f"year:{period}-01-01" if len(period) == 4 else f"month:{period}-01"


def _within(node: str, ancestor: str) -> bool:
    while node is not None:
        if node == ancestor:
            return True
        node = privacy.time_parent(node)
    return False


def _value(v: Any) -> Any:
    if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)):
        return None
    return int(v) if hasattr(v, "__int__") and not isinstance(v, (bool, str)) else v


def _bucket(node: str) -> str:
    return node.split(":", 1)[1] if ":" in node else node


def _series(table: pd.DataFrame, rows: set[str], grain: str, period: str) -> pd.DataFrame:
    top = period_node(period)
    level = GRAINS[grain]
    picked = table[table["row"].isin(rows)]
    mask = pd.Series([(node == top) or (node.startswith(level + ":") and _within(node, top))
                      for node in picked["node"]], index=picked.index, dtype=bool)
    picked = picked[mask].copy()
    picked["is_total"] = picked["node"] == top
    return picked.sort_values(["row", "is_total", "node"])


SALES_COLUMNS = ["bucket", "amount_fen", "quantity", "purchases", "customers", "suppressed"]


def _sales_row(r, bucket: str) -> dict:
    return {"bucket": bucket, "amount_fen": _value(r.amount_fen), "quantity": _value(r.quantity),
            "purchases": _value(r.purchases), "customers": _value(r.consumers), "suppressed": bool(r.suppressed)}


def sales(table: pd.DataFrame, *, grain: str, period: str, item: str | None) -> Report:
    """The merchant total (or one item's) per day, week or month within a period, then the period's total."""
    row = TOTAL if item is None else f"item:{item}"
    picked = _series(table, {row}, grain, period)
    rows = [_sales_row(r, "total" if r.is_total else _bucket(r.node)) for r in picked.itertuples()]
    return Report("sales", SALES_COLUMNS, rows, {"grain": grain, "period": period, "item": item})


def stores(table: pd.DataFrame, *, grain: str, period: str, names: dict[int, str]) -> Report:
    store_rows = {r for r in table["row"].unique() if r.startswith("store:")} | {TOTAL}
    picked = _series(table, store_rows, grain, period)
    rows = []
    for r in picked.itertuples():
        store_id = None if r.row == TOTAL else int(r.row.split(":")[1])
        rows.append({"store_id": store_id, "store": names.get(store_id, "") if store_id else "",
                     **_sales_row(r, "total" if r.is_total else _bucket(r.node))})
    return Report("stores", ["store_id", "store"] + SALES_COLUMNS, rows, {"grain": grain, "period": period})


def sku_ranking(table: pd.DataFrame, *, period: str, limit: int, names: dict[str, str]) -> Report:
    """Items by net sales in a period. Suppressed items are counted, not listed (their names would say
    that few people bought them)."""
    top = period_node(period)
    at_top = table[table["node"] == top]  # first the period's cells: the pattern then runs on few rows
    items = at_top[at_top["row"].str.match(r"^item:(sku|service):")]
    shown = items[~items["suppressed"]].sort_values(["amount_fen", "row"], ascending=[False, True]).head(limit)
    rows = []
    for rank, r in enumerate(shown.itertuples(), start=1):
        _, item_type, item_id = r.row.split(":")
        rows.append({"rank": rank, "item_type": item_type, "item_id": int(item_id),
                     "name": names.get(f"{item_type}:{item_id}", ""), "amount_fen": _value(r.amount_fen),
                     "quantity": _value(r.quantity), "purchases": _value(r.purchases), "customers": _value(r.consumers)})
    columns = ["rank", "item_type", "item_id", "name", "amount_fen", "quantity", "purchases", "customers"]
    return Report("sku-ranking", columns, rows, {"period": period, "withheld": int(items["suppressed"].sum())})


STAGES = ("issued", "claimed", "redeemed")


def coupon_funnel(table: pd.DataFrame) -> Report:
    """Per campaign and store (null: all), each stage's coupons; revenue of the redeemed ones."""
    rows: dict[tuple, dict] = {}
    for r in table.itertuples():
        campaign = None if r.row == TOTAL else int(r.row.split(":")[1])
        store = None if r.node == "all" else int(r.node.split(":")[1])
        row = rows.setdefault((campaign is None, campaign or 0, store is None, store or 0), {
            "campaign_id": campaign, "store_id": store, **{s: None for s in STAGES}, "revenue_fen": None,
            "withheld": []})
        row[r.stage] = _value(r.coupons)
        if r.stage == "redeemed":
            row["revenue_fen"] = _value(r.revenue_fen)
        if r.suppressed:
            row["withheld"].append(r.stage)
    out = [{**row, "withheld": ",".join(row["withheld"])} for _, row in sorted(rows.items())]
    return Report("coupon-funnel", ["campaign_id", "store_id", *STAGES, "revenue_fen", "withheld"], out)


def coupon_attribution(table: pd.DataFrame) -> Report:
    rows = [{"campaign_id": None if r.row == TOTAL else int(r.row.split(":")[1]), "coupons": _value(r.coupons),
             "customers": _value(r.consumers), "revenue_fen": _value(r.revenue_fen), "suppressed": bool(r.suppressed)}
            for r in table.sort_values("row").itertuples()]
    return Report("coupon-attribution", ["campaign_id", "coupons", "customers", "revenue_fen", "suppressed"], rows)


def follow_attribution(table: pd.DataFrame, window_days: int) -> Report:
    rows = [{"follow_month": None if r.row == TOTAL else r.row.split(":", 1)[1], "followers": _value(r.followers),
             "converted": _value(r.converted), "new_customers": _value(r.new_customers),
             "purchases": _value(r.purchases), "revenue_fen": _value(r.revenue_fen),
             "suppressed": bool(r.followers_suppressed or r.buyers_suppressed)}
            for r in table.sort_values("row").itertuples()]
    columns = ["follow_month", "followers", "converted", "new_customers", "purchases", "revenue_fen", "suppressed"]
    return Report("follow-attribution", columns, rows, {"window_days": window_days})


def retention(table: pd.DataFrame) -> Report:
    cohorts = table[table["row"] != TOTAL].copy()
    cohorts["offset"] = cohorts["node"].str[1:].astype(int)
    size = {r.row: r.members for r in cohorts[cohorts["offset"] == 0].itertuples()}
    rows = []
    for r in cohorts.sort_values(["row", "offset"]).itertuples():
        base = size.get(r.row)
        members = _value(r.members)
        rate = round(members / base, 4) if members is not None and base is not None and not pd.isna(base) else None
        rows.append({"cohort": r.row.split(":", 1)[1], "month_offset": int(r.offset), "members": members,
                     "rate": rate, "suppressed": bool(r.suppressed)})
    total = table[table["row"] == TOTAL]
    notes = {"members": _value(total["members"].iloc[0]) if len(total) else 0}
    return Report("retention", ["cohort", "month_offset", "members", "rate", "suppressed"], rows, notes)


def segments(table: pd.DataFrame, as_of: str) -> Report:
    rows = [{"segment": r.segment or "total", "members": _value(r.members), "suppressed": bool(r.suppressed)}
            for r in table.itertuples()]
    return Report("segments", ["segment", "members", "suppressed"], rows, {"as_of": as_of})


def from_frame(name: str, frame: pd.DataFrame) -> Report:
    """Operator reports: the query's rows as they are (no consumer-level data in them)."""
    rows = [{c: (v.isoformat() if hasattr(v, "isoformat") else _value(v)) for c, v in zip(frame.columns, values)}
            for values in frame.itertuples(index=False)]
    return Report(name, list(frame.columns), rows)
