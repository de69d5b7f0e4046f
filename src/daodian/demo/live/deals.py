"""The demo city's live C2B deals: a running group buy and an open pre-sale, made through the services.

They run from the real clock (the services refuse windows in the past), so `daodian demo` adds them after
the city and its history are written, whatever moment the history ends at.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from daodian.catalog.models import Product
from daodian.demo.live import group_buy as group_buy_demo
from daodian.demo.live import presale as presale_demo
from daodian.kit.clock import utcnow


def seed(session: Session, chain_merchant_id: int) -> tuple[int | None, int | None]:
    """(group buy id, pre-sale id); None where the city has no merchant to run one."""
    now = utcnow()
    deal = group_buy_demo.seed(session, chain_merchant_id, now)
    presale = presale_demo.seed(session, _product_seller(session, chain_merchant_id), now)
    return (deal.id if deal else None), (presale.id if presale else None)


def _product_seller(session: Session, chain_merchant_id: int) -> int | None:
    """The chain if it sells products, else the first merchant that does (the pre-sale's candidates)."""
    own = select(Product.merchant_id).where(Product.merchant_id == chain_merchant_id).limit(1)
    return session.scalar(own) or session.scalar(select(Product.merchant_id).order_by(Product.id).limit(1))
