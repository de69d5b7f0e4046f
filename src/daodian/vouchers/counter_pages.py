"""The counter screen of the merchant console: verifying (核销) voucher codes on a tablet (the day's bookings
beside it are bookings.counter_pages).

Verification goes through vouchers.counter exactly as `POST /api/v1/vouchers/verify` does: one use consumed
exactly once, only at a store of the seller that offers the item, only before expiry, and wrong codes
counted per staff account and store (throttled). Each refusal gets its own message, so the clerk can tell
the customer what is wrong: a wrong code, a used one, an expired one, one of another merchant.
"""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from daodian.accounts.authz import Action, Principal, authorize
from daodian.accounts.own_transaction_deps import AppSettings, Factory, OwnPagePrincipal
from daodian.kit.api.http import ObjectId, transaction_factory
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.kit.errors import DomainError
from daodian.kit.html.forms import CheckedForm, is_htmx, login_redirect, text
from daodian.kit.html.rendering import render
from daodian.merchants import service as merchants
from daodian.merchants import stores
from daodian.orders.page_messages import message_for
from daodian.vouchers import counter
from daodian.vouchers.errors import VoucherNotFound
from daodian.vouchers.models import Verification

router = APIRouter()


def _counter_store(session, principal: Principal, store_id: int):
    store = stores.get_store(session, store_id)
    authorize(principal, Action.COUNTER, store.merchant_id)
    return store, merchants.get_merchant(session, store.merchant_id)


def _screen(request: Request, principal: Principal, store, merchant, *, result: dict | None = None,
            status: int = 200) -> HTMLResponse:
    if is_htmx(request):
        page = render(request, "console/_verify_result.html", {"principal": principal, "store": store,
                                                               "merchant": merchant, "result": result}, status=status)
        page.headers["HX-Trigger"] = "counter-changed"  # the day's list beside it reloads
        return page
    return render(request, "console/verify.html", {"principal": principal, "store": store, "merchant": merchant,
                                                   "result": result, **_day(request, principal, store)},
                  status=status)


DAY_LIMIT = 200


def _day(request: Request, principal: Principal, store) -> dict:
    """The store's verifications of its local day, newest first, and whether this person may undo them."""
    zone = ZoneInfo(store.timezone)
    start = datetime.combine(utcnow().astimezone(zone).date(), time(0), zone)
    settings = request.app.state.settings
    with unit_of_work(transaction_factory(request), read_only=True) as session:
        rows = list(session.scalars(select(Verification).where(
            Verification.store_id == store.id, Verification.verified_at >= start)
            .order_by(Verification.id.desc()).limit(DAY_LIMIT)))
        reads = counter.verification_reads(session, rows, settings)
    return {"today": reads, "now": utcnow(), "can_reverse": principal.can(Action.STORE_MANAGE, store.merchant_id)}


@router.get("/merchant/counter/{store_id}/verifications", response_class=HTMLResponse)
def day_list(store_id: ObjectId, request: Request, principal: OwnPagePrincipal, factory: Factory) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    with unit_of_work(factory, read_only=True) as session:
        store, merchant = _counter_store(session, principal, store_id)
    return render(request, "console/_verify_day.html", {"principal": principal, "store": store,
                                                        **_day(request, principal, store)})


@router.get("/merchant/counter/{store_id}/verify", response_class=HTMLResponse)
def verify_screen(store_id: ObjectId, request: Request, principal: OwnPagePrincipal, factory: Factory) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    with unit_of_work(factory, read_only=True) as session:
        store, merchant = _counter_store(session, principal, store_id)
    return render(request, "console/verify.html", {"principal": principal, "store": store, "merchant": merchant,
                                                   "result": None, **_day(request, principal, store)})


@router.post("/merchant/counter/{store_id}/verify", response_class=HTMLResponse)
def verify_code(store_id: ObjectId, request: Request, principal: OwnPagePrincipal, factory: Factory,
                settings: AppSettings, form: CheckedForm) -> Response:
    code = text(form, "code", 64)
    with unit_of_work(factory, read_only=True) as session:
        store, merchant = _counter_store(session, principal, store_id)
    if not code:
        return _screen(request, principal, store, merchant, status=422,
                       result={"ok": False, "code": "empty", "message": message_for(VoucherNotFound())})
    try:
        with unit_of_work(factory) as session:
            verification = counter.verify(session, principal, raw_code=code, store_id=store.id, terminal_id=None,
                                          settings=settings)
            read = counter.verification_read(session, verification, settings)
    except VoucherNotFound as exc:
        counter.record_failure(factory, counter.terminals(principal, store.id, None))
        return _screen(request, principal, store, merchant, status=422,
                       result={"ok": False, "code": exc.code, "message": message_for(exc), "typed": code})
    except DomainError as exc:
        if exc.status in (401, 403):
            raise
        return _screen(request, principal, store, merchant, status=422,
                       result={"ok": False, "code": exc.code, "message": message_for(exc), "typed": code,
                               "details": exc.details})
    return _screen(request, principal, store, merchant, result={
        "ok": True, "verification": read, "can_reverse": principal.can(Action.STORE_MANAGE, store.merchant_id)})


@router.post("/merchant/verifications/{verification_id}/reverse", response_class=HTMLResponse)
def reverse_verification(verification_id: ObjectId, request: Request, principal: OwnPagePrincipal,
                         factory: Factory, settings: AppSettings, form: CheckedForm) -> Response:
    try:
        with unit_of_work(factory) as session:
            verification = counter.reverse(session, principal, verification_id, settings)
            read = counter.verification_read(session, verification, settings)
            store, merchant = _counter_store(session, principal, verification.store_id)
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        with unit_of_work(factory, read_only=True) as session:
            store_id = _int(text(form, "store_id", 20))
            store, merchant = _counter_store(session, principal, store_id) if store_id else (None, None)
        if store is None:
            raise
        return _screen(request, principal, store, merchant, status=422,
                       result={"ok": False, "code": exc.code, "message": message_for(exc)})
    return _screen(request, principal, store, merchant, result={"ok": True, "reversed": True, "verification": read})


def _int(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 16 else None




