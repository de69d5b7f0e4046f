"""Password guessing is slowed per phone, per client address and per known device, never by locking an owner out.

Each wrong password counts against the phone number tried (whether or not it has an account: the answer
must not tell), the client's address (one password sprayed over many phones) and, from a known device,
that device. Past a few free failures every further one blocks its key for twice as long as the one
before (exponential backoff, capped); a blocked key answers 429 `too_many_attempts` with Retry-After
before the password is even checked, so guessing learns nothing while blocked.

A device that logged in to the account before carries a signed cookie (accounts.known_devices); for it
the phone's and the address's blocks do not apply, so an attacker hammering a phone cannot keep its owner
out. Only the device's own counter applies there (a stolen cookie is no licence to guess).

Counters live in the database (`login_throttles`), so every server process sees the same attempts; each
change is one atomic upsert. Failures are forgotten a day after the last one; a right password clears
the phone's counter, or from a known device that device's (never the address's: one good account must
not launder a spray).
"""

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from daodian.accounts.errors import LoginThrottled
from daodian.accounts.models import LoginThrottle


@dataclass(frozen=True)
class Policy:
    free: int  # failures before the first block
    first_block: timedelta  # the block after the `free`-th failure; each further failure doubles it
    longest_block: timedelta


POLICIES = {
    "phone": Policy(free=5, first_block=timedelta(seconds=30), longest_block=timedelta(hours=1)),
    "address": Policy(free=20, first_block=timedelta(seconds=30), longest_block=timedelta(hours=1)),
    "device": Policy(free=5, first_block=timedelta(seconds=30), longest_block=timedelta(hours=1)),
}
FORGET_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class Attempt:
    """Who is trying: the throttle keys of one login attempt."""

    phone_key: str
    address_key: str | None
    device_key: str | None  # only when the device is known to the account tried

    def applicable_keys(self) -> list[str]:
        """The keys whose blocks apply: a known device answers for itself alone."""
        if self.device_key:
            return [self.device_key]
        return [k for k in (self.phone_key, self.address_key) if k]


def key_of(scope: str, value: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), f"{scope}:{value}".encode(), hashlib.sha256).hexdigest()
    return f"{scope}:{digest[:64]}"


def attempt(*, phone: str, address: str | None, device_id: str | None, secret: str) -> Attempt:
    return Attempt(phone_key=key_of("phone", phone, secret),
                   address_key=key_of("address", address, secret) if address else None,
                   device_key=key_of("device", device_id, secret) if device_id else None)


def check(session: Session, who: Attempt, now: datetime) -> None:
    """Raise LoginThrottled (with the seconds to wait) if any key of the attempt is blocked now."""
    until = session.scalars(select(LoginThrottle.blocked_until).where(
        LoginThrottle.key.in_(who.applicable_keys()), LoginThrottle.blocked_until > now)).all()
    if until:
        wait = max(until) - now
        raise LoginThrottled(retry_after=max(1, math.ceil(wait.total_seconds())))


def record_failure(session: Session, who: Attempt, now: datetime) -> None:
    """Count a wrong password against every key of the attempt (each an atomic upsert)."""
    for key in who.applicable_keys():
        _count(session, key, now)
    session.flush()


def record_success(session: Session, who: Attempt) -> None:
    """The right password clears the counter it answered for: the phone's, or a known device's own
    (an owner logging in from their device does not hand the guesser at their phone fresh tries)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == (who.device_key or who.phone_key)))


def _count(session: Session, key: str, now: datetime) -> None:
    policy = POLICIES[key.split(":", 1)[0]]
    insert = (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert
    stmt = insert(LoginThrottle).values(key=key, failures=1, last_failed_at=now, blocked_until=None)
    # One more failure, or the first again after a quiet day. The upsert locks the row until commit, so
    # two processes never both compute a block from the same count.
    session.execute(stmt.on_conflict_do_update(index_elements=[LoginThrottle.key], set_={
        "failures": case((LoginThrottle.last_failed_at < now - FORGET_AFTER, 1), else_=LoginThrottle.failures + 1),
        "last_failed_at": now}))
    row = session.get(LoginThrottle, key, populate_existing=True)
    if row.failures >= policy.free:
        block = policy.first_block * (2 ** min(row.failures - policy.free, 20))
        row.blocked_until = now + min(block, policy.longest_block)

