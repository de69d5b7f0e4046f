"""The public group buy page with its live progress (an htmx fragment polled every few seconds) and the
join button, which creates the consumer's order at the top price and leads to its payment page."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from daodian.accounts.own_transaction_deps import AppSettings, Factory, OwnPagePrincipal
from daodian.c2b.group_buy import service as group_buy
from daodian.kit.api.http import ObjectId
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.kit.errors import DomainError
from daodian.kit.html.forms import CheckedForm, login_redirect, see_other
from daodian.kit.html.moments import time_left
from daodian.kit.html.rendering import render
from daodian.vouchers import qr

router = APIRouter()


def _context(factory, group_buy_id: int) -> dict:
    with unit_of_work(factory, read_only=True) as session:
        deal = group_buy.read(session, group_buy.get(session, group_buy_id))
    # The progress bar runs up to the top tier: the price cannot drop further once that many have joined.
    goal = max((t.min_participants for t in deal.tiers), default=deal.min_participants)
    return {"deal": deal, "left": time_left(deal.ends_at, utcnow()), "goal": goal}


@router.get("/group-buys/{group_buy_id}", response_class=HTMLResponse)
def group_buy_page(group_buy_id: ObjectId, request: Request, principal: OwnPagePrincipal, factory: Factory) -> Response:
    problem = request.query_params.get("problem", "")[:40]
    # Shared by link or by QR code (a friend scans it from this screen): the page's own public address.
    share_url = f"{str(request.base_url).rstrip('/')}/group-buys/{group_buy_id}"
    return render(request, "marketing/group_buy.html",
                  {**_context(factory, group_buy_id), "principal": principal, "problem": problem,
                   "share_url": share_url, "share_qr": Markup(qr.svg(share_url, scale=4))})


@router.get("/group-buys/{group_buy_id}/progress", response_class=HTMLResponse)
def group_buy_progress(group_buy_id: ObjectId, request: Request, factory: Factory) -> Response:
    return render(request, "marketing/group_buy_progress.html", _context(factory, group_buy_id))


@router.post("/group-buys/{group_buy_id}/join", response_class=HTMLResponse)
def join(group_buy_id: ObjectId, request: Request, principal: OwnPagePrincipal, factory: Factory,
         settings: AppSettings, form: CheckedForm) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    try:
        _, joined = group_buy.join(factory, settings, principal, group_buy_id)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return see_other(f"/group-buys/{group_buy_id}?problem={exc.code}")
    return see_other(f"/orders/{joined.order_id}")  # the order page carries the pay button
