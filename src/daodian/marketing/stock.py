"""A coupon template's stock in slots: filled once when the template is made, taken one at a time.

Each take is one conditional UPDATE of one slot (`remaining > 0`): the database decides, so no template
ever gives out more than its quantity, whatever the concurrency. A claim starts at a random slot, so
parallel claims on PostgreSQL lock different rows; when its slot is empty it tries the others that
still have stock, and only when none has is the template sold out.
"""

import random

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from daodian.marketing.models import CouponStock

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


def take_one(session: Session | Connection, template_id: int, locked: dict[int, int] | None = None) -> bool:
    """Take one coupon from the template's stock in the caller's transaction; False when none is left.

    A transaction taking for many claims (`locked`: the slot it has locked, per template) never waits for a
    slot another transaction has locked: holding slot locks of its own, waiting could deadlock. It keeps
    taking from its slot, else locks a free one with stock, else raises StockBusy (or says sold out).
    """
    if locked is not None:
        return _take_without_waiting(session, template_id, locked)
    if _take(session, template_id, random.randrange(SLOTS)):
        return True
    while True:  # our slot was empty (or the template has fewer slots): the ones with stock, in turn
        others = list(session.scalars(_WITH_STOCK, {"template_id": template_id}))
        if not others:
            return False
        random.shuffle(others)
        if any(_take(session, template_id, slot) for slot in others):
            return True


def give_back(session: Session | Connection, template_id: int, slot: int) -> None:
    """Return one coupon to the slot this transaction just took it from (and so holds locked)."""
    session.execute(_GIVE_BACK, {"back_template": template_id, "back_slot": slot})


def _take_without_waiting(session: Session | Connection, template_id: int, locked: dict[int, int]) -> bool:
    slot = locked.get(template_id)
    if slot is not None and _take(session, template_id, slot):  # locked by us already: no wait
        return True
    slot = session.scalar(_FREE_SLOT, {"template_id": template_id})
    if slot is None:
        if session.scalar(_ANY_LEFT, {"template_id": template_id}):
            raise StockBusy()
        return False
    locked[template_id] = slot
    return _take(session, template_id, slot)


_TAKE = (update(CouponStock.__table__)  # built once: building it per claim cost more than running it
         .where(CouponStock.template_id == bindparam("take_template"), CouponStock.slot == bindparam("take_slot"),
                CouponStock.remaining > 0)
         .values(remaining=CouponStock.remaining - 1))
_GIVE_BACK = (update(CouponStock.__table__)
              .where(CouponStock.template_id == bindparam("back_template"), CouponStock.slot == bindparam("back_slot"))
              .values(remaining=CouponStock.remaining + 1))
_WITH_STOCK = select(CouponStock.slot).where(CouponStock.template_id == bindparam("template_id"),
                                             CouponStock.remaining > 0)
# PostgreSQL locks the slot it returns and passes over those others hold; SQLite, one writer, has no row locks.
_FREE_SLOT = _WITH_STOCK.order_by(func.random()).limit(1).with_for_update(skip_locked=True)
_ANY_LEFT = select(func.count()).where(CouponStock.template_id == bindparam("template_id"), CouponStock.remaining > 0)


def _take(session: Session | Connection, template_id: int, slot: int) -> bool:
    return session.execute(_TAKE, {"take_template": template_id, "take_slot": slot}).rowcount == 1
