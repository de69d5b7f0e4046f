"""The consumer's store page: the store and what it offers (merchants), its latest reviews (records) and the
follow button (follows) on one page, so it sits above all three."""


from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from daodian.accounts.authz import Action
from daodian.accounts.dependencies import PagePrincipal
from daodian.follows.pages import follow_state
from daodian.kit.api.http import DbSession, ObjectId
from daodian.kit.api.pagination import PageParams
from daodian.kit.html.rendering import render
from daodian.media import service as media
from daodian.media.models import OwnerKind
from daodian.merchants import stores
from daodian.records import reviews

router = APIRouter()


LATEST_REVIEWS = 3  # on the store page; the rest at /s/{id}/reviews


@router.get("/s/{store_id}", response_class=HTMLResponse)
def store_page(store_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    store = stores.visible_store(session, principal, store_id)
    detail = stores.store_detail(session, store,
                                 include_hidden_items=principal.can(Action.CONSOLE_VIEW, store.merchant_id))
    latest, more = reviews.store_reviews(session, principal, store.id, PageParams(limit=LATEST_REVIEWS, after_id=None))
    return render(request, "store.html", {
        "principal": principal, "store": detail, "can_manage": principal.can(Action.STORE_MANAGE, store.merchant_id),
        "reviews": latest, "more_reviews": more is not None,
        "follow": follow_state(session, principal, store.merchant_id),  # the follow button (loyalty)
        "photos": media.photos_of(session, OwnerKind.STORE, [store.id]).get(store.id, []),
        "review_photos": media.photos_of(session, OwnerKind.REVIEW, [r.id for r in latest]),
    })
