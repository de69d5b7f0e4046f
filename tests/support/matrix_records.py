"""Authorization-matrix entries (see tests/support/matrix.py) for consumption records and reviews."""

from datetime import timedelta

from daodian.kit.clock import utcnow
from daodian.records import reviews
from daodian.records.schemas import ReviewCreate
from tests.factories import make_record, principal_of
from tests.support.matrix import MERCHANT_WORLDS, per_actor

RATINGS = {"rating_experience": 4, "rating_service": 5, "text": "师傅很细心"}


def _visit(scene, world, consumer):
    """A consumption record identified to `consumer` (with consent) at the world's store."""
    return make_record(scene.db, world.objects["store"], world.objects["staff_member"], consumer=consumer)


def _review_id(scene, world) -> int:
    """Consumer A's review of a visit to the world's store."""
    consumer = scene.users["consumer_a"]
    record = _visit(scene, world, consumer)
    return reviews.create_review(scene.db, principal_of(scene.db, consumer),
                                 ReviewCreate(record_id=record.id, **RATINGS)).id


def _my_review(scene, world, actor) -> dict:
    """Every caller reviews a visit of their own, at a merchant they are not staff of (staff may not
    review their own merchant). Anonymous callers have no visits: any well-formed body will do."""
    if actor.anonymous or actor.app == "installed":  # nobody's visits: anonymous, an installed app's own account
        return {"record_id": 1, **RATINGS}
    where = scene.worlds[next(name for name in MERCHANT_WORLDS if name not in actor.roles)]
    record = scene.once(where, f"visit of {actor.name}", lambda: _visit(scene, where, scene.users[actor.name]))
    return {"record_id": record.id, **RATINGS}


def _sale(scene, world) -> dict:
    return {"receipt_id": "MATRIX-1", "occurred_at": (utcnow() - timedelta(minutes=10)).isoformat(),
            "lines": [{"service_item_id": world.objects["item"].id, "quantity": 1, "amount_fen": 19900}]}


PARAMS = {
    "review_id": _review_id,
}

BODIES = {
    "POST /api/v1/stores/{store_id}/consumption-records": _sale,
    "POST /api/v1/reviews": per_actor(_my_review),
    "POST /api/v1/reviews/{review_id}/reply": {"text": "感谢光临"},
}
