"""A consumer's privacy controls: consents to merchants, a copy of all their data, deleting the account.

Deleting erases personal data (PERSONAL lists every column that holds some) and keeps every id: orders,
payments, records, reviews' ratings and the facts stay, tied to an account that no longer says who it
was, so that ledgers and totals still reconcile. The account cannot log in again.
"""

from typing import Any

from fastapi import APIRouter, Response, status
from fastapi.encoders import jsonable_encoder
from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import Session

from daodian.accounts import consent
from daodian.accounts.authz import Principal, require_login
from daodian.accounts.dependencies import LoggedIn
from daodian.accounts.models import AuthSession, User
from daodian.kit.api.http import DbSession, access
from daodian.kit.api.scopes import CLOSED, declare
from daodian.kit.clock import utcnow
from daodian.kit.db import Base
from daodian.kit.errors import NotFound

router = APIRouter(tags=["privacy"])
declare(router, CLOSED)  # closed to apps' tokens: a person's own account (kit.api.scopes)

ERASED_NAME = "已注销用户"  # "deleted account": what others see where the name used to be
UNUSABLE_PASSWORD = "!"  # no password hashes to this
SUBJECT_COLUMNS = ("consumer_id", "user_id")  # columns naming whose row it is
SECRET_COLUMNS = {"password_hash", "token_hash"}  # never exported, not even to their owner
# Free text a consumer wrote or gave, by table: blanked (or nulled) when the account is deleted.
PERSONAL: dict[str, dict[str, Any]] = {
    "orders": {"delivery_address": None, "note": ""},
    "reviews": {"text": ""},
}


def tombstone_phone(user_id: int) -> str:
    """Unique, and no phone number: login normalises to 11 digits starting with 1, so nobody can log in as it."""
    return f"deleted-{user_id}"


# --- export and deletion ----------------------------------------------------------------------------------


@router.get("/me/export", response_model=dict[str, Any], openapi_extra=access("authenticated"))
def export_me(principal: LoggedIn, session: DbSession) -> Any:
    """Everything stored about me, table by table (PIPL Art. 45): my rows, the rows that belong to them
    (an order's lines, payments, refunds...) and the facts about me."""
    return jsonable_encoder(export_data(session, principal))


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT, openapi_extra=access("authenticated"))
def delete_me(principal: LoggedIn, session: DbSession) -> Response:
    """Delete my account: personal data erased, logins ended; ledgers kept under the bare account id."""
    erase_account(session, principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _subject_tables() -> list[tuple[Table, str]]:
    out = []
    for table in Base.metadata.sorted_tables:
        for name in SUBJECT_COLUMNS:
            column = table.columns.get(name)
            if column is not None and any(fk.column.table.name == "users" for fk in column.foreign_keys):
                out.append((table, name))
    return out


def _rows(session: Session, table: Table, where) -> list[dict[str, Any]]:
    return [{k: v for k, v in row._mapping.items() if k not in SECRET_COLUMNS}
            for row in session.execute(select(table).where(where).order_by(*table.primary_key.columns))]


def export_data(session: Session, principal: Principal) -> dict[str, Any]:
    require_login(principal)
    user = session.get(User, principal.user_id)
    if user is None:
        raise NotFound()
    data: dict[str, list[dict[str, Any]]] = {"users": _rows(session, User.__table__, User.id == user.id)}
    for table, column in _subject_tables():
        rows = _rows(session, table, table.columns[column] == user.id)
        if rows:
            data.setdefault(table.name, []).extend(rows)
    # Rows hanging off mine (an order's lines, a voucher's verifications...), two levels down.
    for _ in range(2):
        for table in Base.metadata.sorted_tables:
            for fk in table.foreign_keys:
                parent = fk.column.table.name
                if parent in ("users", table.name) or parent not in data or fk.column.name != "id":
                    continue
                ids = {row["id"] for row in data[parent]}
                known = {row.get("id") for row in data.get(table.name, [])}
                rows = [r for r in _rows(session, table, fk.parent.in_(ids)) if r.get("id") not in known] if ids else []
                if rows:
                    data.setdefault(table.name, []).extend(rows)
    return {"account_id": user.id, "exported_at": utcnow(), "tables": data}


def erase_account(session: Session, principal: Principal) -> None:
    """Erase the caller's personal data and end their sessions; ids, amounts and facts stay."""
    require_login(principal)
    user = session.get(User, principal.user_id)
    if user is None:
        raise NotFound()
    user.phone, user.display_name, user.password_hash = tombstone_phone(user.id), ERASED_NAME, UNUSABLE_PASSWORD
    user.member_code, user.locale, user.is_active, user.is_operator = None, None, False, False
    for table_name, values in PERSONAL.items():
        table = Base.metadata.tables[table_name]
        session.execute(update(table).where(table.columns["consumer_id"] == user.id).values(**values))
    session.execute(delete(AuthSession).where(AuthSession.user_id == user.id))
    idempotency = Base.metadata.tables["idempotency_keys"]  # stored responses may repeat an address
    session.execute(delete(idempotency).where(idempotency.columns["scope"] == f"user:{user.id}"))
    segments = Base.metadata.tables["member_segments"]
    session.execute(delete(segments).where(segments.columns["consumer_id"] == user.id))
    consent.withdraw(session, user.id)
    session.flush()
