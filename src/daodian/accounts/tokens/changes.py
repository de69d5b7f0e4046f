"""The record of changes to who an account is, for the processes that remember principals.

A token's principal (accounts.tokens.memory) holds the account's name, operator flag and staff roles, and
stands only while its session is live and its account active. Whatever changes one of those, through any
Session of any process, is caught here by ORM events, without each service having to remember it:

- an account's is_active, is_operator or display_name set; a session revoked, its expiry or owner
  changed, or the row deleted; a staff membership added, changed or deleted (whoever it belongs to
  before and after);
- a bulk UPDATE or DELETE of users, auth_sessions or merchant_staff through a Session (the erasure of an
  account, a script): it names no accounts, so it stands for all of them.

The process making the change forgets the accounts at once and again after its commit; the change is
written to `principal_changes` in the same transaction, where other processes find it by polling
(accounts.tokens.lookup). Logging in changes nobody: a new session is a new token.
"""

from datetime import datetime

from sqlalchemy import Connection, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import get_history

from daodian.accounts.models import AuthSession, StaffMembership, User
from daodian.accounts.tokens.memory import PRINCIPALS
from daodian.kit.clock import utcnow
from daodian.kit.db import Base, BigId, IdPk, UTCDateTime

EVERYONE = None  # an account id standing for every account (a bulk statement's change)
_PENDING = "daodian_principal_changes"  # session info: accounts to forget again once the change commits

# The attributes of each class that make up a principal (those the lookup reads or filters on).
WATCHED: dict[type, tuple[str, ...]] = {
    User: ("is_active", "is_operator", "display_name"),
    AuthSession: ("revoked_at", "expires_at", "user_id", "kind", "token_hash"),
    StaffMembership: ("role", "user_id", "merchant_id"),
}
_TABLES = frozenset(cls.__table__ for cls in WATCHED)


class PrincipalChange(Base):
    """One change to who an account is; no foreign key: it names the account, it holds nothing of theirs."""

    __tablename__ = "principal_changes"

    id: Mapped[IdPk]
    account_id: Mapped[int | None] = mapped_column(BigId)  # None: every account
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


def changes_since(connection: Connection, since: datetime) -> list[tuple[int | None, datetime]]:
    """(account id, changed_at) of the changes stamped after `since`."""
    table = PrincipalChange.__table__
    return [tuple(row) for row in connection.execute(
        select(table.c.account_id, table.c.changed_at).where(table.c.changed_at > since))]


def _account_of(obj: object) -> set[int | None]:
    if isinstance(obj, User):
        return {obj.id}
    history = get_history(obj, "user_id")  # a moved row concerns its old owner and its new one
    return {*history.unchanged, *history.added, *history.deleted} - {None} or {getattr(obj, "user_id", None)}


def _changed(obj: object) -> bool:
    return any(get_history(obj, name).has_changes() for name in WATCHED[type(obj)])


def _record(session: Session, accounts: set[int | None]) -> None:
    if not accounts:
        return
    PRINCIPALS.forget(accounts)
    session.info.setdefault(_PENDING, set()).update(accounts)
    session.add_all(PrincipalChange(account_id=account_id) for account_id in accounts)


def record_change(session: Session, accounts: set[int | None]) -> None:
    """Record a change the ORM hooks cannot see: one to who a token of another issuer is (an app's token,
    accounts.tokens.foreign, remembered under its account): these accounts' entries are forgotten everywhere."""
    _record(session, accounts)


@event.listens_for(Session, "before_flush")
def _on_flush(session: Session, _context, _instances) -> None:
    accounts: set[int | None] = set()
    for obj in session.new:
        if isinstance(obj, StaffMembership):  # a new user or a new login changes nobody
            accounts |= _account_of(obj)
    for obj in session.dirty:
        if type(obj) in WATCHED and _changed(obj):
            accounts |= _account_of(obj)
    for obj in session.deleted:
        if type(obj) in WATCHED:
            accounts |= _account_of(obj)
    _record(session, accounts)


@event.listens_for(Session, "do_orm_execute")
def _on_bulk(state) -> None:
    if (state.is_update or state.is_delete) and getattr(state.statement, "table", None) in _TABLES:
        _record(state.session, {EVERYONE})


@event.listens_for(Session, "after_commit")
def _on_commit(session: Session) -> None:
    accounts = session.info.pop(_PENDING, None)
    if accounts:
        PRINCIPALS.forget(accounts)  # a lookup that read the old state meanwhile is not stored (its generation)


@event.listens_for(Session, "after_rollback")
def _on_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)  # nothing changed; what was forgotten is read again, no harm
