"""A server process's request threads (its event loop and kit.worker_threads' threads) share one CPU core.

Only one thread of a process runs Python at a time (the GIL), yet a request hands it over several times:
the loop gives its route to a worker thread, and the worker lets it go around every blocking call of the
database driver (psycopg sends, reads, polls and checks its buffer without it: five times per statement).
With the threads free to run on any core, each of those hand-overs wakes the thread that waits for the GIL
on another core, which mostly finds it taken again and goes back to sleep: wake-ups and cache traffic that
cost more than the work. On PostgreSQL `GET /api/v1/health` took 16 context switches and ~390 µs of the
process's CPU per request (SQLite: 6 and ~240 µs); on one core, 228 µs, and the process answered 1.6 times
as many requests (bench/request_path.py). Threads on one core hand the GIL over only when the holder blocks,
which is what it is for; the database server, the clients and the other processes keep the other cores.

Only threads made by a request thread after `keep_request_threads_on_one_core` share its core (Linux gives a new
thread its maker's CPU set): the periodic jobs and the webhook worker, started before it, keep every core,
and so does what they start (the analytics job's engines). With several server processes (daodian.cli.prefork)
each takes the core of its place among them (`take_place`: the arbiter gives a restarted worker the place of
the one it replaces), so they spread over the cores; a process without a place picks by its process id.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager

_place: int | None = None  # this process's place among its server's workers (daodian.cli.prefork), once given
_all_cores: set[int] | None = None  # what the request threads could run on before they were kept to one core


def take_place(place: int) -> None:
    """In a forked worker: its place among the server's workers (0, 1, ...), so that each takes another core."""
    global _place
    _place = place


def cores() -> list[int]:
    """The cores this thread may run on (fewer than the machine's under a container's or taskset's limit)."""
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def keep_request_threads_on_one_core() -> int | None:
    """Keep the calling thread (the server's event loop), and every thread it makes from now on, on one core;
    the core, or None where there is nothing to choose (one core) or no way to (not Linux)."""
    allowed = cores()  # empty where the platform has no affinity calls
    if len(allowed) < 2:
        return None
    global _all_cores
    core = allowed[(os.getpid() if _place is None else _place) % len(allowed)]
    _all_cores = set(allowed)
    os.sched_setaffinity(0, {core})  # 0: the calling thread only, on Linux
    return core


@contextmanager
def on_every_core() -> Iterator[None]:
    """For a block that starts threads of its own meant to run in parallel (DuckDB's pool, made when a
    connection opens): the calling thread, and so what it starts, gets every core back for the block."""
    kept = cores() if _all_cores is not None else None
    if kept is None or set(kept) == _all_cores:
        yield
        return
    os.sched_setaffinity(0, _all_cores)
    try:
        yield
    finally:
        os.sched_setaffinity(0, kept)
