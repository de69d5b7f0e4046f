"""kit.collector: start-up's objects frozen, the youngest generation collected less eagerly."""

import gc

from daodian.kit import collector


def test_after_startup_the_young_wait_for_the_threshold_and_startup_objects_are_frozen():
    saved = gc.get_threshold()
    try:
        kept_at_startup = [object() for _ in range(3)]  # what start-up made, alive from then on
        gc.unfreeze()
        collector.settle_after_startup()
        assert gc.get_threshold() == (collector.YOUNG_THRESHOLD, saved[1], saved[2])
        assert gc.get_freeze_count() > 0 and kept_at_startup
    finally:
        gc.set_threshold(*saved)
