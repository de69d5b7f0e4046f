"""The events an app may subscribe to: which fact each comes from, which object it is about (deliveries for one
object keep their order), the scope the installation must hold, and the JSON Schema of its `data`.

Event names are the public contract; fact kinds are internal (kit.facts) and may be renamed behind this map.
Schemas list what every event carries; more properties may be added later (additionalProperties stays true).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

INT = {"type": "integer"}
INT_OR_NULL = {"type": ["integer", "null"]}
STR = {"type": "string"}
STR_OR_NULL = {"type": ["string", "null"]}
FEN = {"type": "integer", "description": "an amount in fen (1/100 CNY)"}


def _object(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "object", "required": sorted(required), "properties": {**required, **(optional or {})},
            "additionalProperties": True}


LINE = _object({"sku_id": INT_OR_NULL, "service_item_id": INT_OR_NULL, "quantity": INT, "amount_fen": FEN},
               {"unit_price_fen": FEN})


@dataclass(frozen=True)
class EventType:
    name: str
    fact_kind: str
    scope: str  # the installation must have been granted it
    about: Callable[[dict[str, Any]], str]  # the object key: deliveries for one object go out in order
    summary_en: str
    summary_zh: str
    data: dict[str, Any] = field(default_factory=dict)  # JSON Schema of the event's `data`


def _order(payload: dict[str, Any]) -> str:
    return f"order:{payload['order_id']}"


def _key(prefix: str, field_name: str) -> Callable[[dict[str, Any]], str]:
    return lambda payload: f"{prefix}:{payload[field_name]}"


EVENTS: tuple[EventType, ...] = (
    EventType("order.created", "order.created", "order:read", _order, "An order was placed (not paid yet).",
              "顾客下单（尚未支付）。",
              _object({"order_id": INT, "kind": STR, "total_fen": FEN, "fulfilment": STR,
                       "lines": {"type": "array", "items": LINE}}, {"group_buy_id": INT})),
    EventType("order.paid", "order.paid", "order:read", _order, "An order was paid in full.", "订单已付清。",
              _object({"order_id": INT, "payment_id": INT, "provider": STR, "amount_fen": FEN, "kind": STR})),
    EventType("order.refunded", "order.refunded", "order:read", _order,
              "The provider paid a refund of an order.", "支付渠道已退款。",
              _object({"refund_id": INT, "order_id": INT, "payment_id": INT, "provider": STR, "amount_fen": FEN},
                      {"voided_uses": {}, "reason": STR_OR_NULL})),
    EventType("order.cancelled", "order.cancelled", "order:read", _order, "An unpaid order was cancelled.",
              "未支付的订单已取消。", _object({"order_id": INT, "total_fen": FEN}, {"by": INT_OR_NULL})),
    EventType("order.expired", "order.expired", "order:read", _order, "An unpaid order passed its deadline.",
              "未支付的订单已超时关闭。", _object({"order_id": INT, "total_fen": FEN})),
    EventType("order.fulfilled", "order.fulfilled", "order:read", _order,
              "A delivery or pickup order was handed over.", "配送或自提订单已交付。",
              _object({"order_id": INT, "fulfilment": STR})),
    EventType("order.completed", "order.completed", "order:read", _order, "An order is complete.", "订单已完成。",
              _object({"order_id": INT, "total_fen": FEN})),
    EventType("voucher.issued", "voucher.issued", "order:read", _order, "A paid service order's voucher exists.",
              "已为付款的服务订单发放核销券。",
              _object({"voucher_id": INT, "order_id": INT, "service_item_id": INT, "uses": INT,
                       "unit_price_fen": FEN, "expires_at": {"type": "string", "format": "date-time"}})),
    EventType("voucher.verified", "voucher.verified", "order:read", _order,
              "A use of a voucher was consumed at the counter.", "门店核销了一次券。",
              _object({"verification_id": INT, "voucher_id": INT, "order_id": INT, "service_item_id": INT,
                       "uses_left": INT, "value_fen": FEN})),
    EventType("voucher.verification_reversed", "voucher.verification_reversed", "order:read", _order,
              "A verification was reversed; the use is back.", "一次核销被撤销，次数已退回。",
              _object({"verification_id": INT, "voucher_id": INT, "order_id": INT, "service_item_id": INT},
                      {"by": INT_OR_NULL})),
    EventType("consumption.recorded", "consumption.recorded", "order:read", _key("record", "record_id"),
              "A store recorded an offline sale.", "门店登记了一笔线下消费。",
              _object({"record_id": INT, "receipt_id": STR_OR_NULL, "source": STR, "total_fen": FEN, "currency": STR,
                       "lines": {"type": "array", "items": LINE}}, {"identified_by": STR_OR_NULL})),
    EventType("review.created", "review.created", "order:read", _key("review", "review_id"),
              "A customer reviewed a visit (ratings only; read the text through the API).",
              "顾客发表了评价（仅含评分，正文请通过 API 读取）。",
              _object({"review_id": INT, "basis": STR, "rating_experience": INT},
                      {"record_id": INT_OR_NULL, "verification_id": INT_OR_NULL, "rating_service": INT_OR_NULL,
                       "rating_product": INT_OR_NULL, "text_length": INT})),
    EventType("coupon.claimed", "coupon.claimed", "marketing:read", _key("coupon", "coupon_id"),
              "A customer claimed one of the merchant's coupons.", "顾客领取了商家的优惠券。",
              _object({"coupon_id": INT, "template_id": INT, "channel": STR}, {"campaign_id": INT_OR_NULL})),
    EventType("coupon.used", "coupon.used", "marketing:read", _key("coupon", "coupon_id"),
              "A coupon was applied to an order or a recorded sale.", "优惠券已用于订单或线下消费。",
              _object({"coupon_id": INT, "template_id": INT, "discount_fen": FEN},
                      {"campaign_id": INT_OR_NULL, "order_id": INT_OR_NULL, "record_id": INT_OR_NULL})),
    EventType("member.joined", "follow.created", "member:read", _key("member", "merchant_id"),
              "A customer followed the merchant and became its member.", "顾客关注了商家并成为会员。",
              _object({"merchant_id": INT})),
    EventType("member.left", "follow.deleted", "member:read", _key("member", "merchant_id"),
              "A customer stopped following the merchant.", "顾客取消关注了商家。", _object({"merchant_id": INT})),
    EventType("member.tier_changed", "membership.tier_changed", "member:read", _key("membership", "membership_id"),
              "A member moved to another tier.", "会员等级发生变化。",
              _object({"membership_id": INT, "direction": STR},
                      {"from_tier_id": INT_OR_NULL, "to_tier_id": INT_OR_NULL, "reason": STR_OR_NULL})),
)

BY_NAME: dict[str, EventType] = {event.name: event for event in EVENTS}
BY_FACT_KIND: dict[str, EventType] = {event.fact_kind: event for event in EVENTS}


def envelope_schema(event: EventType) -> dict[str, Any]:
    """The whole body a receiver gets for this event type (JSON Schema 2020-12)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": event.name,
        "type": "object",
        "required": ["id", "type", "created_at", "occurred_at", "merchant_id", "installation_id", "data"],
        "properties": {
            "id": {"type": "string", "description": "the event id: de-duplicate on it (retries repeat it)"},
            "type": {"const": event.name},
            "created_at": {"type": "string", "format": "date-time", "description": "when it was recorded (UTC)"},
            "occurred_at": {"type": "string", "format": "date-time", "description": "when it happened (UTC)"},
            "merchant_id": INT,
            "store_id": INT_OR_NULL,
            "consumer_id": {**INT_OR_NULL, "description": "the customer's pseudonymous account id, if any"},
            "installation_id": INT,
            "data": event.data,
        },
        "additionalProperties": False,
    }
