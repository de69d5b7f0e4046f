"""Demo data: one open pre-sale of a merchant's SKUs, with paid deposit votes, made through the services."""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from daodian.accounts import service as accounts
from daodian.accounts.models import StaffMembership, StaffRole, User
from daodian.c2b.presale import service as presales
from daodian.c2b.presale.models import Presale
from daodian.c2b.presale.schemas import CandidateIn, PresaleCreate, VoteIn
from daodian.catalog.models import Product, Sku
from daodian.demo.live import shoppers as live_shoppers
from daodian.kit.settings import get_settings
from daodian.merchants.models import Merchant, Store, StoreStatus
from daodian.orders.models import Order
from daodian.taxonomy.models import CatalogStatus

VOTERS = 5


def seed(session: Session, merchant_id: int, now: datetime) -> Presale | None:
    """None when the merchant has no open store or no SKU priced above a deposit."""
    merchant = session.get(Merchant, merchant_id)
    store = session.scalar(select(Store).where(Store.merchant_id == merchant_id, Store.status != StoreStatus.CLOSED)
                           .order_by(Store.id).limit(1))
    skus = list(session.scalars(select(Sku).join(Product, Product.id == Sku.product_id)
                                .where(Product.merchant_id == merchant_id, Sku.status == CatalogStatus.ACTIVE,
                                       Product.status == CatalogStatus.ACTIVE, Sku.price_fen >= 200)
                                .order_by(Sku.id).limit(3)))
    owner_id = session.scalar(select(StaffMembership.user_id).where(
        StaffMembership.merchant_id == merchant_id, StaffMembership.role == StaffRole.OWNER).limit(1))
    if merchant is None or store is None or not skus or owner_id is None:
        return None
    owner = accounts.principal_for(session, session.get(User, owner_id))
    presale = presales.create_presale(session, owner, merchant_id, PresaleCreate(
        title="新品预售：你投票，我们上架", closes_at=now + timedelta(days=7),
        candidates=[CandidateIn(sku_id=s.id, deposit_fen=max(100, s.price_fen // 10), threshold=3) for s in skus]))
    candidates = presales.candidates_of(session, presale.id)
    settings = get_settings()
    for n, voter in enumerate(_voters(session, merchant_id)):
        candidate = candidates[n % len(candidates)]
        ballot = presales.vote(session, accounts.principal_for(session, voter), presale.id, candidate.id,
                               VoteIn(fulfilment="pickup", store_id=store.id), settings)
        live_shoppers.pay_in_sandbox(session, session.get(Order, ballot.deposit_order_id))
    return presale


def _voters(session: Session, merchant_id: int) -> list[User]:
    return [live_shoppers.consumer(session, f"+8619{merchant_id % 10**5:05d}{n:04d}", f"预售顾客{n + 1}")
            for n in range(VOTERS)]
