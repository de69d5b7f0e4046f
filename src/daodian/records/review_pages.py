"""Review pages: a store's reviews with the merchant's replies (public), and the console's review list
where a manager answers them.

Both go through records.reviews, the same rules as the API: anyone who may see the store reads its
visible reviews; only a manager or owner of the store's merchant replies, and replying again replaces
the answer.
"""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from daodian.accounts.authz import Action, authorize, require_login
from daodian.accounts.dependencies import PagePrincipal
from daodian.kit.api.http import DbSession, ObjectId
from daodian.kit.api.pagination import Paging
from daodian.kit.html.forms import CheckedForm, field_errors, login_redirect, see_other, text
from daodian.kit.html.rendering import render
from daodian.media import service as media
from daodian.media.models import OwnerKind
from daodian.merchants import service as merchants
from daodian.merchants import stores
from daodian.records import reviews
from daodian.records.schemas import ReplyIn

router = APIRouter()


@router.get("/s/{store_id}/reviews", response_class=HTMLResponse)
def store_reviews(store_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
                  paging: Paging) -> Response:
    """A store's visible reviews, newest first, each with the shop's reply."""
    rows, cursor = reviews.store_reviews(session, principal, store_id, paging)
    return render(request, "reviews/store.html", {
        "principal": principal, "store": stores.get_store(session, store_id), "reviews": rows, "next_cursor": cursor,
        "review_photos": media.photos_of(session, OwnerKind.REVIEW, [r.id for r in rows])})


def _console_page(request: Request, session, principal, store_id: int, paging, *, errors: dict | None = None,
                  values: dict | None = None, status: int = 200) -> Response:
    store = stores.get_store(session, store_id)
    authorize(principal, Action.CONSOLE_VIEW, store.merchant_id)
    rows, cursor = reviews.store_reviews(session, principal, store_id, paging)
    return render(request, "console/reviews.html", {
        "principal": principal, "store": store, "merchant": merchants.get_merchant(session, store.merchant_id),
        "reviews": rows, "next_cursor": cursor, "can_reply": principal.can(Action.STORE_MANAGE, store.merchant_id),
        "errors": errors or {}, "values": values or {}}, status=status)


@router.get("/merchant/stores/{store_id}/reviews", response_class=HTMLResponse)
def console_reviews(store_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
                    paging: Paging) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    return _console_page(request, session, principal, store_id, paging)


@router.post("/merchant/reviews/{review_id}/reply", response_class=HTMLResponse)
def reply(review_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal, form: CheckedForm,
          paging: Paging) -> Response:
    require_login(principal)
    review = reviews.get_review(session, review_id)
    answer = text(form, "text", 2000)
    try:
        data = ReplyIn.model_validate({"text": answer})
    except ValidationError as exc:
        return _console_page(request, session, principal, review.store_id, paging, status=422,
                             errors={review.id: field_errors(exc).get("text", "")}, values={review.id: answer})
    reviews.reply(session, principal, review.id, data)
    return see_other(f"/merchant/stores/{review.store_id}/reviews#review-{review.id}")
