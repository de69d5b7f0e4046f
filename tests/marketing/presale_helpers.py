"""Shared by the pre-sale tests: a pre-sale body, voting and paying the deposit, moving the close into the past."""

from datetime import timedelta

from sqlalchemy import update

from daodian.c2b.presale.models import Presale
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from tests.orders.helpers import key, sandbox_notify, start_sandbox


def presale_body(sku_ids: list[int], *, deposit_fen: int = 5000, threshold: int = 2, **overrides) -> dict:
    body = {"title": "新品预售投票", "closes_at": (utcnow() + timedelta(days=3)).isoformat(),
            "candidates": [{"sku_id": s, "deposit_fen": deposit_fen, "threshold": threshold} for s in sku_ids]}
    body.update(overrides)
    return body


def create_presale(client, merchant_id: int, headers: dict, sku_ids: list[int], **overrides) -> dict:
    response = client.post(f"/api/v1/merchants/{merchant_id}/presales", json=presale_body(sku_ids, **overrides),
                           headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def vote_body(store_id: int) -> dict:
    return {"fulfilment": "pickup", "store_id": store_id}


def vote(client, headers: dict, presale_id: int, candidate_id: int, store_id: int):
    return client.post(f"/api/v1/presales/{presale_id}/candidates/{candidate_id}/votes", json=vote_body(store_id),
                       headers={**headers, **key()})


def vote_and_pay(client, settings, headers: dict, presale_id: int, candidate_id: int, store_id: int) -> dict:
    response = vote(client, headers, presale_id, candidate_id, store_id)
    assert response.status_code == 201, response.text
    ballot = response.json()
    payment = start_sandbox(client, headers, ballot["deposit_order_id"])
    assert sandbox_notify(client, settings, payment).status_code == 200
    return ballot


def end_presale(factory, presale_id: int) -> None:
    """Move the closing time into the past (a pre-sale cannot be created that way)."""
    with unit_of_work(factory) as session:
        session.execute(update(Presale).where(Presale.id == presale_id)
                        .values(closes_at=utcnow() - timedelta(seconds=1)))
