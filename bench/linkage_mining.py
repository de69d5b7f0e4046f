"""Link mining at scale: 10,000,000 purchase -> consumption pairs inside the window, counted and turned into rules.

    .venv/bin/python bench/linkage_mining.py [--pairs 10000000] [--seed 1]

Generates people with purchases of 30 product categories and consumptions of 40 service categories over
90 days, sized so that the 30-day windowed join yields about --pairs pairs (printed exactly), with a few
planted links; then times `daodian.mining.rules.count` + `rules` and prints seconds and peak memory
(the process's max RSS, and numpy's traced peak). Target: <= 30 s.
"""

import argparse
import resource
import time
import tracemalloc

import numpy as np

from daodian.mining import rules as mining

DAY = 86_400


def events(rng: np.random.Generator, target_pairs: int) -> tuple[mining.Events, mining.Events]:
    # Per person ~6 purchases and ~10 consumptions over 90 days; a 30-day forward window keeps ~1/3 of the
    # 60 combinations (minus edge effects), about 17 pairs per person.
    people = max(1, int(target_pairs / 16.5))
    k = rng.poisson(6, people)
    m = rng.poisson(10, people)
    p_who = np.repeat(np.arange(people, dtype=np.int64), k)
    c_who = np.repeat(np.arange(people, dtype=np.int64), m)
    p_what = rng.integers(0, 30, p_who.size)
    c_what = rng.integers(0, 40, c_who.size)
    p_when = rng.integers(0, 90 * DAY, p_who.size)
    c_when = rng.integers(0, 90 * DAY, c_who.size)
    # Planted: category i's buyers often consume service i (i < 10) soon after.
    first = np.concatenate([[0], np.cumsum(m)[:-1]])
    planted = np.flatnonzero((p_what < 10) & (rng.random(p_who.size) < 0.5))
    slot = first[p_who[planted]]
    has = m[p_who[planted]] > 0
    c_what[slot[has]] = p_what[planted[has]]
    c_when[slot[has]] = np.minimum(p_when[planted[has]] + rng.integers(0, 20 * DAY, has.sum()), 90 * DAY - 1)
    return mining.Events(p_who, p_what, p_when), mining.Events(c_who, c_what, c_when)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    purchases, consumptions = events(np.random.default_rng(args.seed), args.pairs)
    print(f"{len(purchases):,} purchases, {len(consumptions):,} consumptions, "
          f"{np.unique(purchases.who).size:,} people")
    tracemalloc.start()
    started = time.perf_counter()
    counts = mining.count(purchases, consumptions, window=30 * DAY, n_antecedents=30, n_consequents=40)
    rules = mining.rules(counts, mining.Thresholds(min_support=0.001, min_confidence=0.05, min_lift=1.5))
    seconds = time.perf_counter() - started
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{counts.candidate_pairs:,} purchase->consumption pairs in the window; "
          f"{int(counts.pairs.sum()):,} distinct (person, product category, service category)")
    print(f"mining: {seconds:.2f} s; peak traced allocations {traced / 2**20:.0f} MiB; max RSS {rss_mb:.0f} MiB "
          f"(inputs included); target <= 30 s")
    print(f"{len(rules)} rules with lift >= 1.5; top: "
          + ", ".join(f"{r.antecedent}->{r.consequent} (lift {r.lift:.2f})" for r in rules.head(10).itertuples()))


if __name__ == "__main__":
    main()
