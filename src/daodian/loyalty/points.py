"""The points ledger: append-only, double-entry, with cached balances that never go below zero.

Every business event is one `PointsTransaction` whose `PointsEntry` legs add up to zero:
- earn:    consumer +n, the issuer's "issued" account -n (the merchant's, or the platform's);
- spend:   consumer -n, the platform's "redeemed" sink +n;
- expire:  consumer -n, the platform's "expired" sink +n;
- reverse: the negated legs of an earn or a spend (a refund). Taking back earned points is capped at
  what the consumer still has: the part already spent stays spent (the issuer bears it).
- takeback: part of an earn reversed (a partial refund): consumer -n, the issuer +n, with the same cap;
  a later full `reverse` of that earn takes back only the rest.

The database refuses UPDATE and DELETE of transactions and entries (migration 0008, kit.append_only);
`points_accounts.balance` is a cache written in the same transaction as the entries, by conditional
UPDATEs for consumer debits (`balance >= n`) — a CHECK constraint backs that up — so concurrent spends
can never overdraw. `reconcile` compares every cache with its ledger sum.

Expiry is first-in first-out: spending uses the points that lapse first, so what lapses at `now` is
(points earned with `expires_at <= now`, net of their reversals) - (points spent or expired so far, net
of reversed spends), at most the balance. Running it twice expires nothing more.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, bindparam, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from daodian.kit.clock import utcnow
from daodian.kit.db import insert_later
from daodian.kit.errors import Conflict
from daodian.kit.facts import INSERT_FACT, fact_values
from daodian.loyalty.errors import InsufficientPoints, PointsTransactionNotFound
from daodian.loyalty.models import AccountKind, PointsAccount, PointsEntry, PointsTransaction

PLATFORM = "platform"


def owner_key(consumer_id: int | None, merchant_id: int | None) -> str:
    """Whose account: the consumer's, else the merchant's, else the platform's."""
    return f"user:{consumer_id}" if consumer_id else f"merchant:{merchant_id}" if merchant_id else PLATFORM


def account_id(session: Session, kind: AccountKind, *, consumer_id: int | None = None,
               merchant_id: int | None = None) -> int:
    """The account's id, opening it on first use (a savepoint absorbs a parallel opening)."""
    owner = owner_key(consumer_id, merchant_id)
    query = select(PointsAccount.id).where(PointsAccount.kind == kind, PointsAccount.owner_key == owner)
    found = session.scalar(query)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            account = PointsAccount(kind=kind, owner_key=owner, consumer_id=consumer_id, merchant_id=merchant_id,
                                    balance=0)
            session.add(account)
        return account.id
    except IntegrityError:
        return session.scalar(query)


def balance_of(session: Session, consumer_id: int) -> int:
    return session.scalar(select(PointsAccount.balance).where(
        PointsAccount.kind == AccountKind.CONSUMER, PointsAccount.owner_key == f"user:{consumer_id}")) or 0


def _existing(session: Session, kind: str, reference: str) -> PointsTransaction | None:
    return session.scalar(select(PointsTransaction).where(PointsTransaction.kind == kind,
                                                          PointsTransaction.reference == reference))


def _post(session: Session, kind: str, consumer_id: int, merchant_id: int | None, points: int, reference: str,
          legs: list[tuple[int, int]], *, reverses_id: int | None = None, expires_at: datetime | None = None,
          guarded: int | None = None, kinds: dict[int, AccountKind] | None = None) -> PointsTransaction:
    """Write one transaction: balances first (the guarded consumer debit is conditional), then the rows: the
    transaction, its entries in one INSERT, their facts with the batch's (kit.db.insert_later). `kinds`: the
    legs' account kinds, when the caller knows them (else read).

    Accounts are updated in id order, so two transactions never wait on each other crosswise.
    """
    assert sum(delta for _, delta in legs) == 0 and points > 0 and len({a for a, _ in legs}) == len(legs)
    for account, delta in sorted(legs):
        debit = account == guarded and delta < 0
        changed = session.execute(_GUARDED_MOVE if debit else _MOVE, {
            "account_id": account, "delta": delta, "now": utcnow()}).rowcount
        if changed != 1:
            raise InsufficientPoints(details={"needed": -delta})
    row = {"kind": kind, "consumer_id": consumer_id, "merchant_id": merchant_id, "points": points,
           "reference": reference, "reverses_id": reverses_id, "expires_at": expires_at, "created_at": utcnow()}
    # Written by a Core INSERT (the ORM's flush of one object cost more than the statement); the caller gets the
    # row as written, an object outside the session (read it again with session.get for one inside).
    txn = PointsTransaction(id=session.execute(_INSERT_TRANSACTION, row).scalar_one(), **row)
    if kinds is None:
        kinds = dict(session.execute(select(PointsAccount.id, PointsAccount.kind)
                                     .where(PointsAccount.id.in_([a for a, _ in legs]))).all())
    entry_ids = dict(session.execute(_INSERT_ENTRIES, [  # by account: the legs' accounts are distinct
        {"transaction_id": txn.id, "account_id": account, "delta": delta, "created_at": txn.created_at}
        for account, delta in legs]).all())
    for account, delta in legs:
        insert_later(session, INSERT_FACT, fact_values(
            "points.entry", {"entry_id": entry_ids[account], "transaction_id": txn.id, "account": kinds[account],
                             "delta_points": delta, "reason": kind, "reference": reference},
            occurred_at=txn.created_at, merchant_id=merchant_id, consumer_id=consumer_id))
    return txn


_ACCOUNTS = PointsAccount.__table__
# A balance moved: Core statements on the table (the ORM's bulk UPDATE cost more than the statement), built once;
# a guarded consumer debit only while the balance covers it.
_DELTA = bindparam("delta", type_=BigInteger())
_MOVE = update(_ACCOUNTS).where(_ACCOUNTS.c.id == bindparam("account_id")).values(
    balance=_ACCOUNTS.c.balance + _DELTA, updated_at=bindparam("now"))
_GUARDED_MOVE = _MOVE.where(_ACCOUNTS.c.balance >= -_DELTA)
_TRANSACTIONS, _ENTRIES = PointsTransaction.__table__, PointsEntry.__table__
_INSERT_TRANSACTION = insert(_TRANSACTIONS).returning(_TRANSACTIONS.c.id)


# A transaction's legs in one statement (SQLAlchemy's "insertmanyvalues": one multi-row INSERT, compiled once; a
# multi-row VALUES built in the statement was compiled on every call), their ids back with their accounts.
_INSERT_ENTRIES = insert(_ENTRIES).returning(_ENTRIES.c.account_id, _ENTRIES.c.id)


def _once(session: Session, kind: str, reference: str, points: int, write) -> PointsTransaction:
    """Idempotent by (kind, reference): the same event again returns the first transaction."""
    if (found := _existing(session, kind, reference)) is not None:
        if found.points != points:
            raise Conflict("This reference was already used for a different amount.", code="points_reference_reused")
        return found
    return write()


def earn(session: Session, consumer_id: int, points: int, reference: str, *, merchant_id: int | None = None,
         expires_at: datetime | None = None) -> PointsTransaction:
    def write():
        mine = account_id(session, AccountKind.CONSUMER, consumer_id=consumer_id)
        issuer = account_id(session, AccountKind.ISSUED, merchant_id=merchant_id)
        return _post(session, "earn", consumer_id, merchant_id, points, reference, [(mine, points), (issuer, -points)],
                     expires_at=expires_at)
    return _once(session, "earn", reference, points, write)


def earn_new(session: Session, consumer_id: int, points: int, reference: str, *, merchant_id: int | None,
             mine: int | None, issuer: int | None) -> PointsTransaction:
    """`earn` for a caller that has just looked (loyalty.earning): no earn has this reference yet, and the
    accounts' ids are as it found them (None: not opened yet)."""
    mine = mine or account_id(session, AccountKind.CONSUMER, consumer_id=consumer_id)
    issuer = issuer or account_id(session, AccountKind.ISSUED, merchant_id=merchant_id)
    return _post(session, "earn", consumer_id, merchant_id, points, reference, [(mine, points), (issuer, -points)],
                 kinds={mine: AccountKind.CONSUMER, issuer: AccountKind.ISSUED})


def spend(session: Session, consumer_id: int, points: int, reference: str, *,
          merchant_id: int | None = None) -> PointsTransaction:
    """Spend at checkout (the order service passes "order:<id>"); 409 `insufficient_points`."""
    def write():
        mine = account_id(session, AccountKind.CONSUMER, consumer_id=consumer_id)
        sink = account_id(session, AccountKind.REDEEMED)
        return _post(session, "spend", consumer_id, merchant_id, points, reference, [(mine, -points), (sink, points)],
                     guarded=mine)
    return _once(session, "spend", reference, points, write)


def reverse(session: Session, transaction_id: int) -> PointsTransaction | None:
    """Undo an earn or a spend (a refund); once. None when an earn has nothing left to take back."""
    original = session.get(PointsTransaction, transaction_id)
    if original is None or original.kind not in ("earn", "spend"):
        raise PointsTransactionNotFound()
    if (done := session.scalar(select(PointsTransaction).where(PointsTransaction.reverses_id == original.id))):
        return done
    legs = list(session.execute(select(PointsEntry.account_id, PointsEntry.delta)
                                .where(PointsEntry.transaction_id == original.id)).all())
    mine = account_id(session, AccountKind.CONSUMER, consumer_id=original.consumer_id)
    points = original.points
    if original.kind == "earn":  # take back at most what is left, less what partial refunds took back
        points = min(points - taken_back(session, original.id),
                     session.scalar(select(PointsAccount.balance).where(PointsAccount.id == mine)))
        if points <= 0:
            return None
    scale = [(account, -points if delta > 0 else points) for account, delta in legs]
    return _post(session, "reverse", original.consumer_id, original.merchant_id, points, f"reverse:{original.id}",
                 scale, reverses_id=original.id, guarded=mine)


def taken_back(session: Session, earn_id: int) -> int:
    """Points of an earn already taken back by partial reversals (`take_back`)."""
    return int(session.scalar(select(func.coalesce(func.sum(PointsTransaction.points), 0)).where(
        PointsTransaction.kind == "takeback", PointsTransaction.reference.like(f"takeback:{earn_id}:%"))))


def take_back(session: Session, earn_id: int, points: int, tag: str) -> PointsTransaction | None:
    """Partly reverse an earn (a partial refund): at most `points`, at most what the earn has left after
    earlier take-backs, at most the consumer's balance (the rest stays spent). Once per (earn, tag);
    None when there is nothing to take. Only for earns that never lapse, so expiry (`_lapsed`, which
    reads reversals by `reverses_id`) needs no notion of a partial reversal.
    """
    original = session.get(PointsTransaction, earn_id)
    if original is None or original.kind != "earn" or original.expires_at is not None:
        raise PointsTransactionNotFound()
    reference = f"takeback:{original.id}:{tag}"
    if (found := _existing(session, "takeback", reference)) is not None:
        return found
    if session.scalar(select(PointsTransaction.id).where(PointsTransaction.reverses_id == original.id)):
        return None  # fully reversed already
    mine = account_id(session, AccountKind.CONSUMER, consumer_id=original.consumer_id)
    balance = session.scalar(select(PointsAccount.balance).where(PointsAccount.id == mine))
    points = min(points, original.points - taken_back(session, original.id), balance)
    if points <= 0:
        return None
    issuer = account_id(session, AccountKind.ISSUED, merchant_id=original.merchant_id)
    return _post(session, "takeback", original.consumer_id, original.merchant_id, points, reference,
                 [(mine, -points), (issuer, points)], guarded=mine)


def expire(session: Session, consumer_id: int, now: datetime | None = None) -> PointsTransaction | None:
    now = now or utcnow()
    amount = min(balance_of(session, consumer_id), _lapsed(session, consumer_id, now))
    if amount <= 0:
        return None
    mine = account_id(session, AccountKind.CONSUMER, consumer_id=consumer_id)
    sink = account_id(session, AccountKind.EXPIRED)
    count = session.scalar(select(func.count()).select_from(PointsTransaction).where(
        PointsTransaction.consumer_id == consumer_id, PointsTransaction.kind == "expire"))
    return _post(session, "expire", consumer_id, None, amount, f"expire:{consumer_id}:{count + 1}",
                 [(mine, -amount), (sink, amount)], guarded=mine)


def _lapsed(session: Session, consumer_id: int, now: datetime) -> int:
    t, original = PointsTransaction, aliased(PointsTransaction)
    due = (t.kind == "earn") & (t.expires_at <= now)
    earned = session.scalar(select(func.coalesce(func.sum(t.points), 0)).where(t.consumer_id == consumer_id, due))
    taken_back = session.scalar(
        select(func.coalesce(func.sum(t.points), 0)).join(original, original.id == t.reverses_id)
        .where(t.consumer_id == consumer_id, t.kind == "reverse", original.kind == "earn",
               original.expires_at <= now))
    debits = session.scalar(select(func.coalesce(func.sum(case(
        (t.kind.in_(("spend", "expire")), t.points), else_=0)), 0)).where(t.consumer_id == consumer_id))
    refunded = session.scalar(
        select(func.coalesce(func.sum(t.points), 0)).join(original, original.id == t.reverses_id)
        .where(t.consumer_id == consumer_id, t.kind == "reverse", original.kind == "spend"))
    return int((earned - taken_back) - (debits - refunded))  # PostgreSQL sums bigints as numeric


def expire_all(session: Session, now: datetime | None = None) -> int:
    """The expiry job: every consumer with earned points due."""
    now = now or utcnow()
    consumers = session.scalars(select(PointsTransaction.consumer_id).where(
        PointsTransaction.kind == "earn", PointsTransaction.expires_at <= now).distinct()).all()
    return sum(1 for c in consumers if expire(session, c, now) is not None)


# --- reconciliation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    account_id: int
    owner_key: str
    kind: str
    cached: int
    ledger: int


@dataclass(frozen=True)
class Reconciliation:
    accounts: int
    differences: list[Difference]
    ledger_total: int  # the sum of every entry: zero in a double-entry ledger
    unbalanced_transactions: list[int]

    @property
    def clean(self) -> bool:
        return not self.differences and self.ledger_total == 0 and not self.unbalanced_transactions


def reconcile(session: Session) -> Reconciliation:
    sums = (select(PointsEntry.account_id, func.sum(PointsEntry.delta).label("total"))
            .group_by(PointsEntry.account_id).subquery())
    rows = session.execute(select(PointsAccount.id, PointsAccount.owner_key, PointsAccount.kind, PointsAccount.balance,
                                  func.coalesce(sums.c.total, 0))
                           .outerjoin(sums, sums.c.account_id == PointsAccount.id).order_by(PointsAccount.id)).all()
    differences = [Difference(*row[:4], int(row[4])) for row in rows if row[3] != row[4]]
    total = session.scalar(select(func.coalesce(func.sum(PointsEntry.delta), 0)))
    unbalanced = list(session.scalars(select(PointsEntry.transaction_id).group_by(PointsEntry.transaction_id)
                                      .having(func.sum(PointsEntry.delta) != 0)))
    return Reconciliation(len(rows), differences, int(total), unbalanced)
