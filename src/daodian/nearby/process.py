"""This process's nearby index: opened at start-up, opened again for a test's other session factory.

The index lives on the app's state (one per process); `index_for` is how a request gets it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from daodian.kit.db import unit_of_work
from daodian.nearby.index import StoreIndex, open_index

log = logging.getLogger("daodian.nearby")
_build_lock = threading.Lock()


def index_for(state: Any, session: Session) -> StoreIndex:
    """The app's index, (re)built from `session` if missing or built from another session factory."""
    factory = state.session_factory
    index = getattr(state, "nearby", None)
    if index is None or index.source is not factory:
        with _build_lock:
            index = getattr(state, "nearby", None)
            if index is None or index.source is not factory:
                index = state.nearby = open_index(session, factory)
    return index


def _return_freed_arrays_to_the_system() -> None:
    """Keep glibc's mmap threshold where it starts. By default it rises to the size of the largest block
    freed (up to 32 MB), after which numpy's temporaries come from per-thread heaps that keep their freed
    memory: one worker of a server grew by 200 MB so after a burst of concurrent requests. Fixed, every
    array above 128 KB is mapped on its own and handed back when freed. (Process-wide: set here because
    the nearby index is what makes such arrays; harmless elsewhere, and a no-op off glibc.)
    And at most _ARENAS heaps for small blocks: by default glibc gives threads up to eight per core, each
    keeping its freed memory, and a server answers from a pool of threads (as MALLOC_ARENA_MAX would;
    set before the pool starts, so its threads share these)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 128 * 1024)
        libc.mallopt(_M_ARENA_MAX, _ARENAS)
    except (OSError, AttributeError):
        pass


_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8  # glibc's mallopt parameters
_ARENAS = 2


def warm_up(state: Any) -> None:
    """Open the index at start-up; on failure (e.g. an unmigrated database) the first request retries."""
    _return_freed_arrays_to_the_system()
    factory: sessionmaker[Session] = state.session_factory
    try:
        with unit_of_work(factory, read_only=True) as session:
            state.nearby = open_index(session, factory)
        state.nearby.compile()
        log.info("nearby index: %d stores%s", len(state.nearby),
                 f" (snapshot {state.nearby.snapshot})" if state.nearby.snapshot else "")
    except SQLAlchemyError:
        log.exception("nearby index not built at start-up; the first nearby request will retry")
