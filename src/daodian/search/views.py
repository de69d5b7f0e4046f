"""What a search shows of the products and linked services it found, kept per process between searches.

A search finds products in the index; showing them takes their prices and SKUs, and the services
linked to their categories (linkage). Both are read from the database once and kept until they change.
Products stay authoritative per search: one query reads the stamps (and status) of the products about
to be shown, and those stamped since they were kept are read again (adding or editing a SKU stamps its
product too), so a price or a product hidden a moment ago shows at once, as when every search read
them. The linked services are all dropped when any category link changes, which is polled like the
products in the index (kit.freshness): such a change shows within about a second.
The views are JSON-ready dicts in the API's schema (ProductRead, CategoryRead).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from daodian.catalog.models import Product, Sku
from daodian.kit.freshness import Freshness
from daodian.linkage import service as linkage
from daodian.linkage.models import CategoryLink
from daodian.search.documents import Cat
from daodian.taxonomy.models import CatalogStatus

MAX_PRODUCTS = 20_000  # product views kept; the least recently shown go first
MAX_LINKED = 10_000  # sets of categories whose linked services are kept, until the next link change

_PRODUCTS = select(Product.id, Product.merchant_id, Product.category_id, Product.name_zh, Product.name_en,
                   Product.description, Product.status, Product.updated_at).where(
    Product.id.in_(bindparam("ids", expanding=True)))
_STAMPS = select(Product.id, Product.updated_at, Product.status).where(Product.id.in_(bindparam("ids", expanding=True)))
_SKUS = (select(Sku.product_id, Sku.id, Sku.code, Sku.spec_zh, Sku.spec_en, Sku.price_fen, Sku.status)
         .where(Sku.product_id.in_(bindparam("ids", expanding=True))).order_by(Sku.id))


def category_view(c) -> dict:
    """A CategoryRead dict of a category (ORM row or the index's Cat)."""
    return {"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "level": c.level}


class ProductViews:
    """ProductRead dicts (with the product's category id and stamp) by product id."""

    def __init__(self) -> None:
        self._views: OrderedDict[int, tuple[dict, int, datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def active(self, session: Session, ids: list[int], categories: dict[int, Cat]) -> list[tuple[dict, int]]:
        """(view, category id) of the active products among `ids`, in that order."""
        if not ids:
            return []
        stamps = {i: (at, status) for i, at, status in session.connection().execute(_STAMPS, {"ids": ids})}
        with self._lock:
            found = {i: self._views[i] for i in ids if i in self._views and self._views[i][2] == stamps.get(i, (None,))[0]}
            for i in found:
                self._views.move_to_end(i)
        stale = [i for i in ids if i in stamps and i not in found and stamps[i][1] == CatalogStatus.ACTIVE]
        if stale:
            read = self._read(session, stale, categories)
            found.update(read)
            with self._lock:
                self._views.update(read)
                while len(self._views) > MAX_PRODUCTS:
                    self._views.popitem(last=False)
        return [found[i][:2] for i in ids if i in found and found[i][0]["status"] == CatalogStatus.ACTIVE]

    @staticmethod
    def _read(session: Session, ids: list[int], categories: dict[int, Cat]) -> dict[int, tuple[dict, int, datetime]]:
        conn = session.connection()
        skus: dict[int, list[dict]] = {i: [] for i in ids}
        for product_id, sku_id, code, spec_zh, spec_en, price_fen, status in conn.execute(_SKUS, {"ids": ids}):
            skus[product_id].append({"id": sku_id, "code": code, "spec_zh": spec_zh, "spec_en": spec_en,
                                     "price_fen": price_fen, "status": str(status)})
        views = {}
        for product_id, merchant_id, category_id, name_zh, name_en, description, status, updated_at in conn.execute(
                _PRODUCTS, {"ids": ids}):
            active = [s["price_fen"] for s in skus[product_id] if s["status"] == CatalogStatus.ACTIVE]
            views[product_id] = ({
                "id": product_id, "merchant_id": merchant_id, "category": category_view(categories[category_id]),
                "name_zh": name_zh, "name_en": name_en, "description": description, "status": str(status),
                "price_from_fen": min(active) if active else None, "skus": skus[product_id]}, category_id, updated_at)
        return views


class LinkedServices:
    """The services linked to a set of product categories (linkage.linked_services), as (service, via)
    CategoryRead dicts, strongest first; all dropped when any link changes."""

    def __init__(self) -> None:
        self.freshness = Freshness()
        self._found: dict[frozenset[int], list[tuple[dict, dict]]] = {}
        self._applied: dict[int, datetime] = {}

    def start(self, session: Session) -> None:
        self.freshness.start_from(session.scalar(select(CategoryLink.updated_at).order_by(
            CategoryLink.updated_at.desc()).limit(1)))

    def refresh(self, session: Session) -> None:
        self.freshness.poll(session, self._changed, self._apply, lambda row: row[1])

    @staticmethod
    def _changed(session: Session, since: datetime) -> list:
        return session.connection().execute(
            select(CategoryLink.id, CategoryLink.updated_at).where(CategoryLink.updated_at >= since)).all()

    def _apply(self, rows: list) -> None:
        new = [(i, at) for i, at in rows if self._applied.get(i) != at]  # polls overlap (kit.freshness)
        if new:
            self._applied.update(new)
            self._found = {}

    def of(self, session: Session, product_category_ids: set[int]) -> list[tuple[dict, dict]]:
        key = frozenset(product_category_ids)
        found = self._found.get(key)
        if found is None:
            found = [(category_view(e.service_category), category_view(e.via))
                     for e in linkage.linked_services(session, key)]
            if len(self._found) >= MAX_LINKED:
                self._found = {}
            self._found[key] = found
        return found
