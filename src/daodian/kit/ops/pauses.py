"""How long this process stops answering, and why: the collector's pauses and the event loop's lateness.

A request's p99 on a busy server is set by the moments the process answers nobody: a garbage collection
(Python stops every thread for it), a stretch of Python that holds the loop, a thread holding the GIL. The
request histograms only show their sum, after the fact. Two histograms say which it was:

- `daodian_gc_pause_seconds{generation}`: each collection's duration (gc.callbacks), by generation. A full
  collection walks every tracked object; in a worker holding a thousand WebSockets that was 60-190 ms.
- `daodian_event_loop_lag_seconds`: how late the loop woke a task that asked to sleep LAG_PERIOD_S, measured
  every LAG_PERIOD_S. A lag of 30 ms means every request ready then waited 30 ms more, whatever the cause.

Both are this process's own (after a fork each worker installs its own), summed across workers by /metrics.
"""

import asyncio
import gc
import time

from prometheus_client import Histogram

PAUSE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
LAG_PERIOD_S = 0.05  # 20 wakes a second: a stall of 50 ms or more cannot hide between two of them

GC_PAUSE = Histogram("daodian_gc_pause_seconds", "Garbage collections, by generation, and how long each stopped "
                     "the process.", ["generation"], buckets=PAUSE_BUCKETS)
LOOP_LAG = Histogram("daodian_event_loop_lag_seconds", "How late the event loop woke a sleeping task.",
                     buckets=PAUSE_BUCKETS)

_BY_GENERATION = [GC_PAUSE.labels(str(generation)) for generation in range(3)]
_started: list[float] = []  # the running collection's start (the collector does not nest)


def _on_collection(phase: str, info: dict) -> None:
    if phase == "start":
        _started[:] = [time.perf_counter()]
    elif _started:
        _BY_GENERATION[info["generation"]].observe(time.perf_counter() - _started.pop())


def watch_collections() -> None:
    """Time every garbage collection of this process from now on (a forked child inherits the hook)."""
    if _on_collection not in gc.callbacks:
        gc.callbacks.append(_on_collection)


async def watch_loop_lag() -> None:
    """Runs as a task for the app's life: each wake's lateness into LOOP_LAG."""
    loop = asyncio.get_running_loop()
    while True:
        asked = loop.time() + LAG_PERIOD_S
        await asyncio.sleep(LAG_PERIOD_S)
        LOOP_LAG.observe(max(0.0, loop.time() - asked))
