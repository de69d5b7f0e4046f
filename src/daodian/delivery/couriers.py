"""Couriers: who they are, when they work, where they are.

Positions (at most one kept per courier per interval, written in batches) are in delivery.positions.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from daodian.accounts.authz import Action, Principal, authorize, require_login, require_operator
from daodian.accounts.models import User
from daodian.delivery import positions
from daodian.delivery.errors import AlreadyCourier, CourierNotFound, NotACourier
from daodian.delivery.models import Courier
from daodian.delivery.schemas import CourierCreate, PositionIn, ShiftIn
from daodian.kit.errors import NotFound


def register(session: Session, principal: Principal, data: CourierCreate, merchant_id: int | None = None) -> Courier:
    """An operator adds a courier to the platform's fleet (no merchant); an owner to the merchant's own riders."""
    if merchant_id is None:
        require_operator(principal)
    else:
        authorize(principal, Action.STAFF_MANAGE, merchant_id)
    if session.get(User, data.user_id) is None:
        raise NotFound("No such user.", code="user_not_found")
    courier = Courier(user_id=data.user_id, merchant_id=merchant_id, speed_m_per_min=data.speed_m_per_min,
                      capacity=data.capacity, online=False, is_provider=data.provider)
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


def fits(courier: Courier, delivery) -> bool:
    """Providers go on visits (上门服务), couriers carry deliveries: never the other way round."""
    return bool(courier.is_provider) == (delivery.kind == "visit")


def on_duty(courier: Courier, now: datetime) -> bool:
    return courier.online and (courier.shift_ends_at is None or courier.shift_ends_at > now)


def report_position(session: Session, principal: Principal, data: PositionIn) -> tuple[bool, datetime]:
    """(kept?, when the next report is useful), in the caller's transaction (the courier page's route)."""
    require_login(principal)
    return positions.report_one(session, principal.user_id, data)


def fleet(session: Session, merchant_id: int | None) -> list[Courier]:
    """The couriers a board shows: a merchant's own riders, or (None) every courier."""
    query = select(Courier).order_by(Courier.id)
    if merchant_id is not None:
        query = query.where(Courier.merchant_id == merchant_id)
    return list(session.scalars(query))
