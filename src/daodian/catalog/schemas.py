from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from daodian.kit.money import Price
from daodian.kit.schemas import Description, InputModel, NameEn, NameZh
from daodian.taxonomy.models import CatalogStatus
from daodian.taxonomy.schemas import CategoryCode, CategoryRead


class SkuCreate(InputModel):
    code: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-]+$")]
    spec_zh: Annotated[str, Field(max_length=120)] = ""
    spec_en: NameEn = None
    price_fen: Price


class SkuUpdate(InputModel):
    spec_zh: Annotated[str | None, Field(max_length=120)] = None
    spec_en: NameEn = None
    price_fen: Price | None = None
    status: CatalogStatus | None = None


class SkuRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    spec_zh: str
    spec_en: str | None
    price_fen: int
    status: CatalogStatus


class ProductCreate(InputModel):
    category: CategoryCode
    name_zh: NameZh
    name_en: NameEn = None
    description: Description = ""
    skus: Annotated[list[SkuCreate], Field(min_length=1, max_length=50)]

    @field_validator("skus")
    @classmethod
    def _distinct_sku_codes(cls, skus: list[SkuCreate]) -> list[SkuCreate]:
        if len({s.code for s in skus}) != len(skus):
            raise ValueError("SKU codes must be distinct within a product")
        return skus


class ProductUpdate(InputModel):
    category: CategoryCode | None = None
    name_zh: NameZh | None = None
    name_en: NameEn = None
    description: Description | None = None
    status: CatalogStatus | None = None


class ProductRead(BaseModel):
    id: int
    merchant_id: int
    category: CategoryRead
    name_zh: str
    name_en: str | None
    description: str
    status: CatalogStatus
    price_from_fen: int | None = Field(description="Lowest active SKU price, in fen.")
    skus: list[SkuRead]


