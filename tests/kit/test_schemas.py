"""kit.schemas: request bodies accept exactly what their published JSON Schema says."""

from typing import Annotated

import pytest
from pydantic import Field, ValidationError

from daodian.kit.schemas import NOT_BLANK_PATTERN, InputModel, IsoDate, JsonInt


class Body(InputModel):
    count: Annotated[JsonInt, Field(ge=1, le=7)]
    maybe: Annotated[JsonInt | None, Field(ge=0)] = None
    tags: list[str] = []
    day: IsoDate | None = None
    name: Annotated[str, Field(pattern=NOT_BLANK_PATTERN)] = "x"


def test_bounds_outside_the_validator_are_published_under_their_json_schema_names():
    props = Body.model_json_schema()["properties"]
    assert props["count"]["minimum"] == 1 and props["count"]["maximum"] == 7 and "ge" not in props["count"]
    assert {"type": "integer", "minimum": 0} in props["maybe"]["anyOf"]


@pytest.mark.parametrize("count, ok", [(3, True), (3.0, True), (True, False), ("3", False), (3.5, False), (8, False)])
def test_integers_are_json_integers(count, ok):
    if ok:
        assert Body(count=count).count == 3
    else:
        with pytest.raises(ValidationError):
            Body(count=count)


@pytest.mark.parametrize("data", [{"name": "a\x00"}, {"tags": ["ok", "b\x00d"]}])
def test_nul_characters_are_refused_anywhere_in_a_body(data):
    with pytest.raises(ValidationError, match="NUL"):
        Body.model_validate({"count": 1, **data})


@pytest.mark.parametrize("day, ok", [("2026-10-01", True), (0, False), (1759276800.0, False), ("01/10/2026", False)])
def test_dates_are_iso_text(day, ok):
    if ok:
        assert Body(count=1, day=day).day.isoformat() == day
    else:
        with pytest.raises(ValidationError):
            Body(count=1, day=day)


@pytest.mark.parametrize("name, ok", [("老王", True), ("\u0085a", True), (" ", False), ("\u0085", False),
                                      ("\ufeff", False), ("\u3000", False)])
def test_not_blank_means_the_same_to_every_regex_dialect(name, ok):
    if ok:
        Body(count=1, name=name)
    else:
        with pytest.raises(ValidationError):
            Body(count=1, name=name)
