"""Consumer pages of orders: checkout of service items and products, paying through the provider's page,
"my orders", an order's page (vouchers with QR codes, the services near you for products) and "my vouchers".

Checkout and paying go through the same idempotent paths as the API (`idempotency.run` around
orders.service / payments.service): every form carries a one-time key drawn when it was shown, so a
double tap or a resubmitted form places one order and starts one payment. These routes run their own
short transactions (accounts.own_transaction_deps), like the API's order routes.
"""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from daodian.accounts.authz import Principal, require_login
from daodian.accounts.own_transaction_deps import Factory, OwnPagePrincipal
from daodian.bookings.models import BookingSlot
from daodian.catalog import service as catalog
from daodian.catalog.models import Product, Sku
from daodian.checkout import breakdown, order_tabs, refund_pages
from daodian.checkout import discounts as checkout_discounts
from daodian.checkout.line_names import english_item_names, english_line_names
from daodian.coupons.schemas import CartLineIn
from daodian.kit.api import idempotency
from daodian.kit.api.http import ObjectId, transaction_factory
from daodian.kit.api.pagination import PageParams, Paging, fetch_page
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.kit.errors import DomainError, NotFound
from daodian.kit.html.forms import N_, CheckedForm, field_errors, login_redirect, see_other, text
from daodian.kit.html.rendering import render, request_locale
from daodian.linkage import nearby_block
from daodian.merchants import service as merchants
from daodian.merchants import service_items, stores
from daodian.merchants.models import Store
from daodian.merchants.schemas import Location
from daodian.orders import repository
from daodian.orders import service as orders
from daodian.orders.models import Order, OrderKind, OrderStatus
from daodian.orders.page_messages import MESSAGES, message_for
from daodian.orders.schemas import DeliveryAddress, OrderCreate, OrderLineIn
from daodian.payments import service as payments
from daodian.payments.models import PaymentStatus
from daodian.payments.page_payments import can_pay_online, idempotent_page_call, new_form_key, start_payment
from daodian.records import review_lookup
from daodian.taxonomy.models import CatalogStatus
from daodian.vouchers import qr
from daodian.vouchers import repository as voucher_repository
from daodian.vouchers import service as vouchers
from daodian.vouchers.models import Verification, Voucher

router = APIRouter()

STORE_CHOICES = 100
PRODUCTS_NEAR = 3  # "services near you" for at most this many products of one order


def _form_key(form: FormData) -> str:
    key = text(form, "form_key", 64)
    return key if key.isascii() and key.replace("-", "").replace("_", "").isalnum() else ""


def _int(raw: str, default: int | None = None) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 16 else default


def _place_order(request: Request, principal: Principal, key: str, data: OrderCreate) -> dict:
    factory, settings = transaction_factory(request), request.app.state.settings

    def work(claim: idempotency.Claim):
        with unit_of_work(factory) as session:
            order = orders.create_order(session, principal, data, settings)
            read = orders.order_read(session, order)
            claim.complete(session, 201, idempotency.dump(read))
        return 201, read

    return idempotent_page_call(request, principal, key, data, work)


# --- checkout: a service item -----------------------------------------------------------------


def _item_checkout(request: Request, session: Session, principal: Principal, item_id: int) -> dict:
    item = service_items.get_item(session, item_id)
    merchant = merchants.get_merchant(session, item.merchant_id)
    if item.status != CatalogStatus.ACTIVE or not merchants.is_public(merchant):
        raise NotFound("No such service item.", code="unknown_line_item")
    store_ids = stores.item_reads(session, [item])[0].store_ids[:STORE_CHOICES]
    rows = session.scalars(select(Store).where(Store.id.in_(store_ids)).order_by(Store.id)).all()
    offered = [s for s in stores.store_reads(session, list(rows)) if s.status != "closed"]
    return {"principal": principal, "item": item, "at_home": bool(item.at_home), "merchant": merchant, "stores": offered,
            "can_pay": can_pay_online(request),
            **checkout_discounts.page_offer(session, principal, [CartLineIn(service_item_id=item.id)], None)}


@router.get("/buy/item/{item_id}", response_class=HTMLResponse)
def item_checkout(item_id: ObjectId, request: Request, principal: OwnPagePrincipal, factory: Factory,
                  store_id: Annotated[int | None, Query(ge=1)] = None) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    with unit_of_work(factory, read_only=True) as session:
        context = _item_checkout(request, session, principal, item_id)
    return render(request, "orders/checkout_item.html", {
        **context, "values": {"store_id": store_id, "quantity": 1, "coupon_ids": None, "points": 0, "name": "",
                              "phone": "", "address": "", "lat": "", "lng": ""},
        "form_key": new_form_key(), "error": None})


@router.post("/buy/item/{item_id}", response_class=HTMLResponse)
def buy_item(item_id: ObjectId, request: Request, principal: OwnPagePrincipal, factory: Factory,
             form: CheckedForm) -> Response:
    require_login(principal)
    values = {"store_id": _int(text(form, "store_id", 20)), "quantity": _int(text(form, "quantity", 4), 0),
              "name": text(form, "name", 64), "phone": text(form, "phone", 20), "address": text(form, "address", 255),
              "lat": text(form, "lat", 32), "lng": text(form, "lng", 32)}
    values["coupon_ids"], values["points"] = checkout_discounts.page_choice(form)
    key = _form_key(form)
    at_home = text(form, "at_home", 4) == "1"  # the item's rules (orders) decide; this only shapes the order
    try:
        address = _visit_address(values) if at_home else None
        data = OrderCreate(lines=[OrderLineIn(service_item_id=item_id, quantity=values["quantity"])],
                           store_id=None if at_home else values["store_id"], delivery_address=address,
                           coupon_ids=values["coupon_ids"], points=values["points"])
        order = _place_order(request, principal, key, data)
    except (ValidationError, DomainError) as exc:
        error = (N_("Give your name, phone and address; allow the position so the provider finds you.")
                 if at_home and isinstance(exc, ValidationError) else
                 N_("Pick a quantity from 1 to 99.") if isinstance(exc, ValidationError) else message_for(exc))
        with unit_of_work(factory, read_only=True) as session:
            context = _item_checkout(request, session, principal, item_id)
        return render(request, "orders/checkout_item.html", {
            **context, "values": values, "form_key": new_form_key(), "error": error}, status=422)
    return _pay_placed(request, principal, key, order["id"])


def _visit_address(values: dict) -> DeliveryAddress:
    """The service address of an at-home item (上门服务), with the phone's position (static/door.js, WGS-84): the
    provider is sent there. Without the position the order is refused (`service_address_missing`)."""
    return DeliveryAddress(name=values["name"], phone=values["phone"], address=values["address"],
                           location=_door(values))


def _pay_placed(request: Request, principal: Principal, key: str, order_id: int) -> Response:
    """On to the provider's page; if paying cannot start, the order's own page says why and offers to retry."""
    try:
        return see_other(start_payment(request, principal, key, order_id))
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        return see_other(f"/orders/{order_id}?problem={exc.code}")


# --- checkout: a product, delivered or picked up ----------------------------------------------


def _product_checkout(session: Session, principal: Principal, product_id: int) -> dict:
    product = catalog.get_product(session, product_id)
    merchant = merchants.get_merchant(session, product.merchant_id)
    if product.status != CatalogStatus.ACTIVE or not merchants.is_public(merchant):
        raise NotFound("No such product.", code="product_not_found")
    read = catalog.product_reads(session, [product])[0]
    pickup, _ = stores.list_stores(session, PageParams(limit=STORE_CHOICES, after_id=None), merchant_id=merchant.id,
                                   category_code=None, public_only=True)
    skus = [s for s in read.skus if s.status == CatalogStatus.ACTIVE]
    return {"principal": principal, "product": read, "merchant": merchant, "stores": pickup, "skus": skus,
            **checkout_discounts.page_offer(session, principal, [CartLineIn(sku_id=s.id) for s in skus[:1]], None)}


def _product_render(request: Request, factory, principal: Principal, product_id: int, *, values: dict,
                    errors: dict, status: int = 200) -> HTMLResponse:
    with unit_of_work(factory, read_only=True) as session:
        context = _product_checkout(session, principal, product_id)
    if values.get("sku_id") is None and context["skus"]:
        values["sku_id"] = context["skus"][0].id
    return render(request, "orders/checkout_product.html", {
        **context, "values": values, "errors": errors, "form_key": new_form_key(),
        "can_pay": can_pay_online(request)}, status=status)


@router.get("/buy/product/{product_id}", response_class=HTMLResponse)
def product_checkout(product_id: ObjectId, request: Request, principal: OwnPagePrincipal, factory: Factory,
                     sku_id: Annotated[int | None, Query(ge=1)] = None) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    return _product_render(request, factory, principal, product_id, errors={},
                           values={"sku_id": sku_id, "quantity": 1, "fulfilment": "delivery", "coupon_ids": None,
                                   "points": 0})


def _door(values: dict) -> Location | None:
    """Where the door is, when the browser told us (WGS-84, from the Geolocation API): a courier can then carry
    the order (daodian.delivery). Without it the merchant delivers by its own means, as before."""
    try:
        return Location(lat=float(values["lat"]), lng=float(values["lng"]), datum="wgs84")
    except (TypeError, ValueError, ValidationError):
        return None


def _product_order(values: dict) -> tuple[OrderCreate | None, dict]:
    errors: dict[str, str] = {}
    address = None
    if values["fulfilment"] == "delivery":
        try:
            address = DeliveryAddress(name=values["name"], phone=values["phone"], address=values["address"],
                                      location=_door(values))
        except ValidationError as exc:
            errors.update(field_errors(exc))
    elif values["store_id"] is None:
        errors["store_id"] = N_("Pick one of the offered choices.")
    if values["sku_id"] is None:
        errors["sku_id"] = N_("Pick one of the offered choices.")
    if errors:
        return None, errors
    try:
        return OrderCreate(lines=[OrderLineIn(sku_id=values["sku_id"], quantity=values["quantity"])],
                           fulfilment=values["fulfilment"], delivery_address=address,
                           store_id=values["store_id"] if values["fulfilment"] == "pickup" else None,
                           note=values["note"], coupon_ids=values["coupon_ids"], points=values["points"]), {}
    except ValidationError as exc:
        problems = field_errors(exc)
        return None, {"quantity" if "lines" in problems else k: v for k, v in problems.items()}


@router.post("/buy/product/{product_id}", response_class=HTMLResponse)
def buy_product(product_id: ObjectId, request: Request, principal: OwnPagePrincipal, factory: Factory,
                form: CheckedForm) -> Response:
    require_login(principal)
    fulfilment = text(form, "fulfilment", 16)
    values = {"sku_id": _int(text(form, "sku_id", 20)), "quantity": _int(text(form, "quantity", 4), 0),
              "fulfilment": fulfilment if fulfilment in ("delivery", "pickup") else "delivery",
              "store_id": _int(text(form, "store_id", 20)), "name": text(form, "name", 64),
              "phone": text(form, "phone", 20), "address": text(form, "address", 255), "note": text(form, "note", 200),
              "lat": text(form, "lat", 32), "lng": text(form, "lng", 32)}
    values["coupon_ids"], values["points"] = checkout_discounts.page_choice(form)
    data, errors = _product_order(values)
    if data is None:
        return _product_render(request, factory, principal, product_id, values=values, errors=errors, status=422)
    with unit_of_work(factory, read_only=True) as session:  # the SKU must belong to this very product
        sku = session.get(Sku, values["sku_id"])
    if sku is None or sku.product_id != product_id:
        return _product_render(request, factory, principal, product_id, values=values, status=422,
                               errors={"sku_id": N_("Pick one of the offered choices.")})
    key = _form_key(form)
    try:
        order = _place_order(request, principal, key, data)
    except DomainError as exc:
        return _product_render(request, factory, principal, product_id, values=values, status=422,
                               errors={"_form": message_for(exc)})
    return _pay_placed(request, principal, key, order["id"])


# --- paying an order that is waiting ----------------------------------------------------------


@router.post("/orders/{order_id}/pay", response_class=HTMLResponse)
def pay_order(order_id: ObjectId, request: Request, principal: OwnPagePrincipal, form: CheckedForm) -> Response:
    require_login(principal)
    return _pay_placed(request, principal, _form_key(form), order_id)


# --- my orders, an order ----------------------------------------------------------------------


@router.get("/orders", response_class=HTMLResponse)
def my_orders(request: Request, principal: OwnPagePrincipal, factory: Factory, paging: Paging,
              tab: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    tab = order_tabs.pick(tab)
    with unit_of_work(factory, read_only=True) as session:
        stmt = order_tabs.filtered(repository.orders_query(consumer_id=principal.user_id).order_by(None), tab)
        rows, cursor = _newest_first(session, stmt, paging)
        reads = orders.order_reads(session, rows)
        names = merchants.merchants_by_ids(session, {o.merchant_id for o in rows})
        line_names = english_line_names(session, reads) if request_locale(request) == "en" else {}
    return render(request, "orders/list.html", {"principal": principal, "orders": reads, "merchants": names,
                                                "next_cursor": cursor, "now": utcnow(), "tab": tab,
                                                "tabs": order_tabs.TABS, "line_names": line_names})


def _newest_first(session: Session, stmt, paging: PageParams):
    """Newest first: a shopper looks for the order they just placed."""
    if paging.after_id is not None:
        stmt = stmt.where(Order.id < paging.after_id)
    rows = list(session.scalars(stmt.order_by(Order.id.desc()).limit(paging.limit + 1)))
    cursor = str(rows[paging.limit - 1].id) if len(rows) > paging.limit else None
    return rows[:paging.limit], cursor


def _products_of(session: Session, order: Order) -> list[Product]:
    sku_ids = [ln.sku_id for ln in repository.lines_by_order(session, [order.id])[order.id] if ln.sku_id]
    if not sku_ids:
        return []
    found = repository.skus_with_products(session, set(sku_ids))
    unique = {product.id: product for _, product in found.values()}
    return [unique[k] for k in sorted(unique)][:PRODUCTS_NEAR]


def _verifications(session: Session, voucher_ids: list[int]) -> dict[int, list[Verification]]:
    grouped: dict[int, list[Verification]] = {v: [] for v in voucher_ids}
    if voucher_ids:
        for row in session.scalars(select(Verification).where(Verification.voucher_id.in_(voucher_ids))
                                   .order_by(Verification.id)):
            grouped[row.voucher_id].append(row)
    return grouped


def voucher_uses(session: Session, verifications: dict[int, list[Verification]]) -> dict[int, list[tuple]]:
    """voucher id -> (when, at which store) of each use not undone: what "used" means on the consumer's card."""
    store_ids = {v.store_id for group in verifications.values() for v in group}
    by_id = {s.id: s for s in session.scalars(select(Store).where(Store.id.in_(store_ids)))} if store_ids else {}
    return {voucher_id: [(v.verified_at, by_id[v.store_id]) for v in group if not v.reversed_at and v.store_id in by_id]
            for voucher_id, group in verifications.items()}


def bookable(session: Session, store_id: int | None, item_ids: set[int]) -> bool:
    """Whether the store offers a time to book for these items in the coming week (the booking page's range):
    the order page offers booking only then."""
    if store_id is None or not item_ids:
        return False
    now = utcnow()
    return session.scalar(select(BookingSlot.id).where(
        BookingSlot.store_id == store_id, BookingSlot.service_item_id.in_(item_ids),
        BookingSlot.starts_at > now, BookingSlot.starts_at < now + timedelta(days=7)).limit(1)) is not None


def qr_markup(code: str) -> Markup:
    """The voucher's QR code inline (segno's SVG: generated here from our own code, nothing user-written)."""
    return Markup(qr.svg(code, scale=5))


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_page(order_id: ObjectId, request: Request, principal: OwnPagePrincipal, factory: Factory) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    orders.expire_if_due(factory, order_id)
    near = nearby_block.near_from_query(request)
    with unit_of_work(factory, read_only=True) as session:
        order = orders.get_order(session, order_id)
        orders.authorize_view(principal, order)
        read = orders.order_read(session, order)
        rows = voucher_repository.vouchers_of_order(session, order.id)
        voucher_reads = vouchers.voucher_reads(session, rows, utcnow())
        verifications = _verifications(session, [v.id for v in rows])
        uses = voucher_uses(session, verifications)
        english = request_locale(request) == "en"
        item_names = english_item_names(session, {v.service_item_id for v in rows}) if english else {}
        reviewed = review_lookup.reviewed_verifications(
            session, {v.id for group in verifications.values() for v in group})
        pending = [p for p in payments.visible_payments(session, principal, order.id)
                   if p.status == PaymentStatus.PENDING]
        store = stores.store_reads(session, [stores.get_store(session, order.store_id)])[0] if order.store_id else None
        merchant = merchants.get_merchant(session, order.merchant_id)
        services = [(p, nearby_block.services_near(request, session, p, near)) for p in _products_of(session, order)]
        names = english_line_names(session, [read]) if english else {}
        costs = breakdown.of_order(session, read, names)
        refunds = refund_pages.refund_rows(session, principal, order)
        can_book = bookable(session, order.store_id, {v.service_item_id for v in rows})
    return render(request, "orders/detail.html", {
        "breakdown": costs, "refunds": refunds, "uses": uses, "item_names": item_names,
        "refund_reasons": refund_pages.REASONS, "can_book": can_book,
        "can_refund": refund_pages.can_request(order, principal),
        "principal": principal, "order": read, "vouchers": voucher_reads, "verifications": verifications,
        "reviewed": reviewed, "pending_payment": pending[0] if pending else None, "store": store,
        "merchant": merchant, "services": services, "near": near, "qr": qr_markup,
        "is_owner": order.consumer_id == principal.user_id, "form_key": new_form_key(),
        "can_pay": can_pay_online(request) and order.status == OrderStatus.CREATED,
        "problem": MESSAGES.get(request.query_params.get("problem", "")), "kind_service": order.kind == OrderKind.SERVICE,
    })


# --- my vouchers ------------------------------------------------------------------------------


@router.get("/vouchers", response_class=HTMLResponse)
def my_vouchers(request: Request, principal: OwnPagePrincipal, factory: Factory, paging: Paging) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    with unit_of_work(factory, read_only=True) as session:
        rows, cursor = fetch_page(session, voucher_repository.vouchers_query(consumer_id=principal.user_id), Voucher.id,
                                  paging)
        reads = vouchers.voucher_reads(session, rows, utcnow())
        uses = voucher_uses(session, _verifications(session, [v.id for v in rows]))
        item_names = (english_item_names(session, {v.service_item_id for v in rows})
                      if request_locale(request) == "en" else {})
    usable = sorted(reads, key=lambda v: (v.status != "active", v.expires_at))
    return render(request, "orders/vouchers.html", {"principal": principal, "vouchers": usable, "uses": uses,
                                                    "item_names": item_names,
                                                    "next_cursor": cursor, "qr": qr_markup})
