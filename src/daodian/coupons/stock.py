"""A coupon template's stock in slots: filled once when the template is made, taken by claims.

Each take is a conditional UPDATE of one slot (`remaining > 0`, or of a slot the transaction has locked
and read): the database decides, so no template ever gives out more than its quantity, whatever the
concurrency. A single claim starts at a random slot, so parallel claims on PostgreSQL lock different rows;
when its slot is empty it tries the others that still have stock, and only when none has is the template
sold out. A batch of claims (`take_many`) locks free slots only and takes several coupons from each.
"""

import random

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from daodian.coupons.models import CouponStock

SLOTS = 16  # enough for the parallel commits of a few server processes; a template never has more


def shares(quantity: int) -> list[int]:
    """`quantity` spread over the slots: what slot i holds (fewer slots than SLOTS for tiny quantities)."""
    slots = max(1, min(SLOTS, quantity))
    share, extra = divmod(quantity, slots)
    return [share + (1 if slot < extra else 0) for slot in range(slots)]


def fill(session: Session, template_id: int, quantity: int) -> None:
    session.execute(insert(CouponStock.__table__), [
        {"template_id": template_id, "slot": slot, "remaining": n} for slot, n in enumerate(shares(quantity))])


class StockBusy(Exception):
    """Every slot with stock is locked by other transactions, and this one may not wait for them."""


def take_one(session: Session | Connection, template_id: int) -> bool:
    """Take one coupon from the template's stock in the caller's transaction; False when none is left.
    (A transaction of many claims takes them at once: `take_many`.)"""
    if _take(session, template_id, random.randrange(SLOTS)):
        return True
    while True:  # our slot was empty (or the template has fewer slots): the ones with stock, in turn
        others = list(session.scalars(_WITH_STOCK, {"template_id": template_id}))
        if not others:
            return False
        random.shuffle(others)
        if any(_take(session, template_id, slot) for slot in others):
            return True


def take_many(session: Session | Connection, template_id: int, wanted: int, locked: dict[int, int]) -> tuple[int, bool]:
    """Take up to `wanted` coupons at once for a transaction of many claims, never waiting for a slot another
    transaction has locked (`locked`: the slot this one holds, per template): (how many it took, whether the
    rest of the stock is in slots others hold)."""
    taken = 0
    while taken < wanted:
        row = session.execute(_FREE_SLOT, {"template_id": template_id}).first()  # locked by us now
        if row is None:
            return taken, bool(session.scalar(_ANY_LEFT, {"template_id": template_id}))
        slot, remaining = row
        n = min(remaining, wanted - taken)
        session.execute(_TAKE_N, {"take_template": template_id, "take_slot": slot, "n": n})
        locked[template_id], taken = slot, taken + n
    return taken, False


def give_back(session: Session | Connection, template_id: int, slot: int, n: int = 1) -> None:
    """Return `n` coupons to a slot this transaction took from (and so holds locked)."""
    session.execute(_GIVE_BACK, {"back_template": template_id, "back_slot": slot, "n": n})


_TAKE = (update(CouponStock.__table__)  # built once: building it per claim cost more than running it
         .where(CouponStock.template_id == bindparam("take_template"), CouponStock.slot == bindparam("take_slot"),
                CouponStock.remaining > 0)
         .values(remaining=CouponStock.remaining - 1))
_GIVE_BACK = (update(CouponStock.__table__)
              .where(CouponStock.template_id == bindparam("back_template"), CouponStock.slot == bindparam("back_slot"))
              .values(remaining=CouponStock.remaining + bindparam("n")))
_TAKE_N = (update(CouponStock.__table__)  # on a slot this transaction has locked, with `n` <= what it holds
           .where(CouponStock.template_id == bindparam("take_template"), CouponStock.slot == bindparam("take_slot"))
           .values(remaining=CouponStock.remaining - bindparam("n")))
_WITH_STOCK = select(CouponStock.slot).where(CouponStock.template_id == bindparam("template_id"),
                                             CouponStock.remaining > 0)
# PostgreSQL locks the slot it returns and passes over those others hold; SQLite, one writer, has no row locks.
_FREE_SLOT = (select(CouponStock.slot, CouponStock.remaining)
              .where(CouponStock.template_id == bindparam("template_id"), CouponStock.remaining > 0)
              .order_by(func.random()).limit(1).with_for_update(skip_locked=True))
_ANY_LEFT = select(func.count()).where(CouponStock.template_id == bindparam("template_id"), CouponStock.remaining > 0)


def _take(session: Session | Connection, template_id: int, slot: int) -> bool:
    return session.execute(_TAKE, {"take_template": template_id, "take_slot": slot}).rowcount == 1
