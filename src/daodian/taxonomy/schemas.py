from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

CATEGORY_CODE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$"


CategoryCode = Annotated[str, Field(min_length=1, max_length=64, pattern=CATEGORY_CODE_PATTERN, examples=["auto.oil"])]


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name_zh: str
    name_en: str
    level: int


class CategoryNode(CategoryRead):
    children: list["CategoryNode"] = []


class CategoryDetail(CategoryRead):
    parent: CategoryRead | None
    children: list[CategoryRead]
