"""The named analytics queries, written once in the SQL that DuckDB and Spark SQL both accept.

Each query is a function (params, dialect) -> SQL text over three views every engine defines the same
way: `facts` and `lines` (the Parquet datasets, rows up to the export watermark) and the views below.
Where the dialects differ (day arithmetic), the `Dialect` supplies the expression. Parameters are
validated and typed before they are written into the text, never copied from a request as they are.

A grand total over no rows is one row in DuckDB and none in Spark: queries with grouping sets say
`HAVING COUNT(*) > 0`, so both answer nothing for nothing.

`party` is the identified consumer (a member, or the account of an online order), NULL for an anonymous
receipt; every `consumers` figure counts identified consumers only (COUNT(party), COUNT(DISTINCT party)
skip NULL), so the privacy guard's k is k people we know apart, never k receipts of one walk-in crowd.
Anonymous receipts still add to amounts, quantities and purchases.

Money figures are integer fen (or the record's currency's minor unit: pence for GBP); a merchant trades
in one currency, which the cube reports as `currency`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from daodian.analytics.dialects import Dialect

SEGMENTS = ("new", "won_back", "active", "at_risk", "churned")


# --- views shared by the queries ---------------------------------------------------------------------

SALES_VIEW = """
CREATE OR REPLACE TEMP VIEW sales AS
SELECT merchant_id, store_id, consumer_id, consumer_id AS party, fact_id AS event_id,
       'offline' AS channel, occurred_at, local_date, item_type, COALESCE(item_id, CAST(0 AS BIGINT)) AS item_id,
       CASE WHEN kind = 'consumption.refunded' THEN -quantity ELSE quantity END AS quantity,
       CASE WHEN kind = 'consumption.refunded' THEN -amount_fen ELSE amount_fen END AS amount_fen,
       CASE WHEN kind = 'consumption.refunded' THEN 0 ELSE 1 END AS is_purchase,
       COALESCE(currency, 'CNY') AS currency
FROM lines WHERE kind IN ('consumption.recorded', 'consumption.refunded')
UNION ALL
SELECT p.merchant_id, COALESCE(p.store_id, o.store_id), o.consumer_id, o.consumer_id, p.fact_id,
       'online', p.occurred_at, p.local_date, o.item_type, COALESCE(o.item_id, CAST(0 AS BIGINT)), o.quantity,
       o.amount_fen, 1, 'CNY'
FROM lines o JOIN facts p ON p.kind = 'order.paid' AND p.order_id = o.order_id
WHERE o.kind = 'order.created'
UNION ALL
SELECT p.merchant_id, p.store_id, p.consumer_id, p.consumer_id, p.fact_id, 'online',
       p.occurred_at, p.local_date, 'discount', CAST(0 AS BIGINT), CAST(0 AS BIGINT), p.amount_fen - s.lines_fen, 0, 'CNY'
FROM facts p JOIN (SELECT order_id, SUM(amount_fen) AS lines_fen FROM lines WHERE kind = 'order.created'
                   GROUP BY order_id) s ON s.order_id = p.order_id
WHERE p.kind = 'order.paid' AND p.amount_fen <> s.lines_fen
UNION ALL
SELECT merchant_id, store_id, consumer_id, consumer_id, fact_id, 'online', occurred_at, local_date,
       'refund', CAST(0 AS BIGINT), CAST(0 AS BIGINT), -amount_fen, 0, 'CNY'
FROM facts WHERE kind = 'order.refunded'
"""
# Weeks run Monday to Sunday but are cut at month ends, so that days nest in weeks, weeks in months and
# months in years: the privacy guard protects one tree of buckets (analytics.privacy).
BUCKETS_VIEW = """
CREATE OR REPLACE TEMP VIEW sales_b AS
SELECT s.*, local_date AS day,
       GREATEST(CAST(date_trunc('week', local_date) AS DATE), CAST(date_trunc('month', local_date) AS DATE)) AS week,
       CAST(date_trunc('month', local_date) AS DATE) AS mon, CAST(date_trunc('year', local_date) AS DATE) AS yr
FROM sales s
"""
VIEWS = (SALES_VIEW, BUCKETS_VIEW)
LEVELS = ("day", "week", "mon", "yr")


@dataclass(frozen=True)
class Query:
    name: str
    build: Callable[[dict, Dialect], str]
    params: Callable[[dict], dict]
    description: str


def _merchant_filter(params: dict, column: str = "merchant_id") -> str:
    merchant_id = params.get("merchant_id")
    return "1 = 1" if merchant_id is None else f"{column} = {int(merchant_id)}"


def _merchant(params: dict) -> dict:
    out = {"merchant_id": None if params.get("merchant_id") is None else int(params["merchant_id"])}
    return out


def _merchant_required(params: dict) -> dict:
    return {"merchant_id": int(params["merchant_id"])}


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


# --- sales: per SKU / service item, per store and in total, at every bucket level ----------------------


def sales_cube(p: dict, d: Dialect) -> str:
    """Every cell the sales dashboards publish, per merchant (one, or all for the job's pre-aggregate,
    analytics.marts): item rows, store rows and the total row, at day, week, month, year and all-time
    buckets. `consumers` counts distinct identified consumers (anonymous receipts count none), `purchases`
    distinct purchase events.

    Two steps instead of COUNT(DISTINCT) in every grouping set: rows are first reduced to one per (item or
    store, bucket, party, event); an event belongs to one party, so a cell's purchases are the sum over its
    parties and its consumers the number of its identified party rows (the anonymous ones group under NULL)."""
    lv = ", ".join(LEVELS)
    item_sets = [f"(merchant_id, item_type, item_id, {level}, party)" for level in LEVELS] + [
        "(merchant_id, item_type, item_id, party)"]
    store_sets = ([f"(merchant_id, store_key, {level}, party)" for level in LEVELS] + ["(merchant_id, store_key, party)"]
                  + [f"(merchant_id, {level}, party)" for level in LEVELS] + ["(merchant_id, party)"])
    sums = ("CAST(SUM(amount_fen) AS BIGINT) AS amount_fen, CAST(SUM(quantity) AS BIGINT) AS quantity, "
            "{purchases} AS purchases, MAX(currency) AS currency")
    per_event, per_party = sums.format(purchases="MAX(is_purchase)"), sums.format(purchases="SUM(purchases)")
    return f"""
WITH x AS (SELECT s.*, COALESCE(store_id, CAST(0 AS BIGINT)) AS store_key FROM sales_b s WHERE {_merchant_filter(p)}),
per_item AS (SELECT merchant_id, item_type, item_id, {lv}, party, event_id, {per_event}
             FROM x GROUP BY merchant_id, item_type, item_id, {lv}, party, event_id),
per_event AS (SELECT merchant_id, store_key, {lv}, party, event_id, {per_event}
              FROM x GROUP BY merchant_id, store_key, {lv}, party, event_id),
cells AS (
  SELECT merchant_id, item_type, item_id, CAST(NULL AS BIGINT) AS store_key, {lv}, party, {per_party}
  FROM per_item GROUP BY GROUPING SETS ({', '.join(item_sets)})
  UNION ALL
  SELECT merchant_id, CAST(NULL AS STRING), CAST(NULL AS BIGINT), store_key, {lv}, party, {per_party}
  FROM per_event GROUP BY GROUPING SETS ({', '.join(store_sets)}))
SELECT merchant_id,
       CASE WHEN item_type IS NOT NULL THEN 'item' WHEN store_key IS NOT NULL THEN 'store' ELSE 'total' END AS family,
       item_type, item_id, store_key AS store_id,
       CASE WHEN day IS NOT NULL THEN 'day' WHEN week IS NOT NULL THEN 'week' WHEN mon IS NOT NULL THEN 'month'
            WHEN yr IS NOT NULL THEN 'year' ELSE 'all' END AS level,
       COALESCE(day, week, mon, yr, DATE '1970-01-01') AS bucket,
       CAST(SUM(amount_fen) AS BIGINT) AS amount_fen, CAST(SUM(quantity) AS BIGINT) AS quantity,
       CAST(SUM(purchases) AS BIGINT) AS purchases, COUNT(party) AS consumers, MAX(currency) AS currency
FROM cells GROUP BY merchant_id, item_type, item_id, store_key, {lv}
"""


def sku_sales(p: dict, d: Dialect) -> str:
    """Per SKU (or service item) amount and quantity per day, week or month (unprotected: operator, jobs)."""
    column = {"day": "day", "week": "week", "month": "mon"}[p["grain"]]
    return f"""
SELECT merchant_id, item_type, item_id, {column} AS bucket, CAST(SUM(amount_fen) AS BIGINT) AS amount_fen,
       CAST(SUM(quantity) AS BIGINT) AS quantity, COUNT(DISTINCT party) AS consumers
FROM sales_b WHERE {_merchant_filter(p)} AND item_type IN ('sku', 'service')
GROUP BY merchant_id, item_type, item_id, {column}
"""


def _grain(params: dict) -> dict:
    grain = params.get("grain", "day")
    if grain not in ("day", "week", "month"):
        raise ValueError("grain must be day, week or month")
    return {**_merchant(params), "grain": grain}


# --- coupons: the funnel and the online -> offline attribution ----------------------------------------

_COUPON_EVENTS = """
ev AS (SELECT fact_id, kind, COALESCE(campaign_id, CAST(0 AS BIGINT)) AS campaign_id,
              COALESCE(store_id, CAST(0 AS BIGINT)) AS store_id, coupon_id, consumer_id AS party,
              order_id, record_id, channel, place, amount_fen
       FROM facts WHERE {where} AND kind IN ('coupon.issued', 'coupon.claimed', 'coupon.used', 'coupon.restored',
                                            'coupon.voided')),
used AS (SELECT u.* FROM ev u WHERE u.kind = 'coupon.used' AND NOT EXISTS (
           SELECT 1 FROM ev r WHERE r.kind IN ('coupon.restored', 'coupon.voided') AND r.coupon_id = u.coupon_id
                                AND r.fact_id > u.fact_id)),
paid AS (SELECT order_id, MAX(amount_fen) AS amount_fen FROM facts WHERE {where} AND kind = 'order.paid'
         GROUP BY order_id),
recorded AS (SELECT record_id, MAX(amount_fen) AS amount_fen FROM facts WHERE {where} AND kind = 'consumption.recorded'
             GROUP BY record_id),
redeemed AS (SELECT u.fact_id, u.campaign_id, u.store_id, u.coupon_id, u.party, u.place,
                    COALESCE(o.amount_fen, c.amount_fen, u.amount_fen, CAST(0 AS BIGINT)) AS revenue_fen FROM used u
             LEFT JOIN paid o ON o.order_id = u.order_id LEFT JOIN recorded c ON c.record_id = u.record_id)
"""


def coupon_funnel(p: dict, d: Dialect) -> str:
    """Issued -> claimed -> redeemed -> revenue, per campaign (0: no campaign) and store (0: no store),
    each stage counted at the store of its own event; redemptions undone by a refund do not count.
    A coupon reaches a consumer either pushed (coupon.issued) or taken (coupon.claimed), see
    analytics.contract: "issued" counts both, "claimed" the taken ones."""
    events = _COUPON_EVENTS.format(where=_merchant_filter(p))
    return f"""
WITH {events},
stages AS (
  SELECT 'issued' AS stage, campaign_id, store_id, coupon_id, party, CAST(0 AS BIGINT) AS revenue_fen
  FROM ev WHERE kind IN ('coupon.issued', 'coupon.claimed')
  UNION ALL
  SELECT 'claimed', campaign_id, store_id, coupon_id, party, CAST(0 AS BIGINT) FROM ev WHERE kind = 'coupon.claimed'
  UNION ALL
  SELECT 'redeemed', campaign_id, store_id, coupon_id, party, revenue_fen FROM redeemed)
SELECT stage, campaign_id, store_id, COUNT(DISTINCT coupon_id) AS coupons, COUNT(DISTINCT party) AS consumers,
       CAST(SUM(revenue_fen) AS BIGINT) AS revenue_fen
FROM stages GROUP BY GROUPING SETS ((stage, campaign_id, store_id), (stage, campaign_id), (stage, store_id), (stage))
HAVING COUNT(*) > 0
"""


def coupon_attribution(p: dict, d: Dialect) -> str:
    """Online campaigns -> offline sales: coupons claimed online and redeemed at the counter, with the
    revenue of the consumption records they were redeemed on, per campaign."""
    events = _COUPON_EVENTS.format(where=_merchant_filter(p))
    return f"""
WITH {events},
online AS (SELECT coupon_id, MIN(fact_id) AS claimed_fact FROM ev WHERE kind = 'coupon.claimed' AND channel = 'online'
           GROUP BY coupon_id)
SELECT r.campaign_id, COUNT(DISTINCT r.coupon_id) AS coupons, COUNT(DISTINCT r.party) AS consumers,
       CAST(SUM(r.revenue_fen) AS BIGINT) AS revenue_fen
FROM redeemed r JOIN online o ON o.coupon_id = r.coupon_id AND o.claimed_fact < r.fact_id
WHERE r.place = 'counter'
GROUP BY GROUPING SETS ((r.campaign_id), ())
HAVING COUNT(*) > 0
"""


def follow_attribution(p: dict, d: Dialect) -> str:
    """Follows -> visits: per month of the first follow, the followers, and those who bought at the
    merchant after following, within `window_days` (purchases and revenue counted in that window)."""
    where, window = _merchant_filter(p), int(p["window_days"])
    return f"""
WITH f AS (SELECT consumer_id, MIN(occurred_at) AS followed_at, MIN(local_date) AS follow_day
           FROM facts WHERE {where} AND kind = 'follow.created' AND consumer_id IS NOT NULL GROUP BY consumer_id),
buys AS (SELECT consumer_id, event_id, MIN(occurred_at) AS bought_at, MIN(local_date) AS day, SUM(amount_fen) AS amount_fen
         FROM sales WHERE {where} AND is_purchase = 1 AND consumer_id IS NOT NULL GROUP BY consumer_id, event_id),
firsts AS (SELECT consumer_id, MIN(bought_at) AS first_at FROM buys GROUP BY consumer_id),
per AS (SELECT f.consumer_id, CAST(date_trunc('month', f.follow_day) AS DATE) AS follow_month,
               COUNT(b.event_id) AS purchases, CAST(COALESCE(SUM(b.amount_fen), 0) AS BIGINT) AS revenue_fen,
               MAX(CASE WHEN fi.first_at > f.followed_at THEN 1 ELSE 0 END) AS new_customer
        FROM f LEFT JOIN buys b ON b.consumer_id = f.consumer_id AND b.bought_at > f.followed_at
                                 AND b.day <= {d.add_days('f.follow_day', window)}
               LEFT JOIN firsts fi ON fi.consumer_id = f.consumer_id
        GROUP BY f.consumer_id, CAST(date_trunc('month', f.follow_day) AS DATE))
SELECT follow_month, COUNT(*) AS followers, SUM(CASE WHEN purchases > 0 THEN 1 ELSE 0 END) AS converted,
       SUM(CASE WHEN purchases > 0 AND new_customer = 1 THEN 1 ELSE 0 END) AS new_customers,
       CAST(SUM(purchases) AS BIGINT) AS purchases, CAST(SUM(revenue_fen) AS BIGINT) AS revenue_fen
FROM per GROUP BY GROUPING SETS ((follow_month), ())
HAVING COUNT(*) > 0
"""


def _window(params: dict) -> dict:
    window = int(params.get("window_days", 30))
    if not 1 <= window <= 366:
        raise ValueError("window_days must be 1..366")
    return {**_merchant_required(params), "window_days": window}


# --- members: cohorts and RFM ----------------------------------------------------------------------------


def retention(p: dict, d: Dialect) -> str:
    """Cohorts by the month of a member's first purchase: how many bought again N months later. Only
    identified members count (anonymous receipts have no later months). cohort NULL: all members."""
    where = _merchant_filter(p)
    return f"""
WITH buyers AS (SELECT DISTINCT consumer_id, CAST(date_trunc('month', local_date) AS DATE) AS mon
                FROM sales WHERE {where} AND is_purchase = 1 AND consumer_id IS NOT NULL),
cohorts AS (SELECT consumer_id, MIN(mon) AS cohort FROM buyers GROUP BY consumer_id)
SELECT c.cohort, (year(b.mon) * 12 + month(b.mon)) - (year(c.cohort) * 12 + month(c.cohort)) AS month_offset,
       COUNT(DISTINCT b.consumer_id) AS consumers
FROM buyers b JOIN cohorts c ON c.consumer_id = b.consumer_id
GROUP BY c.cohort, (year(b.mon) * 12 + month(b.mon)) - (year(c.cohort) * 12 + month(c.cohort))
UNION ALL
SELECT CAST(NULL AS DATE), 0, COUNT(DISTINCT consumer_id) FROM cohorts
"""


def rfm(p: dict, d: Dialect) -> str:
    """Per member and merchant: recency, frequency, monetary, quintile scores 1-5 and the lifecycle
    segment (analytics.rfm documents the rules; these thresholds come from its defaults)."""
    as_of, where = f"DATE '{p['as_of'].isoformat()}'", _merchant_filter(p)
    new, active, churn = int(p["new_days"]), int(p["active_days"]), int(p["churn_days"])
    return f"""
WITH mine AS (SELECT * FROM sales WHERE {where} AND consumer_id IS NOT NULL AND local_date <= {as_of}),
buys AS (SELECT merchant_id, consumer_id, event_id, MIN(local_date) AS day FROM mine WHERE is_purchase = 1
         GROUP BY merchant_id, consumer_id, event_id),
ordered AS (SELECT merchant_id, consumer_id, day,
                   {d.days_between('LAG(day) OVER (PARTITION BY merchant_id, consumer_id ORDER BY day, event_id)', 'day')} AS gap,
                   ROW_NUMBER() OVER (PARTITION BY merchant_id, consumer_id ORDER BY day DESC, event_id DESC) AS newest
            FROM buys),
money AS (SELECT merchant_id, consumer_id, CAST(SUM(amount_fen) AS BIGINT) AS monetary_fen FROM mine
          GROUP BY merchant_id, consumer_id),
base AS (SELECT b.merchant_id, b.consumer_id, MIN(b.day) AS first_purchase_on, MAX(b.day) AS last_purchase_on,
                COUNT(*) AS frequency FROM buys b GROUP BY b.merchant_id, b.consumer_id),
facts_of AS (SELECT b.*, m.monetary_fen, COALESCE(o.gap, 0) AS last_gap,
                    {d.days_between('b.last_purchase_on', as_of)} AS recency_days,
                    {d.days_between('b.first_purchase_on', as_of)} AS tenure_days
             FROM base b JOIN money m ON m.merchant_id = b.merchant_id AND m.consumer_id = b.consumer_id
                         JOIN ordered o ON o.merchant_id = b.merchant_id AND o.consumer_id = b.consumer_id
                                       AND o.newest = 1)
SELECT merchant_id, consumer_id, first_purchase_on, last_purchase_on, recency_days, frequency, monetary_fen,
       NTILE(5) OVER (PARTITION BY merchant_id ORDER BY recency_days DESC, consumer_id) AS r_score,
       NTILE(5) OVER (PARTITION BY merchant_id ORDER BY frequency, consumer_id) AS f_score,
       NTILE(5) OVER (PARTITION BY merchant_id ORDER BY monetary_fen, consumer_id) AS m_score,
       CASE WHEN tenure_days < {new} THEN 'new'
            WHEN recency_days < {active} AND last_gap >= {churn} THEN 'won_back'
            WHEN recency_days < {active} THEN 'active'
            WHEN recency_days < {churn} THEN 'at_risk'
            ELSE 'churned' END AS segment
FROM facts_of
"""


def _rfm(params: dict) -> dict:
    from_params = {k: int(params.get(k, default)) for k, default in
                   (("new_days", 30), ("active_days", 90), ("churn_days", 180))}
    if not 0 < from_params["new_days"] <= from_params["active_days"] < from_params["churn_days"]:
        raise ValueError("need 0 < new_days <= active_days < churn_days")
    return {**_merchant(params), "as_of": _day(params.get("as_of") or date.today()), **from_params}


# --- operator: across merchants --------------------------------------------------------------------------


def merchant_overview(p: dict, d: Dialect) -> str:
    """Per merchant: net sales, purchases, distinct parties and active days (operator dashboard)."""
    return """
SELECT merchant_id, MAX(currency) AS currency, CAST(SUM(amount_fen) AS BIGINT) AS amount_fen,
       COUNT(DISTINCT CASE WHEN is_purchase = 1 THEN event_id END) AS purchases,
       COUNT(DISTINCT party) AS consumers, COUNT(DISTINCT local_date) AS active_days,
       MIN(local_date) AS first_day, MAX(local_date) AS last_day
FROM sales GROUP BY merchant_id
"""


def platform_months(p: dict, d: Dialect) -> str:
    """Per month and currency, across merchants: net sales, purchases, parties, trading merchants."""
    return """
SELECT CAST(date_trunc('month', local_date) AS DATE) AS mon, currency, CAST(SUM(amount_fen) AS BIGINT) AS amount_fen,
       COUNT(DISTINCT CASE WHEN is_purchase = 1 THEN event_id END) AS purchases, COUNT(DISTINCT party) AS consumers,
       COUNT(DISTINCT merchant_id) AS merchants
FROM sales GROUP BY CAST(date_trunc('month', local_date) AS DATE), currency
"""


def fact_kinds(p: dict, d: Dialect) -> str:
    """How many facts of each kind the Parquet holds, and their time span."""
    return """
SELECT kind, COUNT(*) AS facts, MIN(local_date) AS first_day, MAX(local_date) AS last_day FROM facts GROUP BY kind
"""


QUERIES: dict[str, Query] = {q.name: q for q in (
    Query("sales_cube", sales_cube, _merchant, "Sales per item, store and total at every bucket level."),
    Query("sku_sales", sku_sales, _grain, "Per-SKU amount and quantity per day, week or month."),
    Query("coupon_funnel", coupon_funnel, _merchant_required, "Coupons issued -> claimed -> redeemed -> revenue."),
    Query("coupon_attribution", coupon_attribution, _merchant_required, "Claimed online, redeemed at the counter."),
    Query("follow_attribution", follow_attribution, _window, "Follows followed by a purchase."),
    Query("retention", retention, _merchant_required, "Cohort retention by first-purchase month."),
    Query("rfm", rfm, _rfm, "RFM scores and lifecycle segments per member."),
    Query("merchant_overview", merchant_overview, lambda p: {}, "Per merchant totals (operator)."),
    Query("platform_months", platform_months, lambda p: {}, "Per month totals across merchants (operator)."),
    Query("fact_kinds", fact_kinds, lambda p: {}, "Facts per kind."),
)}


def render(name: str, params: dict, dialect: Dialect) -> str:
    """The SQL of query `name` for `dialect`, with validated parameters (KeyError for an unknown name)."""
    query = QUERIES[name]
    return query.build(query.params(params), dialect)
