"""Query results -> protected tables: every cell a merchant can see, with its suppression decided once.

Each function runs one named query for one merchant and returns a frame of cells (row, node, measures,
consumers, suppressed). The reports (analytics.reports) only select from these frames, so the same
figure has the same fate in every chart, CSV and API answer.
"""

from datetime import date

import pandas as pd

from daodian.analytics import privacy
from daodian.analytics.engines import Engine
from daodian.analytics.privacy import TOTAL
from daodian.analytics.rfm import Segment, Thresholds

SALES_MEASURES = ("amount_fen", "quantity", "purchases", "consumers")


def _protected(cells: pd.DataFrame, k: int, parent_of, measures: tuple[str, ...], weight: str) -> pd.DataFrame:
    cells = cells.reset_index(drop=True)
    suppressed, _ = privacy.protect(cells.assign(weight=cells[weight]), k, parent_of)
    return privacy.apply(cells, suppressed, measures)


def sales(engine: Engine, merchant_id: int, k: int) -> pd.DataFrame:
    """Items (SKUs, service items, and the `refund`/`discount` adjustments of online orders), stores and
    the merchant total, at every day, week, month, year and all time."""
    return sales_cells(engine.run("sales_cube", {"merchant_id": merchant_id}), k)


def sales_cells(cube: pd.DataFrame, k: int) -> pd.DataFrame:
    """The protected table of one merchant's sales cube (the `sales_cube` query's rows; left unchanged)."""
    if cube.empty:
        return cube.assign(row=[], node=[], suppressed=[])
    family = cube["family"]
    cube = cube.assign(
        row=[TOTAL if f == "total" else (f"item:{t}:{i}" if f == "item" else f"store:{s}")
             for f, t, i, s in zip(family, cube["item_type"], cube["item_id"], cube["store_id"])],
        node=[privacy.time_node(level, bucket) for level, bucket in zip(cube["level"], cube["bucket"])])
    return _protected(cube, k, privacy.time_parent, SALES_MEASURES, "amount_fen")


def funnel(engine: Engine, merchant_id: int, k: int) -> pd.DataFrame:
    """One protected table per stage (issued, claimed, redeemed with its revenue): campaigns x stores."""
    raw = engine.run("coupon_funnel", {"merchant_id": merchant_id})
    parts = []
    for stage in ("issued", "claimed", "redeemed"):
        cells = raw[raw["stage"] == stage].copy()
        if cells.empty:
            continue
        cells["row"] = [TOTAL if pd.isna(c) else f"campaign:{c}" for c in cells["campaign_id"]]
        cells["node"] = ["all" if pd.isna(s) else f"store:{s}" for s in cells["store_id"]]
        weight = "revenue_fen" if stage == "redeemed" else "coupons"
        parts.append(_protected(cells, k, privacy.flat_parent, ("coupons", "consumers", "revenue_fen"), weight))
    return pd.concat(parts, ignore_index=True) if parts else raw.assign(row=[], node=[], suppressed=[])


def coupon_attribution(engine: Engine, merchant_id: int, k: int) -> pd.DataFrame:
    cells = engine.run("coupon_attribution", {"merchant_id": merchant_id})
    cells["row"] = [TOTAL if pd.isna(c) else f"campaign:{c}" for c in cells["campaign_id"]]
    cells["node"] = "all"
    return _protected(cells, k, privacy.no_parent, ("coupons", "consumers", "revenue_fen"), "revenue_fen")


def follow_attribution(engine: Engine, merchant_id: int, k: int, window_days: int) -> pd.DataFrame:
    """Two populations, two tables: the followers, and those of them who then bought."""
    raw = engine.run("follow_attribution", {"merchant_id": merchant_id, "window_days": window_days})
    raw["row"] = [TOTAL if pd.isna(m) else f"month:{m.isoformat()}" for m in raw["follow_month"]]
    raw["node"] = "all"
    followers = _protected(raw.assign(consumers=raw["followers"]), k, privacy.no_parent, ("followers",), "followers")
    buyers = _protected(raw.assign(consumers=raw["converted"]), k, privacy.no_parent,
                        ("converted", "new_customers", "purchases", "revenue_fen"), "revenue_fen")
    out = buyers.drop(columns=["followers"]).rename(columns={"suppressed": "buyers_suppressed"})
    out["followers"] = followers["followers"]
    out["followers_suppressed"] = followers["suppressed"]
    return out


def retention(engine: Engine, merchant_id: int, k: int) -> pd.DataFrame:
    """Cohort x months since the first purchase; cohort sizes (month 0) add up to all members."""
    cells = engine.run("retention", {"merchant_id": merchant_id})
    cells["row"] = [TOTAL if pd.isna(c) else f"cohort:{c.isoformat()}" for c in cells["cohort"]]
    cells["node"] = [f"m{int(o)}" for o in cells["month_offset"]]
    cells["members"] = cells["consumers"]
    return _protected(cells, k, privacy.no_parent, ("members",), "consumers")


def segments(engine: Engine, merchant_id: int, k: int, as_of: date, thresholds: Thresholds) -> pd.DataFrame:
    """Members per lifecycle segment (and in total)."""
    scores = engine.run("rfm", thresholds.params(as_of, merchant_id))
    counts = scores["segment"].value_counts()
    cells = pd.DataFrame({"row": [f"segment:{s.value}" for s in Segment] + [TOTAL],
                          "segment": [s.value for s in Segment] + [None],
                          "members": [int(counts.get(s.value, 0)) for s in Segment] + [len(scores)]})
    cells = cells[cells["members"] > 0]
    cells["node"] = "all"
    cells["consumers"] = cells["members"]
    return _protected(cells, k, privacy.no_parent, ("members",), "members")
