"""Tests for daodian.geo.distance."""

import math

import numpy as np
import pytest

from daodian.geo.distance import (
    EARTH_RADIUS_M,
    chord_for_distance_m,
    distance_m_for_chord,
    haversine_m,
    haversine_m_arrays,
    unit_vectors,
)

TIANANMEN = (39.9087, 116.3975)
PEOPLES_SQUARE = (31.2304, 121.4737)


def law_of_cosines_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Independent spherical formula (fine at long range) to cross-check haversine."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    d_lng = math.radians(lng2 - lng1)
    c = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(d_lng)
    return EARTH_RADIUS_M * math.acos(max(-1.0, min(1.0, c)))


def test_beijing_shanghai():
    d = haversine_m(*TIANANMEN, *PEOPLES_SQUARE)
    assert d == pytest.approx(law_of_cosines_m(*TIANANMEN, *PEOPLES_SQUARE), rel=1e-9)
    # Commonly quoted straight-line distance is ~1,067 km.
    assert 1_060_000 < d < 1_075_000
    assert haversine_m(*PEOPLES_SQUARE, *TIANANMEN) == pytest.approx(d, rel=1e-12)


def test_zero_distance():
    assert haversine_m(*TIANANMEN, *TIANANMEN) == 0.0


def test_short_distance_is_precise():
    # 0.0001 deg of latitude is 11.1195 m on this sphere; law of cosines would lose digits.
    expected = EARTH_RADIUS_M * math.radians(1e-4)
    assert haversine_m(30.0, 120.0, 30.0001, 120.0) == pytest.approx(expected, rel=1e-6)


ANTIPODES = [
    ((0.0, 0.0), (0.0, 180.0)),
    ((30.0, 120.0), (-30.0, -60.0)),
    ((90.0, 0.0), (-90.0, 0.0)),
]


@pytest.mark.parametrize("p,q", ANTIPODES)
def test_antipodal(p, q):
    assert haversine_m(*p, *q) == pytest.approx(math.pi * EARTH_RADIUS_M, abs=1e-3)


def test_arrays_broadcast_and_match_scalar():
    rng = np.random.default_rng(3)
    lat, lng = rng.uniform(-90, 90, 1000), rng.uniform(-180, 180, 1000)
    d = haversine_m_arrays(TIANANMEN[0], TIANANMEN[1], lat, lng)  # one point vs many
    assert d.shape == (1000,)
    expected = [haversine_m(*TIANANMEN, a, b) for a, b in zip(lat, lng)]
    np.testing.assert_allclose(d, expected, rtol=1e-12)
    assert np.isfinite(d).all() and (d >= 0).all()


def test_unit_vectors():
    v = unit_vectors([0.0, 90.0, 0.0], [0.0, 0.0, 90.0])
    np.testing.assert_allclose(v, [[1, 0, 0], [0, 0, 1], [0, 1, 0]], atol=1e-15)
    assert unit_vectors(30.0, 120.0).shape == (1, 3)


def test_chord_matches_unit_vector_distance():
    # The KD-tree use case: Euclidean distance of unit vectors == chord of the arc.
    v = unit_vectors([TIANANMEN[0], PEOPLES_SQUARE[0]], [TIANANMEN[1], PEOPLES_SQUARE[1]])
    chord = float(np.linalg.norm(v[0] - v[1]))
    d = haversine_m(*TIANANMEN, *PEOPLES_SQUARE)
    assert chord_for_distance_m(d) == pytest.approx(chord, rel=1e-12)
    assert distance_m_for_chord(chord) == pytest.approx(d, rel=1e-9)


@pytest.mark.parametrize("d", [0.0, 1.0, 500.0, 3_000.0, 1e6, 1e7, math.pi * EARTH_RADIUS_M])
def test_chord_distance_inverse(d):
    c = chord_for_distance_m(d)
    assert 0.0 <= c <= 2.0
    assert distance_m_for_chord(c) == pytest.approx(d, rel=1e-9, abs=1e-6)


def test_chord_limits():
    assert chord_for_distance_m(0.0) == 0.0
    assert chord_for_distance_m(math.pi * EARTH_RADIUS_M) == pytest.approx(2.0)
    assert distance_m_for_chord(2.0 + 1e-15) == pytest.approx(math.pi * EARTH_RADIUS_M)
