"""Who is calling, for a crowd: bearer tokens that arrive together are looked up together.

A flash sale brings thousands of different consumers a second (no cache helps: each token is new to
the process), and one read per request in a worker thread cost more in thread hops than in reading.
So lookups waiting in this process are gathered into one indexed read per batch, in one thread hop.
"""

import asyncio
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from daodian.accounts.models import AuthSession, User
from daodian.accounts.tokens.hashing import hash_token
from daodian.kit.clock import utcnow
from daodian.kit.db import read_connection
from daodian.kit.worker_threads import run_sync

BATCH = 256  # tokens per read at most

_LIVE_USER_IDS = (  # built once: building it cost more than running it
    select(AuthSession.token_hash, AuthSession.user_id).join(User, User.id == AuthSession.user_id).where(
        AuthSession.token_hash.in_(bindparam("token_hashes", expanding=True)),
        AuthSession.kind == "bearer",
        AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > bindparam("now"),
        User.is_active.is_(True),
    )
)


class CallerLookups:
    waiting: list[tuple[str, asyncio.Future]]
    reader: asyncio.Task | None  # one per event loop: a batch at a time, in one worker thread

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self.loop: asyncio.AbstractEventLoop | None = None

    async def user_id(self, token: str) -> int | None:
        """The active account behind a live bearer token, or None."""
        loop = asyncio.get_running_loop()
        if loop is not self.loop:  # first use, or a new event loop (a test client's): start afresh there
            self.loop, self.waiting, self.reader = loop, [], None
        future = loop.create_future()
        self.waiting.append((hash_token(token), future))
        if self.reader is None or self.reader.done():
            self.reader = loop.create_task(self._read())
        return await future

    async def _read(self) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting[:BATCH], self.waiting[BATCH:]
            try:
                found = await run_sync(self._lookup, [h for h, _ in batch])
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for token_hash, future in batch:
                if not future.done():
                    future.set_result(found.get(token_hash))

    def _lookup(self, token_hashes: list[str]) -> dict[str, int]:
        with read_connection(self.factory) as connection:
            return live_user_ids(connection, token_hashes)


def live_user_ids(connection: Connection, token_hashes: list[str]) -> dict[str, int]:
    rows = connection.execute(_LIVE_USER_IDS, {"token_hashes": list(set(token_hashes)), "now": utcnow()})
    return dict(rows.all())


def lookups_of(app_state: Any) -> CallerLookups:
    lookups = getattr(app_state, "caller_lookups", None)
    if lookups is None:
        lookups = app_state.caller_lookups = CallerLookups(app_state.session_factory)
    return lookups
