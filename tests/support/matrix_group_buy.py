"""Authorization-matrix entries (see tests/support/matrix.py) for tiered group buys.

Each merchant world gets one running deal of its service item (joined by whoever calls), and one deal
whose window has ended, for the operators' settle.
"""

from datetime import timedelta

from daodian.c2b.group_buy import service as group_buy
from daodian.c2b.group_buy.schemas import GroupBuyCreate
from daodian.kit.clock import utcnow
from tests.factories import principal_of
from tests.marketing.group_buy_helpers import deal_body
from tests.support.matrix import API_PREFIX


def _deal(scene, world):
    owner = principal_of(scene.db, world.owner)
    return group_buy.create(scene.db, owner, world.objects["merchant"].id,
                            GroupBuyCreate(**deal_body(world.objects["item"].id))).id


def _ended_deal(scene, world):
    deal = group_buy.get(scene.db, _deal(scene, world))
    deal.ends_at = utcnow() - timedelta(seconds=1)
    scene.db.flush()
    return deal.id


PARAMS = {
    "group_buy_id": _deal,
    f"{API_PREFIX}/group-buys/{{group_buy_id}}/settle#group_buy_id": _ended_deal,
}

BODIES = {
    "POST /api/v1/merchants/{merchant_id}/group-buys": lambda s, w: deal_body(w.objects["item"].id),
}
