"""What a delivery costs the engine: click-to-door seconds, steeply more past the target and past the maximum."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from daodian.dispatch.model import Params


def click_to_door_cost(params: Params, click_to_door_s: NDArray[np.int64]) -> NDArray[np.float64]:
    """Cost of delivering orders with these click-to-door times (elementwise).

    Every second counts once; beyond the target each second also pays `late_penalty`, and beyond the maximum
    `over_max_penalty`, so the matching breaks the maximum only when no courier can keep it.
    """
    ctd = click_to_door_s.astype(np.float64)
    late = np.maximum(ctd - params.target_click_to_door_s, 0.0)
    over = np.maximum(ctd - params.max_click_to_door_s, 0.0)
    return ctd + params.late_penalty * late + params.over_max_penalty * over
