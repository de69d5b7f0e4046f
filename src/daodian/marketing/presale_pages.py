"""The pre-sale page: candidates with their paid votes against the threshold, and a vote button that creates
the deposit order and sends the consumer to that order's page to pay it (the ordinary pay flow)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from daodian.kit.db import unit_of_work
from daodian.kit.errors import DomainError
from daodian.kit.http import ObjectId
from daodian.marketing import presale as presales
from daodian.marketing.presale_schemas import VoteIn
from daodian.merchants.models import Store, StoreStatus
from daodian.orders.dependencies import AppSettings, Factory
from daodian.orders.page_deps import OwnPagePrincipal
from daodian.web.forms import CheckedForm, login_redirect, see_other
from daodian.web.rendering import render

router = APIRouter()


@router.get("/presales/{presale_id}", response_class=HTMLResponse)
def presale_page(presale_id: ObjectId, request: Request, principal: OwnPagePrincipal, factory: Factory,
                 problem: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    with unit_of_work(factory, read_only=True) as session:
        read = presales.presale_read(session, presales.get_presale(session, presale_id))
        stores = list(session.scalars(select(Store).where(Store.merchant_id == read.merchant_id,
                                                          Store.status != StoreStatus.CLOSED).order_by(Store.id)))
        store_options = [(s.id, s.name) for s in stores]
    return render(request, "marketing/presale.html", {
        "principal": principal, "presale": read, "stores": store_options, "problem": problem})


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
