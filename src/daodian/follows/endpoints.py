"""Follow, merchant post and feed routes."""

from fastapi import APIRouter, Response, status
from sqlalchemy import select

from daodian.accounts.authz import Action
from daodian.accounts.dependencies import ApiPrincipal, LoggedIn
from daodian.follows import feed as feeds
from daodian.follows import posts
from daodian.follows import service as follows
from daodian.follows.models import Follow, MerchantPost
from daodian.follows.schemas import FeedPage, FollowerCount, FollowRead, PostIn, PostRead
from daodian.kit.api.http import DbSession, ObjectId, access
from daodian.kit.api.pagination import Page, Paging, fetch_page
from daodian.kit.api.scopes import declare
from daodian.merchants import service as merchants

router = APIRouter(tags=["follows"])
declare(router, "member:read", "member:write")  # the scopes apps' tokens need here (kit.api.scopes)


@router.post("/merchants/{merchant_id}/follow", status_code=status.HTTP_201_CREATED, response_model=FollowRead,
             openapi_extra=access("authenticated"),
             responses={200: {"model": FollowRead, "description": "You already follow this merchant."}})
def follow(merchant_id: ObjectId, session: DbSession, principal: LoggedIn, response: Response) -> FollowRead:
    """Follow a merchant and become its member (idempotent: 201 the first time, 200 after)."""
    row, created = follows.follow(session, principal.user_id, merchant_id)
    if not created:
        response.status_code = status.HTTP_200_OK
    return FollowRead(merchant_id=row.merchant_id, created_at=row.created_at)


@router.delete("/merchants/{merchant_id}/follow", status_code=status.HTTP_204_NO_CONTENT,
               openapi_extra=access("authenticated"))
def unfollow(merchant_id: ObjectId, session: DbSession, principal: LoggedIn) -> Response:
    """Stop following (idempotent). Your membership and its tier history are kept."""
    follows.unfollow(session, principal.user_id, merchant_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/merchants/{merchant_id}/followers", response_model=FollowerCount, openapi_extra=access("public"))
def follower_count(merchant_id: ObjectId, session: DbSession, principal: ApiPrincipal) -> FollowerCount:
    """How many consumers follow the merchant (a count, never who), and whether you do."""
    merchant = merchants.get_merchant(session, merchant_id)
    following = follows.is_following(session, principal.user_id, merchant.id) if principal.is_authenticated else None
    return FollowerCount(merchant_id=merchant.id, followers=follows.follower_count(session, merchant.id),
                         following=following)


@router.get("/me/follows", response_model=Page[FollowRead], openapi_extra=access("authenticated"))
def my_follows(session: DbSession, principal: LoggedIn, paging: Paging) -> Page[FollowRead]:
    """The merchants you follow."""
    query = select(Follow).where(Follow.consumer_id == principal.user_id)
    if paging.after_id is not None:  # a follow has no id of its own: keyset on the merchant's
        query = query.where(Follow.merchant_id > paging.after_id)
    rows = list(session.scalars(query.order_by(Follow.merchant_id).limit(paging.limit + 1)))
    more, rows = len(rows) > paging.limit, rows[: paging.limit]
    return Page(items=[FollowRead(merchant_id=f.merchant_id, created_at=f.created_at) for f in rows],
                next_cursor=str(rows[-1].merchant_id) if more and rows else None)


@router.post("/merchants/{merchant_id}/posts", status_code=status.HTTP_201_CREATED, response_model=PostRead,
             openapi_extra=access("merchant:catalog.manage"))
def create_post(merchant_id: ObjectId, body: PostIn, session: DbSession, principal: LoggedIn) -> PostRead:
    """Publish a post to your followers. Errors: `coupon_template_not_found` (404: not your template)."""
    merchants.managed_merchant(session, principal, merchant_id, Action.CATALOG_MANAGE)
    return PostRead.model_validate(posts.create_post(session, principal, merchant_id, body), from_attributes=True)


@router.get("/merchants/{merchant_id}/posts", response_model=Page[PostRead],
            openapi_extra=access("merchant:console.view"))
def list_posts(merchant_id: ObjectId, session: DbSession, principal: LoggedIn, paging: Paging) -> Page[PostRead]:
    """All your posts, targeted ones included, oldest first."""
    merchants.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
    query = select(MerchantPost).where(MerchantPost.merchant_id == merchant_id)
    rows, cursor = fetch_page(session, query, MerchantPost.id, paging)
    return Page(items=[PostRead.model_validate(p, from_attributes=True) for p in rows], next_cursor=cursor)


@router.delete("/merchants/{merchant_id}/posts/{post_id}", status_code=status.HTTP_204_NO_CONTENT,
               openapi_extra=access("merchant:catalog.manage"))
def delete_post(merchant_id: ObjectId, post_id: ObjectId, session: DbSession, principal: LoggedIn) -> Response:
    """Delete one of your posts. Errors: `post_not_found` (404)."""
    merchants.managed_merchant(session, principal, merchant_id, Action.CATALOG_MANAGE)
    posts.delete_post(session, principal, merchant_id, post_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me/feed", response_model=FeedPage, openapi_extra=access("authenticated"))
def my_feed(session: DbSession, principal: LoggedIn, paging: Paging) -> FeedPage:
    """Posts of the merchants you follow, newest first; targeted posts only if you qualify. With
    personalisation switched off (PUT /me/marketing-preferences) only public posts (`personalised: false`)."""
    personalised, rows, cursor = feeds.feed(session, principal.user_id, paging)
    return FeedPage(personalised=personalised, items=[PostRead.model_validate(p, from_attributes=True) for p in rows],
                    next_cursor=cursor)
