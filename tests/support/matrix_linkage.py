"""Authorization-matrix entries (see tests/support/matrix.py) for product -> service links (operators)."""

from sqlalchemy import select
from sqlalchemy.orm import aliased

from daodian.linkage import service as linkage
from daodian.linkage.models import CategoryLink, LinkSource
from daodian.linkage.schemas import LinkCreate
from daodian.taxonomy.models import ProductCategory, ServiceCategory
from tests.factories import principal_of


def unlinked_pairs(db, count: int) -> list[tuple[str, str]]:
    """(product category, leaf service category) codes with no curated link yet: free for a new one."""
    child = aliased(ServiceCategory)
    leaves = db.scalars(select(ServiceCategory.code).where(
        ~select(child.id).where(child.parent_id == ServiceCategory.id).exists()).order_by(ServiceCategory.code)).all()
    products = db.scalars(select(ProductCategory.code).order_by(ProductCategory.code)).all()
    taken = set(db.execute(select(ProductCategory.code, ServiceCategory.code)
                           .join(CategoryLink, CategoryLink.product_category_id == ProductCategory.id)
                           .join(ServiceCategory, CategoryLink.service_category_id == ServiceCategory.id)
                           .where(CategoryLink.source == LinkSource.CURATED)).all())
    pairs = [(p, s) for p in products for s in leaves if (p, s) not in taken]
    assert len(pairs) >= count, "the taxonomy has too few categories for the matrix's links"
    return pairs[:count]


def _link_id(scene, world) -> int:
    # The second free pair: the first stays free for POST /admin/links, whichever is built first.
    product, service = unlinked_pairs(scene.db, 2)[1]
    operator = principal_of(scene.db, scene.users["operator"])
    return linkage.create_link(scene.db, operator, LinkCreate(product_category=product, service_category=service)).id


def _new_link(scene, world) -> dict:
    product, service = scene.once(world, "an unlinked pair", lambda: unlinked_pairs(scene.db, 1)[0])
    return {"product_category": product, "service_category": service, "strength": 0.6}


PARAMS = {
    "link_id": _link_id,
}

BODIES = {
    "POST /api/v1/admin/links": _new_link,
    "PATCH /api/v1/admin/links/{link_id}": {"strength": 0.4},
}
