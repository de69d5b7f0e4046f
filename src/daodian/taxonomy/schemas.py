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


CategoryName = Annotated[str, Field(min_length=1, max_length=64)]


class CategoryCreate(BaseModel):
    """A category an operator adds: a level-1 group (no parent, a code without dots) or a level-2 category
    under a group, whose code is the group's code, a dot and one more part (auto_service.oil_change)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    code: CategoryCode
    name_zh: CategoryName
    name_en: CategoryName
    parent: CategoryCode | None = None


class CategoryRename(BaseModel):
    """New names; the code never changes once published (links, imports and apps refer to it)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name_zh: CategoryName
    name_en: CategoryName
