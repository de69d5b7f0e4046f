"""Great-circle distances on a spherical Earth, plus unit-sphere helpers.

A sphere is accurate to ~0.5 % against the ellipsoid, which is plenty for
"shops within 3 km" style questions and much cheaper than geodesics.
Use WGS-84 coordinates here: mixing in GCJ-02/BD-09 adds hundreds of metres.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

# IUGG mean radius R1 = (2a + b) / 3: minimises the average error of a sphere.
EARTH_RADIUS_M = 6_371_008.8


def _haversine(
    lat1: ArrayLike, lng1: ArrayLike, lat2: ArrayLike, lng2: ArrayLike
) -> NDArray[np.float64]:
    # Haversine stays accurate for short distances, where the law of cosines
    # loses everything to rounding (acos near 1).
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    d_phi = phi2 - phi1
    d_lmb = np.radians(np.subtract(lng2, lng1))
    h = np.sin(d_phi / 2.0) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(d_lmb / 2.0) ** 2
    # Rounding can push h a hair outside [0, 1] near antipodes: clip, no NaN.
    h = np.clip(h, 0.0, 1.0)
    return 2.0 * EARTH_RADIUS_M * np.arctan2(np.sqrt(h), np.sqrt(1.0 - h))


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres between two points (degrees)."""
    return float(_haversine(lat1, lng1, lat2, lng2))


def haversine_m_arrays(
    lat1: ArrayLike, lng1: ArrayLike, lat2: ArrayLike, lng2: ArrayLike
) -> NDArray[np.float64]:
    """Vectorised `haversine_m`; arguments broadcast (e.g. one point vs many)."""
    return np.asarray(_haversine(lat1, lng1, lat2, lng2), dtype=np.float64)


def unit_vectors(lat: ArrayLike, lng: ArrayLike) -> NDArray[np.float64]:
    """Points as (n, 3) xyz on the unit sphere.

    Euclidean distance between these vectors grows monotonically with the
    great-circle distance and has no wrap-around at +-180 deg or the poles,
    so a plain KD-tree over them answers radius queries correctly (convert
    the radius with `chord_for_distance_m`).
    """
    phi = np.radians(np.asarray(lat, dtype=np.float64)).reshape(-1)
    lmb = np.radians(np.asarray(lng, dtype=np.float64)).reshape(-1)
    cos_phi = np.cos(phi)
    return np.column_stack((cos_phi * np.cos(lmb), cos_phi * np.sin(lmb), np.sin(phi)))


def chord_for_distance_m(distance_m: float) -> float:
    """Unit-sphere chord length spanning a great-circle distance: 2 sin(d / 2R).

    This is the KD-tree query radius equivalent to `distance_m` on the ground.
    """
    return float(2.0 * np.sin(distance_m / (2.0 * EARTH_RADIUS_M)))


def distance_m_for_chord(chord: float) -> float:
    """Inverse of `chord_for_distance_m`: great-circle metres for a unit chord."""
    # Clip so a chord a rounding error above the diameter gives pi*R, not NaN.
    return float(2.0 * EARTH_RADIUS_M * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0)))

