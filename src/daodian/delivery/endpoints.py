"""Couriers, deliveries and the dispatch board over JSON; the consumer's live tracking as server-sent events."""


from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials

from daodian.accounts.authz import Action, Principal, authorize, require_operator
from daodian.accounts.dependencies import LoggedIn, admit_app, bearer_scheme
from daodian.accounts.own_transaction_deps import Factory, OwnLoggedIn
from daodian.accounts.tokens.lookup import principal_for
from daodian.delivery import (
    couriers,
    deliveries,
    dispatching,
    handover,
    position_socket,
    positions,
    tracking,
    visits,
)
from daodian.delivery.errors import WrongHandoverCode
from daodian.delivery.reads import board_of, courier_read, delivery_read, read_for
from daodian.delivery.schemas import (
    BoardRead,
    ConsumerDeliveryRead,
    CourierCreate,
    CourierRead,
    CycleRead,
    DeliveryRead,
    HandoverIn,
    ManualAssignIn,
    PositionAck,
    PositionIn,
    ShiftIn,
    VisitCompleteIn,
)
from daodian.kit.api.http import DbSession, ObjectId, access
from daodian.kit.api.scopes import declare
from daodian.kit.clock import utcnow
from daodian.kit.errors import NotAuthenticated
from daodian.vouchers.errors import VoucherNotFound

router = APIRouter(tags=["delivery"])
declare(router, "order:read", "order:write")  # the scopes apps' tokens need here (kit.api.scopes)


# --- couriers ---------------------------------------------------------------------------------------


@router.post("/couriers", status_code=status.HTTP_201_CREATED, response_model=CourierRead,
             openapi_extra=access("operator"))
def register_platform_courier(body: CourierCreate, session: DbSession, principal: LoggedIn) -> CourierRead:
    """Make a user a courier of the platform's fleet, who may carry any merchant's deliveries.
    Errors: `user_not_found` (404), `already_courier` (409)."""
    return courier_read(session, couriers.register(session, principal, body), carrying=0)


@router.post("/merchants/{merchant_id}/couriers", status_code=status.HTTP_201_CREATED, response_model=CourierRead,
             openapi_extra=access("merchant:staff.manage"))
def register_own_courier(merchant_id: ObjectId, body: CourierCreate, session: DbSession,
                         principal: LoggedIn) -> CourierRead:
    """Make a user one of the merchant's own riders: they carry only this merchant's deliveries, and while any
    is on duty the merchant's deliveries go to them rather than to the platform's fleet."""
    return courier_read(session, couriers.register(session, principal, body, merchant_id), carrying=0)


@router.get("/couriers/me", response_model=CourierRead, openapi_extra=access("courier"))
def my_courier(session: DbSession, principal: LoggedIn) -> CourierRead:
    """The caller's courier account. Errors: `not_a_courier` (403)."""
    return courier_read(session, couriers.of_principal(session, principal))


@router.put("/couriers/me/shift", response_model=CourierRead, openapi_extra=access("courier"))
def set_shift(body: ShiftIn, session: DbSession, principal: LoggedIn) -> CourierRead:
    """Go online (optionally until `ends_at`) or offline. Offline couriers get no new routes."""
    return courier_read(session, couriers.set_shift(session, principal, body))


async def _reporting_courier(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None,
                                                                       Depends(bearer_scheme)]) -> Principal:
    """The caller of a position report, from this process's memory of tokens (accounts.tokens.lookup: read
    once per token and process). No database gate: a report waits in delivery.positions' queue, holding
    neither a slot nor SQLite's write turn that other requests need."""
    if credentials is None or not credentials.credentials:
        raise NotAuthenticated()
    principal = await principal_for(request.app.state.session_factory, credentials.credentials[:128], "bearer")
    if principal is None:
        raise NotAuthenticated()
    if principal.app_id is not None:
        return await admit_app(request, principal)  # refuses: no app acts as a courier (kit.api.scopes)
    return principal


@router.post("/couriers/me/positions", response_model=PositionAck, openapi_extra=access("courier"))
async def report_position(body: PositionIn, request: Request,
                          principal: Annotated[Principal, Depends(_reporting_courier)]) -> PositionAck:
    """Where the courier is now, with its datum. Reports closer together than the server keeps them are
    answered with `kept: false` and when to send the next one. Errors: `not_a_courier` (403)."""
    # Written with the reports that arrive meanwhile, one transaction for all, answered once committed; one
    # known to come too soon is answered from this process's memory (delivery.positions).
    kept, next_after = await positions.batches_of(request.app).report(principal.user_id, body)
    return PositionAck(kept=kept, next_after=next_after)


# The same reports over one WebSocket per courier page: identified once, a small frame per report.
router.add_api_websocket_route("/couriers/me/positions/live", position_socket.serve_positions,
                               name="courier_positions_live")


@router.get("/couriers/me/route", response_model=list[DeliveryRead], openapi_extra=access("courier"))
def my_route(session: DbSession, principal: LoggedIn) -> list[DeliveryRead]:
    """What the courier carries now, in the order to pick up and drop off."""
    courier = couriers.of_principal(session, principal)
    return [delivery_read(session, d) for d in deliveries.route_of(session, courier)]


@router.get("/couriers/me/available", response_model=list[DeliveryRead], openapi_extra=access("courier"))
def available(session: DbSession, principal: LoggedIn) -> list[DeliveryRead]:
    """Waiting deliveries this courier may take (its merchant's, or any for the platform's fleet)."""
    courier = couriers.of_principal(session, principal)
    return [delivery_read(session, d) for d in deliveries.waiting_for(session, courier)]


# --- a delivery's steps ------------------------------------------------------------------------------


@router.post("/deliveries/{delivery_id}/accept", response_model=DeliveryRead, openapi_extra=access("courier"))
def accept(delivery_id: ObjectId, session: DbSession, principal: LoggedIn) -> DeliveryRead:
    """Take a waiting delivery. Of two couriers accepting at once, one gets it, the other `delivery_taken` (409)."""
    return delivery_read(session, deliveries.accept(session, principal, delivery_id))


@router.post("/deliveries/{delivery_id}/arrive", response_model=DeliveryRead, openapi_extra=access("courier"))
def arrive(delivery_id: ObjectId, session: DbSession, principal: LoggedIn) -> DeliveryRead:
    """The courier is at the store."""
    return delivery_read(session, deliveries.arrive(session, principal, delivery_id))


@router.post("/deliveries/{delivery_id}/pickup", response_model=DeliveryRead, openapi_extra=access("courier"))
def pick_up(delivery_id: ObjectId, session: DbSession, principal: LoggedIn) -> DeliveryRead:
    """The courier has the bag. Errors: `not_ready_yet` (409) before the store's ready time."""
    return delivery_read(session, deliveries.pick_up(session, principal, delivery_id))


@router.post("/deliveries/{delivery_id}/deliver", response_model=DeliveryRead, openapi_extra=access("courier"))
def deliver(delivery_id: ObjectId, body: HandoverIn, session: DbSession, principal: LoggedIn) -> DeliveryRead:
    """Handed over at the door, with the consumer's code. Errors: `wrong_handover_code` (409, with
    `details.attempts_left`), `handover_locked` (429: five wrong codes; the consumer or the store asks for a fresh
    one), `wrong_delivery_state` (409) before pickup or for a visit."""
    try:
        return delivery_read(session, deliveries.hand_over(session, principal, delivery_id, body.code))
    except WrongHandoverCode:
        session.rollback()  # the wrong code counts, in a transaction of its own
        handover.record_failure(session, delivery_id)
        session.commit()
        raise


@router.post("/deliveries/{delivery_id}/handover-code", response_model=ConsumerDeliveryRead | DeliveryRead,
             openapi_extra=access("self|merchant:counter"))
def new_handover_code(delivery_id: ObjectId, session: DbSession, principal: LoggedIn) -> DeliveryRead:
    """A fresh handover code (the wrong attempts forgotten), for the consumer or the store's counter staff, after
    `handover_locked`. Errors: `delivery_not_found` (404), `wrong_delivery_state` (409: done, or a visit)."""
    return read_for(session, principal, handover.fresh_code(session, principal, delivery_id))


@router.post("/deliveries/{delivery_id}/complete-visit", response_model=DeliveryRead,
             openapi_extra=access("courier"))
def complete_visit(delivery_id: ObjectId, body: VisitCompleteIn, request: Request, session: DbSession,
                   principal: LoggedIn) -> DeliveryRead:
    """The provider did the at-home service: the consumer's voucher code is verified (one use, exactly once, as at
    the counter) and the visit is done; the service order completes as a verified one does. Errors: the counter's
    (`voucher_not_found` 404 also for another order's code, `voucher_used_up`, `voucher_expired`,
    `voucher_refunded` 409, `verification_throttled` 429), `wrong_delivery_state` (409: not set off yet, or not a
    visit), `delivery_not_found` (404)."""
    try:
        return delivery_read(session, visits.complete(session, principal, delivery_id, body.code,
                                                      request.app.state.settings))
    except VoucherNotFound:
        session.rollback()  # the wrong code counts against the provider and the visit, in its own transaction
        visits.record_failure(session, principal, delivery_id)
        session.commit()
        raise


@router.post("/deliveries/{delivery_id}/ready", response_model=DeliveryRead,
             openapi_extra=access("merchant:counter"))
def mark_ready(delivery_id: ObjectId, session: DbSession, principal: LoggedIn) -> DeliveryRead:
    """The store has packed the order: the courier may pick it up from now on."""
    return delivery_read(session, deliveries.mark_ready(session, principal, delivery_id))


@router.post("/deliveries/{delivery_id}/assign", response_model=DeliveryRead,
             openapi_extra=access("merchant:store.manage"))
def assign(delivery_id: ObjectId, body: ManualAssignIn, session: DbSession, principal: LoggedIn) -> DeliveryRead:
    """Manual override from a dispatch board: give the delivery to this courier, releasing (and recording) any
    assignment it had. Managers may use their merchant's own riders; operators any courier."""
    return delivery_read(session, deliveries.reassign(session, principal, delivery_id, body.courier_id, body.reason))


# --- tracking ----------------------------------------------------------------------------------------


@router.get("/orders/{order_id}/delivery", response_model=ConsumerDeliveryRead | DeliveryRead,
            openapi_extra=access("self|merchant:console.view"))
def order_delivery(order_id: ObjectId, session: DbSession, principal: LoggedIn) -> DeliveryRead:
    """The delivery of an order: status, courier and position, ETA, timeline; the consumer also sees the
    handover code. Errors: `delivery_not_found` (404)."""
    return read_for(session, principal, deliveries.of_order(session, principal, order_id))


@router.get("/orders/{order_id}/delivery/events", openapi_extra=access("self|merchant:console.view"),
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "`delivery` events."}})
async def order_delivery_events(order_id: ObjectId, request: Request, factory: Factory,
                                principal: OwnLoggedIn) -> StreamingResponse:
    """Live tracking as server-sent events: a `delivery` event (the same JSON as `GET .../delivery`) now and at
    each change of status, ETA or courier position, until delivered or cancelled."""
    return tracking.events(request, factory, principal, order_id, lambda read: read.model_dump_json())


# --- dispatch board ----------------------------------------------------------------------------------


@router.get("/merchants/{merchant_id}/dispatch-board", response_model=BoardRead,
            openapi_extra=access("merchant:console.view"))
def merchant_board(merchant_id: ObjectId, session: DbSession, principal: LoggedIn) -> BoardRead:
    """The merchant's deliveries under way and waiting, and its own riders."""
    authorize(principal, Action.CONSOLE_VIEW, merchant_id)
    return board_of(session, merchant_id)


@router.get("/dispatch-board", response_model=BoardRead, openapi_extra=access("operator"))
def cityboard_of(session: DbSession, principal: LoggedIn) -> BoardRead:
    """Every delivery under way and waiting, and every courier."""
    require_operator(principal)
    return board_of(session, None)


@router.post("/dispatch/cycles", response_model=CycleRead, openapi_extra=access("operator"))
def run_cycle(session: DbSession, principal: LoggedIn) -> CycleRead:
    """Run one dispatch cycle now (the server runs one every few seconds by itself)."""
    require_operator(principal)
    result = dispatching.run_cycle(session, utcnow())
    return CycleRead(assigned=result.assigned, open_deliveries=result.open_deliveries,
                     available_couriers=result.available_couriers)
