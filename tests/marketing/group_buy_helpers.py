"""Shared by the group buy tests: a deal body, joining and paying through the sandbox, ending a deal."""

from datetime import timedelta

from sqlalchemy import update

from daodian.c2b.group_buy.models import GroupBuy
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from tests.orders.helpers import sandbox_notify, start_sandbox

TIERS = [{"min_participants": 2, "price_fen": 9900}, {"min_participants": 4, "price_fen": 7900},
         {"min_participants": 6, "price_fen": 5900}]


def deal_body(item_id: int, **overrides) -> dict:
    body = {"service_item_id": item_id, "title": "洗车团购", "tiers": TIERS,
            "ends_at": (utcnow() + timedelta(days=2)).isoformat()}
    body.update(overrides)
    return body


def create_deal(client, merchant_id: int, headers: dict, item_id: int, **overrides) -> dict:
    response = client.post(f"/api/v1/merchants/{merchant_id}/group-buys", json=deal_body(item_id, **overrides),
                           headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def join_and_pay(client, settings, headers: dict, deal_id: int) -> dict:
    response = client.post(f"/api/v1/group-buys/{deal_id}/joins", headers=headers)
    assert response.status_code == 201, response.text
    joined = response.json()
    payment = start_sandbox(client, headers, joined["order_id"])
    assert sandbox_notify(client, settings, payment).status_code == 200
    return joined


def end_deal(factory, deal_id: int) -> None:
    """Move the window's end into the past (a deal cannot be created that way)."""
    with unit_of_work(factory) as session:
        session.execute(update(GroupBuy).where(GroupBuy.id == deal_id).values(ends_at=utcnow() - timedelta(seconds=1)))
