"""Many claims in one transaction, a few statements for all of them (a flash sale's batch).

Claimed one by one, each claim costs the database four round trips (the consumer's count, the stock, the
coupon, the fact); a batch of a hundred claims on a template costs about seven: the consumers' counts in
one read, the coupons taken from a slot or two at once (coupons.stock.take_many), the coupons and their
facts inserted in one statement each, and what is left read once. The outcomes are those of single
claims (coupons.claims.claim): the per-user limit is judged on the counts plus the batch's own claims;
a coupon whose claim_no a parallel transaction took first (the INSERT skips it) goes back to the stock
and its claim is marked StockBusy, as is one that found all stock locked by other transactions: the
caller claims those alone, the way a single claim waits and retries.
"""

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from daodian.coupons import stock
from daodian.coupons.claims import ClaimMemo, coupon_row, fact_row, load_terms, read, remaining_of
from daodian.coupons.errors import ClaimLimitReached, NotClaimable, SoldOut
from daodian.coupons.models import Coupon
from daodian.coupons.schemas import CouponRead, TemplateRead
from daodian.coupons.stock import StockBusy
from daodian.kit.clock import utcnow
from daodian.kit.db import core_transaction
from daodian.kit.errors import DomainError
from daodian.kit.facts import INSERT_FACT

Outcome = CouponRead | DomainError | StockBusy

_HELD_BY = (select(Coupon.consumer_id, func.count()).where(
    Coupon.template_id == bindparam("template_id"), Coupon.consumer_id.in_(bindparam("consumer_ids", expanding=True)))
    .group_by(Coupon.consumer_id))
_CLAIM_NO_KEY = ["template_id", "consumer_id", "claim_no"]
_INSERT_COUPONS = {  # a claim_no taken meanwhile is skipped, not an error that would spoil the transaction
    "postgresql": postgresql.insert(Coupon.__table__).on_conflict_do_nothing(index_elements=_CLAIM_NO_KEY),
    "sqlite": sqlite.insert(Coupon.__table__).on_conflict_do_nothing(index_elements=_CLAIM_NO_KEY),
}


def claim_many(factory: sessionmaker[Session], wanted: list[tuple[int, int]], memo: ClaimMemo | None = None
               ) -> list[Outcome]:
    """Claim for each (consumer, template) in one transaction and one commit: the outcome of each, in
    order (the coupon, the refusal a single claim would raise, or StockBusy). A failed commit raises."""
    with core_transaction(factory) as connection:
        return claim_set(connection, memo or ClaimMemo(), wanted)


def claim_set(connection: Connection, memo: ClaimMemo, wanted: list[tuple[int, int]]) -> list[Outcome]:
    """The outcome of each (consumer, template) claim, in order, written in the caller's transaction."""
    outcomes: list[Outcome | None] = [None] * len(wanted)
    by_template: dict[int, list[int]] = defaultdict(list)
    for i, (_, template_id) in enumerate(wanted):
        by_template[template_id].append(i)
    slots: dict[int, int] = {}  # the stock slot this transaction has locked, per template
    for template_id, indices in by_template.items():
        for i, outcome in _claim_template(connection, memo, slots, template_id,
                                          [(i, wanted[i][0]) for i in indices]).items():
            outcomes[i] = outcome
    return outcomes  # type: ignore[return-value]  # every index got its outcome


def _claim_template(connection: Connection, memo: ClaimMemo, slots: dict[int, int], template_id: int,
                    claimants: list[tuple[int, int]]) -> dict[int, Outcome]:
    if template_id in memo.sold_out:
        return {i: SoldOut() for i, _ in claimants}
    try:
        terms = memo.terms.get(template_id) or load_terms(connection, memo, template_id)
    except DomainError as exc:
        return {i: exc for i, _ in claimants}
    now = utcnow()
    if not terms.claim_starts_at <= now < terms.claim_ends_at:
        return {i: NotClaimable("This coupon is not open for claims now.") for i, _ in claimants}
    held = dict(connection.execute(_HELD_BY, {"template_id": template_id,
                                              "consumer_ids": list({c for _, c in claimants})}).all())
    outcomes: dict[int, Outcome] = {}
    giving: list[tuple[int, dict[str, Any]]] = []
    at_limit: list[int] = []
    for i, consumer_id in claimants:
        claim_no = held.get(consumer_id, 0) + 1
        if claim_no > terms.per_user_limit:
            at_limit.append(i)
            continue
        held[consumer_id] = claim_no
        giving.append((i, coupon_row(terms, consumer_id, claim_no, "online", now)))
    taken, others_hold_stock = stock.take_many(connection, template_id, len(giving), slots)
    for i, _ in giving[taken:]:
        outcomes[i] = StockBusy() if others_hold_stock else SoldOut()
    outcomes.update(_insert(connection, terms, slots, giving[:taken]))
    left = remaining_of(connection, template_id)
    if left <= 0 and not others_hold_stock:
        memo.sold_out.add(template_id)
    given = sorted(i for i, o in outcomes.items() if isinstance(o, dict))
    for i in at_limit:  # as a single claim in this order says it: sold out, if that was true as well by then
        left_then = left + sum(1 for g in given if g > i)
        outcomes[i] = SoldOut() if left_then <= 0 else ClaimLimitReached()
    return {i: read(o, terms, left) if isinstance(o, dict) else o for i, o in outcomes.items()}


def _insert(connection: Connection, terms: TemplateRead, slots: dict[int, int],
            giving: list[tuple[int, dict[str, Any]]]) -> dict[int, dict[str, Any] | StockBusy]:
    """The coupons inserted, with their ids; those whose claim_no was taken meanwhile go back to the stock."""
    if not giving:
        return {}
    statement = _INSERT_COUPONS[connection.dialect.name].returning(Coupon.id, Coupon.consumer_id, Coupon.claim_no)
    inserted = {(consumer_id, claim_no): coupon_id for coupon_id, consumer_id, claim_no
                in connection.execute(statement, [row for _, row in giving])}
    outcomes: dict[int, dict[str, Any] | StockBusy] = {}
    for i, row in giving:
        coupon_id = inserted.get((row["consumer_id"], row["claim_no"]))
        outcomes[i] = {**row, "id": coupon_id} if coupon_id is not None else StockBusy()
    lost = sum(1 for o in outcomes.values() if isinstance(o, StockBusy))
    if lost:
        stock.give_back(connection, terms.id, slots[terms.id], lost)
    coupons = [o for o in outcomes.values() if isinstance(o, dict)]
    if coupons:
        connection.execute(INSERT_FACT, [fact_row(terms, coupon) for coupon in coupons])
    return outcomes
