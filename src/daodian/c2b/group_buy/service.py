"""Tiered group buy (C2B): merchants open a deal with price tiers by participants; consumers join by
paying the top price; at the close everyone pays the tier reached and the difference goes back.

- A join is a service order built here at the deal's top price (not orders.create_order, whose prices
  come from the catalog) plus a join row, unique per (deal, consumer): parallel joins by one consumer
  make one join, and the count of joins is exact because nothing else is counted.
- A join whose order closed unpaid (expired, cancelled) keeps its row and gets a new order: one
  conditional UPDATE on the old order id, so parallel rejoins by one consumer give one new order.
- Participants are the joins whose order is paid. Payment is the ordinary pay flow.
- Settling fixes the outcome once: one conditional UPDATE open -> settling, then, with every join's
  order locked (in id order, the lock order everywhere), unpaid orders are closed and the paid ones
  counted. Then each paid join is settled in its own transaction: the order is locked, a settlement row
  (unique per join) is inserted, and the refund (difference, or everything below the minimum) is
  reserved on the order and payment and opened as a pending refund. Refunds are sent after commit;
  `daodian jobs retry-refunds` covers a crash in between. Running settle again finds every settlement
  row and opens nothing: no second refund.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from daodian.accounts.authz import Action, Principal, require_login
from daodian.c2b.group_buy.errors import GroupBuyClosed, GroupBuyInvalid, GroupBuyNotFound
from daodian.c2b.group_buy.models import GroupBuy, GroupBuyJoin, GroupBuySettlement, GroupBuyStatus
from daodian.c2b.group_buy.schemas import GroupBuyCreate, GroupBuyRead, JoinRead, SettleRead, Tier
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.kit.errors import NotFound
from daodian.kit.facts import append_fact
from daodian.kit.settings import Settings
from daodian.merchants import service as merchants
from daodian.merchants import service_items
from daodian.orders import service as orders
from daodian.orders import states
from daodian.orders.models import Fulfilment, Order, OrderKind, OrderLine, OrderStatus
from daodian.payments import refunds
from daodian.taxonomy.models import CatalogStatus
from daodian.vouchers import order_completion
from daodian.vouchers import service as vouchers

S = GroupBuyStatus
MAX_WINDOW = timedelta(days=90)


# --- the deal ---------------------------------------------------------------------------------


def create(session: Session, principal: Principal, merchant_id: int, data: GroupBuyCreate) -> GroupBuy:
    merchants.managed_merchant(session, principal, merchant_id, Action.CATALOG_MANAGE)
    item = service_items.get_item(session, data.service_item_id)
    if item.merchant_id != merchant_id:
        raise NotFound("This merchant has no such service item.", code="service_item_not_found")
    if item.status != CatalogStatus.ACTIVE:
        raise GroupBuyInvalid("The service item is not on sale.", details={"service_item_id": item.id})
    tiers = data.tiers
    for lower, higher in zip(tiers, tiers[1:], strict=False):
        if not (higher.min_participants > lower.min_participants and higher.price_fen < lower.price_fen):
            raise GroupBuyInvalid("Tiers need more participants and a lower price each.", code="invalid_tiers")
    now = utcnow()
    starts_at = data.starts_at or now
    minimum = data.min_participants or tiers[0].min_participants
    if minimum > tiers[0].min_participants:
        raise GroupBuyInvalid("The minimum cannot lie above the first tier.", code="invalid_tiers")
    if data.ends_at.tzinfo is None or starts_at.tzinfo is None:
        raise GroupBuyInvalid("Give times with their UTC offset.", code="invalid_window")
    if not (now < data.ends_at and starts_at < data.ends_at and data.ends_at - starts_at <= MAX_WINDOW):
        raise GroupBuyInvalid("The window must end in the future, after it starts, within 90 days.",
                              code="invalid_window")
    deal = GroupBuy(merchant_id=merchant_id, service_item_id=item.id, title=data.title.strip(),
                    tiers=[t.model_dump() for t in tiers], min_participants=minimum, starts_at=starts_at,
                    ends_at=data.ends_at, status=S.OPEN, created_by=principal.user_id, created_at=now)
    session.add(deal)
    session.flush()
    return deal


def get(session: Session, group_buy_id: int) -> GroupBuy:
    deal = session.get(GroupBuy, group_buy_id)
    if deal is None:
        raise GroupBuyNotFound()
    return deal


def top_price(deal: GroupBuy) -> int:
    return deal.tiers[0]["price_fen"]


@dataclass(frozen=True)
class Progress:
    joined: int
    participants: int
    price_fen: int | None  # the tier reached; None below the minimum
    next_tier: dict | None


def reached_price(deal: GroupBuy, participants: int) -> int | None:
    if participants < deal.min_participants:
        return None
    return min((t["price_fen"] for t in deal.tiers if t["min_participants"] <= participants), default=None) \
        or top_price(deal)


def progress(session: Session, deal: GroupBuy) -> Progress:
    joined = session.scalar(select(func.count()).select_from(GroupBuyJoin).where(GroupBuyJoin.group_buy_id == deal.id))
    if deal.final_participants is not None:
        participants = deal.final_participants
    else:
        participants = session.scalar(
            select(func.count()).select_from(GroupBuyJoin).join(Order, Order.id == GroupBuyJoin.order_id)
            .where(GroupBuyJoin.group_buy_id == deal.id, Order.status.in_(states.REFUNDABLE)))
    upcoming = [t for t in deal.tiers if t["min_participants"] > participants]
    return Progress(joined, participants, reached_price(deal, participants), upcoming[0] if upcoming else None)


def read(session: Session, deal: GroupBuy) -> GroupBuyRead:
    p = progress(session, deal)
    return GroupBuyRead(
        id=deal.id, merchant_id=deal.merchant_id, service_item_id=deal.service_item_id, title=deal.title,
        tiers=[Tier(**t) for t in deal.tiers], min_participants=deal.min_participants, starts_at=deal.starts_at,
        ends_at=deal.ends_at, status=deal.status, participants=p.participants, joined=p.joined,
        current_price_fen=p.price_fen, next_tier=Tier(**p.next_tier) if p.next_tier else None,
        needed_for_next=p.next_tier["min_participants"] - p.participants if p.next_tier else None,
        final_price_fen=deal.final_price_fen)


def open_deals_query(merchant_id: int | None, now: datetime):
    query = select(GroupBuy).where(GroupBuy.status == S.OPEN, GroupBuy.starts_at <= now, GroupBuy.ends_at > now)
    return query.where(GroupBuy.merchant_id == merchant_id) if merchant_id is not None else query


# --- joining ----------------------------------------------------------------------------------


def join(factory: sessionmaker[Session], settings: Settings, principal: Principal,
         group_buy_id: int) -> tuple[int, JoinRead]:
    """201 with a new join and its unpaid order, or 200 with the consumer's existing join (a retry, or a
    parallel twin that lost the unique key). A join whose order closed unpaid is renewed: 201, new order."""
    require_login(principal)
    with unit_of_work(factory, read_only=True) as session:
        earlier = _join_of(session, group_buy_id, principal.user_id)
        earlier_order_id = earlier.order_id if earlier is not None else None
    if earlier_order_id is not None:  # an unpaid order past its deadline counts as lapsed
        orders.expire_if_due(factory, earlier_order_id)
    try:
        with unit_of_work(factory) as session:
            existing = _join_of(session, group_buy_id, principal.user_id)
            if existing is not None and _lapsed(session, existing):
                return 201, _join_read(session, rejoin(session, settings, principal, existing))
            if existing is not None:
                return 200, _join_read(session, existing)
            record = new_join(session, settings, principal, group_buy_id)
            return 201, _join_read(session, record)
    except (IntegrityError, _RejoinLost):  # the same consumer (re)joined in parallel; theirs stands
        with unit_of_work(factory, read_only=True) as session:
            return 200, _join_read(session, _join_of(session, group_buy_id, principal.user_id))


class _RejoinLost(Exception):
    """A parallel rejoin replaced the lapsed order first; raising rolls back our new order."""


def _join_of(session: Session, group_buy_id: int, consumer_id: int) -> GroupBuyJoin | None:
    return session.scalar(select(GroupBuyJoin).where(GroupBuyJoin.group_buy_id == group_buy_id,
                                                     GroupBuyJoin.consumer_id == consumer_id))


def _lapsed(session: Session, record: GroupBuyJoin) -> bool:
    """The join's order closed unpaid (expired or cancelled): the consumer may join again."""
    order = session.get(Order, record.order_id)
    return order.status in (OrderStatus.EXPIRED, OrderStatus.CANCELLED) and order.paid_fen == 0


def rejoin(session: Session, settings: Settings, principal: Principal, record: GroupBuyJoin) -> GroupBuyJoin:
    """Reuse a lapsed join's row with a new unpaid order. One conditional UPDATE on the old order id
    decides between parallel rejoins: the loser's update matches no row and its order is rolled back."""
    old_order_id = record.order_id
    order = _join_order(session, settings, principal, get(session, record.group_buy_id))
    changed = session.execute(update(GroupBuyJoin)
                              .where(GroupBuyJoin.id == record.id, GroupBuyJoin.order_id == old_order_id)
                              .values(order_id=order.id, created_at=order.created_at)
                              .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise _RejoinLost()
    session.refresh(record)
    return record


def new_join(session: Session, settings: Settings, principal: Principal, group_buy_id: int) -> GroupBuyJoin:
    deal = get(session, group_buy_id)
    order = _join_order(session, settings, principal, deal)
    record = GroupBuyJoin(group_buy_id=deal.id, consumer_id=principal.user_id, order_id=order.id,
                          created_at=order.created_at)
    session.add(record)
    session.flush()  # the unique (deal, consumer) key is checked here
    return record


def _join_order(session: Session, settings: Settings, principal: Principal, deal: GroupBuy) -> Order:
    """The unpaid service order of a join at the deal's top price, with its facts."""
    now = utcnow()
    if deal.status != S.OPEN or not (deal.starts_at <= now < deal.ends_at):
        raise GroupBuyClosed(details={"status": deal.status})
    item = service_items.get_item(session, deal.service_item_id)
    price = top_price(deal)
    # Unpaid joins must stay payable until the close, when they are cancelled, but not beyond.
    expires_at = min(now + timedelta(minutes=settings.order_payment_minutes), deal.ends_at)
    order = Order(consumer_id=principal.user_id, merchant_id=deal.merchant_id, kind=OrderKind.SERVICE,
                  status=OrderStatus.CREATED, fulfilment=Fulfilment.AT_STORE, note=f"group buy {deal.id}",
                  total_fen=price, paid_fen=0, refunded_fen=0, expires_at=expires_at, created_at=now, updated_at=now)
    session.add(order)
    session.flush()
    line = OrderLine(order_id=order.id, service_item_id=item.id, name=item.name_zh[:255], unit_price_fen=price,
                     quantity=1, amount_fen=price, sessions=max(1, item.sessions or 1))
    session.add(line)
    session.flush()
    append_fact(session, "order.created", {
        "order_id": order.id, "kind": OrderKind.SERVICE, "total_fen": price, "fulfilment": Fulfilment.AT_STORE,
        "lines": [{"sku_id": None, "service_item_id": item.id, "quantity": 1, "unit_price_fen": price,
                   "amount_fen": price}], "group_buy_id": deal.id,
    }, occurred_at=now, merchant_id=deal.merchant_id, consumer_id=principal.user_id)
    append_fact(session, "group_buy.joined", {"group_buy_id": deal.id, "order_id": order.id, "price_fen": price},
                occurred_at=now, merchant_id=deal.merchant_id, consumer_id=principal.user_id)
    return order


def _join_read(session: Session, record: GroupBuyJoin) -> JoinRead:
    order = session.get(Order, record.order_id)
    return JoinRead(id=record.id, group_buy_id=record.group_buy_id, consumer_id=record.consumer_id,
                    order_id=record.order_id, price_fen=order.total_fen, created_at=record.created_at)


# --- settling ---------------------------------------------------------------------------------


def settle(factory: sessionmaker[Session], settings: Settings, group_buy_id: int,
           *, now: datetime | None = None) -> SettleRead:
    """Settle one deal past its end; safe to run any number of times, also concurrently."""
    now = now or utcnow()
    with unit_of_work(factory) as session:
        _fix_outcome(session, group_buy_id, now)
        join_ids = list(session.scalars(select(GroupBuyJoin.id).where(GroupBuyJoin.group_buy_id == group_buy_id)
                                        .order_by(GroupBuyJoin.id)))
    opened: list[int] = []
    for join_id in join_ids:
        with unit_of_work(factory) as session:
            refund_id = _settle_join(session, join_id, now)
        if refund_id is not None:
            opened.append(refund_id)
    for refund_id in opened:  # outside any transaction: the provider answers
        refunds.send(factory, settings, refund_id)
    with unit_of_work(factory) as session:
        deal = session.get(GroupBuy, group_buy_id)
        if deal.status == S.SETTLING:
            final = S.SETTLED if deal.final_price_fen is not None else S.FAILED
            changed = session.execute(update(GroupBuy).where(GroupBuy.id == deal.id, GroupBuy.status == S.SETTLING)
                                      .values(status=final, settled_at=now)
                                      .execution_options(synchronize_session=False)).rowcount
            if changed == 1:
                append_fact(session, "group_buy.settled", {
                    "group_buy_id": deal.id, "outcome": final, "participants": deal.final_participants,
                    "final_price_fen": deal.final_price_fen}, occurred_at=now, merchant_id=deal.merchant_id)
            session.refresh(deal)
        return SettleRead(group_buy_id=deal.id, status=deal.status, participants=deal.final_participants,
                          final_price_fen=deal.final_price_fen, refunds_opened=len(opened))


def _fix_outcome(session: Session, group_buy_id: int, now: datetime) -> None:
    """open -> settling, once: close unpaid joins, count the paid ones, fix the price reached."""
    deal = get(session, group_buy_id)
    if deal.status == S.OPEN and deal.ends_at > now:
        raise GroupBuyClosed("This group buy is still running.", code="group_buy_running")
    changed = session.execute(update(GroupBuy).where(GroupBuy.id == deal.id, GroupBuy.status == S.OPEN)
                              .values(status=S.SETTLING).execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        return  # another run fixed it already
    order_ids = session.scalars(select(GroupBuyJoin.order_id).where(GroupBuyJoin.group_buy_id == deal.id)
                                .order_by(GroupBuyJoin.order_id))
    paid = 0
    for order_id in list(order_ids):
        order = orders.locked_order(session, order_id)  # a payment in flight lands before, or finds it closed
        if order.status == OrderStatus.CREATED:
            orders.close_unpaid(session, order, by_user_id=None)
        elif order.status in states.REFUNDABLE:
            paid += 1
    session.execute(update(GroupBuy).where(GroupBuy.id == deal.id)
                    .values(final_participants=paid, final_price_fen=reached_price(deal, paid))
                    .execution_options(synchronize_session=False))
    session.refresh(deal)


def _settle_join(session: Session, join_id: int, now: datetime) -> int | None:
    """Settle one join once; the id of the refund opened, or None (nothing to pay back, or settled before)."""
    record = session.get(GroupBuyJoin, join_id)
    order = orders.locked_order(session, record.order_id)  # serialises two settlers of the same join
    if session.scalar(select(GroupBuySettlement.id).where(GroupBuySettlement.join_id == join_id)) is not None:
        return None
    deal = session.get(GroupBuy, record.group_buy_id)
    payment = refunds.settling_payment(session, order.id)
    if payment is None or order.status not in states.REFUNDABLE:  # never paid (closed at the close)
        session.add(GroupBuySettlement(join_id=join_id, refund_fen=0, settled_at=now))
        session.flush()
        return None
    remaining = order.paid_fen - order.refunded_fen
    voided: dict[str, int] = {}
    if deal.final_price_fen is None:  # below the minimum: everything back, vouchers voided
        amount = remaining
        for voucher in order_completion.order_vouchers(session, order.id):
            uses = voucher.uses_left
            if uses > 0 and vouchers.void_uses(session, voucher, uses):
                voided[str(voucher.id)] = uses
        reason = "group_buy_failed"
    else:
        amount = min(remaining, max(0, order.paid_fen - deal.final_price_fen))
        reason = "group_buy_tier"
    refund = refunds.open_refund(session, order, amount, reason=reason, now=now, voided_uses=voided)
    session.add(GroupBuySettlement(join_id=join_id, refund_fen=refund.amount_fen if refund else 0,
                                   refund_id=refund.id if refund else None, settled_at=now))
    session.flush()
    return refund.id if refund else None


def due_ids(session: Session, now: datetime) -> list[int]:
    return list(session.scalars(select(GroupBuy.id).where(
        (GroupBuy.status == S.SETTLING) | ((GroupBuy.status == S.OPEN) & (GroupBuy.ends_at <= now)))
        .order_by(GroupBuy.id)))


def settle_due(factory: sessionmaker[Session], settings: Settings, *, now: datetime | None = None) -> dict[str, int]:
    """The `daodian group-buys settle` job: every deal past its end, and any settle that crashed midway."""
    now = now or utcnow()
    with unit_of_work(factory, read_only=True) as session:
        ids = due_ids(session, now)
    counts: dict[str, int] = {}
    for group_buy_id in ids:
        status = settle(factory, settings, group_buy_id, now=now).status
        counts[status] = counts.get(status, 0) + 1
    return counts
