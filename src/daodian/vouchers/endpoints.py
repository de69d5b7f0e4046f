"""Voucher routes: the consumer's vouchers and QR codes, verification at the counter, reversal."""

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from daodian.accounts.authz import Action, require_login
from daodian.accounts.dependencies import CallerId
from daodian.accounts.own_transaction_deps import AppSettings, Factory, OwnLoggedIn, TerminalId
from daodian.kit.api.group_commit import group_commit_of
from daodian.kit.api.http import ObjectId, QueryId, access
from daodian.kit.api.pagination import Page, Paging, fetch_page
from daodian.kit.api.scopes import CLOSED, declare, route_scope
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.merchants import service as merchants
from daodian.vouchers import counter, qr
from daodian.vouchers import repository as voucher_repository
from daodian.vouchers import service as vouchers
from daodian.vouchers.code_path import CODE_PATTERN
from daodian.vouchers.errors import VoucherNotFound
from daodian.vouchers.models import Verification, Voucher
from daodian.vouchers.schemas import VerificationRead, VerifyIn, VoucherRead

router = APIRouter(tags=["vouchers"])
declare(router, "order:read", "order:write")  # the scopes apps' tokens need here (kit.api.scopes)
# `{code:voucher_code}` (vouchers.code_path): only code-shaped segments reach these routes, not `/vouchers/verify`.
CodePath = Annotated[str, Path(pattern=f"^{CODE_PATTERN}$", description="The voucher code (any grouping).")]


@router.get("/vouchers", response_model=Page[VoucherRead], openapi_extra=access("self"))
def my_vouchers(principal: OwnLoggedIn, factory: Factory, paging: Paging) -> Page[VoucherRead]:
    """The caller's vouchers, oldest first. A voucher of a group-buy join carries `group_buy` with the deal's
    `outcome`: while it is `pending` (the deal is still gathering participants until `ends_at`, or being
    settled) the voucher cannot be used at the counter yet; `succeeded`: usable; `failed`: void and refunded
    (`status` is `refunded`). Ordinary vouchers have `group_buy: null`."""
    require_login(principal)
    with unit_of_work(factory, read_only=True) as session:
        rows, cursor = fetch_page(session, voucher_repository.vouchers_query(consumer_id=principal.user_id), Voucher.id, paging)
        return Page(items=vouchers.voucher_reads(session, rows, utcnow()), next_cursor=cursor)


@router.get("/vouchers/{code:voucher_code}", response_model=VoucherRead, openapi_extra=access("self"))
def get_voucher(code: CodePath, principal: OwnLoggedIn, factory: Factory, settings: AppSettings,
                store_id: QueryId = None, terminal_id: TerminalId = None) -> VoucherRead:
    """A voucher: for its owner; or, with `store_id`, for counter staff of that store's merchant checking a
    code before verifying it (throttled like verification). `group_buy` as in `GET /vouchers`. Errors: `voucher_not_found` (404),
    `verification_throttled` (429)."""
    require_login(principal)
    if store_id is None:
        with unit_of_work(factory, read_only=True) as session:
            return vouchers.voucher_reads(session, [vouchers.own_voucher(session, principal, code)], utcnow())[0]
    try:
        with unit_of_work(factory, read_only=True) as session:
            voucher = counter.lookup(session, principal, raw_code=code, store_id=store_id, terminal_id=terminal_id,
                                     settings=settings)
            return vouchers.voucher_reads(session, [voucher], utcnow())[0]
    except VoucherNotFound:
        counter.record_failure(factory, counter.terminals(principal, store_id, terminal_id))
        raise


@router.get("/vouchers/{code:voucher_code}/qr.svg", response_class=Response, openapi_extra=access("self"),
            responses={200: {"content": {"image/svg+xml": {}}, "description": "The QR code."}})
def voucher_qr(code: CodePath, principal: OwnLoggedIn, factory: Factory) -> Response:
    """The voucher's QR code (SVG) for its owner; it encodes the code that staff scan at the counter."""
    with unit_of_work(factory, read_only=True) as session:
        voucher = vouchers.own_voucher(session, principal, code)
    return Response(qr.svg(voucher.code), media_type="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=300"})


# Closed to apps: the counter knows its caller by account id and reads that account's own staff roles, which
# an app's token (its installer's or a consumer's account) must not borrow.
@router.post("/vouchers/verify", response_model=VerificationRead,
             openapi_extra=route_scope(CLOSED, access("merchant:counter")))
async def verify(body: VerifyIn, request: Request, caller_id: CallerId,
                 terminal_id: TerminalId = None) -> VerificationRead:
    """Verify (核销) one use of a voucher at a store's counter, typed or scanned.

    A use is consumed exactly once, only at a store of the merchant that sold it and that offers the
    item, only before expiry; multi-use vouchers count down to zero. Errors: `voucher_not_found` (404:
    wrong code or check symbol), `voucher_used_up` (409), `voucher_expired` (409), `voucher_refunded`
    (409; also for a group-buy deal that failed), `group_buy_pending` (409: a group-buy join's voucher before
    its deal has succeeded; the message and `details.ends_at_local` give the close in store time),
    `voucher_foreign_store` (422), `verification_throttled` (429: too many wrong codes from this
    terminal), `store_not_found` (404), `forbidden` (403).
    """
    # Written with the verifications that arrive meanwhile, one commit for all (kit.api.group_commit): each in
    # its own savepoint, so each answer is the one its own transaction would give. The caller is found by a
    # gathered lookup; the clerk's roles are read in the verification's transaction.
    work = partial(counter.verify_as, user_id=caller_id, raw_code=body.code, store_id=body.store_id, terminal_id=terminal_id,
                   settings=request.app.state.settings)
    return await group_commit_of(request.app).run(
        work, after_error=partial(counter.after_refusal, caller_id, body.store_id, terminal_id),
        wants=counter.wants(caller_id, body.code, body.store_id, terminal_id), savepoint=False)


@router.post("/verifications/{verification_id}/reverse", response_model=VerificationRead,
             openapi_extra=access("merchant:store.manage"))
def reverse(verification_id: ObjectId, principal: OwnLoggedIn, factory: Factory,
            settings: AppSettings) -> VerificationRead:
    """A manager or owner reverses a verification within `DAODIAN_VERIFICATION_REVERSAL_MINUTES`; the use
    comes back. Errors: `verification_not_found` (404), `verification_already_reversed` (409),
    `reversal_window_passed` (409)."""
    require_login(principal)
    with unit_of_work(factory) as session:
        verification = counter.reverse(session, principal, verification_id, settings)
        return counter.verification_read(session, verification, settings)


@router.get("/merchants/{merchant_id}/verifications", response_model=Page[VerificationRead],
            openapi_extra=access("merchant:console.view"))
def merchant_verifications(merchant_id: ObjectId, principal: OwnLoggedIn, factory: Factory, settings: AppSettings,
                           paging: Paging) -> Page[VerificationRead]:
    """A merchant's verifications, oldest first."""
    with unit_of_work(factory, read_only=True) as session:
        merchant = merchants.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
        rows, cursor = fetch_page(session, voucher_repository.verifications_query(merchant_id=merchant.id),
                                  Verification.id, paging)
        return Page(items=counter.verification_reads(session, rows, settings), next_cursor=cursor)
