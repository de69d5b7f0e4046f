"""Pre-sale by vote: a merchant lists candidate SKUs; a consumer votes by paying a deposit.

A vote is a row (unique per candidate and consumer) plus a deposit order: a product order with one line
at the candidate's deposit, paid through the ordinary pay flow. Only paid deposits count; they are
counted at close (c2b.presale.close), so the payment flow knows nothing of pre-sales.
A deposit line carries no sku_id: a deposit buys a vote, not goods, so it holds no stock and an expired or
cancelled deposit hands no units back. A balance line (a winner's order at close) names the candidate's SKU and
holds one unit of it like any product order: the close reserves it (orders.service.reserve_stock), and a
cancelled or expired balance order gives it back through the ordinary order flow.
"""

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from daodian.accounts.authz import Action, Principal, require_login
from daodian.c2b.presale.errors import AlreadyVoted, CandidateNotFound, PresaleInvalid, PresaleNotFound, PresaleNotOpen
from daodian.c2b.presale.models import Presale, PresaleCandidate, PresaleStatus, PresaleVote
from daodian.c2b.presale.schemas import CandidateRead, PresaleCreate, PresaleRead, VoteIn
from daodian.catalog.models import Product, Sku
from daodian.kit.clock import utcnow
from daodian.kit.facts import append_fact
from daodian.kit.settings import Settings
from daodian.merchants import service as merchants
from daodian.orders import service as orders
from daodian.orders.errors import NotForSale, UnknownLineItem
from daodian.orders.models import Order, OrderKind, OrderLine, OrderStatus
from daodian.orders.schemas import OrderCreate, OrderLineIn
from daodian.taxonomy.models import CatalogStatus

# --- the merchant's side ----------------------------------------------------------------------


def create_presale(session: Session, principal: Principal, merchant_id: int, data: PresaleCreate) -> Presale:
    merchants.managed_merchant(session, principal, merchant_id, Action.CATALOG_MANAGE)
    now = utcnow()
    if data.closes_at.tzinfo is None or data.closes_at <= now:
        raise PresaleInvalid("The closing time must be in the future (with a time zone).",
                             details={"field": "closes_at"})
    sku_ids = [c.sku_id for c in data.candidates]
    if len(set(sku_ids)) != len(sku_ids):
        raise PresaleInvalid("Each SKU may be a candidate once.", details={"field": "candidates"})
    found = {sku.id: (sku, product) for sku, product in session.execute(
        select(Sku, Product).join(Product, Product.id == Sku.product_id)
        .where(Sku.id.in_(sku_ids), Product.merchant_id == merchant_id)).all()}
    missing = sorted(set(sku_ids) - set(found))
    if missing:  # another merchant's SKU is as unknown as a made-up one
        raise UnknownLineItem(details={"sku_ids": missing})
    presale = Presale(merchant_id=merchant_id, title=data.title.strip(), closes_at=data.closes_at,
                      status=PresaleStatus.OPEN, created_by=principal.user_id, created_at=now)
    session.add(presale)
    session.flush()
    for c in data.candidates:
        sku, product = found[c.sku_id]
        if c.threshold < 1:
            raise PresaleInvalid("A threshold is at least one vote.", details={"sku_id": sku.id})
        if c.deposit_fen >= sku.price_fen:
            raise PresaleInvalid("The deposit must be below the price.",
                                 details={"sku_id": sku.id, "price_fen": sku.price_fen})
        name = f"{product.name_zh} {sku.spec_zh}".strip() if sku.spec_zh else product.name_zh
        session.add(PresaleCandidate(presale_id=presale.id, sku_id=sku.id, name=name[:255], price_fen=sku.price_fen,
                                     deposit_fen=c.deposit_fen, threshold=c.threshold))
    session.flush()
    return presale


# --- reading ----------------------------------------------------------------------------------


def get_presale(session: Session, presale_id: int) -> Presale:
    presale = session.get(Presale, presale_id)
    if presale is None:
        raise PresaleNotFound()
    return presale


def candidates_of(session: Session, presale_id: int) -> list[PresaleCandidate]:
    return list(session.scalars(select(PresaleCandidate).where(PresaleCandidate.presale_id == presale_id)
                                .order_by(PresaleCandidate.id)))


def paid_votes(session: Session, candidate_ids: list[int]) -> dict[int, int]:
    """Votes whose deposit is paid (a refunded deposit of a lost candidate still counted when it closed)."""
    rows = session.execute(
        select(PresaleVote.candidate_id, func.count()).join(Order, Order.id == PresaleVote.deposit_order_id)
        .where(PresaleVote.candidate_id.in_(candidate_ids), Order.paid_fen > 0)
        .group_by(PresaleVote.candidate_id)).all()
    return {cid: n for cid, n in rows}


def presale_read(session: Session, presale: Presale) -> PresaleRead:
    candidates = candidates_of(session, presale.id)
    counted = paid_votes(session, [c.id for c in candidates])
    return PresaleRead(
        id=presale.id, merchant_id=presale.merchant_id, title=presale.title, closes_at=presale.closes_at,
        status=presale.status, closed_at=presale.closed_at,
        candidates=[CandidateRead(id=c.id, sku_id=c.sku_id, name=c.name, price_fen=c.price_fen,
                                  deposit_fen=c.deposit_fen, threshold=c.threshold,
                                  paid_votes=c.votes if c.votes is not None else counted.get(c.id, 0),
                                  outcome=c.outcome) for c in candidates])


# --- voting -----------------------------------------------------------------------------------


def vote(session: Session, principal: Principal, presale_id: int, candidate_id: int, data: VoteIn,
         settings: Settings) -> PresaleVote:
    """Create the vote and its unpaid deposit order; the consumer then pays it like any order."""
    require_login(principal)
    presale = get_presale(session, presale_id)
    candidate = session.get(PresaleCandidate, candidate_id)
    if candidate is None or candidate.presale_id != presale.id:
        raise CandidateNotFound()
    now = utcnow()
    if presale.status != PresaleStatus.OPEN or presale.closes_at <= now:
        raise PresaleNotOpen(details={"status": presale.status})
    merchant = merchants.get_merchant(session, presale.merchant_id)
    if not merchants.is_public(merchant):
        raise NotForSale("This merchant is not trading.")
    sku = session.get(Sku, candidate.sku_id)
    if sku is None or sku.status != CatalogStatus.ACTIVE:
        raise NotForSale(details={"sku_id": candidate.sku_id})
    where = OrderCreate(lines=[OrderLineIn(sku_id=candidate.sku_id, quantity=1)], fulfilment=data.fulfilment,
                        store_id=data.store_id, delivery_address=data.delivery_address)
    fulfilment, store_id, address = orders._fulfilment(session, where, OrderKind.PRODUCT, presale.merchant_id, set())
    if session.scalar(select(PresaleVote.id).where(PresaleVote.candidate_id == candidate.id,
                                                   PresaleVote.consumer_id == principal.user_id)):
        raise AlreadyVoted()
    order = new_order(session, principal.user_id, presale.merchant_id, fulfilment, store_id, address,
                   name=f"定金 {candidate.name}"[:255], amount_fen=candidate.deposit_fen,
                   expires_at=min(now + timedelta(minutes=settings.order_payment_minutes), presale.closes_at),
                   sku_id=candidate.sku_id, holds_stock=False)
    ballot = PresaleVote(candidate_id=candidate.id, consumer_id=principal.user_id, deposit_order_id=order.id,
                         created_at=now)
    session.add(ballot)
    try:
        with session.begin_nested():  # two racing votes of one consumer: the unique key decides
            session.flush()
    except IntegrityError:
        raise AlreadyVoted() from None
    append_fact(session, "presale.voted", {"presale_id": presale.id, "candidate_id": candidate.id,
                                           "vote_id": ballot.id, "order_id": order.id,
                                           "deposit_fen": candidate.deposit_fen},
                occurred_at=now, merchant_id=presale.merchant_id, consumer_id=principal.user_id)
    return ballot


def new_order(session: Session, consumer_id: int, merchant_id: int, fulfilment, store_id, address, *, name: str,
           amount_fen: int, expires_at, sku_id: int, holds_stock: bool) -> Order:
    """A one-line product order priced by the pre-sale (deposit or balance), built like a deal-priced order.
    With `holds_stock` the line names the SKU, whose unit the caller has reserved; otherwise it names none."""
    now = utcnow()
    order = Order(consumer_id=consumer_id, merchant_id=merchant_id, kind=OrderKind.PRODUCT, status=OrderStatus.CREATED,
                  fulfilment=fulfilment, store_id=store_id, delivery_address=address, note="",
                  total_fen=amount_fen, paid_fen=0, refunded_fen=0, expires_at=expires_at,
                  created_at=now, updated_at=now)
    session.add(order)
    session.flush()
    line = OrderLine(order_id=order.id, sku_id=sku_id if holds_stock else None, name=name,
                     unit_price_fen=amount_fen, quantity=1, amount_fen=amount_fen, sessions=1)
    session.add(line)
    session.flush()
    append_fact(session, "order.created", {
        "order_id": order.id, "kind": order.kind, "total_fen": order.total_fen, "fulfilment": fulfilment,
        "lines": [{"sku_id": sku_id, "service_item_id": None, "quantity": 1, "unit_price_fen": amount_fen,
                   "amount_fen": amount_fen}],
    }, occurred_at=now, merchant_id=merchant_id, store_id=store_id, consumer_id=consumer_id)
    return order
