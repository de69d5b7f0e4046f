"""Pages of the closed loop: the counter's POS screen (record an offline sale, optionally tied to a member who
agrees), the consumer's visits, and the review form for a verified voucher or a recorded visit.

They go through records.service and records.reviews, the same rules as the API: sales are idempotent by
their receipt id (the screen draws one when it is shown, so a resent form records once), a member is tied
only with consent, and only the consumer of a verified visit may review it, once.
"""

import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from daodian.accounts.authz import Action, Principal, authorize, require_login
from daodian.accounts.dependencies import PagePrincipal
from daodian.catalog import service as catalog
from daodian.kit.api.http import DbSession, ObjectId
from daodian.kit.api.pagination import PageParams, Paging
from daodian.kit.clock import utcnow
from daodian.kit.errors import DomainError, NotFound
from daodian.kit.html.forms import N_, CheckedForm, field_errors, login_redirect, parse_yuan, see_other, text
from daodian.kit.html.rendering import render
from daodian.media import service as media
from daodian.media.models import OwnerKind
from daodian.media.owners import MAX_PHOTOS
from daodian.media.storage import storage_of
from daodian.merchants import service as merchants
from daodian.merchants import stores
from daodian.records import repository, reviews, service
from daodian.records.models import ConsumptionRecord, RecordSource
from daodian.records.schemas import ConsumptionLineIn, ConsumptionRecordCreate, MemberIn, ReviewCreate

router = APIRouter()

POS_LINES = 5
RECENT = 10
MEMBER_KINDS = ("phone", "member_code", "voucher_code")
MESSAGES = {
    "member_not_found": N_("No member matches this phone number, member code or voucher. Record the sale without a member, or check it."),
    "line_not_of_merchant": N_("A line names something this merchant does not sell."),
    "receipt_conflict": N_("This sale was already recorded with different content; reload the page for a new receipt."),
    "review_basis_not_found": N_("There is no visit of yours to review here."),
    "already_reviewed": N_("You have already reviewed this visit."),
    "product_rating_required": N_("This visit included products; rate them too."),
    "staff_cannot_review": N_("Staff may not review their own merchant's stores."),
    # Photos of a review (daodian.media): judged by content, at most nine.
    "image_invalid": N_("One of the photos is not a readable image."),
    "image_format_unsupported": N_("Photos must be JPEG, PNG or WebP."),
    "image_too_large": N_("One of the photos is too large."),
    "image_too_many_pixels": N_("One of the photos has too many pixels."),
    "too_many_photos": N_("A review may carry at most nine photos."),
}


# --- the POS record screen --------------------------------------------------------------------


def _pos_catalog(session, store) -> dict:
    """What the store sells, as "i:<id>" (service items) and "s:<id>" (SKUs), with the catalog price."""
    detail = stores.store_detail(session, store, include_hidden_items=False)
    choices = {f"i:{i.id}": (i, i.price_fen) for i in detail.service_items if i.status == "active"}
    products, _ = catalog.list_products(session, PageParams(limit=100, after_id=None), merchant_id=store.merchant_id)
    for product in products:
        for sku in product.skus:
            if sku.status == "active":
                choices[f"s:{sku.id}"] = ((product, sku), sku.price_fen)
    return choices


def _pos_page(request: Request, session, principal: Principal, store, *, values: dict | None = None,
              errors: dict | None = None, status: int = 200) -> HTMLResponse:
    merchant = merchants.get_merchant(session, store.merchant_id)
    recent, _ = service.merchant_records(session, principal, store.merchant_id,
                                         PageParams(limit=RECENT, after_id=None), store.id)
    values = values or {"lines": [{"choice": "", "quantity": "1", "amount": ""} for _ in range(POS_LINES)],
                        "member_kind": "phone", "member": "", "consent": False}
    return render(request, "console/pos.html", {
        "principal": principal, "store": store, "merchant": merchant, "choices": _pos_catalog(session, store),
        "values": values, "errors": errors or {}, "recent": recent, "receipt_id": _receipt_id(),
        "recorded": request.query_params.get("recorded", "")[:16],
    }, status=status)


def _receipt_id() -> str:
    return f"WEB-{utcnow():%Y%m%d}-{secrets.token_hex(6).upper()}"


def _counter_store(session, principal: Principal, store_id: int):
    store = stores.get_store(session, store_id)
    authorize(principal, Action.COUNTER, store.merchant_id)
    return store


@router.get("/merchant/counter/{store_id}/pos", response_class=HTMLResponse)
def pos_screen(store_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    return _pos_page(request, session, principal, _counter_store(session, principal, store_id))


def _pos_input(form: FormData, choices: dict) -> tuple[dict, list[dict], dict]:
    """(what the form showed, the lines for the schema, problems found before the schema)."""
    shown_lines, lines, errors = [], [], {}
    for n in range(POS_LINES):
        choice, qty, amount = text(form, f"item-{n}", 24), text(form, f"qty-{n}", 6), text(form, f"amount-{n}", 20)
        shown_lines.append({"choice": choice, "quantity": qty, "amount": amount})
        if not choice:
            continue
        if choice not in choices:
            errors[f"line-{n}"] = N_("Pick one of the offered choices.")
            continue
        quantity = int(qty) if qty.isascii() and qty.isdigit() and len(qty) < 7 else None
        if quantity is None or quantity < 1:
            errors[f"line-{n}"] = N_("Enter a whole number.")
            continue
        try:
            fen = parse_yuan(amount) if amount else choices[choice][1] * quantity
        except ValueError as exc:
            errors[f"line-{n}"] = str(exc)
            continue
        kind, _, ident = choice.partition(":")
        lines.append({"sku_id" if kind == "s" else "service_item_id": int(ident), "quantity": quantity,
                      "amount_fen": fen})
    if not lines and not errors:
        errors["lines"] = N_("Add at least one line.")
    kind = text(form, "member_kind", 16)
    shown = {"lines": shown_lines, "member_kind": kind if kind in MEMBER_KINDS else "phone",
             "member": text(form, "member", 40), "consent": form.get("consent") == "1"}
    return shown, lines, errors


@router.post("/merchant/counter/{store_id}/pos", response_class=HTMLResponse)
def record_sale(store_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
                form: CheckedForm) -> Response:
    store = _counter_store(session, principal, store_id)
    shown, lines, errors = _pos_input(form, _pos_catalog(session, store))
    member = None
    if shown["member"]:
        try:
            member = MemberIn(**{shown["member_kind"]: shown["member"]})
        except ValidationError:
            errors["member"] = N_("This is not in the expected format.")
        if not shown["consent"]:
            errors["consent"] = N_("Ask the customer, and tick this box only if they agree.")
    receipt = text(form, "receipt_id", 64)
    if errors:
        return _pos_page(request, session, principal, store, values=shown, errors=errors, status=422)
    # A resent form (a double tap, the back button) carries the same receipt id: it must carry the same moment
    # too, or the replay would differ from the stored record and be refused as a conflict.
    earlier = repository.record_by_receipt(session, store.merchant_id, receipt) if receipt else None
    try:
        data = ConsumptionRecordCreate(receipt_id=receipt, occurred_at=earlier.occurred_at if earlier else utcnow(),
                                       lines=[ConsumptionLineIn(**line) for line in lines], member=member,
                                       member_consented=member is not None and shown["consent"])
    except ValidationError as exc:
        return _pos_page(request, session, principal, store, values=shown, errors=field_errors(exc), status=422)
    try:
        with session.begin_nested():
            record, _ = service.record_consumption(session, principal, store.id, data, source=RecordSource.CONSOLE)
    except DomainError as exc:
        if exc.status in (401, 403):
            raise
        return _pos_page(request, session, principal, store, values=shown, status=422,
                         errors={"_form": MESSAGES.get(exc.code, exc.message)})
    return see_other(f"/merchant/counter/{store.id}/pos?recorded={record.id}")


# --- my visits --------------------------------------------------------------------------------


@router.get("/visits", response_class=HTMLResponse)
def my_visits(request: Request, session: DbSession, principal: PagePrincipal, paging: Paging) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    rows, cursor = service.my_records(session, principal, paging)
    shops = {s.id: s for s in (stores.get_store(session, i) for i in {r.store_id for r in rows})}
    return render(request, "reviews/visits.html", {"principal": principal, "records": rows, "stores": shops,
                                                   "next_cursor": cursor})


# --- reviews ----------------------------------------------------------------------------------

BasisId = Annotated[int | None, Query(ge=1, le=2**62)]


def _basis(session, principal: Principal, record_id: int | None, verification_id: int | None) -> dict:
    """The visit to review, as the form shows it; 404 for anything not the caller's."""
    if verification_id is not None and record_id is None:
        found = repository.verification_basis(session, verification_id)
        if found is None or found.consumer_id != principal.user_id or found.reversed_at is not None:
            raise NotFound(MESSAGES["review_basis_not_found"], code="review_basis_not_found")
        store_id, has_products = found.store_id, False
    elif record_id is not None and verification_id is None:
        record = session.get(ConsumptionRecord, record_id)
        if record is None or record.consumer_id != principal.user_id:
            raise NotFound(MESSAGES["review_basis_not_found"], code="review_basis_not_found")
        store_id, has_products = record.store_id, repository.record_has_product_line(session, record.id)
    else:
        raise NotFound(MESSAGES["review_basis_not_found"], code="review_basis_not_found")
    return {"store": stores.get_store(session, store_id), "has_products": has_products, "record_id": record_id,
            "verification_id": verification_id,
            "done": repository.review_exists(session, record_id=record_id, verification_id=verification_id)}


def _review_page(request: Request, principal: Principal, basis: dict, *, values: dict | None = None,
                 errors: dict | None = None, status: int = 200) -> HTMLResponse:
    return render(request, "reviews/form.html", {
        "principal": principal, **basis, "values": values or {}, "errors": errors or {}}, status=status)


@router.get("/reviews/new", response_class=HTMLResponse)
def review_form(request: Request, session: DbSession, principal: PagePrincipal, record_id: BasisId = None,
                verification_id: BasisId = None) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    return _review_page(request, principal, _basis(session, principal, record_id, verification_id))


def _rating(raw: str) -> int | str:
    return int(raw) if raw in {"1", "2", "3", "4", "5"} else raw


@router.post("/reviews/new", response_class=HTMLResponse)
def post_review(request: Request, session: DbSession, principal: PagePrincipal, form: CheckedForm) -> Response:
    require_login(principal)
    ids = {k: (int(v) if v.isascii() and v.isdigit() and len(v) < 19 else None)
           for k, v in ((k, text(form, k, 20)) for k in ("record_id", "verification_id"))}
    basis = _basis(session, principal, ids["record_id"], ids["verification_id"])
    values = {k: text(form, k, 2000) for k in ("rating_experience", "rating_service", "rating_product", "text")}
    raw = {"record_id": ids["record_id"], "verification_id": ids["verification_id"], "text": values["text"],
           "rating_experience": _rating(values["rating_experience"]), "rating_service": _rating(values["rating_service"])}
    if values["rating_product"]:
        raw["rating_product"] = _rating(values["rating_product"])
    try:
        data = ReviewCreate.model_validate(raw)
    except ValidationError as exc:
        return _review_page(request, principal, basis, values=values, errors=field_errors(exc), status=422)
    # Photos chosen in the form (a browser sends one empty part when none is chosen).
    photos = [f for f in form.getlist("photos") if isinstance(f, UploadFile) and f.filename]
    if len(photos) > MAX_PHOTOS[OwnerKind.REVIEW]:
        return _review_page(request, principal, basis, values=values, status=422,
                            errors={"_form": MESSAGES["too_many_photos"]})
    try:
        with session.begin_nested():  # the review and its photos, or nothing
            review = reviews.create_review(session, principal, data)
            settings = request.app.state.settings
            for photo in photos:
                content = photo.file.read(settings.media_max_bytes + 1)  # one byte over: refused unread
                media.add_photo(session, storage_of(request.app), media.limits_of(settings), principal,
                                OwnerKind.REVIEW, review.id, content)
    except DomainError as exc:
        if exc.status in (401,):
            raise
        field = "rating_product" if exc.code == "product_rating_required" else "_form"
        return _review_page(request, principal, basis, values=values, status=422,
                            errors={field: MESSAGES.get(exc.code, exc.message)})
    return see_other(f"/reviews/{review.id}")


@router.get("/reviews/{review_id}", response_class=HTMLResponse)
def my_review(review_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    review = reviews.get_review(session, review_id)
    if review.consumer_id != principal.user_id:
        raise NotFound("No such review.", code="review_not_found")
    return render(request, "reviews/done.html", {
        "principal": principal, "review": reviews.review_reads(session, [review])[0],
        "photos": media.photos_of(session, OwnerKind.REVIEW, [review.id]).get(review.id, []),
        "store": stores.get_store(session, review.store_id)})
