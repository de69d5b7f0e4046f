"""The demo history's booking slots and bookings: daily slots over the last two weeks and the next one at some
stores, booked within capacity, with their facts (bookings.service's rules)."""

import numpy as np

from daodian.demo.history.closed_loop import Offer
from daodian.demo.history.tables import MINUTE_US, Columns, Facts, Ids, Prices, append, iso
from daodian.demo.rows import DAY_US

BOOKING_STORES = 25
SLOT_HOURS_UTC = (2, 6, 11)  # 10:00, 14:00 and 19:00 in Hangzhou

def bookings(rng, offer: Offer, prices: Prices, ids: Ids, now, facts: Facts) -> tuple[Columns, Columns]:
    """Daily slots over the last two weeks and the next one at some stores, booked within capacity."""
    picks = rng.choice(offer.offer_store.size, min(BOOKING_STORES, offer.offer_store.size), replace=False)
    _, first = np.unique(offer.offer_store[picks], return_index=True)  # one bookable item per store
    picks = picks[first]
    today = now.astype("datetime64[D]")
    slots: dict[str, list] = {k: [] for k in ("id", "merchant_id", "store_id", "service_item_id", "starts_at", "ends_at",
                                              "capacity", "booked", "status", "created_at", "updated_at")}
    bookings: dict[str, list] = {k: [] for k in ("id", "slot_id", "consumer_id", "merchant_id", "store_id",
                                                 "service_item_id", "status", "payment", "voucher_id", "order_id",
                                                 "cancelled_at", "cancelled_by", "cancel_reason", "marked_at",
                                                 "marked_by", "created_at")}
    plan = [(int(offer.offer_store[p]), int(offer.offer_item[p]), today + np.timedelta64(d, "D") +
             np.timedelta64(h, "h")) for p in picks.tolist() for d in range(-14, 8) for h in SLOT_HOURS_UTC]
    slot_ids = ids("booking_slots", len(plan))
    capacity = rng.integers(2, 6, len(plan))
    demand = np.minimum(rng.poisson(1.6, len(plan)), capacity)
    booking_ids = iter(ids("bookings", int(demand.sum())).tolist())
    for s, (store, item, starts) in enumerate(plan):
        starts = starts.astype("datetime64[us]")
        slot_id, item_id, merchant = int(slot_ids[s]), int(prices.item_ids[item]), int(prices.item_merchant[item])
        opened = starts - np.timedelta64(14 * DAY_US, "us")
        held = 0
        for who in rng.choice(offer.consumer_ids, int(demand[s]), replace=False).tolist():
            bid = next(booking_ids)
            made = starts - np.timedelta64(int(rng.uniform(0.1, 6) * DAY_US), "us")
            made = min(made, now - np.timedelta64(MINUTE_US, "us"))
            roll = rng.random()
            past = starts < now
            status = ("cancelled" if roll < 0.07 else "no_show" if roll < 0.15 else "attended") if past else \
                ("cancelled" if roll < 0.1 else "booked")
            cancelled_at = min(made + np.timedelta64(DAY_US // 4, "us"), now) if status == "cancelled" else None
            marked_at = starts + np.timedelta64(30 * MINUTE_US, "us") if status in ("attended", "no_show") else None
            clerk = prices.clerk_of[merchant]
            append(bookings, id=bid, slot_id=slot_id, consumer_id=who, merchant_id=merchant, store_id=store,
                    service_item_id=item_id, status=status, payment="pay_at_store", voucher_id=None, order_id=None,
                    cancelled_at=cancelled_at, cancelled_by=who if cancelled_at is not None else None,
                    cancel_reason="consumer" if cancelled_at is not None else None, marked_at=marked_at,
                    marked_by=clerk if marked_at is not None else None, created_at=made)
            held += status != "cancelled"
            payload = {"booking_id": bid, "slot_id": slot_id, "service_item_id": item_id, "starts_at": iso(starts),
                       "payment": "pay_at_store"}
            scope = dict(merchant_id=merchant, store_id=store, consumer_id=who)
            facts.add("booking.created", made, payload, **scope)
            if cancelled_at is not None:
                facts.add("booking.cancelled", cancelled_at, {**payload, "reason": "consumer", "late": False}, **scope)
            elif marked_at is not None:
                facts.add(f"booking.{status}", marked_at, payload, **scope)
        append(slots, id=slot_id, merchant_id=merchant, store_id=store, service_item_id=item_id, starts_at=starts,
                ends_at=starts + np.timedelta64(60 * MINUTE_US, "us"), capacity=int(capacity[s]), booked=held,
                status="open", created_at=opened, updated_at=opened)
    return slots, bookings
