"""Travel times on the local plane: straight-line metres at the courier speed, rounded up to whole units.

The MDRP evaluator computes ceil(sqrt(dx**2 + dy**2) / meters_per_minute) minutes; with `travel_unit_s` = 60 the
expressions below are the same floating-point operations, so the replay's times agree with it to the minute.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from daodian.dispatch.model import Params, Point


def metres_per_unit(params: Params) -> float:
    return params.speed_m_per_min * params.travel_unit_s / 60


def travel_s(params: Params, origin: Point, destination: Point) -> int:
    """Seconds to drive from `origin` to `destination`, a whole number of travel units."""
    distance = math.sqrt((destination[0] - origin[0]) ** 2 + (destination[1] - origin[1]) ** 2)
    return math.ceil(distance / metres_per_unit(params)) * params.travel_unit_s


def travel_matrix_s(params: Params, origins: NDArray[np.float64], destinations: NDArray[np.float64]
                    ) -> NDArray[np.int64]:
    """`travel_s` from each row (x, y) of `origins` (columns) to each row of `destinations` (rows)."""
    dx = destinations[:, None, 0] - origins[None, :, 0]
    dy = destinations[:, None, 1] - origins[None, :, 1]
    distance = np.sqrt(dx**2 + dy**2)
    return np.ceil(distance / metres_per_unit(params)).astype(np.int64) * params.travel_unit_s
