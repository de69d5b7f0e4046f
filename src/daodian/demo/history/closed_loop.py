"""90 days of the closed loop for the demo city: who bought what online, and who consumed which service
in which store, when; planted links plus noise (demo.planted).

This module decides the events (numpy over whole columns); demo.history_rows turns them into the rows
the orders, payments, records and bookings domains would have written for them, with the same rules
and facts. History draws from its own random stream, so a city with history has exactly the stores,
items and people of the same city without it.
"""

from dataclasses import dataclass

import numpy as np

from daodian.demo.history.planted import DELAY_DAYS, FOLLOW_P, PLANTED
from daodian.demo.rows import DAY_US

DEFAULT_DAYS = 90
HISTORY_STORES = 5_000  # at most this many stores get history (a million-store city stays fast)
PURCHASES_PER_CONSUMER = 1.6  # online product orders per consumer per 90 days
CONSUMPTIONS_PER_CONSUMER = 1.2  # unrelated service visits per consumer per 90 days (the noise)
VOUCHER_SHARE = 0.55  # visits paid online with a voucher; the rest are recorded at the POS
IDENTIFIED_SHARE = 0.85  # POS records where the member agreed to be identified
# The demo chain's regulars: people who come back to it (a real chain has them, and its console shows a
# demo's merchant charts above the privacy threshold k=10 per store and month only with enough of them).
REGULARS_SHARE = 0.1  # of the consumers ...
REGULARS_AT_LEAST = 300  # ... and never fewer than this (a small demo city)
REGULAR_VISITS = 2.4  # visits per regular per 90 days, spread over the chain's offers


@dataclass(frozen=True)
class Offer:
    """What can be bought and where, as positions into the city's column arrays."""

    consumer_ids: np.ndarray
    sku_ids: np.ndarray
    sku_leaf: np.ndarray  # index into product_leaves
    product_leaves: list[str]
    item_leaf: np.ndarray  # index into service_leaves, per service item position
    service_leaves: list[str]
    offer_store: np.ndarray  # store id of each (store, item) offer in the history stores
    offer_item: np.ndarray  # item position of each offer
    favoured: np.ndarray | None = None  # offer positions at the demo chain, where its regulars go


@dataclass(frozen=True)
class Events:
    purchase_consumer: np.ndarray
    purchase_sku: np.ndarray  # sku position
    purchase_at: np.ndarray  # datetime64[us], when paid
    visit_consumer: np.ndarray
    visit_offer: np.ndarray  # offer position
    visit_at: np.ndarray  # datetime64[us], when consumed
    visit_by_voucher: np.ndarray  # bool: voucher verified, else a POS record
    visit_identified: np.ndarray  # bool (POS records only; vouchers always know their holder)
    visit_planted: np.ndarray  # bool: a planted follow-up (for tests and the summary)


def history_stores(rng: np.random.Generator, open_store_ids: np.ndarray, always: np.ndarray) -> np.ndarray:
    """The stores that get history: all of them up to HISTORY_STORES, else a random subset plus `always`."""
    if open_store_ids.size <= HISTORY_STORES:
        return open_store_ids
    chosen = rng.choice(open_store_ids, HISTORY_STORES, replace=False)
    return np.union1d(chosen, always)


def plan(rng: np.random.Generator, offer: Offer, days: int, now: np.datetime64) -> Events:
    start = now - np.timedelta64(days * DAY_US, "us")
    scale = days / DEFAULT_DAYS
    n_people = offer.consumer_ids.size

    # Purchases: a leaf at random (every leaf alike), then one of its SKUs.
    k = rng.poisson(PURCHASES_PER_CONSUMER * scale, n_people)
    p_consumer = np.repeat(offer.consumer_ids, k)
    leaves = len(offer.product_leaves)
    by_leaf = [np.flatnonzero(offer.sku_leaf == i) for i in range(leaves)]
    leaf = rng.integers(0, leaves, p_consumer.size)
    p_sku = np.array([by_leaf[i][j % by_leaf[i].size] for i, j in
                      zip(leaf.tolist(), rng.integers(0, 1 << 30, p_consumer.size).tolist())], dtype=np.int64)
    p_at = _uniform_times(rng, start, now, p_consumer.size)

    # Planted follow-ups: a linked service some days after the purchase, if that is before now.
    offers_of = _offers_by_leaf(offer)
    follow_leaf = np.full(p_sku.size, -1, dtype=np.int64)
    service_index = {code: i for i, code in enumerate(offer.service_leaves)}
    product_index = {code: i for i, code in enumerate(offer.product_leaves)}
    for product, service in PLANTED:
        if product in product_index and service in service_index and offers_of[service_index[service]].size:
            follow_leaf[offer.sku_leaf[p_sku] == product_index[product]] = service_index[service]
    follows = (follow_leaf >= 0) & (rng.random(p_sku.size) < FOLLOW_P)
    delay = (rng.uniform(*DELAY_DAYS, p_sku.size) * DAY_US).astype("timedelta64[us]")
    follows &= p_at + delay < now
    f_consumer, f_leaf, f_at = p_consumer[follows], follow_leaf[follows], (p_at + delay)[follows]

    # Noise: visits to any offer of the history stores, at any time.
    m = rng.poisson(CONSUMPTIONS_PER_CONSUMER * scale, n_people)
    n_consumer = np.repeat(offer.consumer_ids, m)
    n_offer = rng.integers(0, offer.offer_store.size, n_consumer.size)
    n_at = _uniform_times(rng, start, now, n_consumer.size)

    # The chain's regulars: extra visits to its offers only.
    if offer.favoured is not None and offer.favoured.size:
        regulars = rng.choice(offer.consumer_ids, min(n_people, max(int(n_people * REGULARS_SHARE),
                                                                      REGULARS_AT_LEAST)), replace=False)
        r = rng.poisson(REGULAR_VISITS * scale, regulars.size)
        r_consumer = np.repeat(regulars, r)
        n_consumer = np.concatenate([n_consumer, r_consumer])
        n_offer = np.concatenate([n_offer, offer.favoured[rng.integers(0, offer.favoured.size, r_consumer.size)]])
        n_at = np.concatenate([n_at, _uniform_times(rng, start, now, r_consumer.size)])

    f_offer = np.array([offers_of[s][j % offers_of[s].size] for s, j in
                        zip(f_leaf.tolist(), rng.integers(0, 1 << 30, f_leaf.size).tolist())], dtype=np.int64)
    v_consumer = np.concatenate([f_consumer, n_consumer])
    total = v_consumer.size
    return Events(
        purchase_consumer=p_consumer, purchase_sku=p_sku, purchase_at=p_at,
        visit_consumer=v_consumer, visit_offer=np.concatenate([f_offer, n_offer]),
        visit_at=np.concatenate([f_at, n_at]), visit_by_voucher=rng.random(total) < VOUCHER_SHARE,
        visit_identified=rng.random(total) < IDENTIFIED_SHARE,
        visit_planted=np.arange(total) < f_consumer.size,
    )


def _uniform_times(rng: np.random.Generator, start: np.datetime64, end: np.datetime64, n: int) -> np.ndarray:
    span = int((end - start) / np.timedelta64(1, "us"))
    return start + rng.integers(0, span, n).astype("timedelta64[us]")


def _offers_by_leaf(offer: Offer) -> list[np.ndarray]:
    leaf_of_offer = offer.item_leaf[offer.offer_item]
    return [np.flatnonzero(leaf_of_offer == i) for i in range(len(offer.service_leaves))]
