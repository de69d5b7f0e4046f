"""Delivery pages: the courier's phone page, the consumer's live tracking, the dispatch boards of a merchant and
of the operator. Same services and authorization as the JSON API (delivery.endpoints).

The courier page sends the phone's position every few seconds (static/courier.js, the browser's Geolocation
API, WGS-84); the tracking page listens to server-sent events and moves the courier's marker. Both work
without map tiles: the markers, the scale and the attribution still show.
"""

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from daodian.accounts.authz import Action, Principal
from daodian.accounts.dependencies import PagePrincipal
from daodian.accounts.own_transaction_deps import Factory, OwnPagePrincipal
from daodian.delivery import couriers, deliveries, handover, tracking, visits
from daodian.delivery.errors import NotACourier, WrongHandoverCode
from daodian.delivery.reads import board_of, courier_read, delivery_read, read_for
from daodian.delivery.schemas import PositionIn, ShiftIn
from daodian.geo.datum import from_wgs84
from daodian.kit.api.http import DbSession, ObjectId
from daodian.kit.errors import DomainError, NotFound
from daodian.kit.html.forms import CheckedForm, login_redirect, see_other, text
from daodian.kit.html.rendering import render
from daodian.kit.settings import get_settings
from daodian.merchants import service as merchants
from daodian.vouchers.errors import VoucherNotFound

router = APIRouter()
STEPS = {"accept": deliveries.accept, "arrive": deliveries.arrive, "pickup": deliveries.pick_up}


def _tiles() -> dict:
    settings = get_settings()
    return {"url": settings.map_tile_url, "subdomains": settings.map_tile_subdomains,
            "datum": settings.map_tile_datum, "attribution": settings.map_attribution}


def _on_tiles(location) -> list[float] | None:
    """A WGS-84 point in the tiles' datum (AMap tiles are drawn in GCJ-02)."""
    if location is None:
        return None
    return list(from_wgs84(location.lat, location.lng, get_settings().map_tile_datum))


def _map_data(read) -> dict:
    return {"tiles": _tiles(), "store": _on_tiles(read.store_location), "door": _on_tiles(read.dropoff),
            "courier": _on_tiles(read.courier.position) if read.courier else None}


# --- the courier's page --------------------------------------------------------------------------------


def _courier_page(request: Request, session, principal: Principal, *, error: str | None = None,
                  status: int = 200) -> Response:
    courier = couriers.of_principal(session, principal)
    return render(request, "delivery/courier.html", {
        "principal": principal, "courier": courier_read(session, courier),
        "route": [delivery_read(session, d) for d in deliveries.route_of(session, courier)],
        "available": [delivery_read(session, d) for d in deliveries.waiting_for(session, courier)],
        "error": error}, status=status)


@router.get("/courier", response_class=HTMLResponse)
def courier_page(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    return _courier_page(request, session, principal)


@router.post("/courier/shift", response_class=HTMLResponse)
def courier_shift(request: Request, session: DbSession, principal: PagePrincipal, form: CheckedForm) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    couriers.set_shift(session, principal, ShiftIn(online=text(form, "online", 8) == "1"))
    return see_other("/courier")


@router.post("/courier/deliveries/{delivery_id}/{step}", response_class=HTMLResponse)
def courier_step(delivery_id: ObjectId, step: str, request: Request, session: DbSession, principal: PagePrincipal,
                 form: CheckedForm) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    try:
        if step == "deliver":
            deliveries.hand_over(session, principal, delivery_id, text(form, "code", 8))
        elif step == "complete":
            visits.complete(session, principal, delivery_id, text(form, "code", 40), request.app.state.settings)
        elif step in STEPS:
            STEPS[step](session, principal, delivery_id)
        else:
            raise NotFound()
    except NotACourier:
        raise
    except DomainError as error:
        session.rollback()
        if isinstance(error, WrongHandoverCode):  # the wrong code counts (delivery.handover)
            handover.record_failure(session, delivery_id)
        elif isinstance(error, VoucherNotFound) and step == "complete":  # against the provider and the visit
            visits.record_failure(session, principal, delivery_id)
        return _courier_page(request, session, principal, error=error.code, status=error.status)
    return see_other("/courier")


@router.post("/courier/position")
def courier_position(request: Request, session: DbSession, principal: PagePrincipal, form: CheckedForm) -> Response:
    """The page's position reports (form-encoded, CSRF-checked like every page POST)."""
    if not principal.is_authenticated:
        return JSONResponse({"error": {"code": "not_authenticated", "message": "Log in first.", "details": None}},
                            status_code=401)
    try:
        data = PositionIn(lat=float(text(form, "lat", 32)), lng=float(text(form, "lng", 32)), datum="wgs84",
                          accuracy_m=float(text(form, "accuracy", 32) or 0))
    except ValueError:
        return JSONResponse({"error": {"code": "validation_error", "message": "lat and lng must be numbers.",
                                       "details": None}}, status_code=422)
    kept, next_after = couriers.report_position(session, principal, data)
    return JSONResponse({"kept": kept, "next_after": next_after.isoformat()})


# --- the consumer's tracking page ----------------------------------------------------------------------


@router.get("/orders/{order_id}/tracking", response_class=HTMLResponse)
def tracking_page(order_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    delivery = deliveries.of_order(session, principal, order_id)
    read = read_for(session, principal, delivery)
    return render(request, "delivery/tracking.html", {
        "principal": principal, "delivery": read, "map_data": _map_data(read), "order_id": order_id})


@router.get("/orders/{order_id}/tracking/events")
async def tracking_events(order_id: ObjectId, request: Request, factory: Factory,
                          principal: OwnPagePrincipal) -> Response:
    """The tracking page's server-sent events: the delivery as JSON plus its points in the tiles' datum."""
    return tracking.events(request, factory, principal, order_id, lambda read: json.dumps(
        {"delivery": json.loads(read.model_dump_json()), "map": _map_data(read)}))


# --- dispatch boards --------------------------------------------------------------------------------------


def _board_page(request: Request, session, principal: Principal, merchant_id: int | None,
                error: str | None = None, status: int = 200) -> Response:
    board = board_of(session, merchant_id)
    merchant = merchants.get_merchant(session, merchant_id) if merchant_id is not None else None
    return render(request, "delivery/board.html", {
        "principal": principal, "board": board, "merchant": merchant, "error": error,
        "action": f"/merchant/{merchant_id}/dispatch" if merchant_id is not None else "/admin/dispatch",
        "map_data": {"tiles": _tiles(),
                     "couriers": [[c.display_name, *_on_tiles(c.position)] for c in board.couriers if c.position],
                     "doors": [[d.order_id, *_on_tiles(d.dropoff)] for d in board.waiting + board.active]}},
        status=status)


def _may_see_board(principal: Principal, merchant_id: int | None) -> bool:
    return principal.is_operator if merchant_id is None else principal.can(Action.CONSOLE_VIEW, merchant_id)


@router.get("/merchant/{merchant_id}/dispatch", response_class=HTMLResponse)
def merchant_board(merchant_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    if not _may_see_board(principal, merchant_id):
        raise NotFound()
    return _board_page(request, session, principal, merchant_id)


@router.get("/admin/dispatch", response_class=HTMLResponse)
def city_board(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    if not _may_see_board(principal, None):
        raise NotFound()
    return _board_page(request, session, principal, None)


def _override(request: Request, session, principal: Principal, merchant_id: int | None, form) -> Response:
    if not _may_see_board(principal, merchant_id):
        raise NotFound()
    try:
        deliveries.reassign(session, principal, int(text(form, "delivery_id", 20) or 0),
                            int(text(form, "courier_id", 20) or 0), text(form, "reason", 200) or "manual")
    except (DomainError, ValueError) as error:
        session.rollback()
        code = getattr(error, "code", "validation_error")
        return _board_page(request, session, principal, merchant_id, error=code,
                           status=getattr(error, "status", 422))
    return see_other(f"/merchant/{merchant_id}/dispatch" if merchant_id is not None else "/admin/dispatch")


@router.post("/merchant/{merchant_id}/dispatch", response_class=HTMLResponse)
def merchant_override(merchant_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
                      form: CheckedForm) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    return _override(request, session, principal, merchant_id, form)


@router.post("/admin/dispatch", response_class=HTMLResponse)
def city_override(request: Request, session: DbSession, principal: PagePrincipal, form: CheckedForm) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    return _override(request, session, principal, None, form)
