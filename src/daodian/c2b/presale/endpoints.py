"""Pre-sale routes: the public list and page data, voting (a deposit order), the merchant's console and close."""

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import select

from daodian.accounts.authz import Action, require_login
from daodian.accounts.dependencies import LoggedIn
from daodian.accounts.own_transaction_deps import AppSettings, Factory, OwnLoggedIn, scope_of
from daodian.c2b.presale import close as presale_close
from daodian.c2b.presale import service as presales
from daodian.c2b.presale.models import Presale, PresaleStatus, PresaleVote
from daodian.c2b.presale.schemas import PresaleCreate, PresaleRead, VoteIn, VoteRead
from daodian.kit.api import idempotency
from daodian.kit.api.http import DbSession, ObjectId, access, transaction_factory
from daodian.kit.api.pagination import Page, Paging, fetch_page
from daodian.kit.api.scopes import declare
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.merchants import service as merchants

router = APIRouter(tags=["presales"])
declare(router, "marketing:read", "marketing:write")  # the scopes apps' tokens need here (kit.api.scopes)


@router.get("/presales", response_model=Page[PresaleRead], openapi_extra=access("public"))
def open_presales(session: DbSession, paging: Paging) -> Page[PresaleRead]:
    """Pre-sales taking votes now, oldest first."""
    stmt = select(Presale).where(Presale.status == PresaleStatus.OPEN, Presale.closes_at > utcnow())
    rows, cursor = fetch_page(session, stmt, Presale.id, paging)
    return Page(items=[presales.presale_read(session, p) for p in rows], next_cursor=cursor)


@router.get("/presales/{presale_id}", response_model=PresaleRead, openapi_extra=access("public"))
def presale_detail(presale_id: ObjectId, session: DbSession) -> PresaleRead:
    """One pre-sale with its candidates: paid votes against each threshold, and the outcome once closed.
    Errors: `presale_not_found` (404)."""
    return presales.presale_read(session, presales.get_presale(session, presale_id))


@router.post("/presales/{presale_id}/candidates/{candidate_id}/votes", status_code=status.HTTP_201_CREATED,
             response_model=VoteRead, openapi_extra=idempotency.openapi("authenticated"))
def vote(presale_id: ObjectId, candidate_id: ObjectId, body: VoteIn, request: Request, principal: OwnLoggedIn,
         idempotency_key: idempotency.KeyHeader) -> JSONResponse:
    """Vote for a candidate: creates your unpaid deposit order (`deposit_order_id`); pay it through
    `/orders/{id}/payments` like any order. The vote counts once the deposit is paid. If the candidate wins
    at close you get a balance order (price - deposit) holding one unit of the SKU, or, if the SKU has sold out
    by then, your deposit back in full; if it loses the deposit is refunded in full.
    Requires `Idempotency-Key`. Errors: `presale_not_found`, `presale_candidate_not_found` (404),
    `presale_not_open`, `presale_already_voted`, `not_for_sale` (409), `validation_error`, `invalid_store` (422)."""
    require_login(principal)
    factory, settings = transaction_factory(request), request.app.state.settings

    def work(claim: idempotency.Claim):
        with unit_of_work(factory) as session:
            ballot = presales.vote(session, principal, presale_id, candidate_id, body, settings)
            read = VoteRead.model_validate(ballot)
            claim.complete(session, 201, idempotency.dump(read))
        return 201, read

    return idempotency.run(request, scope=scope_of(principal), key=idempotency_key, body=body, work=work)


@router.get("/me/presale-votes", response_model=Page[VoteRead], openapi_extra=access("authenticated"))
def my_votes(session: DbSession, principal: LoggedIn, paging: Paging) -> Page[VoteRead]:
    """Your votes with their deposit, balance and refund."""
    rows, cursor = fetch_page(session, select(PresaleVote).where(PresaleVote.consumer_id == principal.user_id),
                              PresaleVote.id, paging)
    return Page(items=[VoteRead.model_validate(v) for v in rows], next_cursor=cursor)


@router.post("/merchants/{merchant_id}/presales", status_code=status.HTTP_201_CREATED, response_model=PresaleRead,
             openapi_extra=access("merchant:catalog.manage"))
def create_presale(merchant_id: ObjectId, body: PresaleCreate, session: DbSession, principal: LoggedIn) -> PresaleRead:
    """List candidate SKUs of this merchant for a vote. Errors: `invalid_presale` (422: deposit not below the
    price, threshold below 1, closing time past, a SKU twice), `unknown_line_item` (404: not this merchant's SKU)."""
    return presales.presale_read(session, presales.create_presale(session, principal, merchant_id, body))


@router.get("/merchants/{merchant_id}/presales", response_model=Page[PresaleRead],
            openapi_extra=access("merchant:console.view"))
def merchant_presales(merchant_id: ObjectId, session: DbSession, principal: LoggedIn,
                      paging: Paging) -> Page[PresaleRead]:
    """All of a merchant's pre-sales, for its staff."""
    merchants.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
    rows, cursor = fetch_page(session, select(Presale).where(Presale.merchant_id == merchant_id), Presale.id, paging)
    return Page(items=[presales.presale_read(session, p) for p in rows], next_cursor=cursor)


@router.post("/merchants/{merchant_id}/presales/{presale_id}/close", response_model=PresaleRead,
             openapi_extra=access("merchant:catalog.manage"))
def close_presale(merchant_id: ObjectId, presale_id: ObjectId, principal: OwnLoggedIn, factory: Factory,
                  settings: AppSettings) -> PresaleRead:
    """Close a pre-sale past its closing time now rather than waiting for the job. Closing twice is harmless:
    the second call returns the closed pre-sale. Winners get balance orders in the order they voted while the SKU
    has stock; a winner it has none left for is refunded in full (refund reason `presale_sold_out`) and the close
    still succeeds. Errors: `presale_not_found` (404), `presale_not_due` (409)."""
    presale_close.close_by_merchant(factory, settings, principal, merchant_id, presale_id)
    with unit_of_work(factory, read_only=True) as session:
        return presales.presale_read(session, presales.get_presale(session, presale_id))
