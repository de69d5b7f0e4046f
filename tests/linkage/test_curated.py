"""The curated seed: every entry valid, the sync idempotent, and operators' decisions left alone."""

from sqlalchemy import func, select

from daodian.accounts.authz import Principal
from daodian.linkage import service
from daodian.linkage.curated import CURATED_LINKS
from daodian.linkage.models import CategoryLink, LinkSource, LinkStatus
from daodian.linkage.schemas import LinkUpdate
from daodian.taxonomy.models import ProductCategory, ServiceCategory
from daodian.taxonomy.tree import PRODUCT_TREE, SERVICE_TREE, walk
from tests.factories import make_user


def _link(db, product_code: str, service_code: str, source=LinkSource.CURATED) -> CategoryLink:
    return db.scalar(
        select(CategoryLink)
        .join(ProductCategory, ProductCategory.id == CategoryLink.product_category_id)
        .join(ServiceCategory, ServiceCategory.id == CategoryLink.service_category_id)
        .where(ProductCategory.code == product_code, ServiceCategory.code == service_code,
               CategoryLink.source == source))


def test_seed_names_known_categories_and_leaf_services():
    products = {node.code for node, *_ in walk(PRODUCT_TREE)}
    leaves = {node.code for node, _parent, level, _ in walk(SERVICE_TREE) if level == 2}
    for seed in CURATED_LINKS:
        assert seed.product_category in products, seed
        assert seed.service_category in leaves, seed
        assert 0 <= seed.strength <= 1
    assert len({(s.product_category, s.service_category) for s in CURATED_LINKS}) == len(CURATED_LINKS)


def test_product_md_links_are_live_after_migration(db):
    for product_code, service_code in [
        ("auto.oil", "auto_service.oil_change"), ("auto.tyre", "auto_service.tyre_fitting"),
        ("beauty.mask", "beauty_service.salon"), ("beauty", "beauty_service.salon"),
        ("wedding", "wedding_service.photo"), ("wedding", "wedding_service.planning"),
        ("wedding", "wedding_service.banquet"), ("sports.pingpong", "fitness.pingpong"),
        ("home.movingbag", "life_service.moving"), ("av", "leisure.ktv"),
    ]:
        link = _link(db, product_code, service_code)
        assert link is not None and link.status == LinkStatus.LIVE, (product_code, service_code)
        assert link.reviewed_at is None and link.mined_at is None


def test_sync_is_idempotent(db):
    count = db.scalar(select(func.count()).select_from(CategoryLink))
    assert service.sync_curated(db) == 0
    assert service.sync_curated(db) == 0
    assert db.scalar(select(func.count()).select_from(CategoryLink)) == count == len(CURATED_LINKS)


def test_sync_repairs_drift_in_rows_nobody_decided(db):
    link = _link(db, "auto.oil", "auto_service.oil_change")
    link.strength, link.status = 0.1, LinkStatus.CANDIDATE
    db.flush()
    assert service.sync_curated(db) == 1
    assert (link.status, link.strength) == (LinkStatus.LIVE, 0.9)


def test_sync_never_overrides_an_operator(db):
    operator = Principal(user_id=make_user(db, operator=True).id, is_operator=True)
    rejected = _link(db, "av", "leisure.ktv")
    weakened = _link(db, "auto.tyre", "auto_service.tyre_fitting")
    service.update_link(db, operator, rejected, LinkUpdate(status=LinkStatus.REJECTED))
    service.update_link(db, operator, weakened, LinkUpdate(strength=0.2))
    assert service.sync_curated(db) == 0
    assert rejected.status == LinkStatus.REJECTED and rejected.reviewed_by == operator.user_id
    assert (weakened.status, weakened.strength) == (LinkStatus.LIVE, 0.2)
    # Even when the seed drops the entry, the operator's row is left as the operator set it.
    assert service.sync_curated(db, [s for s in CURATED_LINKS if s.product_category != "auto.tyre"]) == 0
    assert weakened.status == LinkStatus.LIVE


def test_entries_leaving_the_seed_are_rejected_and_come_back(db):
    without_moving = [s for s in CURATED_LINKS if s.product_category != "home.movingbag"]
    assert service.sync_curated(db, without_moving) == 1
    link = _link(db, "home.movingbag", "life_service.moving")
    assert link.status == LinkStatus.REJECTED
    assert service.sync_curated(db) == 1
    assert link.status == LinkStatus.LIVE
