from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from daodian.kit.ids import EntityId
from daodian.kit.schemas import InputModel, JsonInt
from daodian.merchants.schemas import Location
from daodian.orders.models import Fulfilment, OrderKind, OrderStatus

Quantity = Annotated[JsonInt, Field(ge=1, le=99)]


class OrderLineIn(InputModel):
    """A SKU or a service item and how many. There is no price field: the server prices every line."""

    model_config = ConfigDict(extra="forbid")

    sku_id: EntityId | None = None
    service_item_id: EntityId | None = None
    quantity: Quantity = 1

    @model_validator(mode="after")
    def _exactly_one_item(self) -> "OrderLineIn":
        if (self.sku_id is None) == (self.service_item_id is None):
            raise ValueError("give exactly one of sku_id and service_item_id")
        return self


class DeliveryAddress(InputModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"\S")]
    phone: Annotated[str, Field(min_length=5, max_length=20, pattern=r"^\+?[0-9 \-]+$")]
    address: Annotated[str, Field(min_length=1, max_length=255, pattern=r"\S")]
    location: Location | None = Field(
        None, description="Where the door is, with its datum: needed for delivery by courier (daodian.delivery).")


class OrderCreate(InputModel):
    """Unknown fields (a `price_fen`, a `total_fen`) are refused: prices are the server's business."""

    model_config = ConfigDict(extra="forbid")

    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=50)]
    fulfilment: Literal["delivery", "pickup"] | None = Field(
        None, description="Product orders: `delivery` (with `delivery_address`) or `pickup` (with `store_id`).")
    store_id: EntityId | None = Field(
        None, description="Pickup store, or for service orders the store the consumer means to visit.")
    delivery_address: DeliveryAddress | None = Field(
        None, description="Product orders for delivery: the door. Service orders of at-home items (上门服务): the "
        "service address, with its `location` and datum (the provider is sent there).")
    note: Annotated[str, Field(max_length=200)] = ""
    coupon_ids: Annotated[list[EntityId], Field(max_length=5, description="Coupons to use (at most one of the "
                                                "merchant's and one of the platform's combine).")] = []
    points: Annotated[JsonInt, Field(ge=0, le=100_000_000, description="Points to spend; 100 points = 1 元.")] = 0

    @model_validator(mode="after")
    def _one_kind_and_its_fulfilment(self) -> "OrderCreate":
        # Rules on the body's own shape fail as validation errors; rules needing the database have codes.
        products = any(line.sku_id is not None for line in self.lines)
        if products and any(line.service_item_id is not None for line in self.lines):
            raise ValueError("products and service items go in separate orders")
        if not products:
            if self.fulfilment is not None:
                raise ValueError("service orders are used at a store, or at home for at-home items (a delivery_address "
                                 "only): leave out fulfilment")
        elif self.fulfilment == "pickup":
            if self.store_id is None or self.delivery_address is not None:
                raise ValueError("pickup needs store_id and no delivery_address")
        elif self.fulfilment == "delivery":
            if self.delivery_address is None or self.store_id is not None:
                raise ValueError("delivery needs delivery_address and no store_id")
        else:
            raise ValueError("product orders need fulfilment: delivery (with delivery_address) or pickup (with store_id)")
        return self


class OrderLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sku_id: int | None
    service_item_id: int | None
    name: str
    unit_price_fen: int
    quantity: int
    amount_fen: int
    discount_fen: int = Field(0, description="This line's share of the coupons' discount and the points.")
    sessions: int


class OrderRead(BaseModel):
    id: int
    consumer_id: int
    merchant_id: int
    kind: OrderKind
    status: OrderStatus
    fulfilment: Fulfilment
    store_id: int | None
    delivery_address: dict | None
    note: str
    total_fen: int = Field(description="What is charged: the lines, less coupons and points.")
    discount_fen: int = Field(0, description="Taken off by coupons, in fen.")
    points_spent: int = Field(0, description="Points spent on this order (1 point = 1 fen off).")
    paid_fen: int
    refunded_fen: int = Field(description="Refunded or being refunded, in fen.")
    expires_at: datetime = Field(description="Unpaid orders expire at this time.")
    created_at: datetime
    paid_at: datetime | None
    closed_at: datetime | None
    lines: list[OrderLineRead]


class StockIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    stock: Annotated[JsonInt | None, Field(ge=0, le=10_000_000, description="Units on hand; null = unlimited.")]


class SessionsIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    sessions: Annotated[JsonInt, Field(ge=1, le=100, description="Uses per voucher, e.g. 5 for a five-session card.")]


class StockRead(BaseModel):
    sku_id: int
    stock: int | None = Field(description="Units on hand; null = unlimited.")
