"""The operator's page for product -> service links: review mined candidates with their figures, approve
or reject them, and add or adjust curated links.

Everything goes through linkage.service, as the JSON API (GET/POST/PATCH /api/v1/admin/links) does, so
the same rules apply: operators only, leaf service categories, a decided row is left alone by the seed
sync and the miner. Forms re-render with their messages (422) instead of failing.
"""

import math
from typing import Annotated
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from daodian.accounts.authz import Principal, require_operator
from daodian.accounts.dependencies import PagePrincipal
from daodian.kit.api.http import DbSession, ObjectId
from daodian.kit.api.pagination import Paging
from daodian.kit.errors import Conflict, DomainError, Invalid
from daodian.kit.html.forms import N_, CheckedForm, field_errors, login_redirect, safe_next, see_other, text
from daodian.kit.html.rendering import render
from daodian.linkage import service
from daodian.linkage.models import CategoryLink, LinkSource, LinkStatus
from daodian.linkage.schemas import LinkCreate, LinkUpdate
from daodian.taxonomy import service as taxonomy
from daodian.taxonomy.models import ProductCategory, ServiceCategory

router = APIRouter()

LIST = "/admin/links"
FILTERS = ("status", "source", "product_category", "service_category")
Filter = Annotated[str, Query(max_length=64)]


def _enum(kind: type[LinkStatus] | type[LinkSource], raw: str):
    """'' (the "all" choice of the filter form) is no filter; anything else must be a known value."""
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError as exc:
        raise Invalid(f"Unknown {kind.__name__} '{raw}'.", code="invalid_filter",
                      details={"allowed": [v.value for v in kind]}) from exc


def _trees(session) -> dict:
    return {"product_tree": taxonomy.category_tree(session, ProductCategory),
            "service_tree": taxonomy.category_tree(session, ServiceCategory)}


@router.get(LIST, response_class=HTMLResponse)
def links(request: Request, session: DbSession, principal: PagePrincipal, paging: Paging,
          status: Filter = "", source: Filter = "", product_category: Filter = "", service_category: Filter = "",
          saved: Annotated[int | None, Query(ge=1)] = None) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    require_operator(principal)
    rows, cursor = service.list_links(session, principal, paging, status=_enum(LinkStatus, status),
                                      source=_enum(LinkSource, source), product_category=product_category or None,
                                      service_category=service_category or None)
    filters = {"status": status, "source": source, "product_category": product_category,
               "service_category": service_category}
    chosen = {k: v for k, v in filters.items() if v}
    return render(request, "admin/links.html", {
        "principal": principal, "links": rows, "filters": filters, "saved": saved,
        "here": LIST + (f"?{urlencode(chosen)}" if chosen else ""),
        "more": f"?{urlencode({**chosen, 'cursor': cursor})}" if cursor else None, **_trees(session),
    })


@router.post(LIST + "/{link_id}/decision")
def decide(link_id: ObjectId, session: DbSession, principal: PagePrincipal, form: CheckedForm) -> Response:
    """Approve (live) or reject from the list; back to the same filtered list with a notice."""
    link = service.get_link(session, principal, link_id)
    status = _enum(LinkStatus, text(form, "status", 16))
    if status is None:
        raise Invalid("Pick live, rejected or candidate.", code="invalid_status")
    service.update_link(session, principal, link, LinkUpdate(status=status))
    return see_other(_with_saved(safe_next(text(form, "next", 2000), LIST), link.id))


def _with_saved(url: str, link_id: int) -> str:
    parts = urlsplit(url)
    if parts.path != LIST:  # only ever back to the list
        return f"{LIST}?saved={link_id}"
    query = [(k, v) for k, v in parse_qsl(parts.query) if k in FILTERS]
    return f"{LIST}?{urlencode([*query, ('saved', link_id)])}"


# --- one link: add a curated one, or change any one's status and strength --------------------------


def _strength(raw: str, errors: dict[str, str]) -> float | str:
    """'0.8' -> 0.8; the schema checks the range. Text that is no finite number is reported here."""
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        errors["strength"] = N_("Enter a number between 0 and 1, e.g. 0.8.")
        return raw
    return value


def _link_page(request: Request, session, principal: Principal, *, values: dict, link: CategoryLink | None = None,
               errors: dict | None = None, status: int = 200) -> HTMLResponse:
    read = service.link_reads(session, [link])[0] if link is not None else None
    return render(request, "admin/links_form.html", {
        "principal": principal, "link": read, "values": values, "errors": errors or {}, **_trees(session),
    }, status=status)


@router.get(LIST + "/new", response_class=HTMLResponse)
def new_link(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    require_operator(principal)
    return _link_page(request, session, principal, values={"strength": "0.8", "status": LinkStatus.LIVE.value})


@router.post(LIST + "/new", response_class=HTMLResponse)
def create_link(request: Request, session: DbSession, principal: PagePrincipal, form: CheckedForm) -> Response:
    require_operator(principal)
    shown = {f: text(form, f, 64) for f in ("product_category", "service_category", "strength", "status")}
    errors: dict[str, str] = {}
    values = {**shown, "strength": _strength(shown["strength"], errors)}
    try:
        data = LinkCreate.model_validate(values)
    except ValidationError as exc:
        errors = {**field_errors(exc), **errors}
    if errors:
        return _link_page(request, session, principal, values=shown, errors=errors, status=422)
    try:
        with session.begin_nested():
            link = service.create_link(session, principal, data)
    except DomainError as exc:
        return _link_page(request, session, principal, values=shown, errors=_domain_errors(exc), status=422)
    return see_other(f"{LIST}?saved={link.id}")


def _domain_errors(exc: DomainError) -> dict[str, str]:
    if isinstance(exc, Conflict):
        return {"_form": N_("This curated link exists already; change it instead."),
                "existing": str((exc.details or {}).get("link_id", ""))}
    if exc.code == "category_not_leaf":
        return {"service_category": N_("Pick a specific service, not a group.")}
    return {"_form": N_("Pick one of the offered choices.")}


@router.get(LIST + "/{link_id}", response_class=HTMLResponse)
def edit_link(link_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    link = service.get_link(session, principal, link_id)
    return _link_page(request, session, principal, link=link,
                      values={"strength": f"{link.strength:g}", "status": link.status})


@router.post(LIST + "/{link_id}", response_class=HTMLResponse)
def update_link(link_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
                form: CheckedForm) -> Response:
    link = service.get_link(session, principal, link_id)
    shown = {f: text(form, f, 64) for f in ("strength", "status")}
    errors: dict[str, str] = {}
    values = {"status": shown["status"], "strength": _strength(shown["strength"], errors)}
    try:
        data = LinkUpdate.model_validate(values)
    except ValidationError as exc:
        errors = {**field_errors(exc), **errors}
    if errors:
        return _link_page(request, session, principal, link=link, values=shown, errors=errors, status=422)
    service.update_link(session, principal, link, data)
    return see_other(f"{LIST}?saved={link.id}")
