"""Search over products and categories, answered from a per-process index, with nearby stores.

Each process builds its index at start (`start`), then, before answering, polls for products
changed since its watermark (kit.freshness) through the request's own session, so a product added
or hidden through any process is (un)findable within about a second. Category trees change only
with a deploy, so they are read once. What a result shows of a product (prices, SKUs, status) and
the services linked to what matched are read from the database once and kept until they change
(search.views): a search that finds what an earlier one found reads only the products' stamps.
"""

import logging
import threading
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from daodian.kit.db import unit_of_work
from daodian.kit.errors import Invalid
from daodian.kit.freshness import Freshness
from daodian.search import repository
from daodian.search.documents import PRODUCT, PRODUCT_CATEGORY, SERVICE_CATEGORY, Cat, category_doc, product_doc
from daodian.search.index import Hit, InvertedIndex
from daodian.search.repository import ProductText
from daodian.search.schemas import SearchResult
from daodian.search.text import compact_query, normalize, query_terms
from daodian.search.views import LinkedServices, ProductViews, category_view
from daodian.taxonomy.models import CatalogStatus, ProductCategory, ServiceCategory
from daodian.taxonomy.watch import TreeWatch

# A finder of the nearest stores offering a service (by category code), at most so many, as NearbyStore
# dicts (linkage.nearest); None when the shopper gave no place.
StoreViewFinder = Callable[[str, int], list[dict]]

log = logging.getLogger("daodian.search")

MAX_QUERY_LENGTH = 100
MAX_CATEGORIES = 5
MAX_SERVICES = 6
MAX_STORE_SERVICES = 3  # nearby lookups per search: the first services only
LINK_FROM_TOP_PRODUCTS = 5  # whose categories' links count as "linked to what matched"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SearchIndex:
    """The process's index of categories and offered products."""

    def __init__(self, source: Any = None, *, interval_s: float = 0.5) -> None:
        self.source = source  # the session factory it reads from
        self.index = InvertedIndex()
        self.freshness = Freshness(interval_s=interval_s)
        self.product_categories: dict[int, Cat] = {}
        self.service_categories: dict[int, Cat] = {}
        self.loaded = False
        self._load_lock = threading.Lock()
        self._applied: dict[int, datetime] = {}  # product id -> updated_at last indexed
        self.products = ProductViews()
        self.links = LinkedServices()
        self.trees = TreeWatch()  # an operator's edit of the category trees: built again (taxonomy.watch)

    def load(self, session: Session) -> None:
        """Build a fresh index and swap it in; readers keep the old one until then."""
        watermark = repository.newest_product_change(session) or EPOCH  # read first: the overlap covers races
        self.trees.remember(session)
        products = {c.id: _cat(c) for c in repository.categories(session, ProductCategory)}
        services = {c.id: _cat(c) for c in repository.categories(session, ServiceCategory)}
        index = InvertedIndex()
        docs = [category_doc(PRODUCT_CATEGORY, c, products.get(c.parent_id)) for c in products.values()]
        docs += [category_doc(SERVICE_CATEGORY, c, services.get(c.parent_id)) for c in services.values() if c.level > 1]
        for batch in repository.active_products(session):
            docs += [product_doc(p, products) for p in batch]
        index.put_many(docs)
        self.index, self.product_categories, self.service_categories = index, products, services
        self.freshness.start_from(watermark)
        self.links.start(session)
        self.loaded = True
        log.info("search index built: %d documents", len(index))

    def refresh(self, session: Session) -> None:
        if not self.loaded:
            with self._load_lock:
                if not self.loaded:
                    self.load(session)
            return
        if self.trees.changed(session):
            self.load(session)
            return
        self.freshness.poll(session, repository.products_changed_since, self._apply, lambda row: row.updated_at)
        self.links.refresh(session)

    def _apply(self, rows: list[ProductText]) -> None:
        for row in rows:
            if self._applied.get(row.id) == row.updated_at:
                continue  # polls overlap (kit.freshness): most rows come again unchanged
            self._applied[row.id] = row.updated_at
            if row.status == CatalogStatus.ACTIVE:
                self.index.put(product_doc(row, self.product_categories))
            else:
                self.index.remove((PRODUCT, row.id))


def _cat(c) -> Cat:
    return Cat(c.id, c.code, c.name_zh, c.name_en, c.level, c.parent_id)


def start(app: FastAPI) -> None:
    """Build this process's index at start-up; if the database is not ready, the first search builds it."""
    app.state.search_index = index = SearchIndex(app.state.session_factory)
    try:
        with unit_of_work(app.state.session_factory, read_only=True) as session:
            index.refresh(session)
    except SQLAlchemyError as exc:
        log.warning("search index not built at start-up (%s); the first search will build it", exc)


def index_of(app: FastAPI) -> SearchIndex:
    """The app's index; a new one (built on first use) if the app now reads another database."""
    index = getattr(app.state, "search_index", None)
    if index is None or index.source is not app.state.session_factory:
        index = app.state.search_index = SearchIndex(app.state.session_factory)
    return index


def query_problem(query: str) -> str | None:
    """Why this query cannot be searched, or None when it can."""
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r" for c in query):
        return "the query contains control characters"
    text = normalize(query)
    if not text:
        return "type something to search for"
    if len(text) > MAX_QUERY_LENGTH:
        return f"use at most {MAX_QUERY_LENGTH} characters"
    if not query_terms(text):
        return "the query has no letters, digits or Chinese characters to search for"
    return None


def searchable(query: str) -> str:
    """Pydantic validator for `q`, so the API reports an unsearchable query like any invalid field."""
    problem = query_problem(query)
    if problem:
        raise ValueError(problem)
    return query


def search(session: Session, index: SearchIndex, query: str, *, find_stores: StoreViewFinder | None,
           limit: int = 20, stores_per_service: int = 3) -> SearchResult:
    """The search as models (for pages); `search_view` is the same as JSON-ready dicts (for the API)."""
    return SearchResult.model_validate(search_view(session, index, query, find_stores=find_stores, limit=limit,
                                                   stores_per_service=stores_per_service))


def search_view(session: Session, index: SearchIndex, query: str, *, find_stores: StoreViewFinder | None,
                limit: int = 20, stores_per_service: int = 3) -> dict:
    """A SearchResult as a JSON-ready dict."""
    problem = query_problem(query)
    if problem:
        raise Invalid(f"Cannot search: {problem}.", code="unsearchable_query")
    text = normalize(query)
    terms = query_terms(text)
    index.refresh(session)
    hits = index.index.search(terms, compact_query(text))
    by_kind: dict[str, list[Hit]] = {PRODUCT: [], PRODUCT_CATEGORY: [], SERVICE_CATEGORY: []}
    for hit in hits:
        by_kind[hit.key[0]].append(hit)

    found = index.products.active(session, [h.key[1] for h in by_kind[PRODUCT][:limit]], index.product_categories)
    product_cats = [h.payload for h in by_kind[PRODUCT_CATEGORY][:MAX_CATEGORIES]]
    services = [{**category_view(h.payload), "matched_by": "text", "via": None}
                for h in by_kind[SERVICE_CATEGORY][:MAX_CATEGORIES]]
    linked_from = {c.id for c in product_cats} | {category_id for _, category_id in found[:LINK_FROM_TOP_PRODUCTS]}
    seen = {s["code"] for s in services}
    for service, via in index.links.of(session, linked_from):
        if service["code"] not in seen:
            seen.add(service["code"])
            services.append({**service, "matched_by": "link", "via": via})
    services = services[:MAX_SERVICES]
    stores = [] if find_stores is None else [
        {"service_category": {k: s[k] for k in ("code", "name_zh", "name_en", "level")},
         "items": find_stores(s["code"], stores_per_service)}
        for s in services[:MAX_STORE_SERVICES]
    ]
    return {"query": " ".join(query.split()), "products": [view for view, _ in found],
            "product_categories": [category_view(c) for c in product_cats], "service_categories": services,
            "stores": stores}
