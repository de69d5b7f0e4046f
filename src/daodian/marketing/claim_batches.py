"""Claims written in batches on SQLite: one transaction and one commit for the claims that arrived
while the previous transaction was being written (group commit).

SQLite writes one transaction at a time whatever we do, so in a flash sale the claims queue for the
write turn; each paid a thread hop and a commit of its own. Here they wait in this process's queue
instead, and the writer takes up to BATCH of them per transaction, each claim in a savepoint of its own
(marketing.claims.claim_many): a refusal undoes only its claim, and no claim is answered before the
commit that holds it. PostgreSQL claims in parallel transactions instead (stock slots lock apart), so
there each claim is its own transaction, and a batch's several slot locks could never deadlock.
"""

import asyncio
from functools import partial

from fastapi import FastAPI

from daodian.kit.http import in_write_turn
from daodian.marketing import claims
from daodian.marketing.schemas import CouponRead

BATCH = 64  # claims per transaction at most: a batch's last claim waits for all of them


class ClaimBatches:
    waiting: list[tuple[int, int, asyncio.Future]]
    writer: asyncio.Task | None

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.loop: asyncio.AbstractEventLoop | None = None

    async def claim(self, consumer_id: int, template_id: int) -> CouponRead:
        loop = asyncio.get_running_loop()
        if loop is not self.loop:  # first use, or a new event loop (a test client's): start afresh there
            self.loop, self.waiting, self.writer = loop, [], None
        future = loop.create_future()
        self.waiting.append((consumer_id, template_id, future))
        if self.writer is None or self.writer.done():
            self.writer = loop.create_task(self._write())
        return await future

    async def _write(self) -> None:
        state = self.app.state
        while self.waiting:
            batch, self.waiting = self.waiting[:BATCH], self.waiting[BATCH:]
            wanted = [(consumer_id, template_id) for consumer_id, template_id, _ in batch]
            try:
                outcomes = await in_write_turn(self.app, partial(claims.claim_many, state.session_factory, wanted,
                                                                 claims.memo_of(state)))
            except Exception as exc:  # the transaction failed: none of these claims was made
                outcomes = [exc] * len(batch)
            for (_, _, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():  # its caller went away
                    continue
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)


def batches_of(app: FastAPI) -> ClaimBatches:
    batches = getattr(app.state, "claim_batches", None)
    if batches is None:
        batches = app.state.claim_batches = ClaimBatches(app)
    return batches
