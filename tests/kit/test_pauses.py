"""kit.ops.pauses: the collector's pauses and the event loop's lateness, as /metrics shows them."""

import asyncio
import gc
import time

from daodian.kit.ops import pauses


def _count(histogram, **labels) -> float:
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for m in histogram.collect() for s in m.samples}
    key = tuple(sorted(labels.items()))
    return sum(value for (name, found), value in samples.items()
               if name.endswith("_count") and all(item in found for item in key))


def test_a_full_collection_is_timed_under_its_generation():
    pauses.watch_collections()
    pauses.watch_collections()  # once only: a second hook would count each collection twice
    before = _count(pauses.GC_PAUSE, generation="2")
    gc.collect()
    assert _count(pauses.GC_PAUSE, generation="2") == before + 1


def test_a_loop_held_by_blocking_work_is_seen_late():
    async def scenario() -> None:
        watcher = asyncio.get_running_loop().create_task(pauses.watch_loop_lag())
        await asyncio.sleep(0.01)  # the watcher is asleep now
        time.sleep(0.2)  # what a stretch of Python holding the loop does to every task
        await asyncio.sleep(0.1)
        watcher.cancel()

    late = pauses.LOOP_LAG.collect()[0]
    over_100ms_before = _late_over(late, 0.1)
    asyncio.run(scenario())
    assert _late_over(pauses.LOOP_LAG.collect()[0], 0.1) == over_100ms_before + 1


def _late_over(family, seconds: float) -> float:
    buckets = {float(s.labels["le"]): s.value for s in family.samples if s.name.endswith("_bucket")}
    return buckets[float("inf")] - buckets[seconds]
