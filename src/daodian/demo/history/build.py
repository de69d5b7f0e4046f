"""Glue between the demo city's columns and its history: what can be bought where, who works the
counters, and the city's columns the history changes (store ratings, SKU stock)."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Table

import daodian.models  # noqa: F401 - every table in Base.metadata, the history writes to most of them
from daodian.accounts.models import StaffMembership, User
from daodian.demo import names
from daodian.demo.history import closed_loop as history
from daodian.demo.history import marketing as marketing_history
from daodian.demo.history import rows as history_rows
from daodian.demo.history import tables
from daodian.kit.db import Base

Ids = Callable[[str, int], np.ndarray]
REMAINING_STOCK = (20, 400)  # units left on the shelf after the history's sales


@dataclass
class HistoryCity:
    user_cols: dict
    consumers_from: int  # user position of the first consumer (the demo consumer login)
    store_cols: dict
    chain_merchant_id: int
    chain_clerk_id: int
    product_cols: dict
    sku_cols: dict
    product_leaves: list[str]
    product_category_ids: np.ndarray  # leaf category id of each product leaf
    item_cols: dict
    offer_cols: dict
    service_leaves: list[str]
    service_category_ids: np.ndarray
    password_hash: str
    taken_phones: set[str]


def add_history(rng: np.random.Generator, city: HistoryCity, ids: Ids, now: np.datetime64,
                days: int) -> list[tuple[str, Table, dict]]:
    """The history's tables (label, table, columns), in foreign-key order; updates the city's store ratings
    and SKU stock in place."""
    offer, prices, clerks = _offer(rng, city, ids, now)
    events = history.plan(rng, offer, days, now)
    built = history_rows.build(rng, events, offer, prices, ids, now)
    _fold_ratings(city.store_cols, built)
    _stock(rng, city.sku_cols, built)
    built.tables = marketing_history.extend(  # coupons, points, follows, tiers: read the orders built above
        np.random.default_rng(rng.integers(2**63)), built.tables, city.store_cols, prices.clerk_of,
        city.chain_merchant_id, offer.consumer_ids, ids, now)
    tables = Base.metadata.tables
    labels = {"orders": "orders (90 days)", "facts": "facts"}
    return [("counter staff", User.__table__, clerks[0]), ("counter staff roles", StaffMembership.__table__, clerks[1])] + [
        (labels.get(name, name), tables[name], columns) for name, columns in built.tables]


def _offer(rng, city: HistoryCity, ids: Ids, now) -> tuple[history.Offer, tables.Prices, tuple[dict, dict]]:
    users, products, skus, items = city.user_cols, city.product_cols, city.sku_cols, city.item_cols
    consumer_ids = np.asarray(users["id"][city.consumers_from:], dtype=np.int64)
    product_ids = np.asarray(products["id"], dtype=np.int64)
    sku_product = np.searchsorted(product_ids, np.asarray(skus["product_id"], dtype=np.int64))
    leaf_of_category = {int(c): i for i, c in enumerate(city.product_category_ids)}
    product_leaf = np.array([leaf_of_category[int(c)] for c in np.asarray(products["category_id"])], dtype=np.int64)
    item_ids = np.asarray(items["id"], dtype=np.int64)
    service_leaf_of = {int(c): i for i, c in enumerate(city.service_category_ids)}
    item_leaf = np.array([service_leaf_of[int(c)] for c in np.asarray(items["category_id"])], dtype=np.int64)

    store_ids = np.asarray(city.store_cols["id"], dtype=np.int64)
    store_merchant = np.asarray(city.store_cols["merchant_id"], dtype=np.int64)
    is_open = np.asarray(city.store_cols["status"]) == "open"
    chain = store_ids[is_open & (store_merchant == city.chain_merchant_id)]
    chosen = history.history_stores(rng, store_ids[is_open], chain)
    offer_store = np.asarray(city.offer_cols["store_id"], dtype=np.int64)
    keep = np.isin(offer_store, chosen)
    offer_item = np.searchsorted(item_ids, np.asarray(city.offer_cols["item_id"], dtype=np.int64)[keep])

    item_merchant = np.asarray(items["merchant_id"], dtype=np.int64)
    merchants = sorted(set(item_merchant[offer_item].tolist()) - {city.chain_merchant_id})
    clerk_users, clerk_roles, clerk_of = _clerks(rng, merchants, city, ids, now)
    clerk_of[city.chain_merchant_id] = city.chain_clerk_id

    product_merchant = np.asarray(products["merchant_id"], dtype=np.int64)
    product_name = np.asarray(products["name_zh"], dtype=object)
    spec = np.asarray(skus["spec_zh"], dtype=object)
    sku_name = np.array([f"{n} {s}".strip() for n, s in zip(product_name[sku_product], spec)], dtype=object)
    offer = history.Offer(
        consumer_ids=consumer_ids, sku_ids=np.asarray(skus["id"], dtype=np.int64), sku_leaf=product_leaf[sku_product],
        product_leaves=city.product_leaves, item_leaf=item_leaf, service_leaves=city.service_leaves,
        offer_store=offer_store[keep], offer_item=offer_item,
        favoured=np.flatnonzero(np.isin(offer_store[keep], chain)))
    people = range(city.consumers_from, len(users["id"]))
    prices = tables.Prices(
        sku_price=np.asarray(skus["price_fen"], dtype=np.int64), sku_merchant=product_merchant[sku_product],
        sku_name=sku_name, item_ids=item_ids, item_price=np.asarray(items["price_fen"], dtype=np.int64),
        item_merchant=item_merchant, item_name=np.asarray(items["name_zh"], dtype=object), clerk_of=clerk_of,
        consumer_name={int(users["id"][i]): users["display_name"][i] for i in people},
        consumer_phone={int(users["id"][i]): users["phone"][i] for i in people},
        chain_merchant_id=city.chain_merchant_id)
    return offer, prices, (clerk_users, clerk_roles)


def _clerks(rng, merchants: list[int], city: HistoryCity, ids: Ids, now) -> tuple[dict, dict, dict[int, int]]:
    """One counter clerk per merchant with history (the demo chain has its clerk login already)."""
    n = len(merchants)
    user_ids = ids("users", n)
    taken = city.taken_phones | set(city.user_cols["phone"])
    users = dict(id=user_ids, phone=names.mobiles(rng, n, taken), display_name=[f"店员 {p}" for p in names.people(rng, n)],
                 password_hash=[city.password_hash] * n, is_operator=[False] * n, is_active=[True] * n,
                 failed_logins=np.zeros(n, dtype=np.int64), created_at=np.full(n, now))
    roles = dict(id=ids("merchant_staff", n), merchant_id=merchants, user_id=user_ids, role=["clerk"] * n,
                 created_at=np.full(n, now))
    return users, roles, {m: int(u) for m, u in zip(merchants, user_ids)}


def _fold_ratings(store_cols: dict, built: tables.HistoryTables) -> None:
    """Each review folded into the running mean, as records.repository.add_to_store_rating does."""
    ids = np.asarray(store_cols["id"], dtype=np.int64)
    avg = np.asarray(store_cols["rating_avg"], dtype=float).copy()
    count = np.asarray(store_cols["rating_count"], dtype=np.int64).copy()
    for store, n in built.rating_n.items():
        i = int(np.searchsorted(ids, store))
        avg[i] = (avg[i] * count[i] + built.rating_sum[store]) / (count[i] + n)
        count[i] += n
    store_cols["rating_avg"], store_cols["rating_count"] = avg, count


def _stock(rng, sku_cols: dict, built: tables.HistoryTables) -> None:
    """Units left: what the shop had minus what the history sold (orders reserve stock; cancelled and expired
    ones gave it back); never below zero."""
    ids = np.asarray(sku_cols["id"], dtype=np.int64)
    sold = np.array([built.sold.get(int(i), 0) for i in ids], dtype=np.int64)
    assert (sold >= 0).all()
    sku_cols["stock"] = rng.integers(*REMAINING_STOCK, ids.size)
