"""Conversions between WGS-84 and the Chinese map datums GCJ-02 and BD-09.

GPS receivers report WGS-84. Maps published in mainland China must use GCJ-02
(the "Mars" obfuscation; AMap/Gaode, Tencent), and Baidu adds its own BD-09
offset on top of GCJ-02. Showing a GPS fix on one of those maps without
converting puts it a few hundred metres off.

The forward transforms are closed-form; the inverses have none and are solved
by fixed-point iteration to 1e-9 degrees, so round trips stay far below 1 cm.
Every formula is written once with numpy ufuncs and runs on whole arrays; the
scalar API is a thin wrapper over the array API.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
Pair = tuple[FloatArray, FloatArray]


class Datum(StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


# GCJ-02 is defined on the Krasovsky 1940 ellipsoid, not on WGS-84's.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0

# A rectangle, NOT the national border: parts of Mongolia, Korea, Japan,
# Vietnam etc. fall inside and get shifted, and Taiwan/HK/Macau are inside too.
# The Chinese map providers use this same box, so matching them matters more
# than geographic truth.
_LNG_MIN, _LNG_MAX = 72.004, 137.8347
_LAT_MIN, _LAT_MAX = 0.8293, 55.8271

# Inverse iterations stop per point once the forward image is within this of
# the target (1e-9 deg is ~0.1 mm). Both transforms are identity plus a small,
# slowly varying offset, so each step gains 2-3 orders of magnitude and points
# converge in 4-6 steps; the cap is only a guard.
_TOL_DEG = 1e-9
_MAX_ITER = 25


def in_china(lat: ArrayLike, lng: ArrayLike) -> bool | NDArray[np.bool_]:
    """Whether GCJ-02/BD-09 apply at the point(s): inside the rough box above.

    Returns a bool for scalar input and a bool array for array input.
    """
    la, ln = np.asarray(lat, dtype=np.float64), np.asarray(lng, dtype=np.float64)
    inside = (ln >= _LNG_MIN) & (ln <= _LNG_MAX) & (la >= _LAT_MIN) & (la <= _LAT_MAX)
    return bool(inside) if inside.ndim == 0 else inside


def _gcj_offset(lat: FloatArray, lng: FloatArray) -> Pair:
    """(GCJ-02 - WGS-84) in degrees at a WGS-84 point: the published algorithm."""
    x, y = lng - 105.0, lat - 35.0
    pi = np.pi
    wave = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    d_lat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
        + wave
        + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    )
    d_lng = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
        + wave
        + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    )
    # The terms above are metres; scale by the Krasovsky meridian and
    # prime-vertical radii of curvature to get degrees.
    rad_lat = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = d_lat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    d_lng = d_lng * 180.0 / (_A / sqrt_magic * np.cos(rad_lat) * pi)
    return d_lat, d_lng


def _wgs_to_gcj(lat: FloatArray, lng: FloatArray) -> Pair:
    d_lat, d_lng = _gcj_offset(lat, lng)
    return lat + d_lat, lng + d_lng


def _gcj_to_bd(lat: FloatArray, lng: FloatArray) -> Pair:
    # Baidu's published formula: polar coordinates around 0/0 nudged by tiny
    # periodic terms, then a fixed shift.
    z = np.sqrt(lng * lng + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lng) + 0.000003 * np.cos(lng * _X_PI)
    return z * np.sin(theta) + 0.006, z * np.cos(theta) + 0.0065


_Step = Callable[[FloatArray, FloatArray], Pair]


def _invert(forward: _Step, lat: FloatArray, lng: FloatArray) -> Pair:
    """Solve forward(w) == (lat, lng) by w <- w - (forward(w) - target).

    Points leave the loop individually once converged, so a point's result
    does not depend on which other points share the batch.
    """
    w_lat, w_lng = lat.copy(), lng.copy()
    active = np.arange(lat.size)
    for _ in range(_MAX_ITER):
        f_lat, f_lng = forward(w_lat[active], w_lng[active])
        r_lat, r_lng = f_lat - lat[active], f_lng - lng[active]
        w_lat[active] -= r_lat
        w_lng[active] -= r_lng
        active = active[(np.abs(r_lat) >= _TOL_DEG) | (np.abs(r_lng) >= _TOL_DEG)]
        if active.size == 0:
            break
    return w_lat, w_lng


# Datums form a chain WGS84 -> GCJ02 -> BD09; _STEPS[i] goes from level i to i+1.
_LEVEL = {Datum.WGS84: 0, Datum.GCJ02: 1, Datum.BD09: 2}
_STEPS: tuple[_Step, ...] = (_wgs_to_gcj, _gcj_to_bd)


def convert_arrays(lat: ArrayLike, lng: ArrayLike, src: Datum | str, dst: Datum | str) -> Pair:
    """Convert broadcastable lat/lng arrays from `src` to `dst` (new arrays).

    Points outside the China box (tested in `src`) are returned unchanged.
    """
    a, b = _LEVEL[Datum(src)], _LEVEL[Datum(dst)]
    la, ln = np.broadcast_arrays(np.asarray(lat, np.float64), np.asarray(lng, np.float64))
    shape = la.shape
    out_lat, out_lng = np.array(la).reshape(-1), np.array(ln).reshape(-1)
    if a != b:
        mask = np.asarray(in_china(out_lat, out_lng))
        p = (out_lat[mask], out_lng[mask])
        if a < b:
            for step in _STEPS[a:b]:
                p = step(*p)
        else:
            for step in reversed(_STEPS[b:a]):
                p = _invert(step, *p)
        out_lat[mask], out_lng[mask] = p
    return out_lat.reshape(shape), out_lng.reshape(shape)


def to_wgs84_arrays(lat: ArrayLike, lng: ArrayLike, datum: Datum | str) -> Pair:
    return convert_arrays(lat, lng, datum, Datum.WGS84)


def from_wgs84_arrays(lat: ArrayLike, lng: ArrayLike, datum: Datum | str) -> Pair:
    return convert_arrays(lat, lng, Datum.WGS84, datum)


def convert(lat: float, lng: float, src: Datum | str, dst: Datum | str) -> tuple[float, float]:
    out_lat, out_lng = convert_arrays(lat, lng, src, dst)
    return float(out_lat), float(out_lng)


def to_wgs84(lat: float, lng: float, datum: Datum | str) -> tuple[float, float]:
    return convert(lat, lng, datum, Datum.WGS84)


def from_wgs84(lat: float, lng: float, datum: Datum | str) -> tuple[float, float]:
    return convert(lat, lng, Datum.WGS84, datum)
