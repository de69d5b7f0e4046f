"""Object ids are positive 64-bit integers; bounding them keeps absurd input a 422, not a driver overflow."""

from typing import Annotated

from pydantic import Field

MAX_ID = 2**63 - 1

EntityId = Annotated[int, Field(ge=1, le=MAX_ID)]
