"""Vouchers: issued when a service order is paid, one per unit bought, with `sessions` uses each.

Redeeming them at the counter is vouchers.counter; refunds void unused uses through `void_uses`.
"""

from datetime import datetime, timedelta

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from daodian.accounts.authz import Principal, require_login
from daodian.kit import codes
from daodian.kit.clock import utcnow
from daodian.kit.db import insert_later, insert_unless_taken
from daodian.kit.facts import INSERT_FACT, fact_values
from daodian.kit.settings import Settings
from daodian.orders import repository
from daodian.orders.models import Order, OrderLine
from daodian.vouchers import deals as group_buy_deals
from daodian.vouchers import repository as voucher_repository
from daodian.vouchers.errors import VoucherExpired, VoucherForeignStore, VoucherNotFound, VoucherRefunded, VoucherUsedUp
from daodian.vouchers.models import Voucher
from daodian.vouchers.schemas import VoucherGroupBuy, VoucherRead


def issue(session: Session, order: Order, lines: list[OrderLine | Row], settings: Settings, now: datetime) -> list[int]:
    """One voucher per unit of each service line, with the line's sessions as its uses: their ids. `lines`: the
    order's lines, or rows of their id, service_item_id, quantity, unit_price_fen and sessions."""
    issued = []
    expires_at = now + timedelta(days=settings.voucher_valid_days)
    for line in lines:
        if line.service_item_id is None:
            continue
        for _ in range(line.quantity):
            voucher_id = _new_voucher(session, order, line, expires_at, now)
            issued.append(voucher_id)
            insert_later(session, INSERT_FACT, fact_values("voucher.issued", {
                "voucher_id": voucher_id, "order_id": order.id, "service_item_id": line.service_item_id,
                "uses": line.sessions, "unit_price_fen": line.unit_price_fen,
                "expires_at": expires_at.isoformat()}, occurred_at=now, merchant_id=order.merchant_id,
                store_id=order.store_id, consumer_id=order.consumer_id))
    return issued


def _new_voucher(session: Session, order: Order, line: OrderLine | Row, expires_at: datetime, now: datetime) -> int:
    """The new voucher's id. One INSERT … ON CONFLICT (code) DO NOTHING: a code drawn twice (80 random bits: all
    but impossible, never fatal) inserts nothing and is drawn again, with no savepoint around each voucher."""
    for _ in range(3):
        voucher_id = insert_unless_taken(session, Voucher.__table__, ("code",), {
            "code": codes.new_code(), "order_id": order.id, "order_line_id": line.id,
            "consumer_id": order.consumer_id, "merchant_id": order.merchant_id,
            "service_item_id": line.service_item_id, "unit_price_fen": line.unit_price_fen,
            "uses_total": line.sessions, "uses_left": line.sessions, "refunded_uses": 0, "expires_at": expires_at,
            "created_at": now, "updated_at": now})
        if voucher_id is not None:
            return voucher_id
    raise RuntimeError("could not draw a unique voucher code")


def status(voucher: Voucher, now: datetime) -> str:
    if voucher.uses_left > 0:
        return "expired" if voucher.expires_at <= now else "active"
    used = voucher.uses_total - voucher.refunded_uses
    return "refunded" if used == 0 else "used_up"


def find(session: Session, raw_code: str) -> Voucher:
    code = codes.normalize(raw_code)
    voucher = voucher_repository.voucher_by_code(session, code) if code else None
    if voucher is None:
        raise VoucherNotFound()
    return voucher


def own_voucher(session: Session, principal: Principal, raw_code: str) -> Voucher:
    """The caller's voucher; someone else's code is "not found", so codes cannot be probed."""
    require_login(principal)
    voucher = find(session, raw_code)
    if voucher.consumer_id != principal.user_id and not principal.is_operator:
        raise VoucherNotFound()
    return voucher


def voucher_for_booking(session: Session, *, code: str, consumer_id: int, merchant_id: int,
                        service_item_id: int) -> Voucher:
    """For bookings: the consumer's usable voucher for this item, or the error saying why not."""
    voucher = find(session, code)
    if voucher.consumer_id != consumer_id:
        raise VoucherNotFound()
    if voucher.merchant_id != merchant_id or voucher.service_item_id != service_item_id:
        raise VoucherForeignStore("This voucher is for another service item.")
    state = status(voucher, utcnow())
    if state != "active":
        raise {"used_up": VoucherUsedUp, "refunded": VoucherRefunded, "expired": VoucherExpired}[state]()
    return voucher


def voucher_reads(session: Session, vouchers: list[Voucher], now: datetime) -> list[VoucherRead]:
    names = repository.line_names(session, {v.order_line_id for v in vouchers})
    deals = group_buy_deals.deals_of_orders(session, {v.order_id for v in vouchers})
    return [VoucherRead(
        id=v.id, code=v.code, display_code=codes.display(v.code), order_id=v.order_id, merchant_id=v.merchant_id,
        service_item_id=v.service_item_id, name=names.get(v.order_line_id, ""), status=status(v, now),
        uses_total=v.uses_total, uses_left=v.uses_left, refunded_uses=v.refunded_uses, expires_at=v.expires_at,
        qr_svg_url=f"/api/v1/vouchers/{v.code}/qr.svg", group_buy=_group_buy(deals.get(v.order_id)),
    ) for v in vouchers]


def _group_buy(deal: group_buy_deals.Deal | None) -> VoucherGroupBuy | None:
    if deal is None:
        return None
    return VoucherGroupBuy(group_buy_id=deal.group_buy_id, outcome=deal.outcome, ends_at=deal.ends_at)


# --- refunds ----------------------------------------------------------------------------------


def refund_value(voucher: Voucher, uses: int) -> int:
    """What `uses` more refunded uses are worth; the shares add up to the voucher's price exactly."""
    price, total, done = voucher.unit_price_fen, voucher.uses_total, voucher.refunded_uses
    return price * (done + uses) // total - price * done // total


def void_uses(session: Session, voucher: Voucher, uses: int) -> bool:
    """Take `uses` unused uses off a voucher for a refund; False if they are no longer there."""
    changed = session.execute(
        update(Voucher).where(Voucher.id == voucher.id, Voucher.uses_left >= uses)
        .values(uses_left=Voucher.uses_left - uses, refunded_uses=Voucher.refunded_uses + uses)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(voucher)
    return changed == 1


def restore_uses(session: Session, voucher_id: int, uses: int) -> None:
    """Undo `void_uses` when the provider refused the refund."""
    session.execute(update(Voucher).where(Voucher.id == voucher_id, Voucher.refunded_uses >= uses)
                    .values(uses_left=Voucher.uses_left + uses, refunded_uses=Voucher.refunded_uses - uses)
                    .execution_options(synchronize_session=False))


def net_refund_value(session: Session, voucher: Voucher, uses: int) -> int:
    """What `uses` more refunded uses of a voucher are worth, net of its line's discount share.

    The line's net amount is split over its vouchers (by id, to the fen) and each voucher's net price over
    its uses the way `vouchers.refund_value` splits the list price, so refunding everything pays back
    exactly what the line cost.
    """
    line = session.get(OrderLine, voucher.order_line_id)
    if not line.discount_fen:
        return refund_value(voucher, uses)
    ids = list(session.scalars(select(Voucher.id).where(Voucher.order_line_id == line.id).order_by(Voucher.id)))
    i, q, net = ids.index(voucher.id), len(ids), line.amount_fen - line.discount_fen
    price = net * (i + 1) // q - net * i // q
    total, done = voucher.uses_total, voucher.refunded_uses
    return price * (done + uses) // total - price * done // total
