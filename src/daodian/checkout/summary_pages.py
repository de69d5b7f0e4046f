"""The checkout page's live summary: each change of quantity, store, coupons or points posts the form here
(htmx) and the breakdown comes back, worked out by a dry run of placing the order (checkout.breakdown), so
the total shown is the total charged. A choice that cannot be placed shows why, in the page's language."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from daodian.accounts.authz import require_login
from daodian.accounts.own_transaction_deps import Factory, OwnPagePrincipal
from daodian.checkout import breakdown
from daodian.checkout import discounts as checkout_discounts
from daodian.kit.api.http import ObjectId
from daodian.kit.errors import DomainError
from daodian.kit.html.forms import N_, CheckedForm, text
from daodian.kit.html.rendering import render
from daodian.orders.page_messages import message_for
from daodian.orders.schemas import DeliveryAddress, OrderCreate, OrderLineIn

router = APIRouter()

# Delivery or pickup does not change the price: a summary asked before the address is typed is priced
# as a delivery to this placeholder (never stored: the dry run rolls back).
_PRICING_ADDRESS = DeliveryAddress(name="-", phone="13800000000", address="-")
# An at-home item (上门服务) is priced like any other; its address only decides where the provider goes.
_PRICING_VISIT = DeliveryAddress(name="-", phone="13800000000", address="-",
                                 location={"lat": 30.0, "lng": 120.0, "datum": "wgs84"})


def _number(raw: str, default: int | None) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 16 else default


def _summary(request: Request, factory, principal, data_of) -> Response:
    try:
        data = data_of()
        result = breakdown.preview(factory, principal, data, request.app.state.settings)
    except ValidationError:
        return render(request, "orders/_summary.html", {"summary": None,
                                                        "problem": N_("Pick a quantity from 1 to 99.")})
    except DomainError as exc:
        if exc.status in (401, 403):
            raise
        return render(request, "orders/_summary.html", {"summary": None, "problem": message_for(exc)})
    return render(request, "orders/_summary.html", {"summary": result, "problem": None})


@router.post("/buy/item/{item_id}/summary", response_class=HTMLResponse)
def item_summary(item_id: ObjectId, request: Request, principal: OwnPagePrincipal, factory: Factory,
                 form: CheckedForm) -> Response:
    require_login(principal)
    coupon_ids, points = checkout_discounts.page_choice(form)
    at_home = text(form, "at_home", 4) == "1"  # the form says so; the order's rules check it against the item
    return _summary(request, factory, principal, lambda: OrderCreate(
        lines=[OrderLineIn(service_item_id=item_id, quantity=_number(text(form, "quantity", 4), 0))],
        store_id=None if at_home else _number(text(form, "store_id", 20), None),
        delivery_address=_PRICING_VISIT if at_home else None, coupon_ids=coupon_ids, points=points))


@router.post("/buy/product/{product_id}/summary", response_class=HTMLResponse)
def product_summary(product_id: ObjectId, request: Request, principal: OwnPagePrincipal, factory: Factory,
                    form: CheckedForm) -> Response:
    require_login(principal)
    coupon_ids, points = checkout_discounts.page_choice(form)
    pickup = text(form, "fulfilment", 16) == "pickup" and _number(text(form, "store_id", 20), None)

    def data() -> OrderCreate:
        sku_id = _number(text(form, "sku_id", 20), 0)
        return OrderCreate(lines=[OrderLineIn(sku_id=sku_id, quantity=_number(text(form, "quantity", 4), 0))],
                           fulfilment="pickup" if pickup else "delivery",
                           store_id=_number(text(form, "store_id", 20), None) if pickup else None,
                           delivery_address=None if pickup else _PRICING_ADDRESS,
                           coupon_ids=coupon_ids, points=points)
    return _summary(request, factory, principal, data)
