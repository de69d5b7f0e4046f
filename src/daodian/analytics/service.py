"""Analytics rules: who sees which report, from which engine, cached per export.

Merchants see reports of their own facts only (every query is filtered by their merchant id), through
the privacy guard; identities only of members who consented. Operators see totals across merchants.
Protected tables are cached per (export watermark, merchant, k): a new export invalidates them. A table
not in the cache is read from the job's prepared copy when there is one (the big merchants' dashboards,
analytics.prepared), else built by the engine.
"""

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from threading import Lock

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from daodian.accounts import consent
from daodian.accounts.authz import Action, Principal, require_operator
from daodian.accounts.models import User
from daodian.analytics import local_day, marts, prepared, reports, rfm, tables
from daodian.analytics.engines import Engine, open_engine
from daodian.analytics.export import Manifest, pending
from daodian.catalog.models import Product, Sku
from daodian.kit.db import unit_of_work
from daodian.kit.errors import Invalid
from daodian.kit.settings import Settings
from daodian.merchants import service as merchants
from daodian.merchants.models import ServiceItem, Store

MERCHANT_REPORTS = ("sales", "sku-ranking", "stores", "coupon-funnel", "coupon-attribution", "follow-attribution",
                    "retention", "segments")
OPERATOR_REPORTS = {"merchants": "merchant_overview", "months": "platform_months", "facts": "fact_kinds"}
# The protected table each merchant report selects from (analytics.tables); the job prepares every one of
# them for the big merchants, at the dashboard page's parameters.
TABLE_OF = {"sales": "sales", "sku-ranking": "sales", "stores": "sales", "coupon-funnel": "coupon-funnel",
            "coupon-attribution": "coupon-attribution", "follow-attribution": "follow-attribution",
            "retention": "retention", "segments": "segments"}
_CACHE: OrderedDict[tuple, pd.DataFrame] = OrderedDict()
_CACHE_SIZE = 64
_LOCK = Lock()


@dataclass(frozen=True)
class Params:
    grain: str = "day"
    period: str = "all"
    item: str | None = None
    limit: int = 20
    window_days: int = 30
    as_of: date | None = None


class Analytics:
    def __init__(self, settings: Settings, *, engine: str | None = None):
        self.settings = settings
        self.facts_dir: Path = settings.facts_dir
        self.engine_kind = engine or settings.analytics_engine
        self.k = settings.privacy_min_group
        self.thresholds = rfm.Thresholds()

    def engine(self) -> Engine:
        return open_engine(self.engine_kind, self.facts_dir, settings=self.settings, share=True)

    def _table(self, name: str, merchant_id: int, build: Callable[[Engine], pd.DataFrame], *extra) -> pd.DataFrame:
        watermark = Manifest.read(self.facts_dir).watermark
        key = (str(self.facts_dir), watermark, self.engine_kind, self.k, name, merchant_id, *extra)
        with _LOCK:
            if key in _CACHE:
                _CACHE.move_to_end(key)
                return _CACHE[key]
        table = prepared.read(self.facts_dir, watermark, self.k, merchant_id, name, extra)
        if table is None:
            engine = self.engine()
            try:
                table = build(engine)
            finally:
                engine.close()
        with _LOCK:
            _CACHE[key] = table
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
        return table

    def table_builder(self, table: str, merchant_id: int, p: Params, as_of: date | None
                      ) -> tuple[Callable[[Engine], pd.DataFrame], tuple]:
        """How to build one of a merchant's protected tables (TABLE_OF), and the parameters it depends on
        beyond the merchant, the export and k."""
        k = self.k
        if table == "sales":
            return (lambda e: tables.sales(e, merchant_id, k)), ()
        if table == "coupon-funnel":
            return (lambda e: tables.funnel(e, merchant_id, k)), ()
        if table == "coupon-attribution":
            return (lambda e: tables.coupon_attribution(e, merchant_id, k)), ()
        if table == "follow-attribution":
            return (lambda e: tables.follow_attribution(e, merchant_id, k, p.window_days)), (p.window_days,)
        if table == "retention":
            return (lambda e: tables.retention(e, merchant_id, k)), ()
        if table == "segments":
            return (lambda e: tables.segments(e, merchant_id, k, as_of, self.thresholds)), (as_of,)
        raise ValueError(f"unknown table {table!r}")

    # --- merchants --------------------------------------------------------------------------------------

    def merchant_report(self, session: Session, principal: Principal, merchant_id: int, name: str,
                        params: Params) -> reports.Report:
        merchant = merchants.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
        try:
            report = self._merchant_report(session, merchant.id, name, params)
        except ValueError as exc:
            raise Invalid(str(exc), code="invalid_report_parameters") from exc
        report.notes |= {"k": self.k, "watermark": Manifest.read(self.facts_dir).watermark}
        return report

    def _merchant_report(self, session: Session, merchant_id: int, name: str, p: Params) -> reports.Report:
        reports.period_node(p.period)  # validates
        if name not in TABLE_OF:
            raise ValueError(f"unknown report {name!r}")
        as_of = (p.as_of or local_day.today(session, merchant_id)) if name == "segments" else None
        build, extra = self.table_builder(TABLE_OF[name], merchant_id, p, as_of)
        return self.report_from(session, merchant_id, name, p, self._table(TABLE_OF[name], merchant_id, build, *extra),
                                as_of)

    @staticmethod
    def report_from(session: Session, merchant_id: int, name: str, p: Params, table: pd.DataFrame,
                    as_of: date | None) -> reports.Report:
        """Report `name` selected from its protected table (TABLE_OF[name])."""
        if name in ("sales", "sku-ranking", "stores"):
            if table.empty:
                return reports.Report(name, [], [])
            if name == "sales":
                return reports.sales(table, grain=p.grain, period=p.period, item=p.item)
            if name == "stores":
                return reports.stores(table, grain=p.grain, period=p.period, names=store_names(session, merchant_id))
            return reports.sku_ranking(table, period=p.period, limit=p.limit, names=item_names(session, merchant_id))
        if name == "coupon-funnel":
            return reports.coupon_funnel(table)
        if name == "coupon-attribution":
            return reports.coupon_attribution(table)
        if name == "follow-attribution":
            return reports.follow_attribution(table, p.window_days)
        if name == "retention":
            return reports.retention(table)
        return reports.segments(table, as_of.isoformat())

    def members(self, session: Session, principal: Principal, merchant_id: int) -> reports.Report:
        """Members who consented to be identified to this merchant, with their scores and segment; the
        others only as a count, and only when at least k of them."""
        merchant = merchants.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
        as_of = local_day.today(session, merchant.id)
        scores = self._table("rfm", merchant.id, lambda e: e.run("rfm", self.thresholds.params(as_of, merchant.id)),
                             as_of)
        consenting = consent.consenting_consumers(session, merchant.id)
        mine = scores[scores["consumer_id"].isin(list(consenting))] if len(scores) else scores
        users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(list(consenting))))} if consenting else {}
        rows = [{"consumer_id": int(r.consumer_id), "display_name": users[r.consumer_id].display_name,
                 "phone": users[r.consumer_id].phone, "consented_at": consenting[r.consumer_id].isoformat(),
                 "segment": r.segment, "r_score": int(r.r_score), "f_score": int(r.f_score), "m_score": int(r.m_score),
                 "last_purchase_month": r.last_purchase_on.isoformat()[:7]}
                for r in mine.sort_values("consumer_id").itertuples() if r.consumer_id in users]
        others = len(scores) - len(rows)
        columns = ["consumer_id", "display_name", "phone", "consented_at", "segment", "r_score", "f_score", "m_score",
                   "last_purchase_month"]
        return reports.Report("members", columns, rows, {
            "k": self.k, "others": others if others >= self.k else None, "others_suppressed": 0 < others < self.k})

    # --- operator ---------------------------------------------------------------------------------------

    def operator_report(self, principal: Principal, name: str) -> reports.Report:
        require_operator(principal)
        engine = self.engine()
        try:
            frame = engine.run(OPERATOR_REPORTS[name])
        finally:
            engine.close()
        report = reports.from_frame(name, frame)
        report.notes["watermark"] = Manifest.read(self.facts_dir).watermark
        return report

    def export_status(self, principal: Principal, factory: sessionmaker[Session]) -> dict:
        require_operator(principal)
        manifest = Manifest.read(self.facts_dir)
        return {"watermark": manifest.watermark, "facts": manifest.facts, "lines": manifest.lines,
                "updated_at": manifest.updated_at, "pending": pending(factory, self.facts_dir),
                "runs": manifest.runs}

    # --- the batch job ----------------------------------------------------------------------------------

    def run_job(self, factory: sessionmaker[Session], *, as_of: date | None = None,
                on_step: Callable[[str, float, int], None] | None = None) -> dict[str, float]:
        """Every merchant's segments (stored for marketing), the pre-aggregates the dashboards read
        (analytics.marts: RFM of every merchant, the big merchants' sales cubes), the big merchants'
        dashboards (analytics.prepared) and the operator's reports; returns seconds per step. Other
        dashboard queries run on demand, over their merchant's rows only, and are cached per export."""
        day = as_of
        if day is None:
            with unit_of_work(factory) as session:
                day = local_day.today(session)
        timings: dict[str, float] = {}
        engine = open_engine(self.engine_kind, self.facts_dir, settings=self.settings)
        try:
            for step, query, params in (("rfm", "rfm", self.thresholds.params(day)),
                                        ("sales_cube", "sales_cube", None),
                                        *((q, q, {}) for q in OPERATOR_REPORTS.values())):
                started = time.perf_counter()
                if params is None:  # the big merchants' cubes, one by one, and their dashboards
                    dashboards = Dashboards(self, factory, engine, as_of)
                    frame = marts.build_sales_cubes(engine, self.facts_dir, marts.big_merchants(engine),
                                                    each=dashboards.prepare)
                    prepared.retire(self.facts_dir, engine.watermark, self.k)
                else:
                    frame = engine.run(query, params)
                if query in marts.MARTS and params is not None:  # the dashboards read their rows from here
                    marts.write(self.facts_dir, engine.watermark, query, params, frame)
                timings[step] = time.perf_counter() - started
                if params is None:  # the dashboards' share of the step, shown on its own
                    timings[step] -= dashboards.seconds
                    timings["dashboards"] = dashboards.seconds
                if step == "rfm":
                    with unit_of_work(factory) as session:
                        rfm.store_segments(session, frame, day)
                if on_step:
                    on_step(step, timings[step], len(frame))
                    if params is None:
                        on_step("dashboards", dashboards.seconds, dashboards.tables)
        finally:
            engine.close()
        return timings


class Dashboards:
    """The job's step that prepares the big merchants' dashboards (analytics.prepared): every protected table
    the page shows, at its parameters, built while the engine holds the merchant's rows for its cube."""

    def __init__(self, analytics: Analytics, factory: sessionmaker[Session], engine: Engine, as_of: date | None):
        self.analytics, self.factory, self.engine, self.as_of = analytics, factory, engine, as_of
        self.seconds, self.tables = 0.0, 0

    def prepare(self, merchant_id: int, cube: pd.DataFrame) -> None:
        started = time.perf_counter()
        with unit_of_work(self.factory, read_only=True) as session:  # the page's "today" is the merchant's own
            as_of = self.as_of or local_day.today(session, merchant_id)
        built = {("sales", ()): tables.sales_cells(cube, self.analytics.k)}  # from the cube just computed
        for table in dict.fromkeys(TABLE_OF.values()):
            if table != "sales":
                build, extra = self.analytics.table_builder(table, merchant_id, Params(), as_of)
                built[(table, extra)] = build(self.engine)
        self.tables += prepared.write(self.analytics.facts_dir, self.engine.watermark, self.analytics.k, merchant_id,
                                      built)
        self.seconds += time.perf_counter() - started


def store_names(session: Session, merchant_id: int) -> dict[int, str]:
    return dict(session.execute(select(Store.id, Store.name).where(Store.merchant_id == merchant_id)).all())


def item_names(session: Session, merchant_id: int) -> dict[str, str]:
    skus = session.execute(select(Sku.id, Product.name_zh, Sku.code).join(Product, Product.id == Sku.product_id)
                           .where(Product.merchant_id == merchant_id))
    items = session.execute(select(ServiceItem.id, ServiceItem.name_zh).where(ServiceItem.merchant_id == merchant_id))
    return {**{f"sku:{i}": f"{name} {code}".strip() for i, name, code in skus},
            **{f"service:{i}": name for i, name in items}}
