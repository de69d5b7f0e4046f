"""The handover code's attempt limit: each delivery takes `MAX_HANDOVER_FAILURES` wrong codes
(deliveries.hand_over answers `handover_locked`, 429, after that), counted in a transaction of their own since the
refused hand-over rolls its own back. Then a fresh code is needed: the consumer (who sees it) or the store's
counter staff ask for one, which also resets the count. A 6-digit code has a million values: five guesses per
code leave a courier 1 chance in 200,000."""

import secrets

from sqlalchemy import update
from sqlalchemy.orm import Session

from daodian.accounts.authz import Action, Principal
from daodian.delivery import deliveries
from daodian.delivery.errors import DeliveryNotFound, WrongDeliveryState
from daodian.delivery.models import Delivery, DeliveryKind, DeliveryStatus

S = DeliveryStatus


def record_failure(session: Session, delivery_id: int) -> None:
    session.execute(update(Delivery).where(Delivery.id == delivery_id)
                    .values(handover_failures=Delivery.handover_failures + 1)
                    .execution_options(synchronize_session=False))


def fresh_code(session: Session, principal: Principal, delivery_id: int) -> Delivery:
    """A new handover code, the wrong attempts forgotten: for the consumer or the merchant's counter staff."""
    delivery = deliveries.readable(session, principal, delivery_id)
    if principal.user_id != delivery.consumer_id and not principal.can(Action.COUNTER, delivery.merchant_id):
        raise DeliveryNotFound()
    if delivery.kind == DeliveryKind.VISIT or delivery.status in (S.DELIVERED, S.CANCELLED):
        raise WrongDeliveryState(details={"status": delivery.status, "wanted": "a handover code", "kind": delivery.kind})
    delivery.handover_code = f"{secrets.randbelow(10**6):06d}"
    delivery.handover_failures = 0
    session.flush()
    deliveries.fact(session, "delivery.handover_code_renewed", delivery, by=principal.user_id)
    return delivery
