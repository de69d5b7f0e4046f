"""What an order costs, row by row: its lines, the member tier's discount, each coupon, the points, the total.

The order page shows it for a placed order. The checkout page shows it before paying, and works it out the
only way that cannot drift from what is charged: it places the order, reads the breakdown and rolls the
whole transaction back (a dry run of orders.service.create_order with the same coupons and points, so the
same discount rules, caps and minimum charge apply). Nothing of the dry run stays: no order, no coupon
marked used, no points spent, no stock held.
"""

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from daodian.accounts.authz import Principal
from daodian.coupons.models import Coupon, CouponTemplate
from daodian.kit.db import unit_of_work
from daodian.kit.settings import Settings
from daodian.orders import service as orders
from daodian.orders.schemas import OrderCreate, OrderRead


@dataclass(frozen=True)
class Row:
    name: str
    amount_fen: int


@dataclass
class Breakdown:
    lines: list[tuple[str, int, int]]  # (name, quantity, amount before discounts)
    subtotal_fen: int
    tier_fen: int = 0
    coupons: list[Row] = field(default_factory=list)
    points: int = 0  # 1 point = 1 fen off
    total_fen: int = 0


def of_order(session: Session, order: OrderRead, names: dict[int, str] | None = None) -> Breakdown:
    """The rows of a placed order; they add up to its total. `names`: line id -> the name to show."""
    names = names or {}
    subtotal = sum(line.amount_fen for line in order.lines)
    used = session.execute(select(CouponTemplate.name, Coupon.discount_fen)
                           .join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
                           .where(Coupon.used_order_id == order.id).order_by(Coupon.id)).all()
    coupons = [Row(name, fen or 0) for name, fen in used]
    # The order's discount_fen is the tier's and the coupons' together, capped so that one fen is charged:
    # the tier's share is what the coupons do not explain, and a capped coupon shows what it really took.
    left = order.discount_fen
    shown: list[Row] = []
    for row in coupons:
        shown.append(Row(row.name, min(row.amount_fen, left)))
        left -= shown[-1].amount_fen
    return Breakdown(lines=[(names.get(ln.id) or ln.name, ln.quantity, ln.amount_fen) for ln in order.lines],
                     subtotal_fen=subtotal, tier_fen=max(left, 0), coupons=shown, points=order.points_spent,
                     total_fen=order.total_fen)


class _DryRun(Exception):
    def __init__(self, breakdown: Breakdown) -> None:
        super().__init__("dry run")
        self.breakdown = breakdown


def preview(factory: sessionmaker[Session], principal: Principal, data: OrderCreate, settings: Settings,
            names: dict[int, str] | None = None) -> Breakdown:
    """The breakdown the order would have if placed now; domain errors (a coupon that does not apply,
    too many points) raise as they would when placing it."""
    try:
        with unit_of_work(factory) as session:
            order = orders.create_order(session, principal, data, settings)
            raise _DryRun(of_order(session, orders.order_read(session, order), names))
    except _DryRun as done:  # raised inside the unit of work: it rolled everything back
        return done.breakdown
