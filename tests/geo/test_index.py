"""The spatial index against brute force: radius queries, distances, and changes while serving."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daodian.geo.distance import haversine_m_arrays
from daodian.geo.index import GeoIndex

HANGZHOU = (30.2741, 120.1551)


def brute_force(keys, lat, lng, at, radius_m) -> dict[int, float]:
    d = haversine_m_arrays(at[0], at[1], lat, lng)
    return {int(k): float(x) for k, x in zip(keys, d) if x <= radius_m}


def as_dict(found) -> dict[int, float]:
    keys, dist = found
    assert len(set(keys.tolist())) == len(keys), "a key came back twice"
    return dict(zip(keys.tolist(), dist.tolist()))


def assert_matches(found: dict[int, float], expected: dict[int, float], radius_m: float) -> None:
    # Points within a millimetre of the rim may fall either way (rounding); all others must agree.
    rim = {k for k, d in expected.items() if abs(d - radius_m) < 1e-3}
    assert set(found) - rim - set(expected) == set()
    assert set(expected) - rim - set(found) == set()
    for key in set(found) & set(expected):
        assert found[key] == pytest.approx(expected[key], abs=1e-4)


def city_points(rng, n, center=HANGZHOU, spread_deg=0.1):
    return center[0] + rng.normal(0, spread_deg, n), center[1] + rng.normal(0, spread_deg, n)


def test_radius_queries_match_haversine_brute_force():
    rng = np.random.default_rng(7)
    lat, lng = city_points(rng, 20_000)
    keys = rng.permutation(1_000_000)[:20_000]
    index = GeoIndex(keys, lat, lng)
    assert len(index) == 20_000
    for _ in range(25):
        at = (HANGZHOU[0] + rng.normal(0, 0.1), HANGZHOU[1] + rng.normal(0, 0.1))
        radius = float(rng.choice([50, 500, 3000, 20_000]))
        assert_matches(as_dict(index.query_radius(*at, radius)), brute_force(keys, lat, lng, at, radius), radius)


def test_whole_globe_including_antimeridian_and_poles():
    rng = np.random.default_rng(11)
    n = 5000
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    lng = rng.uniform(-180, 180, n)
    lat[:3], lng[:3] = [89.9999, -90.0, 0.0], [0.0, 12.0, 179.9999]
    keys = np.arange(n)
    index = GeoIndex(keys, lat, lng)
    for at in [(0.0, -179.9999), (90.0, 0.0), (-89.99, 45.0), (10.0, 180.0)]:
        for radius in (1_000.0, 500_000.0, 3_000_000.0):
            assert_matches(as_dict(index.query_radius(*at, radius)), brute_force(keys, lat, lng, at, radius), radius)
    # A radius beyond half the circumference returns everything.
    assert len(index.query_radius(0.0, 0.0, 30_000_000)[0]) == n


def test_empty_index_and_empty_results():
    index = GeoIndex()
    assert len(index) == 0
    keys, dist = index.query_radius(*HANGZHOU, 5000)
    assert keys.size == 0 and dist.size == 0
    index.remove([1, 2])  # absent keys are ignored
    index.upsert([5], [HANGZHOU[0]], [HANGZHOU[1]])
    assert as_dict(index.query_radius(*HANGZHOU, 1)) == {5: 0.0}


def test_duplicate_keys_refused_at_build():
    with pytest.raises(ValueError):
        GeoIndex([1, 1], [0, 1], [0, 1])


def test_move_remove_and_add_before_and_after_merge():
    index = GeoIndex([1, 2, 3], [30.0, 30.0, 30.0], [120.0, 120.001, 120.002], min_merge=2, merge_fraction=0)
    index.upsert([2], [31.0], [121.0])  # moved away: tombstoned in the tree, now in the delta
    assert 2 in index and index.delta_size == 1
    assert set(as_dict(index.query_radius(30.0, 120.0, 1000))) == {1, 3}
    assert set(as_dict(index.query_radius(31.0, 121.0, 10))) == {2}
    index.remove([3])
    assert 3 not in index and len(index) == 2
    index.upsert([4, 4], [30.0, 30.0005], [120.0, 120.0])  # within one batch, the later one wins
    assert as_dict(index.query_radius(30.0005, 120.0, 0.01)) == {4: 0.0}
    index.upsert([5], [30.0], [120.0])  # the delta passes min_merge: merged into a new tree
    assert index.delta_size == 0 and len(index) == 4
    assert set(as_dict(index.query_radius(30.0, 120.0, 100))) == {1, 4, 5}


operations = st.lists(
    st.tuples(st.sampled_from(["upsert", "remove", "merge"]), st.lists(st.integers(0, 40), max_size=8),
              st.integers(0, 2**32 - 1)),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(operations)
def test_any_sequence_of_changes_matches_a_fresh_build(ops):
    """Whatever happens, the index answers like one built from scratch from the current points."""
    rng = np.random.default_rng(3)
    points = {k: (30 + rng.normal(0, 0.02), 120 + rng.normal(0, 0.02)) for k in range(0, 40, 2)}
    index = GeoIndex(list(points), [p[0] for p in points.values()], [p[1] for p in points.values()],
                     min_merge=5, merge_fraction=0.1)
    for op, keys, seed in ops:
        r = np.random.default_rng(seed)
        if op == "upsert":
            moved = {k: (30 + r.normal(0, 0.02), 120 + r.normal(0, 0.02)) for k in keys}
            index.upsert(keys, [moved[k][0] for k in keys], [moved[k][1] for k in keys])
            points.update(moved)
        elif op == "remove":
            index.remove(keys)
            for k in keys:
                points.pop(k, None)
        else:
            index.merge()
        assert len(index) == len(points)
        keys_now = list(points)
        lat = np.array([points[k][0] for k in keys_now])
        lng = np.array([points[k][1] for k in keys_now])
        at = (30 + r.normal(0, 0.02), 120 + r.normal(0, 0.02))
        assert_matches(as_dict(index.query_radius(*at, 2500)), brute_force(keys_now, lat, lng, at, 2500), 2500)
