"""The pre-sale page: candidates with their paid votes against the threshold, and a vote button that creates
the deposit order and sends the consumer to that order's page to pay it (the ordinary pay flow). Like the group
buy page, it polls a small fragment every few seconds (`/presales/{id}/progress`): the time left, and each
candidate's paid votes and outcome, swapped out of band into the candidate's panel so the vote forms stay put."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from daodian.accounts.own_transaction_deps import AppSettings, Factory, OwnPagePrincipal
from daodian.c2b.presale import service as presales
from daodian.c2b.presale.models import PresaleVote
from daodian.c2b.presale.schemas import VoteIn
from daodian.kit.api.http import ObjectId
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.kit.errors import DomainError
from daodian.kit.html.forms import CheckedForm, login_redirect, see_other
from daodian.kit.html.rendering import render
from daodian.merchants.models import Store, StoreStatus

router = APIRouter()


def time_left(closes_at: datetime, now: datetime) -> dict[str, int] | None:
    """Whole days, hours and minutes until the vote closes; None once it has."""
    seconds = int((closes_at - now).total_seconds())
    if seconds <= 0:
        return None
    minutes = seconds // 60
    return {"days": minutes // 1440, "hours": minutes % 1440 // 60, "minutes": minutes % 60}


@router.get("/presales/{presale_id}", response_class=HTMLResponse)
def presale_page(presale_id: ObjectId, request: Request, principal: OwnPagePrincipal, factory: Factory,
                 problem: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    with unit_of_work(factory, read_only=True) as session:
        read = presales.presale_read(session, presales.get_presale(session, presale_id))
        stores = list(session.scalars(select(Store).where(Store.merchant_id == read.merchant_id,
                                                          Store.status != StoreStatus.CLOSED).order_by(Store.id)))
        store_options = [(s.id, s.name) for s in stores]
        # The consumer's own votes: each candidate's panel says "you voted" and links the deposit order.
        my_votes = {} if not principal.is_authenticated else dict(session.execute(
            select(PresaleVote.candidate_id, PresaleVote.deposit_order_id).where(
                PresaleVote.consumer_id == principal.user_id,
                PresaleVote.candidate_id.in_([c.id for c in read.candidates]))).all())
    return render(request, "marketing/presale.html", {
        "principal": principal, "presale": read, "left": time_left(read.closes_at, utcnow()), "stores": store_options,
        "problem": problem, "my_votes": my_votes})


@router.get("/presales/{presale_id}/progress", response_class=HTMLResponse)
def presale_progress(presale_id: ObjectId, request: Request, factory: Factory) -> Response:
    with unit_of_work(factory, read_only=True) as session:
        read = presales.presale_read(session, presales.get_presale(session, presale_id))
    return render(request, "marketing/presale_progress.html",
                  {"presale": read, "left": time_left(read.closes_at, utcnow())})


@router.post("/presales/{presale_id}/candidates/{candidate_id}/vote", response_class=HTMLResponse)
def vote(presale_id: ObjectId, candidate_id: ObjectId, request: Request, principal: OwnPagePrincipal,
         factory: Factory, settings: AppSettings, form: CheckedForm) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    store_id = str(form.get("store_id") or "")
    try:
        data = VoteIn(fulfilment="pickup", store_id=int(store_id) if store_id.isdigit() else None)
        with unit_of_work(factory) as session:
            ballot = presales.vote(session, principal, presale_id, candidate_id, data, settings)
            order_id = ballot.deposit_order_id
    except DomainError as exc:
        if exc.status == 404 and exc.code != "store_not_found":
            raise
        return see_other(f"/presales/{presale_id}?problem={exc.code}")
    except ValueError:
        return see_other(f"/presales/{presale_id}?problem=invalid_store")
    return see_other(f"/orders/{order_id}")
