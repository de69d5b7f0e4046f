"""`daodian demo`: build the demo city of Hangzhou in one transaction owned by the caller.

Generation is numpy over whole columns, writing is `BulkWriter`; the ORM is only used to read the
category trees. The result lists row counts and the demo logins, for the CLI table, tests and README.
"""

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from daodian.accounts.models import StaffMembership, User
from daodian.accounts.passwords import hash_password
from daodian.catalog import service as catalog
from daodian.catalog.models import Product, Sku
from daodian.demo import bulk, people, rows, shops
from daodian.demo.bulk import Advance, BulkWriter
from daodian.demo.history.build import HistoryCity, add_history
from daodian.demo.layout import TooFewStores, min_stores, plan
from daodian.demo.people import LOGINS, DemoLogin
from daodian.demo.profiles import PROFILES
from daodian.kit.clock import utcnow
from daodian.kit.db import Base
from daodian.kit.errors import Conflict
from daodian.merchants.models import Merchant, ServiceItem, Store, StoreCategory, StoreItem
from daodian.taxonomy import service as taxonomy
from daodian.taxonomy.models import ProductCategory, ServiceCategory
from daodian.taxonomy.schemas import CategoryNode

DEFAULT_SEED = 20160501
DEFAULT_STORES = 2000
DEFAULT_CONSUMERS = 5000


class Progress(Protocol):
    def step(self, label: str, total: int) -> Advance: ...


class _Silent:
    def step(self, label: str, total: int) -> Advance:
        return lambda n: None


@dataclass
class DemoResult:
    seed: int
    counts: dict[str, int] = field(default_factory=dict)
    logins: tuple[DemoLogin, ...] = LOGINS
    chain_merchant_id: int | None = None
    seconds: float = 0.0
    history_days: int = 0


def has_merchants(session: Session) -> bool:
    return session.scalar(select(Merchant.id).limit(1)) is not None


def build_demo_city(session: Session, *, stores: int = DEFAULT_STORES, consumers: int = DEFAULT_CONSUMERS,
                    seed: int = DEFAULT_SEED, now: datetime | None = None,
                    progress: Progress | None = None, history_days: int = 0) -> DemoResult:
    started = time.perf_counter()
    progress = progress or _Silent()
    service_leaves = _leaves(session, ServiceCategory)
    unknown = [code for code in service_leaves if code not in PROFILES]
    if unknown:
        raise LookupError(f"no demo profile for service categories {unknown}; add them to demo/profiles.py")
    if stores < min_stores(list(service_leaves)):
        raise TooFewStores(f"a demo city needs at least {min_stores(list(service_leaves))} stores "
                           "(one per service category, and a chain)")
    taken = set(session.scalars(select(User.phone)))
    clash = sorted(taken & {login.phone for login in LOGINS})
    if clash:
        raise Conflict(f"Demo accounts already exist ({', '.join(clash)}): the demo city is loaded here. "
                       "Use a fresh database for another one.", code="demo_exists")
    product_leaves = _leaves(session, ProductCategory)
    service_ids = np.array([c.id for c in service_leaves.values()], dtype=np.int64)
    product_ids = np.array([c.id for c in product_leaves.values()], dtype=np.int64)

    rng = np.random.default_rng(seed)
    at = rows.now64(now or utcnow())
    writer = BulkWriter(session.connection())
    result = DemoResult(seed=seed)
    done = progress.step("planning the city", 4)

    layout = plan(rng, list(service_leaves), stores)
    done(1)
    merchant_ids = writer.reserve_ids(Merchant.__table__, layout.merchants)
    merchant_cols, name_zh, name_en = rows.merchants(rng, layout, merchant_ids, at,
                                                     [c.name_zh for c in service_leaves.values()])
    hours = rows.hours_by_merchant(rng, layout)
    store_ids = writer.reserve_ids(Store.__table__, layout.stores)
    store_cols = rows.stores(rng, layout, store_ids, merchant_ids, (name_zh, name_en),
                             merchant_cols["created_at"], hours, service_ids, at)
    done(1)
    category_cols = rows.store_categories(rng, layout, store_ids, service_ids)
    item_cols, offers = rows.service_items(rng, layout, lambda n: writer.reserve_ids(ServiceItem.__table__, n),
                                           merchant_ids, merchant_cols["created_at"], service_ids, at)
    offer_cols = dict(store_id=store_ids[offers["store_pos"]], item_id=offers["item_id"])
    done(1)
    chain_id = int(merchant_ids[layout.demo_chain])
    user_ids = writer.reserve_ids(User.__table__, len(LOGINS) + consumers)
    user_cols = people.users(rng, user_ids, consumers, hash_password(people.DEMO_PASSWORD), at, taken)
    staff_cols = people.staff(writer.reserve_ids(StaffMembership.__table__, len(people.STAFF_ROLES)), user_ids,
                              chain_id, at)
    shop_cols, product_cols, sku_cols = shops.shops(
        rng, list(product_leaves), product_ids, shops.product_count(stores), chain_id,
        lambda n: writer.reserve_ids(Merchant.__table__, n), lambda n: writer.reserve_ids(Product.__table__, n),
        lambda n: writer.reserve_ids(Sku.__table__, n), at)
    done(1)

    tables = [  # (progress label, table, rows) in foreign-key order
        ("users", User.__table__, user_cols), ("merchants", Merchant.__table__, merchant_cols),
        ("online shops", Merchant.__table__, shop_cols), ("merchant_staff", StaffMembership.__table__, staff_cols),
        ("stores", Store.__table__, store_cols), ("store_service_categories", StoreCategory.__table__, category_cols),
        ("service_items", ServiceItem.__table__, item_cols), ("store_service_items", StoreItem.__table__, offer_cols),
        ("products", Product.__table__, product_cols), ("skus", Sku.__table__, sku_cols),
    ]
    if history_days > 0:
        city = HistoryCity(user_cols=user_cols, consumers_from=len(LOGINS) - 1, store_cols=store_cols,
                           chain_merchant_id=chain_id, chain_clerk_id=int(user_ids[len(LOGINS) - 2]),
                           product_cols=product_cols, sku_cols=sku_cols, product_leaves=list(product_leaves),
                           product_category_ids=product_ids, item_cols=item_cols, offer_cols=offer_cols,
                           service_leaves=list(service_leaves), service_category_ids=service_ids,
                           password_hash=user_cols["password_hash"][0], taken_phones=taken)
        tables += add_history(np.random.default_rng([seed, 1]), city, lambda t, n: writer.reserve_ids(
            Base.metadata.tables[t], n), at, history_days)
        result.history_days = history_days
    big = {table.name: table for _, table, columns in tables if len(next(iter(columns.values()))) >= bulk.REBUILD_FROM}
    with writer.relaxed(list(big.values()), lambda n: progress.step("indexes and foreign keys", n)):
        for label, table, columns in tables:
            count = len(next(iter(columns.values())))
            written = writer.insert(table, columns, progress.step(label, count))
            result.counts[table.name] = result.counts.get(table.name, 0) + written
    result.chain_merchant_id = chain_id
    result.seconds = time.perf_counter() - started
    return result


def _leaves(session: Session, model) -> dict:
    """The leaves of a category tree by code, in tree order."""
    codes: list[str] = []

    def walk(nodes: list[CategoryNode]) -> None:
        for node in nodes:
            if node.children:
                walk(node.children)
            else:
                codes.append(node.code)

    walk(taxonomy.category_tree(session, model))
    return {code: catalog.category(session, model, code) for code in codes}
