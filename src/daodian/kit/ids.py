"""Object ids are positive integers below 2**53.

The bound keeps absurd input a 422 rather than a driver overflow, and it is exact both as a JSON
number read into a double (JavaScript clients, JSON Schema validators comparing as floats) and in a
64-bit column: with 2**63 - 1 as the documented maximum, 9223372036854775999 compares as "equal" in
floating point and is wrongly called valid.
"""

from typing import Annotated

from pydantic import Field

from daodian.kit.schemas import JsonNumber

MAX_ID = 2**53 - 1

# JSON-exact: in a body `true` or "12" is not an id (see kit.schemas). Bounds before the validator, so
# the JSON Schema states them wherever the type is used, not only inside an InputModel.
EntityId = Annotated[int, Field(ge=1, le=MAX_ID), JsonNumber]
