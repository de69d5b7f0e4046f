"""Pre-sale votes and closes under real parallel clients against the live server."""

import httpx
from sqlalchemy import func, select

from daodian.c2b.presale.models import PresaleVote
from daodian.kit.db import unit_of_work
from daodian.orders.models import Order
from daodian.payments.models import Refund
from tests.factories import auth, make_user
from tests.marketing.presale_helpers import end_presale, presale_body, vote_body
from tests.orders.helpers import LiveShop, in_parallel, key, sandbox_notify, statuses


def _presale(live: LiveShop, threshold: int) -> dict:
    with live.client() as http:
        response = http.post(f"/api/v1/merchants/{live.shop.merchant.id}/presales",
                             json=presale_body([live.shop.sku.id], threshold=threshold), headers=live.manager_auth)
    assert response.status_code == 201, response.text
    return response.json()


def _vote(live: LiveShop, sale: dict, headers: dict) -> httpx.Response:
    with live.client() as http:
        return http.post(f"/api/v1/presales/{sale['id']}/candidates/{sale['candidates'][0]['id']}/votes",
                         json=vote_body(live.shop.store.id), headers={**headers, **key()})


def test_20_parallel_votes_of_one_consumer_make_one_vote_and_one_deposit_order(live_server):
    live = LiveShop(live_server)
    sale = _presale(live, threshold=1)
    responses = in_parallel(20, lambda i: _vote(live, sale, live.consumer_auth))
    assert statuses(responses) == {201: 1, 409: 19}
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"presale_already_voted"}
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(PresaleVote)
                              .where(PresaleVote.consumer_id == live.consumer.id)) == 1
        assert session.scalar(select(func.count()).select_from(Order)
                              .where(Order.consumer_id == live.consumer.id)) == 1


def test_parallel_closes_of_a_lost_presale_refund_each_deposit_once(live_server):
    live = LiveShop(live_server)
    sale = _presale(live, threshold=50)
    with unit_of_work(live_server.session_factory) as session:
        people = [auth(session, make_user(session, name=f"顾客{i}")) for i in range(12)]
    ballots = [r.json() for r in in_parallel(12, lambda i: _vote(live, sale, people[i]))]
    assert all("deposit_order_id" in b for b in ballots), ballots
    with live.client() as http:
        for headers, ballot in zip(people, ballots, strict=True):
            payment = http.post(f"/api/v1/orders/{ballot['deposit_order_id']}/pay", json={"provider": "sandbox"},
                                headers={**headers, **key()}).json()
            assert sandbox_notify(http, live.settings, payment).status_code == 200
    end_presale(live_server.session_factory, sale["id"])
    url = f"/api/v1/merchants/{live.shop.merchant.id}/presales/{sale['id']}/close"

    def close(i: int) -> httpx.Response:
        with live.client() as http:
            return http.post(url, headers=live.manager_auth)

    responses = in_parallel(8, close)
    assert statuses(responses) == {200: 8}, [r.text for r in responses if r.status_code != 200][:2]
    assert {r.json()["status"] for r in responses} <= {"closing", "closed"}
    deposits = [b["deposit_order_id"] for b in ballots]
    with unit_of_work(live_server.session_factory, read_only=True) as session:
        refunds = list(session.scalars(select(Refund).where(Refund.order_id.in_(deposits))))
        assert len(refunds) == 12 and {r.status for r in refunds} == {"succeeded"}
        assert {o.status for o in session.scalars(select(Order).where(Order.id.in_(deposits)))} == {"refunded"}
