"""When a failed delivery is tried again: an exponential schedule that keeps trying for about 30 hours, and
when an endpoint that keeps failing is disabled. Injectable, so tests can run days of retries in seconds."""

from dataclasses import dataclass
from datetime import timedelta

# The wait after the n-th failed attempt (n = 1, 2, ...); after the last, the delivery gives up.
# 10 s, 30 s, 2 min, 5 min, 15 min, 30 min, 1 h, 2 h, 4 h, 6 h, 8 h, 8 h: 29.9 hours in all, over 24.
DEFAULT_DELAYS = tuple(timedelta(seconds=s) for s in (10, 30, 120, 300, 900, 1800, 3600, 7200, 14400, 21600,
                                                      28800, 28800))


@dataclass(frozen=True)
class Backoff:
    delays: tuple[timedelta, ...] = DEFAULT_DELAYS
    # An endpoint is disabled when it has failed every attempt for this long, and at least this many times.
    disable_after: timedelta = timedelta(days=3)
    disable_min_failures: int = 20

    def after_failure(self, attempts: int) -> timedelta | None:
        """The wait before the next attempt once `attempts` attempts have failed; None: give up."""
        return self.delays[attempts - 1] if attempts <= len(self.delays) else None

    @property
    def total(self) -> timedelta:
        return sum(self.delays, timedelta())
