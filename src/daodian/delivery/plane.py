"""Lat/lng (WGS-84) to metres on a local plane and back, for the dispatch engine, which thinks in metres.

An equirectangular projection around a reference point: within a city (tens of km) its distances are within
a fraction of a percent of the great-circle distance, far below the noise of straight-line travel times.
"""

import math
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class LocalPlane:
    lat0: float
    lng0: float

    def to_xy(self, lat: float, lng: float) -> tuple[float, float]:
        x = math.radians(lng - self.lng0) * EARTH_RADIUS_M * math.cos(math.radians(self.lat0))
        y = math.radians(lat - self.lat0) * EARTH_RADIUS_M
        return x, y

    def to_latlng(self, x: float, y: float) -> tuple[float, float]:
        lat = self.lat0 + math.degrees(y / EARTH_RADIUS_M)
        lng = self.lng0 + math.degrees(x / (EARTH_RADIUS_M * math.cos(math.radians(self.lat0))))
        return lat, lng


def around(points: list[tuple[float, float]]) -> LocalPlane:
    """A plane centred on the mean of the points (the city's deliveries and couriers of one cycle)."""
    if not points:
        return LocalPlane(0.0, 0.0)
    return LocalPlane(sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))
