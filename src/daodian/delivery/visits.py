"""Visits (上门服务): a provider sent from the merchant's store to the consumer's address for an at-home service
item. A visit is a delivery of kind `visit`, opened when the order is paid (deliveries.open_for_order), planned by
the same dispatch with providers only, tracked the same way; the provider sets off (`pickup`) and completes it at
the door by verifying the voucher code the consumer shows.

Completion goes through the vouchers domain's counter verification (vouchers.counter.verify): the same checks
and error codes as at the counter (`voucher_not_found`, `voucher_used_up`, `voucher_expired`, ...), the same
conditional UPDATE that consumes one use exactly once, the same throttle of wrong codes (the provider's account
at the visit's store, and the visit itself as a terminal), and the order completes as a verified service order
does. The provider is no staff of the merchant: the visit assigned to them is what lets them verify, so the
verification runs as a clerk of that one merchant, the provider's account recorded as who verified. A code of
another order is refused as `voucher_not_found`, as a wrong code is.
"""

from sqlalchemy.orm import Session

from daodian.accounts.authz import Principal
from daodian.accounts.models import StaffRole
from daodian.delivery import deliveries
from daodian.delivery.errors import WrongDeliveryState
from daodian.delivery.models import Delivery, DeliveryKind, DeliveryStatus
from daodian.delivery.states import move
from daodian.kit.clock import utcnow
from daodian.kit.settings import Settings
from daodian.vouchers import counter
from daodian.vouchers import service as vouchers
from daodian.vouchers.errors import VoucherNotFound

S = DeliveryStatus


def terminal_of(delivery_id: int) -> str:
    return f"visit-{delivery_id}"


def failure_keys(principal: Principal, delivery: Delivery) -> list[str]:
    """The terminals a wrong code at this visit counts against (vouchers.counter's throttle)."""
    return counter.terminal_keys(principal.user_id, delivery.store_id, terminal_of(delivery.id))


def complete(session: Session, principal: Principal, delivery_id: int, raw_code: str, settings: Settings) -> Delivery:
    """The provider did the service: one use of the order's voucher is verified, and the visit is done."""
    delivery, _ = deliveries.carried_by_caller(session, principal, delivery_id)
    if delivery.kind != DeliveryKind.VISIT:
        raise WrongDeliveryState(details={"status": delivery.status, "wanted": "a visit", "kind": delivery.kind})
    if delivery.status == S.DELIVERED:
        return delivery  # a retried tap: the use was consumed once, by the first
    if delivery.status != S.PICKED_UP:
        raise WrongDeliveryState(details={"status": delivery.status, "wanted": S.DELIVERED.value})
    now = utcnow()
    counter.check_throttle(session, failure_keys(principal, delivery), settings, now)
    if vouchers.find(session, raw_code).order_id != delivery.order_id:
        raise VoucherNotFound()  # another order's code: no hint that it exists
    at_door = Principal(user_id=principal.user_id, display_name=principal.display_name,
                        roles={delivery.merchant_id: StaffRole.CLERK})
    counter.verify(session, at_door, raw_code=raw_code, store_id=delivery.store_id,
                   terminal_id=terminal_of(delivery.id), settings=settings)
    move(session, delivery, S.DELIVERED, delivered_at=now)  # of two racing completions, one; the other rolls back
    deliveries.fact(session, "delivery.delivered", delivery, delivery_kind=DeliveryKind.VISIT.value,
                    click_to_door_s=int((now - delivery.placed_at).total_seconds()))
    return delivery


def record_failure(session: Session, principal: Principal, delivery_id: int) -> None:
    """After a refused completion's rollback: a wrong code counts against the provider and the visit."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is not None:
        counter.record_failure_in(session, failure_keys(principal, delivery))
