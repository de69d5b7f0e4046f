"""The operator's promotions page: running and upcoming promotions (or all), a form to sell a store a window
of promotion slots, and a button to end one early, through merchants.promotions. Times are typed in the
store's local time and stored in UTC; a form with a problem shows again with localised messages (422)."""

from datetime import datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from daodian.accounts.authz import Principal, require_operator
from daodian.accounts.dependencies import PagePrincipal
from daodian.kit.api.http import DbSession, ObjectId
from daodian.kit.api.pagination import PageParams, Paging
from daodian.kit.clock import utcnow
from daodian.kit.errors import DomainError
from daodian.kit.html.forms import N_, CheckedForm, field_errors, login_redirect, see_other, text
from daodian.kit.html.moments import DEFAULT_ZONE
from daodian.kit.html.rendering import render
from daodian.merchants import promotions
from daodian.merchants.models import Store

router = APIRouter()

FIELDS = ("store_id", "starts", "ends", "note")
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends
BAD_MOMENT = N_("Enter a date and time, e.g. 2026-05-01 09:00.")
# merchants.promotions' window rules, in the words of the form (msgids, translated when the page renders).
WINDOW_PROBLEMS = {
    "ends_at must be after starts_at": N_("The end must be after the start."),
    "a promotion may run at most 366 days": N_("A promotion runs at most 366 days."),
    "this promotion would already be over; ends_at must be in the future": N_("The end must be in the future."),
}


def _local(raw: str, zone: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if moment.tzinfo is not None or not 2000 <= moment.year <= 2999:
        return None
    return moment.replace(tzinfo=ZoneInfo(zone))


def _defaults() -> dict:
    now = utcnow().astimezone(ZoneInfo(DEFAULT_ZONE)).replace(second=0, microsecond=0)
    return {"store_id": "", "starts": now.strftime(LOCAL_FORMAT),
            "ends": (now + timedelta(days=7)).strftime(LOCAL_FORMAT), "note": ""}


def _page(request: Request, session: Session, principal: Principal, paging: PageParams, *, everything: bool = False,
          values: dict | None = None, errors: dict | None = None, notice: str | None = None,
          status: int = 200) -> HTMLResponse:
    rows, cursor = promotions.list_promotions(session, principal, paging, store_id=None, include_inactive=everything)
    stores = {s.id: s for s in session.scalars(select(Store).where(Store.id.in_({p.store_id for p in rows})))}
    return render(request, "admin/promotions.html", {
        "principal": principal, "promotions": rows, "stores": stores, "next_cursor": cursor, "everything": everything,
        "values": values or _defaults(), "errors": errors or {}, "notice": notice,
    }, status=status)


@router.get("/admin/promotions", response_class=HTMLResponse)
def store_promotions(request: Request, session: DbSession, principal: PagePrincipal, paging: Paging,
                     everything: Annotated[bool, Query(alias="all")] = False,
                     done: Annotated[str | None, Query(pattern="^(created|ended)$")] = None) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    require_operator(principal)
    return _page(request, session, principal, paging, everything=everything, notice=done)


@router.post("/admin/promotions/new", response_class=HTMLResponse)
def create_promotion(request: Request, session: DbSession, principal: PagePrincipal, form: CheckedForm) -> Response:
    require_operator(principal)
    shown = {f: text(form, f, 1000) for f in FIELDS}  # longer than allowed: the schema says so
    errors: dict[str, str] = {}
    store_id = int(shown["store_id"]) if shown["store_id"].isascii() and shown["store_id"].isdigit() \
        and len(shown["store_id"]) < 19 else None
    store = session.get(Store, store_id) if store_id else None
    if store is None:
        errors["store_id"] = N_("There is no store with this number.")
    zone = store.timezone if store is not None else DEFAULT_ZONE
    starts, ends = _local(shown["starts"], zone), _local(shown["ends"], zone)
    for field, moment in (("starts", starts), ("ends", ends)):
        if moment is None:
            errors[field] = BAD_MOMENT
    if not errors:
        try:
            data = promotions.PromotionCreate(store_id=store_id, starts_at=starts, ends_at=ends, note=shown["note"])
        except ValidationError as exc:
            for field, message in field_errors(exc).items():
                errors["ends" if message in WINDOW_PROBLEMS else field] = WINDOW_PROBLEMS.get(message, message)
    if not errors:
        try:
            with session.begin_nested():
                promotions.create_promotion(session, principal, data)
        except DomainError as exc:
            if exc.status in (401, 403):
                raise
            errors["store_id"] = N_("There is no store with this number.")
    if errors:
        return _page(request, session, principal, PageParams(limit=20, after_id=None), values=shown, errors=errors,
                     status=422)
    return see_other("/admin/promotions?done=created")


@router.post("/admin/promotions/{promotion_id}/end")
def end_promotion(promotion_id: ObjectId, session: DbSession, principal: PagePrincipal, form: CheckedForm) -> Response:
    require_operator(principal)
    promotions.cancel_promotion(session, principal, promotion_id)
    return see_other("/admin/promotions?done=ended")
