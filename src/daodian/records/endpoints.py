from fastapi import APIRouter, Response, status

from daodian.accounts.dependencies import ApiPrincipal, LoggedIn
from daodian.kit.api.http import DbSession, ObjectId, QueryId, access
from daodian.kit.api.pagination import Page, Paging
from daodian.kit.api.scopes import declare
from daodian.records import members, reviews, service
from daodian.records.models import RecordSource
from daodian.records.schemas import (
    ConsumptionRecordCreate,
    MemberCodeRead,
    MerchantRecordRead,
    MyRecordRead,
    ReplyIn,
    ReviewCreate,
    ReviewRead,
)

router = APIRouter(tags=["records"])
declare(router, "order:read", "order:write")  # the scopes apps' tokens need here (kit.api.scopes)


@router.post("/stores/{store_id}/consumption-records", status_code=status.HTTP_201_CREATED,
             response_model=MerchantRecordRead, openapi_extra=access("merchant:counter"),
             responses={200: {"model": MerchantRecordRead, "description": "This receipt id was recorded before "
                                                                          "with the same content: the stored record."}})
def record_consumption(store_id: ObjectId, body: ConsumptionRecordCreate, session: DbSession,
                       principal: LoggedIn, response: Response) -> MerchantRecordRead:
    """Record an offline sale (POS or counter staff). Safe to retry with the same receipt id: the same
    content returns the stored record (200), different content is refused (409 `receipt_conflict`).
    The member is identified only when `member_consented` is true; otherwise the record is anonymous."""
    record, created = service.record_consumption(session, principal, store_id, body, source=RecordSource.POS)
    if not created:
        response.status_code = status.HTTP_200_OK
    return service.merchant_reads(session, [record])[0]


@router.get("/merchants/{merchant_id}/consumption-records", response_model=Page[MerchantRecordRead],
            openapi_extra=access("merchant:console.view"))
def merchant_records(merchant_id: ObjectId, session: DbSession, principal: LoggedIn, paging: Paging,
                     store_id: QueryId = None) -> Page[MerchantRecordRead]:
    """The merchant's recorded sales, newest first, optionally of one store."""
    rows, cursor = service.merchant_records(session, principal, merchant_id, paging, store_id)
    return Page(items=rows, next_cursor=cursor)


@router.get("/me/consumption-records", response_model=Page[MyRecordRead], openapi_extra=access("authenticated"))
def my_records(session: DbSession, principal: LoggedIn, paging: Paging) -> Page[MyRecordRead]:
    """Your visits that stores recorded with your consent, newest first."""
    rows, cursor = service.my_records(session, principal, paging)
    return Page(items=rows, next_cursor=cursor)


@router.get("/me/member-code", response_model=MemberCodeRead, openapi_extra=access("authenticated"))
def my_member_code(session: DbSession, principal: LoggedIn) -> MemberCodeRead:
    """Your member code, issued on first request; show it at the counter to collect the visit."""
    return MemberCodeRead(member_code=members.member_code_for(session, principal.user_id))


# --- reviews ----------------------------------------------------------------------------------


@router.post("/reviews", status_code=status.HTTP_201_CREATED, response_model=ReviewRead,
             openapi_extra=access("authenticated"))
def create_review(body: ReviewCreate, session: DbSession, principal: LoggedIn) -> ReviewRead:
    """Review a visit of yours, once: a consumption record identified to you or a verified voucher."""
    return reviews.review_reads(session, [reviews.create_review(session, principal, body)])[0]


@router.post("/reviews/{review_id}/reply", 
             response_model=ReviewRead, openapi_extra=access("merchant:store.manage"))
def reply_to_review(review_id: ObjectId, body: ReplyIn, session: DbSession, principal: LoggedIn) -> ReviewRead:
    """The merchant's public reply (manager or owner); replying again replaces it."""
    return reviews.review_reads(session, [reviews.reply(session, principal, review_id, body)])[0]


@router.post("/reviews/{review_id}/hide", 
             response_model=ReviewRead, openapi_extra=access("operator"))
def hide_review(review_id: ObjectId, session: DbSession, principal: LoggedIn) -> ReviewRead:
    """Take a review down (operators); it stops counting in the store rating."""
    return reviews.review_reads(session, [reviews.hide(session, principal, review_id)])[0]


@router.get("/stores/{store_id}/reviews", response_model=Page[ReviewRead], openapi_extra=access("public"))
def store_reviews(store_id: ObjectId, session: DbSession, principal: ApiPrincipal, paging: Paging) -> Page[ReviewRead]:
    """Visible reviews of a store, newest first."""
    rows, cursor = reviews.store_reviews(session, principal, store_id, paging)
    return Page(items=rows, next_cursor=cursor)
