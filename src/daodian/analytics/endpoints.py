"""Dashboard data as JSON (or CSV with `?format=csv`): merchants' own reports through the privacy guard,
the operator's across merchants, and the export's state."""

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from daodian.accounts.dependencies import ApiPrincipal
from daodian.analytics.reports import Report
from daodian.analytics.service import MERCHANT_REPORTS, OPERATOR_REPORTS, Analytics, Params
from daodian.kit.api.http import DbSession, ObjectId, access
from daodian.kit.api.scopes import declare

router = APIRouter(tags=["analytics"])
declare(router, "analytics:read")  # the scopes apps' tokens need here (kit.api.scopes)

CSV = {200: {"content": {"text/csv": {"schema": {"type": "string"}}},
             "description": "The report; `?format=csv` gives CSV instead of JSON."}}
Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv.")]


class ReportOut(BaseModel):
    report: str
    columns: list[str] = Field(description="Column order, also of the CSV form.")
    rows: list[dict[str, Any]] = Field(description="Suppressed figures are null (and `suppressed` is true).")
    notes: dict[str, Any] = Field(description="k, the export watermark and report-specific remarks.")


class ExportStatus(BaseModel):
    watermark: int = Field(description="Last fact id in the Parquet.")
    facts: int
    lines: int
    updated_at: str | None
    pending: int = Field(description="Facts in the database not exported yet.")
    runs: list[dict[str, Any]]


def _out(report: Report, fmt: str, filename: str) -> ReportOut | Response:
    if fmt == "csv":
        return Response(report.csv(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'})
    return ReportOut(report=report.name, columns=report.columns, rows=report.rows, notes=report.notes)


def _analytics(request: Request) -> Analytics:
    return Analytics(request.app.state.settings)


def _merchant_route(name: str):
    def route(merchant_id: ObjectId, request: Request, session: DbSession, principal: ApiPrincipal,
              grain: Annotated[Literal["day", "week", "month"], Query(description="Bucket size.")] = "day",
              period: Annotated[str, Query(pattern=r"^(all|\d{4}|\d{4}-(0[1-9]|1[0-2]))$",
                                           description="all, a year (2024) or a month (2024-03).")] = "all",
              item: Annotated[str | None, Query(pattern=r"^(sku|service|refund|discount):\d{1,18}$",
                                                description="One item's series, e.g. sku:12.")] = None,
              limit: Annotated[int, Query(ge=1, le=500)] = 20,
              window_days: Annotated[int, Query(ge=1, le=366)] = 30,
              as_of: Annotated[date | None, Query(description="Segments as of this day (default today).")] = None,
              format: Format = "json") -> Any:
        params = Params(grain=grain, period=period, item=item, limit=limit, window_days=window_days, as_of=as_of)
        report = _analytics(request).merchant_report(session, principal, merchant_id, name, params)
        return _out(report, format, f"{name}-{merchant_id}")

    route.__doc__ = f"The merchant's `{name}` report (its own facts, k-anonymous; see analytics.privacy)."
    return route


for _name in MERCHANT_REPORTS:
    router.add_api_route(f"/merchants/{{merchant_id}}/analytics/{_name}", _merchant_route(_name), methods=["GET"],
                         response_model=ReportOut, responses=CSV, name=f"analytics_{_name.replace('-', '_')}",
                         openapi_extra=access("merchant:console.view"))


@router.get("/merchants/{merchant_id}/members", response_model=ReportOut, responses=CSV,
            openapi_extra=access("merchant:console.view"))
def members(merchant_id: ObjectId, request: Request, session: DbSession, principal: ApiPrincipal,
            format: Format = "json") -> Any:
    """Members who consented to be identified to this merchant (PIPL Art. 23), with RFM scores and segment;
    everyone else only as a count (suppressed below k)."""
    return _out(_analytics(request).members(session, principal, merchant_id), format, f"members-{merchant_id}")


def _operator_route(name: str):
    def route(request: Request, principal: ApiPrincipal, format: Format = "json") -> Any:
        return _out(_analytics(request).operator_report(principal, name), format, name)

    route.__doc__ = f"Operator report `{name}` across all merchants."
    return route


for _name in OPERATOR_REPORTS:
    router.add_api_route(f"/admin/analytics/{_name}", _operator_route(_name), methods=["GET"], response_model=ReportOut,
                         responses=CSV, name=f"admin_analytics_{_name}", openapi_extra=access("operator"))


@router.get("/admin/analytics/export", response_model=ExportStatus, openapi_extra=access("operator"))
def export_status(request: Request, principal: ApiPrincipal) -> ExportStatus:
    """How far `daodian facts export` has come, and how many facts wait for the next run."""
    return ExportStatus(**_analytics(request).export_status(principal, request.app.state.session_factory))
