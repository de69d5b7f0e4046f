"""Couriers: who they are, when they work, where they are.

Positions arrive from the courier page every few seconds. The server keeps at most one per courier per
`POSITION_INTERVAL`: a report sooner than that after the last kept one is answered (with when to send the
next) but not stored, so a page stuck in a fast loop cannot flood the table. The kept report moves the
courier's current position (one UPDATE, conditional on the interval, which also settles two reports racing)
and adds a row to the history with the datum it came in.
"""

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from daodian.accounts.authz import Action, Principal, authorize, require_login, require_operator
from daodian.accounts.models import User
from daodian.delivery.errors import AlreadyCourier, CourierNotFound, NotACourier
from daodian.delivery.models import Courier, CourierPosition
from daodian.delivery.schemas import CourierCreate, PositionIn, ShiftIn
from daodian.geo.datum import to_wgs84
from daodian.kit.clock import utcnow
from daodian.kit.errors import NotFound

POSITION_INTERVAL = timedelta(seconds=4)  # the page sends every 5 s; a little slack for timer jitter


def register(session: Session, principal: Principal, data: CourierCreate, merchant_id: int | None = None) -> Courier:
    """An operator adds a courier to the platform's fleet (no merchant); an owner to the merchant's own riders."""
    if merchant_id is None:
        require_operator(principal)
    else:
        authorize(principal, Action.STAFF_MANAGE, merchant_id)
    if session.get(User, data.user_id) is None:
        raise NotFound("No such user.", code="user_not_found")
    courier = Courier(user_id=data.user_id, merchant_id=merchant_id, speed_m_per_min=data.speed_m_per_min,
                      capacity=data.capacity, online=False)
    try:
        with session.begin_nested():
            session.add(courier)
            session.flush()
    except IntegrityError:
        raise AlreadyCourier() from None
    return courier


def of_principal(session: Session, principal: Principal) -> Courier:
    require_login(principal)
    courier = session.scalar(select(Courier).where(Courier.user_id == principal.user_id))
    if courier is None:
        raise NotACourier()
    return courier


def get(session: Session, courier_id: int) -> Courier:
    courier = session.get(Courier, courier_id)
    if courier is None:
        raise CourierNotFound()
    return courier


def may_dispatch(principal: Principal, courier: Courier) -> bool:
    """Operators dispatch the platform's fleet and any courier; a merchant's managers only its own riders."""
    if principal.is_operator:
        return True
    return courier.merchant_id is not None and principal.can(Action.STORE_MANAGE, courier.merchant_id)


def set_shift(session: Session, principal: Principal, data: ShiftIn) -> Courier:
    courier = of_principal(session, principal)
    courier.online = data.online
    courier.shift_ends_at = data.ends_at if data.online else None
    session.flush()
    return courier


def on_duty(courier: Courier, now: datetime) -> bool:
    return courier.online and (courier.shift_ends_at is None or courier.shift_ends_at > now)


def report_position(session: Session, principal: Principal, data: PositionIn) -> tuple[bool, datetime]:
    """(kept?, when the next report is useful)."""
    courier = of_principal(session, principal)
    now = utcnow()
    lat, lng = to_wgs84(data.lat, data.lng, data.datum)
    kept = session.execute(
        update(Courier)
        .where(Courier.id == courier.id,
               or_(Courier.position_at.is_(None), Courier.position_at <= now - POSITION_INTERVAL))
        .values(lat=lat, lng=lng, position_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if kept:
        session.add(CourierPosition(courier_id=courier.id, lat=lat, lng=lng, input_lat=data.lat, input_lng=data.lng,
                                    input_datum=data.datum.value, accuracy_m=data.accuracy_m, recorded_at=now))
        return True, now + POSITION_INTERVAL
    session.refresh(courier, ["position_at"])
    return False, courier.position_at + POSITION_INTERVAL


def fleet(session: Session, merchant_id: int | None) -> list[Courier]:
    """The couriers a board shows: a merchant's own riders, or (None) every courier."""
    query = select(Courier).order_by(Courier.id)
    if merchant_id is not None:
        query = query.where(Courier.merchant_id == merchant_id)
    return list(session.scalars(query))
