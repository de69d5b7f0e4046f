from typing import Literal

from pydantic import BaseModel, Field

from daodian.catalog.schemas import ProductRead
from daodian.linkage.schemas import NearbyStore
from daodian.taxonomy.schemas import CategoryRead


class ServiceMatch(CategoryRead):
    matched_by: Literal["text", "link"] = Field(
        description="`text`: the query names this service; `link`: a matched product category links to it.")
    via: CategoryRead | None = Field(None, description="For `link`: the product category carrying the link.")


class ServiceStores(BaseModel):
    service_category: CategoryRead
    items: list[NearbyStore]


class SearchResult(BaseModel):
    query: str
    products: list[ProductRead]
    product_categories: list[CategoryRead]
    service_categories: list[ServiceMatch]
    stores: list[ServiceStores] = Field(description="Nearest stores per matched or linked service; empty without lat/lng.")
