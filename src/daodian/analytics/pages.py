"""Dashboards: the merchant's (its own data, through the privacy guard) and the operator's (across
merchants). Charts are drawn by ECharts from JSON the page carries; every chart has a CSV export."""

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from daodian.accounts.authz import Action, require_operator
from daodian.accounts.dependencies import PagePrincipal
from daodian.analytics.reports import Report
from daodian.analytics.service import MERCHANT_REPORTS, OPERATOR_REPORTS, Analytics, Params
from daodian.kit import i18n
from daodian.kit.api.http import DbSession, ObjectId
from daodian.kit.errors import Invalid, NotFound
from daodian.kit.html.forms import N_, login_redirect
from daodian.kit.html.rendering import render, request_locale
from daodian.merchants import service as merchants

router = APIRouter()

PERIOD = r"^(all|\d{4}|\d{4}-(0[1-9]|1[0-2]))$"
Grain = Annotated[str, Query(pattern="^(day|week|month)$")]
Period = Annotated[str, Query(pattern=PERIOD)]
# Chart labels, translated on the server and handed to the charts with the data.
LABELS = {"new": N_("New"), "won_back": N_("Won back"), "active": N_("Active"), "at_risk": N_("At risk"),
          "churned": N_("Churned"), "total": N_("All members"),
          # segments have msgids of their own: "Active" alone is a merchant's status (已启用), not a member's
          "segment_new": N_("New members"), "segment_won_back": N_("Won-back members"),
          "segment_active": N_("Active members"), "segment_at_risk": N_("Members at risk"),
          "segment_churned": N_("Churned members"), "other": N_("Other"), "withheld": N_("withheld (fewer than k)"),
          "online": N_("Online (no store)"), "issued": N_("Issued"), "claimed": N_("Claimed"),
          "redeemed": N_("Redeemed"), "amount": N_("Net sales"), "members": N_("Members"),
          "month_offset": N_("Months after the first purchase"), "cohort": N_("First purchase month")}


def _params(grain: str, period: str) -> Params:
    try:
        return Params(grain=grain, period=period)
    except ValidationError as exc:  # pragma: no cover - the query patterns keep bad values out
        raise Invalid(str(exc)) from exc


def _labels(request: Request) -> dict[str, str]:
    token = i18n.current_locale.set(request_locale(request))
    try:
        return {key: i18n.gettext(text) for key, text in LABELS.items()}
    finally:
        i18n.current_locale.reset(token)


@router.get("/merchant/{merchant_id}/analytics", response_class=HTMLResponse)
def merchant_dashboard(merchant_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
                       grain: Grain = "month", period: Period = "all") -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    merchant = merchants.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
    analytics = Analytics(request.app.state.settings)
    params = _params(grain, period)
    data = {name: analytics.merchant_report(session, principal, merchant.id, name, params)
            for name in ("sales", "sku-ranking", "stores", "coupon-funnel", "segments", "retention",
                         "coupon-attribution", "follow-attribution")}
    charts = {name: {"columns": r.columns, "rows": r.rows, "notes": r.notes} for name, r in data.items()}
    return render(request, "analytics/merchant.html", {
        "principal": principal, "merchant": merchant, "grain": grain, "period": period, "reports": data,
        "k": analytics.k, "watermark": data["sales"].notes.get("watermark", 0),
        "chart_data": _json({"reports": charts, "labels": _labels(request)}),
    })


@router.get("/merchant/{merchant_id}/analytics/{report}.csv")
def merchant_csv(merchant_id: ObjectId, report: str, request: Request, session: DbSession, principal: PagePrincipal,
                 grain: Grain = "month", period: Period = "all") -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    analytics = Analytics(request.app.state.settings)
    if report == "members":
        result = analytics.members(session, principal, merchant_id)
    elif report in MERCHANT_REPORTS:
        result = analytics.merchant_report(session, principal, merchant_id, report, _params(grain, period))
    else:
        raise NotFound("No such report.")
    return _csv(result, f"{report}-{merchant_id}")


@router.get("/admin/analytics", response_class=HTMLResponse)
def operator_dashboard(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    require_operator(principal)
    analytics = Analytics(request.app.state.settings)
    data = {name: analytics.operator_report(principal, name) for name in OPERATOR_REPORTS}
    status = analytics.export_status(principal, request.app.state.session_factory)
    names = merchants.merchants_by_ids(session, {int(r["merchant_id"]) for r in data["merchants"].rows
                                                 if r.get("merchant_id") is not None})
    top = sorted(data["merchants"].rows, key=lambda r: -(r["amount_fen"] or 0))[:50]
    for row in top:
        merchant = names.get(row["merchant_id"])
        row["name"] = merchant.name if merchant else ""
    charts = {name: {"columns": r.columns, "rows": r.rows} for name, r in data.items()}
    return render(request, "analytics/operator.html", {
        "principal": principal, "merchant": None, "reports": data, "top": top, "status": status,
        "chart_data": _json({"reports": charts, "labels": _labels(request)}),
    })


@router.get("/admin/analytics/{report}.csv")
def operator_csv(report: str, request: Request, principal: PagePrincipal) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    if report not in OPERATOR_REPORTS:
        raise NotFound("No such report.")
    return _csv(Analytics(request.app.state.settings).operator_report(principal, report), report)


def _json(data: dict) -> str:
    """JSON to put inside <script>: no `<`, so no text in it (a store name) can close the element."""
    return json.dumps(data, ensure_ascii=False, default=str).replace("<", "\\u003c")


def _csv(report: Report, filename: str) -> Response:
    return Response(report.csv(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'})
