"""How a server process uses Python's garbage collector: what start-up made is set aside, and the youngest
generation is collected less eagerly than Python's default.

- `gc.freeze()` after start-up: the routes, models and indexes live as long as the process, so they are moved
  out of the collector's sight; a full collection no longer walks them in the middle of requests (every
  route's p99 was ~300 ms on 1M stores, their p50 ~10 ms).
- The first threshold, YOUNG_THRESHOLD instead of Python's 700. The collector counts objects made minus objects
  freed and collects the young when that passes the threshold. A request in flight holds a few hundred
  objects, so with sixteen in flight 700 is passed all the time: the young were collected ~160 times a second
  per worker, and each time the objects of the requests then in flight were promoted. Those promotions are what
  starts a full collection (CPython collects everything once what was promoted since the last one passes a
  quarter of what that one kept), and a full collection walks every long-lived object: in a worker holding a
  thousand couriers' WebSockets (~150 objects each) it stopped the process for ~110 ms, ten times per 10 s
  under a flood of requests, which was that flood's p99 (bench/courier_positions.py). At 10,000 the young are
  collected only when garbage really piles up (a few times a minute there), each such collection walking
  ~10,000 objects (1-30 ms measured on this 2-core VM, longer than a 700-object one: the price of the
  policy), and full collections become rare. Garbage with no cycle is freed when its last
  reference goes, whatever the thresholds; only cyclic garbage waits longer, ~10,000 objects at most.
- The older generations keep Python's thresholds.

kit.ops.pauses times every collection, so /metrics shows whether this still holds.
"""

import gc

YOUNG_THRESHOLD = 10_000


def settle_after_startup() -> None:
    """Call once start-up is done in each serving process (after a fork, in the worker)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
