"""Authorization-matrix entries (see tests/support/matrix.py) for earning rules, member tiers and memberships.

Merchant tiers belong to the merchant world (owners and managers change them, console viewers read the
summary); platform tiers are the operators'. Each case runs in its own savepoint, so one tier per world
serves every case and a created tier never collides with the next case's.
"""

from daodian.loyalty.models import PLATFORM_SCOPE, MemberTier, merchant_scope


def _tier(scene, world) -> MemberTier:
    merchant = world.objects["merchant"]
    tier = MemberTier(scope=merchant_scope(merchant.id), merchant_id=merchant.id, name="银卡", rank=1,
                      min_spend_fen=10000)
    scene.db.add(tier)
    scene.db.flush()
    return tier


def _platform_tier(scene, world) -> MemberTier:
    tier = MemberTier(scope=PLATFORM_SCOPE, name=f"平台{world.name}", rank=10 + sum(map(ord, world.name)) % 80)
    scene.db.add(tier)
    scene.db.flush()
    return tier


PARAMS = {
    "tier_id": lambda s, w: _tier(s, w).id,
    "platform_tier_id": lambda s, w: _platform_tier(s, w).id,
}

_TIER = {"name": "金卡", "rank": 9, "min_spend_fen": 100000, "discount_percent": 5, "points_multiplier_pct": 150}

BODIES = {
    "PUT /api/v1/merchants/{merchant_id}/points-rule": {"points_per_yuan": 2},
    "POST /api/v1/merchants/{merchant_id}/tiers": _TIER,
    "PUT /api/v1/merchants/{merchant_id}/tiers/{tier_id}": _TIER,
    "POST /api/v1/platform/tiers": {**_TIER, "name": "平台金卡", "rank": 99},
    "PUT /api/v1/platform/tiers/{platform_tier_id}": {**_TIER, "name": "平台钻石", "rank": 98},
}
