"""The dashboards' data over HTTP: a merchant's own facts only, k-anonymous, CSV too; the operator's view."""

import csv
import io

import pytest
from fastapi.testclient import TestClient

from daodian.accounts.models import StaffRole, User
from daodian.app import create_app
from daodian.merchants.models import Merchant
from tests.factories import add_staff, auth, make_user

REPORTS = ("sales", "sku-ranking", "stores", "coupon-funnel", "coupon-attribution", "follow-attribution",
           "retention", "segments")


@pytest.fixture
def api(analytics_settings, session_factory, exported):
    with TestClient(create_app(analytics_settings, session_factory=session_factory),
                    raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def clerk(db, exported):
    """A clerk of the biggest merchant only."""
    user = make_user(db, name="收银员")
    add_staff(db, db.get(Merchant, exported.merchants[0]), user, StaffRole.CLERK)
    return auth(db, user)


def test_every_report_answers_in_json_and_csv(api, clerk, exported):
    merchant = exported.merchants[0]
    for name in REPORTS:
        body = api.get(f"/api/v1/merchants/{merchant}/analytics/{name}", headers=clerk,
                       params={"grain": "month", "as_of": "2025-03-01"}).json()
        assert body["report"] == name and body["rows"], name
        assert body["notes"]["k"] == 10 and body["notes"]["watermark"] > 0
        response = api.get(f"/api/v1/merchants/{merchant}/analytics/{name}", headers=clerk,
                           params={"format": "csv", "grain": "month", "as_of": "2025-03-01"})
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert list(rows[0]) == body["columns"] and len(rows) == len(body["rows"])


def test_a_merchant_sees_only_its_own_figures(api, clerk, exported, db):
    other = exported.merchants[1]
    assert api.get(f"/api/v1/merchants/{other}/analytics/sales", headers=clerk).status_code in (403, 404)
    owner = auth(db, db.get(User, exported.owner))
    mine = api.get(f"/api/v1/merchants/{exported.merchants[0]}/analytics/sales", headers=owner).json()["rows"][-1]
    theirs = api.get(f"/api/v1/merchants/{other}/analytics/sales", headers=owner).json()["rows"][-1]
    expected = {}
    for merchant in exported.merchants[:2]:
        expected[merchant] = sum(
            (-1 if f["kind"] == "consumption.refunded" else 1) * f["payload"]["total_fen"]
            for f in exported.facts if f["merchant_id"] == merchant and f["kind"].startswith("consumption."))
        expected[merchant] += sum(
            f["payload"]["amount_fen"] * (1 if f["kind"] == "order.paid" else -1)
            for f in exported.facts if f["merchant_id"] == merchant and f["kind"] in ("order.paid", "order.refunded"))
    assert mine["bucket"] == "total" and mine["amount_fen"] == expected[exported.merchants[0]]
    assert theirs["amount_fen"] == expected[other]


def test_item_series_and_bad_parameters(api, clerk, exported):
    url = f"/api/v1/merchants/{exported.merchants[0]}/analytics/sales"
    sku = exported.merchants[0] * 1000 + 1
    rows = api.get(url, headers=clerk, params={"item": f"sku:{sku}", "grain": "month", "period": "2024"}).json()["rows"]
    assert rows[-1]["bucket"] == "total" and all(r["bucket"].startswith("2024-") for r in rows[:-1])
    assert api.get(url, headers=clerk, params={"period": "2024-13"}).status_code == 422
    assert api.get(url, headers=clerk, params={"grain": "hour"}).status_code == 422


def test_the_operator_sees_every_merchant(api, db, exported):
    operator = auth(db, make_user(db, operator=True))
    rows = api.get("/api/v1/admin/analytics/merchants", headers=operator).json()["rows"]
    assert {r["merchant_id"] for r in rows} == set(exported.merchants)
    kinds = {r["kind"] for r in api.get("/api/v1/admin/analytics/facts", headers=operator).json()["rows"]}
    assert {"consumption.recorded", "order.paid", "coupon.used", "follow.created", "points.entry"} <= kinds
    status = api.get("/api/v1/admin/analytics/export", headers=operator).json()
    assert status["pending"] == 0 and status["watermark"] > 0
    clerk = auth(db, make_user(db))
    assert api.get("/api/v1/admin/analytics/merchants", headers=clerk).status_code == 403


def test_dashboard_pages_render(api, db, exported):
    from daodian.accounts import service as accounts

    owner = db.get(User, exported.owner)
    token, _ = accounts.open_session(db, owner, kind="cookie", days=1)
    api.cookies.set("daodian_session", token)
    page = api.get(f"/merchant/{exported.merchants[0]}/analytics")
    assert page.status_code == 200 and 'data-testid="chart-coupon-funnel"' in page.text
    assert "/static/vendor/echarts.min.js" in page.text
    csv_page = api.get(f"/merchant/{exported.merchants[0]}/analytics/segments.csv")
    assert csv_page.status_code == 200 and csv_page.text.startswith("segment,members,suppressed")
    assert api.get("/admin/analytics").status_code == 403
