"""The merchant console's C2B pages: tiered group buys and pre-sales by vote, each a list and a create form.

Same authorization as the API (`console.view` to look, `catalog.manage` to create), so clerks get the lists
read-only. Times are typed as local datetimes in the merchant's store zone (its first store; Asia/Shanghai
without one) and stored in UTC. Creating goes through the services, so their rules and errors are the API's;
a refused form is shown again, filled in, with 422 and the reason.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from daodian.accounts.authz import Action
from daodian.accounts.dependencies import PagePrincipal
from daodian.c2b.group_buy import service as group_buy
from daodian.c2b.group_buy.models import GroupBuy
from daodian.c2b.group_buy.schemas import GroupBuyCreate, Tier
from daodian.c2b.presale import service as presale
from daodian.c2b.presale.models import Presale
from daodian.c2b.presale.schemas import CandidateIn, PresaleCreate
from daodian.catalog.models import Product, Sku
from daodian.kit.api.http import DbSession, ObjectId
from daodian.kit.errors import DomainError
from daodian.kit.html.forms import N_, CheckedForm, field_errors, login_redirect, parse_yuan, see_other, text
from daodian.kit.html.rendering import render
from daodian.merchants import service as merchants
from daodian.merchants.models import ServiceItem, Store
from daodian.taxonomy.models import CatalogStatus

router = APIRouter()

TIER_ROWS, CANDIDATE_ROWS, LIST_LIMIT = 4, 3, 100
DEFAULT_ZONE = "Asia/Shanghai"
# The services' English messages, marked here so the templates can show them translated (`tr`).
SERVICE_MESSAGES = (
    N_("Tiers need more participants and a lower price each."), N_("The minimum cannot lie above the first tier."),
    N_("The window must end in the future, after it starts, within 90 days."),
    N_("The service item is not on sale."), N_("This merchant has no such service item."),
    N_("The closing time must be in the future (with a time zone)."), N_("Each SKU may be a candidate once."),
    N_("A threshold is at least one vote."), N_("The deposit must be below the price."),
    N_("A line names a SKU or service item that does not exist."),
)


def store_zone(session: Session, merchant_id: int) -> str:
    zone = session.scalar(select(Store.timezone).where(Store.merchant_id == merchant_id).order_by(Store.id).limit(1))
    return zone or DEFAULT_ZONE


def parse_local(raw: str, zone: str) -> datetime:
    """'2026-12-05T10:30' typed in `zone` -> aware UTC. ValueError with a msgid when it is not a datetime."""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise ValueError(N_("Enter a date and time.")) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.astimezone(UTC)


def _whole(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) < 9 else None


def _refused(exc: DomainError) -> dict[str, str]:
    if exc.status in (401, 403):
        raise exc
    return {"_form": exc.message}


# --- group buys -------------------------------------------------------------------------------


def _blank_group_buy() -> dict:
    return {"service_item_id": "", "title": "", "starts_at": "", "ends_at": "", "min_participants": "",
            "tiers": [{"min": "", "price": ""} for _ in range(TIER_ROWS)]}


def _group_buys_page(request: Request, session: Session, principal, merchant_id: int, *, form: dict | None = None,
                     errors: dict | None = None, notice: str | None = None, status: int = 200) -> HTMLResponse:
    merchant = merchants.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
    deals = session.scalars(select(GroupBuy).where(GroupBuy.merchant_id == merchant.id)
                            .order_by(GroupBuy.id.desc()).limit(LIST_LIMIT))
    items = session.scalars(select(ServiceItem).where(ServiceItem.merchant_id == merchant.id,
                                                      ServiceItem.status == CatalogStatus.ACTIVE)
                            .order_by(ServiceItem.id))
    return render(request, "marketing/c2b_console_group_buys.html", {
        "principal": principal, "merchant": merchant, "deals": [group_buy.read(session, d) for d in deals],
        "items": list(items), "zone": store_zone(session, merchant.id),
        "can_edit": principal.can(Action.CATALOG_MANAGE, merchant.id), "form": form or _blank_group_buy(),
        "errors": errors or {}, "notice": notice}, status=status)


@router.get("/merchant/{merchant_id}/group-buys", response_class=HTMLResponse)
def group_buys(merchant_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    notice = "created" if request.query_params.get("notice") == "created" else None
    return _group_buys_page(request, session, principal, merchant_id, notice=notice)


def _group_buy_data(form: FormData, zone: str) -> tuple[dict, GroupBuyCreate | None, dict]:
    values = {k: text(form, k, 64) for k in ("service_item_id", "title", "starts_at", "ends_at", "min_participants")}
    values["tiers"] = [{"min": text(form, f"tier_min_{n}", 9), "price": text(form, f"tier_price_{n}", 20)}
                       for n in range(TIER_ROWS)]
    errors: dict[str, str] = {}
    tiers = []
    for row in values["tiers"]:
        if not row["min"] and not row["price"]:
            continue
        try:
            price = parse_yuan(row["price"])
        except ValueError as exc:
            errors["tiers"] = str(exc)
            continue
        if _whole(row["min"]) is None:
            errors["tiers"] = N_("Give each tier a whole number of participants.")
            continue
        tiers.append({"min_participants": _whole(row["min"]), "price_fen": price})
    if not tiers and "tiers" not in errors:
        errors["tiers"] = N_("Give at least one tier.")
    moments = {}
    for name in ("starts_at", "ends_at"):
        if values[name]:
            try:
                moments[name] = parse_local(values[name], zone)
            except ValueError as exc:
                errors[name] = str(exc)
        elif name == "ends_at":
            errors[name] = N_("This field is required.")
    if values["min_participants"] and _whole(values["min_participants"]) is None:
        errors["min_participants"] = N_("Enter a whole number.")
    if _whole(values["service_item_id"]) is None:
        errors["service_item_id"] = N_("Pick one of the offered choices.")
    if errors:
        return values, None, errors
    try:
        data = GroupBuyCreate(service_item_id=_whole(values["service_item_id"]), title=values["title"],
                              tiers=[Tier(**t) for t in tiers], min_participants=_whole(values["min_participants"]),
                              starts_at=moments.get("starts_at"), ends_at=moments["ends_at"])
    except ValidationError as exc:
        return values, None, field_errors(exc) or {"_form": N_("Check the fields.")}
    return values, data, {}


@router.post("/merchant/{merchant_id}/group-buys", response_class=HTMLResponse)
def create_group_buy(merchant_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
                     form: CheckedForm) -> Response:
    return _create_from_form(request, session, principal, merchant_id, form, parse=_group_buy_data,
                             create=group_buy.create, page=_group_buys_page, path="group-buys")


def _create_from_form(request: Request, session, principal, merchant_id: int, form, *, parse, create, page,
                      path: str) -> Response:
    """Parse the console form, create through the service, and show the form again (422) with what is wrong."""
    if not principal.is_authenticated:
        return login_redirect(request)
    merchant = merchants.managed_merchant(session, principal, merchant_id, Action.CATALOG_MANAGE)
    values, data, errors = parse(form, store_zone(session, merchant.id))
    if data is not None:
        try:
            with session.begin_nested():
                create(session, principal, merchant.id, data)
        except DomainError as exc:
            errors = _refused(exc)
    if errors:
        return page(request, session, principal, merchant.id, form=values, errors=errors, status=422)
    return see_other(f"/merchant/{merchant.id}/{path}?notice=created")


# --- pre-sales --------------------------------------------------------------------------------


def _blank_presale() -> dict:
    return {"title": "", "closes_at": "",
            "candidates": [{"sku_id": "", "deposit": "", "threshold": ""} for _ in range(CANDIDATE_ROWS)]}


def _presales_page(request: Request, session: Session, principal, merchant_id: int, *, form: dict | None = None,
                   errors: dict | None = None, notice: str | None = None, status: int = 200) -> HTMLResponse:
    merchant = merchants.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
    sales = session.scalars(select(Presale).where(Presale.merchant_id == merchant.id)
                            .order_by(Presale.id.desc()).limit(LIST_LIMIT))
    skus = session.execute(select(Sku, Product).join(Product, Product.id == Sku.product_id)
                           .where(Product.merchant_id == merchant.id, Product.status == CatalogStatus.ACTIVE,
                                  Sku.status == CatalogStatus.ACTIVE).order_by(Product.id, Sku.id)).all()
    return render(request, "marketing/c2b_console_presales.html", {
        "principal": principal, "merchant": merchant, "presales": [presale.presale_read(session, p) for p in sales],
        "skus": [(s.id, f"{p.name_zh} {s.spec_zh}".strip(), s.price_fen) for s, p in skus],
        "zone": store_zone(session, merchant.id), "can_edit": principal.can(Action.CATALOG_MANAGE, merchant.id),
        "form": form or _blank_presale(), "errors": errors or {}, "notice": notice}, status=status)


@router.get("/merchant/{merchant_id}/presales", response_class=HTMLResponse)
def presales(merchant_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    notice = "created" if request.query_params.get("notice") == "created" else None
    return _presales_page(request, session, principal, merchant_id, notice=notice)


def _presale_data(form: FormData, zone: str) -> tuple[dict, PresaleCreate | None, dict]:
    values = {"title": text(form, "title", 64), "closes_at": text(form, "closes_at", 32),
              "candidates": [{"sku_id": text(form, f"sku_id_{n}", 20), "deposit": text(form, f"deposit_{n}", 20),
                              "threshold": text(form, f"threshold_{n}", 9)} for n in range(CANDIDATE_ROWS)]}
    errors: dict[str, str] = {}
    candidates = []
    for row in values["candidates"]:
        if not row["sku_id"]:
            continue
        try:
            deposit = parse_yuan(row["deposit"])
        except ValueError as exc:
            errors["candidates"] = str(exc)
            continue
        if _whole(row["sku_id"]) is None or _whole(row["threshold"]) is None:
            errors["candidates"] = N_("Give each candidate a SKU and a whole number of votes.")
            continue
        candidates.append({"sku_id": _whole(row["sku_id"]), "deposit_fen": deposit,
                           "threshold": _whole(row["threshold"])})
    if not candidates and "candidates" not in errors:
        errors["candidates"] = N_("Give at least one candidate.")
    closes_at = None
    try:
        closes_at = parse_local(values["closes_at"], zone)
    except ValueError as exc:
        errors["closes_at"] = str(exc)
    if errors:
        return values, None, errors
    try:
        data = PresaleCreate(title=values["title"], closes_at=closes_at,
                             candidates=[CandidateIn(**c) for c in candidates])
    except ValidationError as exc:
        return values, None, field_errors(exc) or {"_form": N_("Check the fields.")}
    return values, data, {}


@router.post("/merchant/{merchant_id}/presales", response_class=HTMLResponse)
def create_presale(merchant_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
                   form: CheckedForm) -> Response:
    return _create_from_form(request, session, principal, merchant_id, form, parse=_presale_data,
                             create=presale.create_presale, page=_presales_page, path="presales")
