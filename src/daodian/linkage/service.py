"""Link rules: the curated seed, operators' decisions, and which services complete a product.

Who decided wins: a row an operator created or changed (`reviewed_at` set) is never changed again by
the seed sync (nor, later, by the miner). Rows the seed created stay in step with the seed list,
and are rejected (not deleted) when they leave it.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from daodian.accounts.authz import Action, Principal, require_operator
from daodian.catalog import service as catalog
from daodian.catalog.models import Product
from daodian.kit.api.pagination import PageParams, fetch_page
from daodian.kit.clock import utcnow
from daodian.kit.errors import Conflict, NotFound
from daodian.linkage import repository
from daodian.linkage.curated import CURATED_LINKS, Seed
from daodian.linkage.models import CategoryLink, LinkSource, LinkStatus
from daodian.linkage.schemas import (
    LinkCreate,
    LinkedService,
    LinkRead,
    LinkUpdate,
    MiningFigures,
    NearbyStore,
    ProductServices,
)
from daodian.taxonomy import service as taxonomy
from daodian.taxonomy.models import CatalogStatus, ProductCategory, ServiceCategory
from daodian.taxonomy.schemas import CategoryRead

# (leaf service category code, how many stores) -> the nearest well-ranked stores offering it.
StoreFinder = Callable[[str, int], list[NearbyStore]]


# --- the curated seed -----------------------------------------------------------------------------


def sync_curated(session: Session, seeds: Iterable[Seed] = CURATED_LINKS) -> int:
    """Upsert the seed list as live curated links; returns how many rows were added or changed."""
    products = repository.categories_by_code(session, ProductCategory)
    services = repository.categories_by_code(session, ServiceCategory)
    existing = {(r.product_category_id, r.service_category_id): r
                for r in repository.links_by_source(session, LinkSource.CURATED)}
    wanted: set[tuple[int, int]] = set()
    changed = 0
    for seed in seeds:
        product, service = products.get(seed.product_category), services.get(seed.service_category)
        if product is None or service is None or service.level < 2:
            raise ValueError(f"curated link {seed} names an unknown category or a service group")
        key = (product.id, service.id)
        wanted.add(key)
        row = existing.get(key)
        if row is None:
            session.add(CategoryLink(product_category_id=product.id, service_category_id=service.id,
                                     source=LinkSource.CURATED, status=LinkStatus.LIVE, strength=seed.strength))
            changed += 1
        elif not row.operator_decided and (row.status, row.strength) != (LinkStatus.LIVE, seed.strength):
            row.status, row.strength = LinkStatus.LIVE, seed.strength
            changed += 1
    for key, row in existing.items():
        if key not in wanted and not row.operator_decided and row.status != LinkStatus.REJECTED:
            row.status = LinkStatus.REJECTED  # withdrawn from the seed; kept for history
            changed += 1
    session.flush()
    return changed


# --- operators ------------------------------------------------------------------------------------


def list_links(session: Session, principal: Principal, params: PageParams, *, status: LinkStatus | None,
               source: LinkSource | None, product_category: str | None = None,
               service_category: str | None = None) -> tuple[list[LinkRead], str | None]:
    require_operator(principal)
    product_id = catalog.category(session, ProductCategory, product_category).id if product_category else None
    service_id = catalog.category(session, ServiceCategory, service_category).id if service_category else None
    stmt = repository.links_query(status=status, source=source, product_category_id=product_id,
                                  service_category_id=service_id)
    rows, cursor = fetch_page(session, stmt, CategoryLink.id, params)
    return link_reads(session, rows), cursor


def create_link(session: Session, principal: Principal, data: LinkCreate) -> CategoryLink:
    """An operator's own curated link; it counts as decided, so the seed sync leaves it alone."""
    require_operator(principal)
    product = catalog.category(session, ProductCategory, data.product_category)  # unknown codes: 404, as in catalog
    service = taxonomy.leaf_service_category(session, data.service_category)
    existing = repository.find_link(session, product.id, service.id, LinkSource.CURATED)
    if existing is not None:
        raise Conflict("This curated link exists already; change it instead.", code="link_exists",
                       details={"link_id": existing.id})
    link = CategoryLink(product_category_id=product.id, service_category_id=service.id, source=LinkSource.CURATED,
                        status=data.status, strength=data.strength, reviewed_by=principal.user_id,
                        reviewed_at=utcnow())
    session.add(link)
    session.flush()
    return link


def get_link(session: Session, principal: Principal, link_id: int) -> CategoryLink:
    require_operator(principal)
    link = session.get(CategoryLink, link_id)
    if link is None:
        raise NotFound("No such link.", code="link_not_found")
    return link


def update_link(session: Session, principal: Principal, link: CategoryLink, data: LinkUpdate) -> CategoryLink:
    """Make a link live, reject it or change its strength; the row then belongs to the operator."""
    require_operator(principal)
    if data.status is not None:
        link.status = data.status
    if data.strength is not None:
        link.strength = data.strength
    link.reviewed_by, link.reviewed_at = principal.user_id, utcnow()
    session.flush()
    return link


def link_reads(session: Session, links: list[CategoryLink]) -> list[LinkRead]:
    products = repository.product_categories_by_ids(session, {r.product_category_id for r in links})
    services = taxonomy.service_categories_by_ids(session, {r.service_category_id for r in links})
    return [
        LinkRead(
            id=r.id, product_category=CategoryRead.model_validate(products[r.product_category_id]),
            service_category=CategoryRead.model_validate(services[r.service_category_id]),
            source=r.source, status=r.status, strength=r.strength,
            mining=None if r.mined_at is None else MiningFigures.model_validate(r, from_attributes=True),
            reviewed_by=r.reviewed_by, reviewed_at=r.reviewed_at, created_at=r.created_at, updated_at=r.updated_at,
        )
        for r in links
    ]


# --- consumers ------------------------------------------------------------------------------------


@dataclass
class Linked:
    """A service category reached from some product categories, merged over their live links."""

    service_category: ServiceCategory
    strength: float
    via: ProductCategory
    sources: set[LinkSource] = field(default_factory=set)


def linked_services(session: Session, product_category_ids: Iterable[int]) -> list[Linked]:
    """Live links of these product categories and of the categories above them, strongest first.

    Several links to one service (curated and mined, or on a category and on its parent) merge into
    one entry with the strongest strength; `via` is the category of that link, the deeper on ties.
    """
    categories = repository.with_ancestors(session, product_category_ids)
    links = repository.live_links(session, categories.keys())
    services = taxonomy.service_categories_by_ids(session, {r.service_category_id for r in links})
    merged: dict[int, Linked] = {}
    for r in links:
        via = categories[r.product_category_id]
        entry = merged.get(r.service_category_id)
        if entry is None:
            entry = merged[r.service_category_id] = Linked(services[r.service_category_id], r.strength, via)
        elif (r.strength, via.level) > (entry.strength, entry.via.level):
            entry.strength, entry.via = r.strength, via
        entry.sources.add(r.source)
    return sorted(merged.values(), key=lambda e: (-e.strength, e.service_category.code))


def visible_product(session: Session, principal: Principal, product_id: int) -> Product:
    """An active product, or any product to its merchant's staff and operators (as the catalog API)."""
    product = catalog.get_product(session, product_id)
    if product.status != CatalogStatus.ACTIVE and not principal.can(Action.CONSOLE_VIEW, product.merchant_id):
        raise NotFound("No such product.", code="product_not_found")
    return product


def services_for_product(session: Session, product: Product, *, find_stores: StoreFinder | None,
                         limit_per_service: int) -> ProductServices:
    linked = linked_services(session, [product.category_id])
    category = repository.product_categories_by_ids(session, {product.category_id})[product.category_id]
    return ProductServices(
        product_id=product.id, product_category=CategoryRead.model_validate(category),
        services=[
            LinkedService(
                service_category=CategoryRead.model_validate(e.service_category), strength=e.strength,
                sources=sorted(e.sources), via=CategoryRead.model_validate(e.via),
                stores=None if find_stores is None else find_stores(e.service_category.code, limit_per_service),
            )
            for e in linked
        ],
    )
