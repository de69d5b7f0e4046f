"""Live tracking as server-sent events, for the API and the tracking page alike.

The stream looks for news every couple of seconds in a short read of its own (it never holds a database session
between looks) and sends a `delivery` event whenever what the caller sees changed: status, ETA, the courier's
position. It ends when the delivery is delivered or cancelled, or after a while (EventSource reconnects).
"""

import asyncio
from collections.abc import Callable

from fastapi import Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from daodian.accounts.authz import Principal
from daodian.delivery import deliveries
from daodian.delivery.models import Delivery, DeliveryStatus
from daodian.delivery.reads import read_for
from daodian.delivery.schemas import DeliveryRead
from daodian.kit.db import unit_of_work

POLL_S = 2.0  # positions are kept every few seconds: looking more often would find nothing new
MAX_S = 15 * 60
FINAL = (DeliveryStatus.DELIVERED, DeliveryStatus.CANCELLED)


def events(request: Request, factory: sessionmaker[Session], principal: Principal, order_id: int,
           payload: Callable[[DeliveryRead], str]) -> StreamingResponse:
    """The stream of an order's delivery as `principal` may see it, each event's data made by `payload`. Who may
    not see it gets the 404 now, before the stream starts."""
    with unit_of_work(factory, read_only=True) as session:
        delivery_id = deliveries.of_order(session, principal, order_id).id

    def look() -> tuple[str, str]:
        with unit_of_work(factory, read_only=True) as session:
            read = read_for(session, principal, session.get(Delivery, delivery_id))
            return payload(read), read.status

    async def stream():
        last, waited = None, 0.0
        yield "retry: 3000\n\n"
        while waited < MAX_S and not await request.is_disconnected():
            data, status = await asyncio.to_thread(look)
            if data != last:
                last = data
                yield f"event: delivery\ndata: {data}\n\n"
                if status in FINAL:
                    return
            await asyncio.sleep(POLL_S)
            waited += POLL_S

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
