"""Earning-rule, member-tier and membership routes."""

from fastapi import APIRouter, Request, Response, status

from daodian.accounts.authz import Action, require_operator
from daodian.accounts.dependencies import LoggedIn
from daodian.kit.api.http import DbSession, ObjectId, access
from daodian.kit.api.scopes import declare
from daodian.loyalty import earning, tiers
from daodian.loyalty.models import PLATFORM_SCOPE, MemberTier, PointsRule, merchant_scope
from daodian.loyalty.tier_schemas import MembershipRead, PointsRuleIn, PointsRuleRead, TierIn, TierRead, TierSummary
from daodian.merchants import service as merchants

router = APIRouter(tags=["tiers"])
declare(router, "member:read", "member:write")  # the scopes apps' tokens need here (kit.api.scopes)
MANAGE = Action.MERCHANT_UPDATE  # owners and managers


@router.get("/merchants/{merchant_id}/points-rule", response_model=PointsRuleRead,
            openapi_extra=access("merchant:merchant.update"))
def get_points_rule(merchant_id: ObjectId, session: DbSession, principal: LoggedIn) -> PointsRuleRead:
    """Your earning rate: points per 1 元 paid (the platform default until you set one)."""
    merchant = merchants.managed_merchant(session, principal, merchant_id, MANAGE)
    rule = session.get(PointsRule, merchant.id)
    return PointsRuleRead(merchant_id=merchant.id, points_per_yuan=earning.rate_of(session, merchant.id),
                          is_default=rule is None)


@router.put("/merchants/{merchant_id}/points-rule", response_model=PointsRuleRead,
            openapi_extra=access("merchant:merchant.update"))
def put_points_rule(merchant_id: ObjectId, body: PointsRuleIn, session: DbSession,
                    principal: LoggedIn) -> PointsRuleRead:
    """Set your earning rate (idempotent); it applies to payments and recorded sales from now on."""
    merchant = merchants.managed_merchant(session, principal, merchant_id, MANAGE)
    rule = session.get(PointsRule, merchant.id) or PointsRule(merchant_id=merchant.id)
    rule.points_per_yuan = body.points_per_yuan
    session.add(rule)
    session.flush()
    return PointsRuleRead(merchant_id=merchant.id, points_per_yuan=rule.points_per_yuan, is_default=False)


# --- merchant tiers ------------------------------------------------------------------------------


@router.get("/merchants/{merchant_id}/tiers", response_model=list[TierRead],
            openapi_extra=access("merchant:merchant.update"))
def list_merchant_tiers(merchant_id: ObjectId, session: DbSession, principal: LoggedIn) -> list[TierRead]:
    """Your member tiers, lowest rank first."""
    merchant = merchants.managed_merchant(session, principal, merchant_id, MANAGE)
    return [TierRead.model_validate(t) for t in tiers.list_tiers(session, merchant_scope(merchant.id))]


@router.post("/merchants/{merchant_id}/tiers", status_code=status.HTTP_201_CREATED, response_model=TierRead,
             openapi_extra=access("merchant:merchant.update"))
def create_merchant_tier(merchant_id: ObjectId, body: TierIn, session: DbSession, principal: LoggedIn) -> TierRead:
    """Add a tier. Errors: `tier_conflict` (409: name or rank taken)."""
    merchant = merchants.managed_merchant(session, principal, merchant_id, MANAGE)
    tier = MemberTier(scope=merchant_scope(merchant.id), merchant_id=merchant.id)
    return TierRead.model_validate(tiers.save_tier(session, tier, body.model_dump()))


@router.put("/merchants/{merchant_id}/tiers/{tier_id}", response_model=TierRead,
            openapi_extra=access("merchant:merchant.update"))
def update_merchant_tier(merchant_id: ObjectId, tier_id: ObjectId, body: TierIn, session: DbSession,
                         principal: LoggedIn) -> TierRead:
    """Change a tier; members move at the next evaluation. Errors: `tier_not_found`, `tier_conflict`."""
    merchant = merchants.managed_merchant(session, principal, merchant_id, MANAGE)
    tier = tiers.get_tier(session, merchant_scope(merchant.id), tier_id)
    return TierRead.model_validate(tiers.save_tier(session, tier, body.model_dump()))


@router.delete("/merchants/{merchant_id}/tiers/{tier_id}", status_code=status.HTTP_204_NO_CONTENT,
               openapi_extra=access("merchant:merchant.update"))
def delete_merchant_tier(merchant_id: ObjectId, tier_id: ObjectId, session: DbSession,
                         principal: LoggedIn) -> Response:
    """Remove a tier; its members have none until the next evaluation."""
    merchant = merchants.managed_merchant(session, principal, merchant_id, MANAGE)
    tiers.delete_tier(session, tiers.get_tier(session, merchant_scope(merchant.id), tier_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/merchants/{merchant_id}/tiers/summary", response_model=TierSummary,
            openapi_extra=access("merchant:console.view"))
def tier_summary(merchant_id: ObjectId, session: DbSession, principal: LoggedIn, request: Request) -> TierSummary:
    """How many members each tier holds (never who); below the privacy threshold, null and "fewer than N"."""
    merchant = merchants.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
    counts = tiers.summary(session, merchant_scope(merchant.id), request.app.state.settings.privacy_min_group)
    return TierSummary(merchant_id=merchant.id, tiers=counts)


# --- platform tiers (operators) ------------------------------------------------------------------


@router.get("/platform/tiers", response_model=list[TierRead], openapi_extra=access("operator"))
def list_platform_tiers(session: DbSession, principal: LoggedIn) -> list[TierRead]:
    """The platform's member tiers."""
    require_operator(principal)
    return [TierRead.model_validate(t) for t in tiers.list_tiers(session, PLATFORM_SCOPE)]


@router.post("/platform/tiers", status_code=status.HTTP_201_CREATED, response_model=TierRead,
             openapi_extra=access("operator"))
def create_platform_tier(body: TierIn, session: DbSession, principal: LoggedIn) -> TierRead:
    """Add a platform tier. Errors: `tier_conflict` (409)."""
    require_operator(principal)
    return TierRead.model_validate(tiers.save_tier(session, MemberTier(scope=PLATFORM_SCOPE), body.model_dump()))


@router.put("/platform/tiers/{platform_tier_id}", response_model=TierRead, openapi_extra=access("operator"))
def update_platform_tier(platform_tier_id: ObjectId, body: TierIn, session: DbSession,
                         principal: LoggedIn) -> TierRead:
    """Change a platform tier. Errors: `tier_not_found`, `tier_conflict`."""
    require_operator(principal)
    tier = tiers.get_tier(session, PLATFORM_SCOPE, platform_tier_id)
    return TierRead.model_validate(tiers.save_tier(session, tier, body.model_dump()))


@router.delete("/platform/tiers/{platform_tier_id}", status_code=status.HTTP_204_NO_CONTENT,
               openapi_extra=access("operator"))
def delete_platform_tier(platform_tier_id: ObjectId, session: DbSession, principal: LoggedIn) -> Response:
    """Remove a platform tier."""
    require_operator(principal)
    tiers.delete_tier(session, tiers.get_tier(session, PLATFORM_SCOPE, platform_tier_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- your memberships ----------------------------------------------------------------------------


@router.get("/me/memberships", response_model=list[MembershipRead], openapi_extra=access("authenticated"))
def my_memberships(session: DbSession, principal: LoggedIn) -> list[MembershipRead]:
    """Your memberships (merchants and the platform) with their tier and its benefits."""
    return [MembershipRead(scope=m.scope, merchant_id=m.merchant_id, since=m.since,
                           tier=TierRead.model_validate(t) if t else None, tier_since=m.tier_since,
                           rolling_spend_fen=m.rolling_spend_fen, last_evaluated_at=m.last_evaluated_at)
            for m, t in tiers.memberships_of(session, principal.user_id)]


