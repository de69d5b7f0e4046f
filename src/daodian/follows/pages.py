"""Pages for following and the feed: the consumer's /feed (with the personalisation switch, PIPL Art. 24),
the follow button on the store page (htmx: it swaps itself; without htmx a redirect back), and the
merchant console's posts page. Same services and authorization as the API.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from daodian.accounts import marketing_preferences as preferences
from daodian.accounts.authz import Action, Principal
from daodian.accounts.dependencies import PagePrincipal
from daodian.coupons.models import CouponTemplate
from daodian.follows import feed as feeds
from daodian.follows import posts
from daodian.follows import service as follows
from daodian.follows.models import MerchantPost
from daodian.follows.schemas import PostIn
from daodian.kit.api.http import DbSession, ObjectId
from daodian.kit.api.pagination import Paging
from daodian.kit.errors import DomainError
from daodian.kit.html.forms import N_, CheckedForm, field_errors, is_htmx, login_redirect, safe_next, see_other, text
from daodian.kit.html.rendering import render
from daodian.merchants import service as merchants

router = APIRouter()


def follow_state(session, principal: Principal, merchant_id: int) -> dict:
    """What the follow button shows: the count, and whether the viewer follows."""
    following = principal.is_authenticated and follows.is_following(session, principal.user_id, merchant_id)
    return {"merchant_id": merchant_id, "followers": follows.follower_count(session, merchant_id),
            "following": following}


# --- consumers --------------------------------------------------------------------------------


@router.get("/feed", response_class=HTMLResponse)
def feed_page(request: Request, session: DbSession, principal: PagePrincipal, paging: Paging) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    personalised, rows, cursor = feeds.feed(session, principal.user_id, paging)
    names = {i: m.name for i, m in merchants.merchants_by_ids(session, {p.merchant_id for p in rows}).items()}
    return render(request, "loyalty/feed.html", {
        "principal": principal, "posts": rows, "personalised": personalised, "names": names, "next_cursor": cursor,
        "follow_count": len(follows.followed_merchant_ids(session, principal.user_id))})


@router.post("/feed/personalisation", response_class=HTMLResponse)
def switch_personalisation(request: Request, session: DbSession, principal: PagePrincipal,
                           form: CheckedForm) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    preferences.set_personalised(session, principal.user_id, text(form, "personalised", 8) == "on")
    return see_other("/feed")


def _follow_answer(request: Request, session, principal: Principal, merchant_id: int, form) -> Response:
    if is_htmx(request):
        return render(request, "loyalty/feed_follow_button.html", {
            "principal": principal, "follow": follow_state(session, principal, merchant_id),
            "next": text(form, "next", 200)})
    return see_other(safe_next(text(form, "next", 200), "/feed"))


@router.post("/follow/{merchant_id}", response_class=HTMLResponse)
def follow(merchant_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
           form: CheckedForm) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    follows.follow(session, principal.user_id, merchant_id)
    return _follow_answer(request, session, principal, merchant_id, form)


@router.post("/unfollow/{merchant_id}", response_class=HTMLResponse)
def unfollow(merchant_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
             form: CheckedForm) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    follows.unfollow(session, principal.user_id, merchant_id)
    return _follow_answer(request, session, principal, merchant_id, form)


# --- the merchant console: posts --------------------------------------------------------------


def _console(request: Request, session, principal: Principal, merchant_id: int, *, form: dict | None = None,
             errors: dict | None = None, notice: str | None = None, status: int = 200) -> HTMLResponse:
    merchant = merchants.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
    rows = list(session.scalars(select(MerchantPost).where(MerchantPost.merchant_id == merchant.id)
                                .order_by(MerchantPost.id.desc()).limit(100)))
    templates = list(session.scalars(select(CouponTemplate).where(CouponTemplate.merchant_id == merchant.id)
                                     .order_by(CouponTemplate.id.desc()).limit(100)))
    return render(request, "loyalty/posts.html", {
        "principal": principal, "merchant": merchant, "posts": rows, "templates": templates,
        "can_edit": principal.can(Action.CATALOG_MANAGE, merchant.id), "notice": notice, "errors": errors or {},
        "form": form or {"title": "", "body": "", "audience": "all", "min_tier_rank": "", "coupon_template_id": ""},
    }, status=status)


@router.get("/merchant/{merchant_id}/posts", response_class=HTMLResponse)
def posts_console(merchant_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
                  notice: Annotated[str | None, Query(max_length=16)] = None) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    return _console(request, session, principal, merchant_id, notice=notice)


@router.post("/merchant/{merchant_id}/posts", response_class=HTMLResponse)
def create_post(merchant_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
                form: CheckedForm) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    merchant = merchants.managed_merchant(session, principal, merchant_id, Action.CATALOG_MANAGE)
    values = {"title": text(form, "title", 200), "body": text(form, "body", 4000),
              "audience": text(form, "audience", 16), "min_tier_rank": text(form, "min_tier_rank", 4),
              "coupon_template_id": text(form, "coupon_template_id", 20)}
    try:
        data = PostIn(title=values["title"].strip(), body=values["body"].strip(),
                      members_only=values["audience"] in ("members", "tier"),
                      min_tier_rank=int(values["min_tier_rank"]) if values["audience"] == "tier"
                      and values["min_tier_rank"].isdigit() else None,
                      coupon_template_id=int(values["coupon_template_id"])
                      if values["coupon_template_id"].isdigit() else None)
        if values["audience"] == "tier" and data.min_tier_rank is None:
            return _console(request, session, principal, merchant.id, form=values, status=422,
                            errors={"min_tier_rank": N_("Give the lowest tier rank.")})
        with session.begin_nested():
            posts.create_post(session, principal, merchant.id, data)
    except ValidationError as exc:
        return _console(request, session, principal, merchant.id, form=values, status=422,
                        errors=field_errors(exc) or {"_form": N_("Check the fields.")})
    except DomainError as exc:
        if exc.status in (401, 403):
            raise
        return _console(request, session, principal, merchant.id, form=values, status=422,
                        errors={"_form": exc.message})
    return see_other(f"/merchant/{merchant.id}/posts?notice=created")


@router.post("/merchant/{merchant_id}/posts/{post_id}/delete", response_class=HTMLResponse)
def delete_post(merchant_id: ObjectId, post_id: ObjectId, request: Request, session: DbSession,
                principal: PagePrincipal, form: CheckedForm) -> Response:
    if not principal.is_authenticated:
        return login_redirect(request)
    merchants.managed_merchant(session, principal, merchant_id, Action.CATALOG_MANAGE)
    posts.delete_post(session, principal, merchant_id, post_id)
    return see_other(f"/merchant/{merchant_id}/posts?notice=deleted")
