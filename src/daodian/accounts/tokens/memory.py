"""This process's memory of who each token is (accounts.tokens.lookup reads through it).

Entries are keyed by (kind, token hash) and indexed by account, so that a change to an account forgets
all of its tokens (accounts.tokens.changes). An entry lives until its session expires, MAX_AGE_S
passes, or it is forgotten; the least recently stored go first past CAPACITY.
"""

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from daodian.accounts.authz import Principal
from daodian.kit.clock import utcnow

CAPACITY = 50_000  # entries at most, the least recently used go first
MAX_AGE_S = 60.0

Key = tuple[str, str]  # (kind, token hash)


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    expires_at: datetime  # the session's
    stored: float  # time.monotonic()


class PrincipalCache:
    """This process's answers. Used from the event loop and from worker threads (the change hooks)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[Key, _Entry] = OrderedDict()
        self._keys_of: dict[int, set[Key]] = {}
        # Bumped by every forget: a lookup that began before one may have read what was forgotten, so its
        # answer is not stored (`put` compares).
        self.generation = 0

    def get(self, key: Key) -> Principal | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at <= utcnow() or time.monotonic() - entry.stored > MAX_AGE_S:
            self._drop(key)
            return None
        return entry.principal

    def put(self, key: Key, principal: Principal, expires_at: datetime, generation: int) -> None:
        with self._lock:
            if generation != self.generation:
                return
            self._entries[key] = _Entry(principal, expires_at, time.monotonic())
            self._keys_of.setdefault(principal.user_id, set()).add(key)
            while len(self._entries) > CAPACITY:
                self._unlink(*self._entries.popitem(last=False))

    def forget(self, account_ids: set[int | None]) -> None:
        """Forget these accounts' entries; None among them means every account's."""
        with self._lock:
            self.generation += 1
            if None in account_ids:
                self._entries.clear()
                self._keys_of.clear()
                return
            for account_id in account_ids:
                for key in self._keys_of.pop(account_id, ()):
                    self._entries.pop(key, None)

    def _drop(self, key: Key) -> None:
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is not None:
                self._unlink(key, entry)

    def _unlink(self, key: Key, entry: _Entry) -> None:
        keys = self._keys_of.get(entry.principal.user_id)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._keys_of[entry.principal.user_id]


PRINCIPALS = PrincipalCache()
