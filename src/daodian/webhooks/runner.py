"""The delivery runner: fan new facts out into deliveries, claim the due ones, send them concurrently
(signed, with a timeout, never following redirects, on kept-alive connections: webhooks.http), record the
outcomes, repeat while there is work.

It runs inside every server process (webhooks.worker, started in the app's lifespan) and from the CLI
(`daodian webhooks deliver`); claims make it safe with any number of them. The clock and the backoff are
injectable, so a test can let days of retries pass without waiting.
"""

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.webhooks import claims, fanout
from daodian.webhooks.backoff import Backoff
from daodian.webhooks.claims import Claimed, Outcome
from daodian.webhooks.http import Pool, RequestFailed
from daodian.webhooks.signing import EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, signature_header

USER_AGENT = "daodian-webhooks/1"
IDLE_SYNC_SECONDS = 60  # with no endpoint anywhere, how often the outbox cursor skips ahead


def body_bytes(body: dict) -> bytes:
    """The exact bytes sent and signed (compact JSON, UTF-8)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass
class Stats:
    facts: int = 0
    sent: int = 0
    succeeded: int = 0
    failed: int = 0


@dataclass
class Runner:
    factory: sessionmaker[Session]
    clock: Callable[[], datetime] = utcnow
    backoff: Backoff = field(default_factory=Backoff)
    timeout: float = 10.0
    lease: timedelta = timedelta(seconds=60)
    # Requests in flight at once, each on a kept-alive connection of its own (webhooks.http: also the
    # connector's limit per site).
    concurrency: int = 16
    # Deliveries claimed at once: four rounds of requests, so that even when every one of them times out the
    # batch ends well within its lease (4 x 10 s < 60 s) and no other process sends them meanwhile.
    batch: int = 64
    _pool: Pool | None = None
    _synced_at: float = float("-inf")
    _slots: asyncio.Semaphore | None = None

    async def __aenter__(self) -> "Runner":
        self._pool = Pool(USER_AGENT, keep_per_origin=self.concurrency)
        self._slots = asyncio.Semaphore(self.concurrency)
        return self

    async def __aexit__(self, *exc) -> None:
        await self._pool.aclose()

    async def tick(self) -> Stats:
        """One pass: read new facts, then send every due delivery, a batch at a time, until none is due."""
        idle_sync = time.monotonic() - self._synced_at > IDLE_SYNC_SECONDS
        stats = Stats(facts=fanout.fan_out(self.factory, clock=self.clock, skip_when_idle=idle_sync))
        if idle_sync:
            self._synced_at = time.monotonic()
        while True:
            with unit_of_work(self.factory) as session:
                batch = claims.claim(session, self.clock(), self.lease, self.batch)
            if not batch:
                return stats
            outcomes = await asyncio.gather(*(self._send(c) for c in batch))
            with unit_of_work(self.factory) as session:
                claims.record(session, outcomes, self.clock(), self.backoff)
            stats.sent += len(outcomes)
            stats.succeeded += sum(o.succeeded for o in outcomes)
            stats.failed += sum(not o.succeeded for o in outcomes)

    async def _send(self, claimed: Claimed) -> Outcome:
        async with self._slots:
            return await self._post(claimed)

    async def _post(self, claimed: Claimed) -> Outcome:
        body = body_bytes(claimed.body)
        # Signed when sent, with the wall clock: the time is the receiver's replay guard, not our schedule.
        headers = [("Content-Type", "application/json"), (EVENT_ID_HEADER, claimed.event_id),
                   (EVENT_TYPE_HEADER, claimed.event_type),
                   (SIGNATURE_HEADER, signature_header(claimed.secrets, int(time.time()), body))]
        attempted_at, started = self.clock(), time.perf_counter()
        try:
            code = await self._pool.post(claimed.url, headers, body, self.timeout)
            error = None if 200 <= code < 300 else f"HTTP {code}"
        except RequestFailed as exc:  # refused, reset, timed out, bad URL: no answer
            code, error = None, str(exc)[:200]
        latency = round((time.perf_counter() - started) * 1000)
        return Outcome(claimed, attempted_at, error is None, code, latency, error)


def deliver(factory: sessionmaker[Session], **options) -> Stats:
    """One pass of the runner in a fresh event loop (the CLI)."""
    async def once() -> Stats:
        async with Runner(factory, **options) as runner:
            return await runner.tick()
    return asyncio.run(once())
