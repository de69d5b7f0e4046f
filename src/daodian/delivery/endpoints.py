"""Couriers, deliveries and the dispatch board over JSON; the consumer's live tracking as server-sent events."""


from fastapi import APIRouter, Request, status
from fastapi.responses import StreamingResponse

from daodian.accounts.authz import Action, authorize, require_operator
from daodian.accounts.dependencies import LoggedIn
from daodian.accounts.own_transaction_deps import Factory, OwnLoggedIn
from daodian.delivery import couriers, deliveries, dispatching, tracking
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
)
from daodian.kit.api.http import DbSession, ObjectId, access
from daodian.kit.api.scopes import declare
from daodian.kit.clock import utcnow

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


@router.post("/couriers/me/positions", response_model=PositionAck, openapi_extra=access("courier"))
def report_position(body: PositionIn, session: DbSession, principal: LoggedIn) -> PositionAck:
    """Where the courier is now, with its datum. Reports closer together than the server keeps them are
    answered with `kept: false` and when to send the next one."""
    kept, next_after = couriers.report_position(session, principal, body)
    return PositionAck(kept=kept, next_after=next_after)


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
    """Handed over at the door, with the consumer's code. Errors: `wrong_handover_code` (409),
    `wrong_delivery_state` (409) before pickup."""
    return delivery_read(session, deliveries.hand_over(session, principal, delivery_id, body.code))


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
