"""Authorization-matrix entries (see tests/support/matrix.py) for coupons, points and campaigns.

Templates belong to the merchant world (100 coupons, so no case sells one out); the coupon the counter
redeems is consumer A's, of that world's template. Campaign worlds get ten members in the RFM table, the
privacy threshold, so that an allowed caller really sends.
"""

from datetime import date

from daodian.accounts.models import User
from daodian.analytics.models import MemberSegment
from daodian.coupons import service as coupons
from daodian.coupons.schemas import TemplateCreate
from daodian.loyalty import points
from tests.factories import principal_of, sku_of
from tests.marketing.helpers import template_body
from tests.support.matrix import API_PREFIX


def _template(scene, world):
    def make():
        owner = principal_of(scene.db, world.owner)
        return coupons.create_template(scene.db, owner, world.objects["merchant"].id,
                                       TemplateCreate(**template_body(threshold_fen=0, kind="amount", amount_fen=500)))
    return scene.once(world, "coupon template", make)


def _redeem(scene, world) -> dict:
    def make():
        return coupons.issue(scene.db, _template(scene, world).id, scene.users["consumer_a"].id, claim_no=1,
                             channel="online")
    coupon = scene.once(world, "coupon to redeem", make)
    return {"code": coupon.code, "store_id": world.objects["store"].id, "amount_fen": 9900}


def _campaign(scene, world) -> dict:
    def members():
        for n in range(10):
            user = User(phone=f"+8616{world.name.encode()[0]:03d}{n:06d}", display_name="会员", password_hash="x")
            scene.db.add(user)
            scene.db.flush()
            scene.db.add(MemberSegment(
                merchant_id=world.objects["merchant"].id, consumer_id=user.id, segment="new", recency_days=3,
                frequency=1, monetary_fen=9900, r_score=5, f_score=1, m_score=3, first_purchase_on=date(2026, 11, 1),
                last_purchase_on=date(2026, 11, 1), as_of=date(2026, 11, 4)))
        return True
    scene.once(world, "campaign members", members)
    return {"segment": "new", "template_id": _template(scene, world).id}


def _spend(scene, world) -> dict:
    def fund():  # every actor holds points, so an allowed spend really spends
        for user in scene.users.values():
            points.earn(scene.db, user.id, 100, f"matrix:{user.id}")
        return True
    scene.once(world, "points for everyone", fund)
    return {"points": 1, "reference": "matrix"}


PARAMS = {
    "template_id": lambda s, w: _template(s, w).id,
    f"{API_PREFIX}/merchants/{{merchant_id}}/audience#segment": lambda s, w: "new",
}

BODIES = {
    "POST /api/v1/merchants/{merchant_id}/coupon-templates": lambda s, w: template_body(),
    "POST /api/v1/coupon-templates": lambda s, w: template_body(scope="platform", stacking="stackable"),
    "POST /api/v1/coupons/quote": lambda s, w: {"lines": [{"sku_id": sku_of(s.db, w.objects["product"]).id}]},
    "POST /api/v1/coupons/redeem": _redeem,
    "POST /api/v1/me/points/spends": _spend,
    "POST /api/v1/merchants/{merchant_id}/campaigns": _campaign,
    "PUT /api/v1/me/marketing-preferences": {"personalised": False},
}
