"""kit.freshness: an index built from an empty table still picks up the first rows."""

from sqlalchemy import select

from daodian.catalog.models import Product
from daodian.kit.freshness import Freshness
from tests.factories import make_merchant, make_product, make_user


def products_since(session, since):
    return session.scalars(select(Product).where(Product.updated_at > since)).all()


def test_an_index_started_empty_sees_the_first_rows(db):
    seen: list[int] = []
    freshness = Freshness(interval_s=0)
    freshness.start_from(None)
    assert freshness.poll(db, products_since, lambda rows: seen.extend(r.id for r in rows),
                          lambda r: r.updated_at, force=True) == 0

    product = make_product(db, make_merchant(db, make_user(db)))
    assert freshness.poll(db, products_since, lambda rows: seen.extend(r.id for r in rows),
                          lambda r: r.updated_at, force=True) == 1
    assert seen == [product.id]
    assert freshness.watermark == product.updated_at


def test_polls_wait_for_the_interval(db):
    freshness = Freshness(interval_s=3600)
    freshness.start_from(None)
    make_product(db, make_merchant(db, make_user(db)))
    assert freshness.poll(db, products_since, lambda rows: None, lambda r: r.updated_at) == 0
    assert freshness.poll(db, products_since, lambda rows: None, lambda r: r.updated_at, force=True) == 1
