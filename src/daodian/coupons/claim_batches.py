"""Claims written in batches: one transaction and one commit for the claims that arrived while the
previous one was being written (group commit).

In a flash sale each claim paid a thread hop, a transaction and a commit of its own, and on SQLite
queued for the one write turn anyway. Here claims wait in this process's queue instead, and a writer
takes up to BATCH of them per transaction, a few statements for all (coupons.claim_sets): no claim is
answered before the commit that holds it. SQLite has one writer per process (its write turn); PostgreSQL
several, whose transactions lock different stock slots and never wait for each other's
(coupons.stock.take_many).
What a batch cannot settle without waiting (all stock locked by other transactions), or a batch whose
transaction failed (PostgreSQL ends a deadlock between two consumers' parallel claims by aborting one),
is claimed again one claim per transaction, the way a single claim always is.
"""

import asyncio
from functools import partial

from fastapi import FastAPI

from daodian.coupons import claim_sets, claims
from daodian.coupons.errors import SoldOut
from daodian.coupons.schemas import CouponRead
from daodian.coupons.stock import StockBusy
from daodian.kit.api.http import in_write_turn
from daodian.kit.ops.metrics import CLAIMS

BATCH = 64  # claims per transaction at most: a batch's last claim waits for all of them
POSTGRESQL_WRITERS = 8  # batches in flight per process; with the caller reads (10), within the pool (20)


class ClaimBatches:
    waiting: list[tuple[int, int, asyncio.Future]]
    writers: set[asyncio.Task]

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.loop: asyncio.AbstractEventLoop | None = None
        self.most_writers = 1 if app.state.settings.is_sqlite else POSTGRESQL_WRITERS

    async def claim(self, consumer_id: int, template_id: int) -> CouponRead:
        """The consumer's coupon, or the refusal a single claim would raise (sold out: from memory)."""
        if template_id in claims.memo_of(self.app.state).sold_out:
            raise SoldOut()
        loop = asyncio.get_running_loop()
        if loop is not self.loop:  # first use, or a new event loop (a test client's): start afresh there
            self.loop, self.waiting, self.writers = loop, [], set()
        future = loop.create_future()
        self.waiting.append((consumer_id, template_id, future))
        # A writer that has finished counts no more from that moment (task.done()), not from its done callback,
        # which runs a loop turn later: a claim queued in between would otherwise wait with no writer to take it.
        self.writers = {writer for writer in self.writers if not writer.done()}
        if len(self.writers) < self.most_writers:
            self.writers.add(loop.create_task(self._write()))
        return await future

    async def _write(self) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting[:BATCH], self.waiting[BATCH:]
            outcomes = await self._claim_batch([(consumer_id, template_id) for consumer_id, template_id, _ in batch])
            for (_, _, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():  # its caller went away
                    continue
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    async def _claim_batch(self, wanted: list[tuple[int, int]]) -> list[CouponRead | Exception]:
        state = self.app.state
        memo = claims.memo_of(state)
        try:
            outcomes: list = await in_write_turn(self.app, partial(claim_sets.claim_many, state.session_factory,
                                                                   wanted, memo))
        except Exception:  # the transaction failed, so none of these claims was made: each on its own
            outcomes = [StockBusy()] * len(wanted)
        for i, outcome in enumerate(outcomes):
            if isinstance(outcome, StockBusy):
                try:
                    outcomes[i] = await in_write_turn(self.app, partial(claims.claim, state.session_factory,
                                                                        *wanted[i], memo))
                except Exception as exc:
                    outcomes[i] = exc
        CLAIMS.inc(sum(not isinstance(outcome, Exception) for outcome in outcomes))  # committed by now
        return outcomes


def batches_of(app: FastAPI) -> ClaimBatches:
    batches = getattr(app.state, "claim_batches", None)
    if batches is None:
        batches = app.state.claim_batches = ClaimBatches(app)
    return batches
