"""Who a token is, remembered by this process: the bearer token or session cookie -> principal lookup.

Every authenticated request asked the database who its token is (the live session, the account, its staff
roles: three reads in a worker thread of their own). Here the answer is kept in memory, keyed by the
token's hash, and a request that finds it pays no thread hop and no read.

How long an answer may be kept, and what ends it:
- the session's own expiry: an expired token is refused from memory, as the database would;
- a change to who the account is (logout, staff role added, changed or removed, account deactivated or
  erased, the operator flag) is recorded with the change (accounts.tokens.changes). In the process that
  makes it, the account's entries are forgotten at once, and again when the change commits (a lookup
  that read the old state meanwhile stores nothing: see `generation`);
- other processes learn it from the database: before answering from memory, a process reads the changes
  recorded since its watermark, at most once per POLL_INTERVAL_S, like kit.freshness (re-reading an
  OVERLAP, since a change stamped earlier may commit later). So a change is honoured everywhere within
  about POLL_INTERVAL_S of its commit (if it commits within OVERLAP of being stamped);
- a change the ORM never sees (raw SQL run by hand) is honoured within MAX_AGE_S: no entry is older.
Unknown tokens are not remembered: a token made by another process must be found at once.
"""

import time
from datetime import datetime, timedelta

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, sessionmaker

from daodian.accounts.authz import Principal
from daodian.accounts.models import AuthSession, StaffMembership, StaffRole, User
from daodian.accounts.tokens.changes import changes_since
from daodian.accounts.tokens.foreign import Resolver, resolver_for
from daodian.accounts.tokens.hashing import hash_token
from daodian.accounts.tokens.memory import PRINCIPALS, Key, PrincipalCache
from daodian.kit.clock import utcnow
from daodian.kit.db import read_connection
from daodian.kit.worker_threads import run_sync

POLL_INTERVAL_S = 0.5
OVERLAP = timedelta(seconds=30)


def live_principal(connection: Connection, token_hash: str, kind: str) -> tuple[Principal, datetime] | None:
    """The active account behind a live token of this kind, with its roles, and when the token expires."""
    found = connection.execute(
        select(AuthSession.user_id, AuthSession.expires_at, User.display_name, User.is_operator)
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.token_hash == token_hash, AuthSession.kind == kind, AuthSession.revoked_at.is_(None),
               AuthSession.expires_at > utcnow(), User.is_active.is_(True))).first()
    if found is None:
        return None
    roles = connection.execute(select(StaffMembership.merchant_id, StaffMembership.role)
                               .where(StaffMembership.user_id == found.user_id)).all()
    principal = Principal(user_id=found.user_id, display_name=found.display_name, is_operator=found.is_operator,
                          roles={merchant_id: StaffRole(role) for merchant_id, role in roles})
    return principal, found.expires_at


class _Watermark:
    """Where this process stands in one database's record of changes (accounts.tokens.changes)."""

    def __init__(self) -> None:
        self.seen = utcnow()  # nothing older matters: this process remembered nothing before it started
        self.next_poll = 0.0
        self.polling = False

    def due(self) -> bool:
        return not self.polling and time.monotonic() >= self.next_poll

    def poll(self, connection: Connection, cache: PrincipalCache) -> None:
        rows = changes_since(connection, self.seen - OVERLAP)
        if rows:
            cache.forget({account_id for account_id, _ in rows})
            self.seen = max(self.seen, *(changed_at for _, changed_at in rows))


_watermarks: dict[str, _Watermark] = {}  # per database (its URL): tests and servers may use several


_watermark_of_bind: dict[int, tuple[object, _Watermark]] = {}  # id(bind) -> (bind, its watermark): a few


def _watermark_of(factory: sessionmaker[Session]) -> _Watermark:
    bind = factory.kw["bind"]
    known = _watermark_of_bind.get(id(bind))
    if known is not None and known[0] is bind:  # rendering the URL cost every request more than the lookup
        return known[1]
    url = str(bind.engine.url if isinstance(bind, Connection) else bind.url)
    watermark = _watermarks.get(url)
    if watermark is None:
        watermark = _watermarks[url] = _Watermark()
    if len(_watermark_of_bind) > 64:  # tests make a bind per test: hold on to none of them for long
        _watermark_of_bind.clear()
    _watermark_of_bind[id(bind)] = (bind, watermark)
    return watermark


async def _catch_up(factory: sessionmaker[Session]) -> None:
    """Forget what other processes changed since the last poll, when one is due (one request polls)."""
    watermark = _watermark_of(factory)
    if not watermark.due():
        return
    watermark.polling = True
    try:
        await run_sync(_poll, factory, watermark)
    finally:
        watermark.polling = False
        watermark.next_poll = time.monotonic() + POLL_INTERVAL_S


async def remembered(factory: sessionmaker[Session], token: str, kind: str) -> Principal | None:
    """The principal behind a token as this process remembers it, or None: not known, which does not mean
    not live (accounts.dependencies.api_user_id then asks accounts.tokens.batched)."""
    await _catch_up(factory)
    return PRINCIPALS.get((kind, hash_token(token)))


async def principal_for(factory: sessionmaker[Session], token: str, kind: str) -> Principal | None:
    """The principal behind a live token: from memory when it may be, else read (in a worker thread)."""
    await _catch_up(factory)
    key = (kind, hash_token(token))
    known = PRINCIPALS.get(key)
    if known is not None:
        return known
    generation = PRINCIPALS.generation
    foreign = resolver_for(token) if kind == "bearer" else None  # an app's token (accounts.tokens.foreign)
    found = await run_sync(_lookup, factory, key, foreign)
    if found is None:
        return None
    PRINCIPALS.put(key, *found, generation)
    return found[0]


def _poll(factory: sessionmaker[Session], watermark: _Watermark) -> None:
    with read_connection(factory) as connection:
        watermark.poll(connection, PRINCIPALS)


def _lookup(factory: sessionmaker[Session], key: Key, foreign: Resolver | None = None
            ) -> tuple[Principal, datetime] | None:
    kind, token_hash = key
    with read_connection(factory) as connection:
        if foreign is not None:
            return foreign(connection, token_hash)
        return live_principal(connection, token_hash, kind)

