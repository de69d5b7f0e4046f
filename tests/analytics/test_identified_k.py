"""k counts people we can tell apart: anonymous receipts add to the amounts, never to the consumers.

A walk-in crowd of 13 anonymous receipts is not 13 consumers (it may be one person coming back 13 times),
so a cell built only from them is suppressed however many receipts it holds.
"""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from daodian.analytics.engines import open_engine
from daodian.analytics.export import export_facts
from daodian.analytics.service import Analytics, Params
from daodian.kit.facts import Fact
from tests.factories import make_merchant, make_store, make_user, principal_of

DAY_ONE = datetime(2024, 3, 4, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai, a Monday
SKU = 777


def _receipt(n: int, at: datetime, merchant_id: int, store_id: int, consumer_id: int | None) -> dict:
    lines = [{"sku_id": SKU, "service_item_id": None, "quantity": 1, "amount_fen": 1000}]
    return {"kind": "consumption.recorded", "occurred_at": at, "recorded_at": at, "merchant_id": merchant_id,
            "store_id": store_id, "consumer_id": consumer_id,
            "payload": {"record_id": n, "receipt_id": f"R{n}", "source": "pos",
                        "identified_by": "phone" if consumer_id else "none", "total_fen": 1000, "currency": "CNY",
                        "lines": lines}}


@pytest.fixture
def crowd(db, session_factory, facts_dir):
    """Day one: 13 anonymous receipts of the SKU. Day two: 12 members and 13 anonymous receipts."""
    owner = make_user(db, name="店主")
    merchant = make_merchant(db, owner, name="匿名客多的店")
    store = make_store(db, merchant, name="街角店")
    members = [make_user(db, name=f"会员{n}").id for n in range(12)]
    facts = [_receipt(n, DAY_ONE + timedelta(minutes=n), merchant.id, store.id, None) for n in range(13)]
    day_two = DAY_ONE + timedelta(days=1)
    facts += [_receipt(100 + n, day_two + timedelta(minutes=n), merchant.id, store.id, None) for n in range(13)]
    facts += [_receipt(200 + n, day_two + timedelta(minutes=n), merchant.id, store.id, m)
              for n, m in enumerate(members)]
    db.execute(insert(Fact), facts)
    db.flush()
    export_facts(session_factory, facts_dir)
    return merchant, owner


@pytest.mark.parametrize("kind", ["duckdb", "spark"])
def test_the_cube_counts_identified_consumers_only(kind, crowd, analytics_settings, request):
    if kind == "spark":
        request.getfixturevalue("spark")  # one local Spark for the run; skipped where it cannot start
    merchant, _ = crowd
    engine = open_engine(kind, analytics_settings.facts_dir)
    try:
        rows = engine.run("sales_cube", {"merchant_id": merchant.id}).to_dict("records")
    finally:
        engine.close()
    days = {str(r["bucket"])[:10]: r for r in rows
            if r["family"] == "item" and r["level"] == "day" and r["item_id"] == SKU}
    assert (days["2024-03-04"]["consumers"], days["2024-03-04"]["purchases"]) == (0, 13)
    assert (days["2024-03-05"]["consumers"], days["2024-03-05"]["purchases"]) == (12, 25)
    assert days["2024-03-04"]["amount_fen"] == 13 * 1000  # anonymous sales still count as sales


def test_a_cell_of_thirteen_anonymous_receipts_is_suppressed(crowd, analytics_settings, db):
    merchant, owner = crowd
    report = Analytics(analytics_settings).merchant_report(
        db, principal_of(db, owner), merchant.id, "sales", Params(grain="day", period="2024-03", item=f"sku:{SKU}"))
    cells = {r["bucket"]: r for r in report.rows}
    assert cells["2024-03-04"]["suppressed"], cells["2024-03-04"]
    assert cells["2024-03-04"].get("customers") is None and cells["2024-03-04"].get("amount_fen") is None
