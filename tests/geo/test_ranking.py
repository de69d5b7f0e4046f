"""Ranking: Bayesian rating, explainable parts, and the promotion cap."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daodian.geo import ranking


def test_one_perfect_review_ranks_below_three_hundred_at_4_8():
    # Even when those two are the only rated stores (a platform mean of 4.9), the cap on the prior
    # keeps the single review from winning.
    prior = ranking.prior_mean([5.0, 4.8], [1, 300])
    assert prior == ranking.PRIOR_MEAN_CAP
    scores = ranking.score([500, 500], [5.0, 4.8], [1, 300], [0, 0], [1, 1], prior)
    assert scores.score[1] > scores.score[0]
    order = ranking.organic_order(scores.score, [500, 500], [1, 2])
    assert order.tolist() == [1, 0]


@pytest.mark.parametrize("platform_mean", [3.0, 3.8, 4.2, 4.6])
def test_bayesian_rating_against_realistic_platforms(platform_mean):
    prior = ranking.prior_mean([platform_mean] * 10, [50] * 10)
    one, many = ranking.bayesian_rating([5.0, 4.8], [1, 300], prior)
    assert many > one
    assert ranking.bayesian_rating([4.0], [0], prior)[0] == pytest.approx(prior)  # unrated = the prior


def test_prior_without_ratings_and_negative_inputs():
    assert ranking.prior_mean([], []) == ranking.PRIOR_MEAN_DEFAULT
    assert ranking.prior_mean([0.0, 3.0], [0, 10]) == 3.0  # unrated stores do not drag the mean
    s = ranking.score([0], [0.0], [-5], [-3], [0], 3.5)
    assert s.normalized["popularity"][0] == 0.0 and s.raw["rating"][0] == 3.5


def test_parts_explain_the_score_exactly():
    rng = np.random.default_rng(5)
    n = 500
    scores = ranking.score(rng.uniform(0, 50_000, n), rng.uniform(1, 5, n), rng.integers(0, 2000, n),
                           rng.integers(0, 10_000, n), rng.integers(0, 2, n), 4.0)
    for i in range(n):
        parts = scores.parts(i)
        assert set(parts) == set(ranking.WEIGHTS)
        for name, part in parts.items():
            assert 0.0 <= part["normalized"] <= 1.0
            assert part["weight"] == ranking.WEIGHTS[name]
            assert part["points"] == pytest.approx(part["weight"] * part["normalized"], abs=1e-6)
        assert scores.score[i] == pytest.approx(sum(p["points"] for p in parts.values()), abs=1e-9)
        assert 0.0 <= scores.score[i] <= 1.0


def test_each_part_moves_the_score_the_right_way():
    base = dict(distance_m=[800, 800], rating_avg=[4.5, 4.5], rating_count=[100, 100], popularity=[50, 50],
                open_now=[1, 1])
    for name, better, worse in [("distance_m", 200, 2000), ("rating_avg", 4.9, 3.0), ("rating_count", 500, 10),
                                ("popularity", 900, 3), ("open_now", 1, 0)]:
        args = dict(base, **{name: [better, worse]})
        s = ranking.score(*args.values(), prior=4.0)
        assert s.score[0] > s.score[1], name
    half = ranking.score([ranking.DISTANCE_HALF_M], [3], [0], [0], [0], 3.0)
    assert half.normalized["distance"][0] == pytest.approx(0.5)
    full = ranking.score([0], [3], [0], [ranking.POPULARITY_FULL * 5], [0], 3.0)
    assert full.normalized["popularity"][0] == 1.0


def test_organic_order_ties_and_partial_sort():
    scores = np.array([0.5, 0.9, 0.5, 0.5, 0.1])
    dist = np.array([100, 10, 50, 50, 1])
    ids = np.array([10, 20, 40, 30, 50])
    assert ranking.organic_order(scores, dist, ids).tolist() == [1, 3, 2, 0, 4]
    assert ranking.organic_order(scores, dist, ids, limit=3).tolist() == [1, 3, 2]
    assert ranking.organic_order(scores, dist, ids, limit=10).tolist() == [1, 3, 2, 0, 4]


def test_promoted_store_takes_the_third_slot_labelled():
    organic = list(range(10))
    placed = ranking.place_promotions(organic, [8], 6)
    assert placed == [(0, False), (1, False), (8, True), (2, False), (3, False), (4, False)]


def test_a_promoted_store_that_earned_its_place_is_not_labelled():
    placed = ranking.place_promotions([0, 1, 2, 3], [2], 4)
    assert placed == [(0, False), (1, False), (2, False), (3, False)]
    placed = ranking.place_promotions([0, 1, 2, 3], [1, 3], 4)  # 1 earned 2nd; 3 lifted to the 3rd slot
    assert placed == [(0, False), (1, False), (3, True), (2, False)]


@st.composite
def candidate_sets(draw):
    n = draw(st.integers(0, 60))
    scores = draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))
    promoted = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    limit = draw(st.integers(1, 50))
    return np.array(scores, dtype=float), np.array(promoted, dtype=bool), limit


@settings(max_examples=300, deadline=None)
@given(candidate_sets())
def test_promotion_cap_holds_for_any_mix(case):
    scores, is_promoted, limit = case
    n = len(scores)
    ids = np.arange(n)
    dist = np.zeros(n)
    organic = ranking.organic_order(scores, dist, ids, limit).tolist()
    full = ranking.organic_order(scores, dist, ids).tolist()
    promoted = [i for i in full if is_promoted[i]]
    placed = ranking.place_promotions(organic, promoted, limit)

    shown = [i for i, _ in placed]
    assert len(shown) == len(set(shown)) == min(limit, n)
    labels = [lifted for _, lifted in placed]
    for start in range(len(labels)):
        assert sum(labels[start:start + 5]) <= 1, "more than one promoted result in five consecutive results"
    for i, lifted in placed:
        if lifted:
            assert is_promoted[i]
    # Unlabelled results keep the organic order and are the best of the rest.
    lifted_ids = {i for i, lifted in placed if lifted}
    unlabelled = [i for i, lifted in placed if not lifted]
    assert unlabelled == [i for i in full if i not in lifted_ids][:len(unlabelled)]
    # Lifted results only ever move up.
    for position, (i, lifted) in enumerate(placed):
        if lifted:
            assert full.index(i) > position
