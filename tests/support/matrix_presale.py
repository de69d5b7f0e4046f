"""Authorization-matrix entries (see tests/support/matrix.py) for pre-sales by vote.

Each merchant world gets one open pre-sale of its SKU (voted for by whoever calls, picked up at its
store), and one whose closing time has passed, for its staff's close.
"""

from datetime import timedelta

from daodian.c2b.presale import service as presales
from daodian.c2b.presale.schemas import PresaleCreate
from daodian.kit.clock import utcnow
from tests.factories import principal_of, sku_of
from tests.marketing.presale_helpers import presale_body, vote_body
from tests.support.matrix import API_PREFIX


def _body(scene, world) -> dict:
    return presale_body([sku_of(scene.db, world.objects["product"]).id], deposit_fen=100)


def _presale(scene, world):
    owner = principal_of(scene.db, world.owner)
    return presales.create_presale(scene.db, owner, world.objects["merchant"].id, PresaleCreate(**_body(scene, world)))


def _open(scene, world) -> int:
    return _presale(scene, world).id


def _candidate(scene, world) -> int:
    presale_id = scene.once(world, "presale_id", lambda: _open(scene, world))
    return presales.candidates_of(scene.db, presale_id)[0].id


def _ended(scene, world) -> int:
    presale = _presale(scene, world)
    presale.closes_at = utcnow() - timedelta(seconds=1)
    scene.db.flush()
    return presale.id


PARAMS = {
    "presale_id": _open,
    "candidate_id": _candidate,
    f"{API_PREFIX}/merchants/{{merchant_id}}/presales/{{presale_id}}/close#presale_id": _ended,
}

BODIES = {
    "POST /api/v1/merchants/{merchant_id}/presales": _body,
    "POST /api/v1/presales/{presale_id}/candidates/{candidate_id}/votes": lambda s, w: vote_body(
        w.objects["store"].id),
}
