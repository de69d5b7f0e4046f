"""The operator's category pages: both trees with their codes, what each holds and its status; adding a
category (or a group), renaming one, retiring one and bringing it back, through taxonomy.editing. A form with
a problem shows the page again with localised messages (422), never the services' English."""

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from daodian.accounts.authz import Principal, require_operator
from daodian.accounts.dependencies import PagePrincipal
from daodian.catalog.models import Product
from daodian.kit.api.http import DbSession
from daodian.kit.errors import DomainError
from daodian.kit.html.forms import N_, CheckedForm, field_errors, login_redirect, see_other, text
from daodian.kit.html.rendering import render
from daodian.merchants.models import ServiceItem
from daodian.taxonomy import editing, repository
from daodian.taxonomy import service as taxonomy
from daodian.taxonomy.models import CategoryStatus, ProductCategory, ServiceCategory
from daodian.taxonomy.schemas import CATEGORY_CODE_PATTERN, CategoryCreate, CategoryRename

router = APIRouter()

KINDS = {"product": ProductCategory, "service": ServiceCategory}
Kind = Annotated[str, Path(pattern="^(product|service)$")]
Code = Annotated[str, Path(max_length=64, pattern=CATEGORY_CODE_PATTERN)]
NEW_FIELDS = ("parent", "code", "name_zh", "name_en")

# The services' stable error codes as the form's messages (msgids, translated when the page renders).
PROBLEMS = {
    "unknown_category": ("parent", N_("Pick one of the offered choices.")),
    "category_too_deep": ("parent", N_("A category goes under a group, not under another category.")),
    "category_parent_retired": ("_form", N_("Its group is retired; re-activate the group first.")),
    "category_code_outside_parent": ("code", N_("A group's code has no dot; a category's code is its group's code, a dot and one more part, e.g. auto_service.detailing.")),
    "category_code_taken": ("code", N_("This code is taken.")),
}
CODE_FORMAT = N_("Lower-case letters, digits and underscores, parts joined by dots, e.g. auto_service.detailing.")


def _problem(exc: DomainError) -> dict[str, str]:
    field, message = PROBLEMS.get(exc.code, ("_form", N_("This cannot be done now.")))
    return {field: message}


def _schema_errors(exc: ValidationError) -> dict[str, str]:
    errors = field_errors(exc)
    if errors.get("code") == "This is not in the expected format.":
        errors["code"] = CODE_FORMAT
    return errors


def _tree(session: Session, model) -> list[tuple[int, object]]:
    """(depth, row) of every category, retired ones too, each group followed by its categories."""
    rows = repository.all_categories(session, model)
    children: dict[int | None, list] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    out: list[tuple[int, object]] = []

    def walk(parent_id, depth):
        for row in children.get(parent_id, []):
            out.append((depth, row))
            walk(row.id, depth + 1)

    walk(None, 0)
    return out


def _counts(session: Session) -> dict[str, dict[str, int]]:
    return {
        "product": dict(session.execute(select(ProductCategory.code, func.count(Product.id))
                                        .join(Product, Product.category_id == ProductCategory.id)
                                        .group_by(ProductCategory.code)).all()),
        "service": dict(session.execute(select(ServiceCategory.code, func.count(ServiceItem.id))
                                        .join(ServiceItem, ServiceItem.category_id == ServiceCategory.id)
                                        .group_by(ServiceCategory.code)).all()),
    }


def _page(request: Request, session: Session, principal: Principal, *, kind: str | None = None,
          values: dict | None = None, errors: dict | None = None, saved: str | None = None,
          status: int = 200) -> HTMLResponse:
    trees = {k: _tree(session, model) for k, model in KINDS.items()}
    return render(request, "admin/categories.html", {
        "principal": principal, "trees": trees, "counts": _counts(session), "saved": saved,
        "form_kind": kind, "values": values or {}, "errors": errors or {},
    }, status=status)


@router.get("/admin/categories", response_class=HTMLResponse)
def categories(request: Request, session: DbSession, principal: PagePrincipal, saved: str | None = None) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    require_operator(principal)
    return _page(request, session, principal, saved=(saved or "")[:64] or None)


@router.post("/admin/categories/{kind}", response_class=HTMLResponse)
def add_category(kind: Kind, request: Request, session: DbSession, principal: PagePrincipal,
                 form: CheckedForm) -> Response:
    require_operator(principal)
    shown = {f: text(form, f, 200) for f in NEW_FIELDS}
    try:
        data = CategoryCreate(code=shown["code"], name_zh=shown["name_zh"], name_en=shown["name_en"],
                              parent=shown["parent"] or None)
    except ValidationError as exc:
        return _page(request, session, principal, kind=kind, values=shown, errors=_schema_errors(exc), status=422)
    try:
        with session.begin_nested():
            row = editing.create_category(session, principal, KINDS[kind], data)
    except DomainError as exc:
        if exc.status in (401, 403):
            raise
        return _page(request, session, principal, kind=kind, values=shown, errors=_problem(exc), status=422)
    return see_other(f"/admin/categories?saved={row.code}#{kind}-categories")


def _rename_page(request: Request, principal: Principal, kind: str, row, *, values: dict,
                 errors: dict | None = None, status: int = 200) -> HTMLResponse:
    return render(request, "admin/category_form.html", {
        "principal": principal, "kind": kind, "category": row, "values": values, "errors": errors or {},
    }, status=status)


@router.get("/admin/categories/{kind}/{code}", response_class=HTMLResponse)
def edit_category(kind: Kind, code: Code, request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    require_operator(principal)
    row = taxonomy.category(session, KINDS[kind], code)
    return _rename_page(request, principal, kind, row, values={"name_zh": row.name_zh, "name_en": row.name_en})


@router.post("/admin/categories/{kind}/{code}", response_class=HTMLResponse)
def rename_category(kind: Kind, code: Code, request: Request, session: DbSession, principal: PagePrincipal,
                    form: CheckedForm) -> Response:
    require_operator(principal)
    row = taxonomy.category(session, KINDS[kind], code)
    shown = {f: text(form, f, 200) for f in ("name_zh", "name_en")}
    try:
        data = CategoryRename(**shown)
    except ValidationError as exc:
        return _rename_page(request, principal, kind, row, values=shown, errors=_schema_errors(exc), status=422)
    editing.rename_category(session, principal, KINDS[kind], code, data)
    return see_other(f"/admin/categories?saved={code}#{kind}-categories")


@router.post("/admin/categories/{kind}/{code}/status", response_class=HTMLResponse)
def category_status(kind: Kind, code: Code, request: Request, session: DbSession, principal: PagePrincipal,
                    form: CheckedForm) -> Response:
    require_operator(principal)
    wanted = text(form, "status", 16)
    if wanted not in set(CategoryStatus):
        return _page(request, session, principal, errors={"_form": N_("Pick one of the offered choices.")},
                     status=422)
    try:
        with session.begin_nested():
            editing.set_status(session, principal, KINDS[kind], code, CategoryStatus(wanted))
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        return _page(request, session, principal, errors={"_form": _problem(exc).popitem()[1]}, status=422)
    return see_other(f"/admin/categories?saved={code}#{kind}-categories")
