from typing import Annotated

from pydantic import BaseModel, Field, StrictBool

from daodian.kit.ids import EntityId
from daodian.kit.money import Price
from daodian.kit.schemas import Description, InputModel, JsonInt, NameEn, NameZh
from daodian.taxonomy.models import CatalogStatus
from daodian.taxonomy.schemas import CategoryCode, CategoryRead


class ServiceItemCreate(InputModel):
    service_category: CategoryCode
    name_zh: NameZh
    name_en: NameEn = None
    description: Description = ""
    price_fen: Price
    duration_min: Annotated[JsonInt, Field(ge=1, le=24 * 60, description="How long the service takes, in minutes.")]
    at_home: StrictBool = Field(False, description="上门服务: a provider goes to the consumer's address (who then "
                                "gives it with its location when ordering), leaving from the nearest store offering it.")
    store_ids: Annotated[list[EntityId], Field(max_length=1000, description="Stores of the merchant that offer it.")] = []


class ServiceItemUpdate(InputModel):
    service_category: CategoryCode | None = None
    name_zh: NameZh | None = None
    name_en: NameEn = None
    description: Description | None = None
    price_fen: Price | None = None
    duration_min: Annotated[JsonInt | None, Field(ge=1, le=24 * 60)] = None
    status: CatalogStatus | None = None
    at_home: StrictBool | None = None
    store_ids: Annotated[list[EntityId] | None, Field(max_length=1000)] = None


class ServiceItemRead(BaseModel):
    id: int
    merchant_id: int
    category: CategoryRead
    name_zh: str
    name_en: str | None
    description: str
    price_fen: int
    duration_min: int
    status: CatalogStatus
    at_home: bool = Field(False, description="上门服务: done at the consumer's address by a provider.")
    store_ids: list[int]
