"""Authorization-matrix entries (see tests/support/matrix.py) for photos: uploads are multipart."""

import io
import tempfile
from pathlib import Path

from PIL import Image

from daodian.kit.settings import Settings
from daodian.media import service as media
from daodian.media.models import OwnerKind
from daodian.media.storage import LocalStorage
from daodian.records import reviews
from daodian.records.schemas import ReviewCreate
from tests.factories import make_record, principal_of
from tests.support.matrix import API_PREFIX, SHOPS_AT, Upload


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


PHOTO = Upload(files={"file": ("photo.png", _png(), "image/png")})


def _own_review(scene, world) -> int:
    """The consumer world's own review of a visit to the shop it buys at."""
    shop = scene.worlds[SHOPS_AT[world.name]].objects
    record = make_record(scene.db, shop["store"], shop["staff_member"], consumer=world.owner)
    return reviews.create_review(scene.db, principal_of(scene.db, world.owner), ReviewCreate(
        record_id=record.id, rating_experience=5, rating_service=5, text="环境很好")).id


def _store_photo(scene, world) -> int:
    storage = LocalStorage(Path(tempfile.mkdtemp(prefix="matrix-media-")))
    return media.store_photo(scene.db, storage, media.limits_of(Settings()), OwnerKind.STORE,
                             world.objects["store"].id, _png(), uploaded_by=None).id


PARAMS = {
    f"{API_PREFIX}/reviews/{{review_id}}/photos#review_id": _own_review,
    f"{API_PREFIX}/photos#owner_kind": lambda s, w: "store",
    f"{API_PREFIX}/photos#owner_id": lambda s, w: w.objects["store"].id,
    "photo_id": _store_photo,
}

BODIES = {
    "POST /api/v1/stores/{store_id}/photos": PHOTO,
    "POST /api/v1/products/{product_id}/photos": PHOTO,
    "POST /api/v1/service-items/{item_id}/photos": PHOTO,
    "POST /api/v1/reviews/{review_id}/photos": PHOTO,
}
