"""The pre-sale demo seed makes an open pre-sale whose votes are paid deposits."""

from daodian.c2b.presale import service as presales
from daodian.demo.live import presale as presale_demo
from daodian.kit.clock import utcnow
from tests.factories import make_product, make_shop


def test_the_demo_seed_makes_an_open_presale_with_paid_votes(db):
    shop = make_shop(db)
    make_product(db, shop.merchant, name="雨刮器", price_fen=8900)
    sale = presale_demo.seed(db, shop.merchant.id, utcnow())
    read = presales.presale_read(db, sale)
    assert read.status == "open" and len(read.candidates) == 2
    assert sum(c.paid_votes for c in read.candidates) == presale_demo.VOTERS
