"""Domain events: what happened in one domain, handled by the domains above it, in the same transaction.

A domain that changes something others care about raises a small frozen dataclass (`OrderPaid`,
`VoucherVerified`, ...) with `publish(session, event)`; the domains that react register handlers for
it in one place (daodian.bootstrap). The raising domain imports none of them, so the layers stay
one-way: orders does not know that loyalty earns points when an order is paid.

Handlers run at once, one after another in the order they were wired, inside the caller's unit of
work: a failing handler fails the whole change (no order paid without its points), and a handler may
refuse the change by raising a domain error (a group-buy voucher before its deal succeeded). Events
raised by a handler are handled the same way, before `publish` returns. Work that must not share the
transaction (webhooks, exports) reads the facts outbox instead (kit.outbox).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Event:
    """Base of every domain event; subclasses are frozen dataclasses named in the past tense."""


E = TypeVar("E", bound=Event)
Handler = Callable[[Session, E], None]

_handlers: dict[type[Event], list[Handler]] = {}
_wired = False


def subscribe(event_type: type[E], handler: Handler[E]) -> None:
    """Run `handler(session, event)` whenever an event of exactly this type is published."""
    handlers = _handlers.setdefault(event_type, [])
    if handler not in handlers:
        handlers.append(handler)


def mark_wired() -> None:
    global _wired
    _wired = True


def publish(session: Session, event: Event) -> None:
    """Hand `event` to its handlers now, in the caller's transaction; their errors propagate."""
    if not _wired:
        # A process that forgot daodian.bootstrap.wire() would silently skip reactions (points, vouchers).
        raise RuntimeError("domain event handlers are not wired: call daodian.bootstrap.wire() at start-up")
    for handler in _handlers.get(type(event), ()):
        handler(session, event)


def handlers_of(event_type: type[Event]) -> list[Handler]:
    """Who reacts to an event type, in order (docs and tests)."""
    return list(_handlers.get(event_type, ()))
