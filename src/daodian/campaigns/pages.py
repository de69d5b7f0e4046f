"""The merchant's marketing console: coupon templates and segment campaigns, with the audience size shown
before sending and never the people. The same authorization as the API: `console.view` to look,
`catalog.manage` to create templates or send campaigns."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select
from starlette.datastructures import FormData

from daodian.accounts.authz import Action
from daodian.accounts.dependencies import PagePrincipal
from daodian.campaigns import service as campaigns
from daodian.campaigns.audience_guard import INACTIVE_LADDER
from daodian.campaigns.models import Campaign
from daodian.campaigns.schemas import AudienceIn, CampaignIn
from daodian.coupons import service as coupons
from daodian.coupons.models import Coupon, CouponStatus, CouponTemplate
from daodian.coupons.schemas import TemplateCreate
from daodian.kit.api.http import DbSession, ObjectId
from daodian.kit.clock import utcnow
from daodian.kit.errors import DomainError
from daodian.kit.html.forms import CheckedForm, field_errors, login_redirect, parse_yuan, see_other, text
from daodian.kit.html.rendering import render
from daodian.merchants import service as merchants

router = APIRouter()


SEGMENTS = ("all", "new", "returning", "inactive", "high_value")


def _console(request: Request, session, principal, merchant_id: int, *, form: dict | None = None,
             errors: dict | None = None, audience=None, campaign: dict | None = None, notice: str | None = None,
             status: int = 200) -> HTMLResponse:
    merchant = merchants.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
    templates = list(session.scalars(select(CouponTemplate).where(CouponTemplate.merchant_id == merchant.id)
                                     .order_by(CouponTemplate.id.desc()).limit(100)))
    used = dict(session.execute(select(Coupon.template_id, func.count()).where(
        Coupon.template_id.in_([t.id for t in templates]), Coupon.status == CouponStatus.USED)
        .group_by(Coupon.template_id)).all())
    rows = [{"t": t, "claimed": t.total_quantity - t.remaining, "used": used.get(t.id, 0)} for t in templates]
    sent = list(session.scalars(select(Campaign).where(Campaign.merchant_id == merchant.id)
                                .order_by(Campaign.id.desc()).limit(50)))
    names = {t.id: t.name for t in templates}
    return render(request, "marketing/console.html", {
        "principal": principal, "merchant": merchant, "templates": rows, "campaigns": sent, "names": names,
        "can_edit": principal.can(Action.CATALOG_MANAGE, merchant.id), "form": form or _blank_template(),
        "errors": errors or {}, "audience": audience, "campaign": campaign or {"segment": "all"},
        "segments": SEGMENTS, "inactive_ladder": INACTIVE_LADDER, "notice": notice}, status=status)


def _blank_template() -> dict:
    return {"name": "", "kind": "threshold", "threshold": "", "amount": "", "percent_off": "", "cap": "",
            "valid_days": "30", "claim_days": "7", "total_quantity": "100", "per_user_limit": "1"}


def _optional_int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**53 else None


@router.get("/merchant/{merchant_id}/marketing", response_class=HTMLResponse)
def console(merchant_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
            notice: Annotated[str | None, Query(max_length=16)] = None,
            segment: Annotated[str | None, Query(max_length=16)] = None,
            inactive_days: Annotated[str | None, Query(max_length=8)] = None,
            template_id: Annotated[str | None, Query(max_length=16)] = None) -> Response:
    """With `segment`, also the audience size of that segment (the "check audience" step before sending).
    The form sends its empty choices as empty strings ("inactive for" left blank): they mean "not given"."""
    if not principal.is_authenticated:
        return login_redirect(request)
    inactive_days, template_id = _optional_int(inactive_days), _optional_int(template_id)
    audience, campaign = None, {"segment": segment or "all", "inactive_days": inactive_days,
                                "template_id": template_id}
    if segment in SEGMENTS:
        merchants.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
        try:
            data = AudienceIn(segment=segment, inactive_days=inactive_days if segment == "inactive" else None)
            audience = campaigns.audience(session, principal, merchant_id, data,
                                          request.app.state.settings.privacy_min_group)
        except ValidationError:
            campaign["error"] = "inactive_days"
    return _console(request, session, principal, merchant_id, audience=audience, campaign=campaign, notice=notice)


def _template_data(form: FormData) -> tuple[dict, TemplateCreate | None, dict]:
    values = {k: text(form, k, 64) for k in _blank_template()}
    errors: dict[str, str] = {}
    fen = {}
    for name in ("threshold", "amount", "cap"):
        if values[name]:
            try:
                fen[name] = parse_yuan(values[name])
            except ValueError as exc:
                errors[name] = str(exc)
    if errors:
        return values, None, errors
    n = {k: int(values[k]) if values[k].isdigit() and len(values[k]) < 9 else None
         for k in ("claim_days", "percent_off", "valid_days", "total_quantity", "per_user_limit")}
    try:
        data = TemplateCreate(
            name=values["name"], kind=values["kind"], threshold_fen=fen.get("threshold", 0),
            amount_fen=fen.get("amount") if values["kind"] != "percent" else None,
            percent_off=n["percent_off"] if values["kind"] == "percent" else None,
            cap_fen=fen.get("cap") if values["kind"] == "percent" else None,
            claim_ends_at=utcnow() + timedelta(days=max(n["claim_days"] or 1, 1)), valid_days=n["valid_days"],
            total_quantity=n["total_quantity"] or 0, per_user_limit=n["per_user_limit"] or 1)
    except ValidationError as exc:
        return values, None, field_errors(exc) or {"_form": "invalid"}
    return values, data, {}


@router.post("/merchant/{merchant_id}/marketing/templates", response_class=HTMLResponse)
def create_template(merchant_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
                    form: CheckedForm) -> Response:
    merchant = merchants.managed_merchant(session, principal, merchant_id, Action.CATALOG_MANAGE)
    values, data, errors = _template_data(form)
    if data is not None:
        try:
            with session.begin_nested():
                coupons.create_template(session, principal, merchant.id, data)
        except DomainError as exc:
            errors = {"_form": exc.message}
    if errors:
        return _console(request, session, principal, merchant.id, form=values, errors=errors, status=422)
    return see_other(f"/merchant/{merchant.id}/marketing?notice=created")


@router.post("/merchant/{merchant_id}/marketing/campaigns", response_class=HTMLResponse)
def send_campaign(merchant_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
                  form: CheckedForm) -> Response:
    merchant = merchants.managed_merchant(session, principal, merchant_id, Action.CATALOG_MANAGE)
    raw_days, raw_template = text(form, "inactive_days", 5), text(form, "template_id", 20)
    values = {"segment": text(form, "segment", 16), "template_id": int(raw_template) if raw_template.isdigit() else None,
              "inactive_days": int(raw_days) if raw_days.isdigit() else None}
    threshold = request.app.state.settings.privacy_min_group
    try:
        data = CampaignIn(segment=values["segment"], template_id=values["template_id"] or 0,
                          inactive_days=values["inactive_days"] if values["segment"] == "inactive" else None)
    except ValidationError:
        return _console(request, session, principal, merchant.id, status=422,
                        campaign={**values, "error": "invalid"})
    try:
        with session.begin_nested():
            campaigns.send(session, principal, merchant.id, data, threshold)
    except DomainError as exc:
        if exc.status in (401, 403):
            raise
        audience = campaigns.audience(session, principal, merchant.id, AudienceIn(
            segment=data.segment, inactive_days=data.inactive_days), threshold)
        return _console(request, session, principal, merchant.id, audience=audience, status=exc.status,
                        campaign={**values, "error": exc.code})
    return see_other(f"/merchant/{merchant.id}/marketing?notice=sent")
