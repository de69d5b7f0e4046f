"""Request bodies accept exactly what the published OpenAPI schema describes.

FastAPI validates bodies in Pydantic's lax Python mode, which would take `true` for 1, "12" for 12
and 0 for 1970-01-01 — input the schema itself calls invalid. Scalars in request bodies therefore
are JSON-exact: integers are `JsonInt` (kit.ids.EntityId and kit.money.Fen are built the same way),
dates `IsoDate`, booleans and decimals pydantic's StrictBool / StrictFloat. And every request body
derives from `InputModel`, which refuses NUL characters anywhere in its text: PostgreSQL cannot
store them while SQLite would, so the two backends would otherwise answer the same request
differently (a 500 on one of them).
"""

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, GetJsonSchemaHandler, field_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

NUL_MESSAGE = "text must not contain NUL (\\u0000) characters"
# For free-text query and path parameters, which no model validates: documented and enforced by FastAPI.
NO_NUL_PATTERN = r"^[^\x00]*$"
# "Not blank": at least one character that is not white space. Plain `\S` means different things to
# Pydantic's Rust regex (U+0085 is space) and to the ECMA regex clients read the schema with (U+FEFF
# is space), so a name of just "\u0085" was valid by the schema yet refused; this class agrees in both.
NOT_BLANK_PATTERN = r"[^\s\u0085\ufeff]"


def has_nul(value: Any) -> bool:
    """Whether a JSON-shaped value holds a NUL character in any string, key or nested item."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


# Pydantic cannot push bounds given outside a validator (`Annotated[JsonInt, Field(ge=1)]`) into the
# integer schema; it enforces them all the same but writes them into the JSON Schema under their
# Python names. InputModel renames them, so the published schema states the bounds it enforces.
_BOUND_KEYWORDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum",
                   "multiple_of": "multipleOf"}


def _publish_bounds(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _publish_bounds(item)
    elif isinstance(node, dict):
        if node.get("type") in ("integer", "number"):
            for python_name, json_name in _BOUND_KEYWORDS.items():
                if python_name in node:
                    node[json_name] = node.pop(python_name)
        for value in node.values():
            _publish_bounds(value)


class InputModel(BaseModel):
    """Base of every request body (Create/Update/In schemas)."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        if has_nul(value):
            raise ValueError(NUL_MESSAGE)
        return value

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(core_schema)
        _publish_bounds(handler.resolve_ref_schema(json_schema))
        return json_schema


def _json_number(value: Any) -> Any:
    # JSON Schema's "integer" includes 1.0 (lax int takes it, StrictInt would not) but not true or "1".
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


JsonNumber = BeforeValidator(_json_number)
# An integer in a request body; bound it as usual, `Annotated[JsonInt, Field(ge=1, le=7)]`.
JsonInt = Annotated[int, JsonNumber]


def _date_as_text(value: Any) -> Any:
    # Lax mode reads a number as a Unix timestamp; in JSON a date is an ISO "YYYY-MM-DD" string.
    if isinstance(value, date | str):
        return value
    raise PydanticCustomError("date_type", "Input should be a valid date, written YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_date_as_text)]


# Names and descriptions of what merchants sell (products, SKUs, service items).
NameZh = Annotated[str, Field(min_length=1, max_length=120, pattern=NOT_BLANK_PATTERN)]
NameEn = Annotated[str | None, Field(max_length=120)]
Description = Annotated[str, Field(max_length=4000)]

# An `Integer` column's range (PostgreSQL's int4; SQLite would take more, PostgreSQL would fail with a 500):
# request fields stored in one are bounded by it, so out-of-range input is a 422 on both databases.
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
