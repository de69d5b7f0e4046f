"""The life of a delivery: which status may follow which. Every change goes through `move`, whose conditional
UPDATE (status still what the caller saw) makes two parallel changes of one delivery end with one winner."""

from sqlalchemy import update
from sqlalchemy.orm import Session

from daodian.delivery.errors import WrongDeliveryState
from daodian.delivery.models import Delivery, DeliveryStatus

S = DeliveryStatus
NEXT: dict[DeliveryStatus, frozenset[DeliveryStatus]] = {
    S.WAITING: frozenset({S.ASSIGNED, S.CANCELLED}),
    S.ASSIGNED: frozenset({S.AT_STORE, S.PICKED_UP, S.WAITING, S.CANCELLED}),  # WAITING: released
    S.AT_STORE: frozenset({S.PICKED_UP, S.WAITING, S.CANCELLED}),
    S.PICKED_UP: frozenset({S.DELIVERED}),  # once the bag left the store, the order is on its way
    S.DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
}
ACTIVE = (S.ASSIGNED, S.AT_STORE, S.PICKED_UP)  # a courier is carrying or about to carry it


def move(session: Session, delivery: Delivery, to: DeliveryStatus, **changes) -> None:
    """Change the status (and `changes`) if the delivery is still where the caller saw it, or raise."""
    seen = DeliveryStatus(delivery.status)
    if to not in NEXT[seen]:
        raise WrongDeliveryState(details={"status": seen.value, "wanted": to.value})
    moved = session.execute(
        update(Delivery).where(Delivery.id == delivery.id, Delivery.status == seen.value)
        .values(status=to.value, **changes).execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        session.expire(delivery)
        raise WrongDeliveryState(details={"status": delivery.status, "wanted": to.value})
    session.expire(delivery)
