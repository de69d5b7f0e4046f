"""Points routes: your balance, your transactions, spending at checkout."""

from fastapi import APIRouter, Response, status
from sqlalchemy import select

from daodian.accounts.dependencies import LoggedIn
from daodian.kit.api.http import DbSession, access
from daodian.kit.api.pagination import Page, Paging, fetch_page
from daodian.kit.api.scopes import declare
from daodian.kit.errors import Conflict
from daodian.loyalty import points
from daodian.loyalty.models import PointsTransaction
from daodian.loyalty.schemas import PointsBalance, PointsSpendIn, PointsTransactionRead

router = APIRouter(tags=["points"])
declare(router, "member:read", "member:write")  # the scopes apps' tokens need here (kit.api.scopes)


@router.get("/me/points", response_model=PointsBalance, openapi_extra=access("authenticated"))
def my_points(session: DbSession, principal: LoggedIn) -> PointsBalance:
    """Your points balance."""
    return PointsBalance(consumer_id=principal.user_id, balance=points.balance_of(session, principal.user_id))


@router.get("/me/points/transactions", response_model=Page[PointsTransactionRead],
            openapi_extra=access("authenticated"))
def my_transactions(session: DbSession, principal: LoggedIn, paging: Paging) -> Page[PointsTransactionRead]:
    """Your points earned, spent, expired and reversed, oldest first."""
    query = select(PointsTransaction).where(PointsTransaction.consumer_id == principal.user_id)
    rows, cursor = fetch_page(session, query, PointsTransaction.id, paging)
    return Page(items=[PointsTransactionRead.model_validate(t, from_attributes=True) for t in rows], next_cursor=cursor)


@router.post("/me/points/spends", status_code=status.HTTP_201_CREATED, response_model=PointsTransactionRead,
             openapi_extra=access("authenticated"),
             responses={200: {"model": PointsTransactionRead, "description": "Already spent with this reference."}})
def spend(body: PointsSpendIn, session: DbSession, principal: LoggedIn, response: Response) -> PointsTransactionRead:
    """Spend points at checkout; `reference` (your checkout or order id) makes a retry spend once.
    Errors: `insufficient_points` (409), `points_reference_reused` (409: same reference, other amount)."""
    before = session.scalar(select(PointsTransaction.id).where(PointsTransaction.kind == "spend",
                                                               PointsTransaction.reference == body.reference))
    txn = points.spend(session, principal.user_id, body.points, body.reference, merchant_id=body.merchant_id)
    if txn.consumer_id != principal.user_id:  # a reference is global; another consumer's is not yours to see
        raise Conflict("This reference was already used.", code="points_reference_reused")
    if before is not None:
        response.status_code = status.HTTP_200_OK
    return PointsTransactionRead.model_validate(txn, from_attributes=True)
