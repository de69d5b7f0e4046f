"""Real parallel clients against a real server (uvicorn, its own database), on both backends."""

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from daodian.accounts.models import StaffRole
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.kit.facts import Fact
from daodian.merchants.models import Store
from daodian.records.models import ConsumptionRecord
from tests.factories import add_staff, make_item, make_merchant, make_record, make_store, make_user, token_for

_places = iter(range(1, 1000))


def in_parallel(n: int, call) -> list[httpx.Response]:
    """Run call(i) for i in range(n) from n threads released at the same moment."""
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        return call(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


@pytest.fixture
def http(live_server):
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        yield client


@pytest.fixture
def live_shop(live_server):
    """A store at a place of its own (so nearby queries see it alone), with a clerk, in the live database."""
    lat, lng = 43.80 + next(_places) * 0.1, 87.60  # Urumqi and northwards: far from every other test's stores
    with unit_of_work(live_server.session_factory) as s:
        owner = make_user(s)
        merchant = make_merchant(s, owner)
        store = make_store(s, merchant, lat=lat, lng=lng, datum="wgs84")
        item = make_item(s, merchant, [store.id])
        clerk = make_user(s)
        add_staff(s, merchant, clerk, StaffRole.CLERK)
        store.rating_avg, store.rating_count = 3.5, 8  # an imported prior
        token = token_for(s, clerk)
    return dict(store=store, item=item, clerk=clerk, clerk_auth={"Authorization": f"Bearer {token}"}, lat=lat, lng=lng)


def test_20_parallel_posts_of_one_receipt_make_one_record(live_server, http, live_shop):
    body = {"receipt_id": "PAR-0001", "occurred_at": (utcnow() - timedelta(minutes=1)).isoformat(),
            "lines": [{"service_item_id": live_shop["item"].id, "quantity": 1, "amount_fen": 19900}]}
    url = f"/api/v1/stores/{live_shop['store'].id}/consumption-records"
    responses = in_parallel(20, lambda _: http.post(url, json=body, headers=live_shop["clerk_auth"]))
    assert Counter(r.status_code for r in responses) == {201: 1, 200: 19}, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    with unit_of_work(live_server.session_factory, read_only=True) as s:
        assert s.scalar(select(func.count()).select_from(ConsumptionRecord)
                        .where(ConsumptionRecord.store_id == live_shop["store"].id)) == 1
        assert s.scalar(select(func.count()).select_from(Fact).where(
            Fact.kind == "consumption.recorded", Fact.store_id == live_shop["store"].id)) == 1


def _nearby_rating(http, shop) -> tuple[dict, dict]:
    page = http.get("/api/v1/stores/nearby", params={"lat": shop["lat"], "lng": shop["lng"], "datum": "wgs84",
                                                      "radius_m": 1000}).json()
    [item] = [i for i in page["items"] if i["store"]["id"] == shop["store"].id]
    return item, page["ranking"]


def test_30_parallel_reviews_fold_into_the_store_rating_exactly(live_server, http, live_shop):
    before_item, _ = _nearby_rating(http, live_shop)  # builds the server's nearby index
    with unit_of_work(live_server.session_factory) as s:
        consumers = [make_user(s) for _ in range(30)]
        records = [make_record(s, live_shop["store"], live_shop["clerk"], consumer=c) for c in consumers]
        tokens = [token_for(s, c) for c in consumers]
        before = s.get(Store, live_shop["store"].id).updated_at
    ratings = [1 + i % 5 for i in range(30)]

    def review(i):
        return http.post("/api/v1/reviews", headers={"Authorization": f"Bearer {tokens[i]}"},
                         json={"record_id": records[i].id, "rating_experience": ratings[i], "rating_service": 5})

    responses = in_parallel(30, review)
    assert [r.status_code for r in responses] == [201] * 30, [r.text for r in responses if r.status_code != 201]
    expected_avg = (3.5 * 8 + sum(ratings)) / 38
    with unit_of_work(live_server.session_factory, read_only=True) as s:
        store = s.get(Store, live_shop["store"].id)
        assert store.rating_count == 38
        assert store.rating_avg == pytest.approx(expected_avg, abs=1e-9)
        assert store.updated_at > before

    # Every process's nearby index polls stores.updated_at: the new rating reaches the ranking.
    deadline = time.monotonic() + 10
    while True:
        item, ranking = _nearby_rating(http, live_shop)
        m, c = ranking["rating_prior_mean"], ranking["rating_prior_weight"]
        bayes = (c * m + 38 * expected_avg) / (c + 38)
        if abs(item["score_parts"]["rating"]["value"] - bayes) < 1e-3 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert item["store"]["rating_count"] == 38
    assert item["score_parts"]["rating"]["value"] == pytest.approx(bayes, abs=1e-3)
    assert item["score_parts"]["rating"]["value"] != before_item["score_parts"]["rating"]["value"]


def test_parallel_reviews_of_one_visit_make_one_review(live_server, http, live_shop):
    with unit_of_work(live_server.session_factory) as s:
        consumer = make_user(s)
        record = make_record(s, live_shop["store"], live_shop["clerk"], consumer=consumer)
        headers = {"Authorization": f"Bearer {token_for(s, consumer)}"}
    body = {"record_id": record.id, "rating_experience": 4, "rating_service": 4}
    responses = in_parallel(10, lambda _: http.post("/api/v1/reviews", json=body, headers=headers))
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 9}
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"already_reviewed"}
    with unit_of_work(live_server.session_factory, read_only=True) as s:
        assert s.get(Store, live_shop["store"].id).rating_count == 9
