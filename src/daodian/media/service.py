"""Adding, listing and removing photos. The bytes go to the storage before the row is flushed: a failed
transaction may leave an unreferenced file behind, never a row without its file."""

import secrets
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from daodian.accounts.authz import Principal
from daodian.kit.settings import Settings
from daodian.media import images, owners
from daodian.media.errors import PhotoNotFound, TooManyPhotos
from daodian.media.models import OwnerKind, Photo
from daodian.media.schemas import PhotoRead
from daodian.media.storage import Storage

URL_PREFIX = "/media/"


def limits_of(settings: Settings) -> images.Limits:
    return images.Limits(max_bytes=settings.media_max_bytes, max_pixels=settings.media_max_pixels,
                         max_side=settings.media_max_side, thumb_side=settings.media_thumb_side)


def _free_position(session: Session, kind: OwnerKind, owner_id: int) -> int:
    taken = set(session.scalars(select(Photo.position).where(Photo.owner_kind == kind, Photo.owner_id == owner_id)))
    limit = owners.MAX_PHOTOS[kind]
    free = [p for p in range(limit) if p not in taken]
    if not free:
        raise TooManyPhotos(details={"max_photos": limit})
    return free[0]


def store_photo(session: Session, storage: Storage, limits: images.Limits, kind: OwnerKind, owner_id: int,
                data: bytes, uploaded_by: int | None) -> Photo:
    """Validate, re-encode, keep and record a photo for an owner the caller has already authorized."""
    position = _free_position(session, kind, owner_id)  # before the work: a full gallery is refused at once
    processed = images.process(data, limits)
    stem = secrets.token_hex(16)
    name, thumb_name = f"{stem}.jpg", f"{stem}.thumb.jpg"
    storage.put(name, processed.full.data, images.CONTENT_TYPE)
    storage.put(thumb_name, processed.thumb.data, images.CONTENT_TYPE)
    photo = Photo(owner_kind=kind, owner_id=owner_id, position=position, name=name, thumb_name=thumb_name,
                  width=processed.full.width, height=processed.full.height, size_bytes=len(processed.full.data),
                  uploaded_by=uploaded_by)
    session.add(photo)
    session.flush()
    return photo


def add_photo(session: Session, storage: Storage, limits: images.Limits, principal: Principal, kind: OwnerKind,
              owner_id: int, data: bytes) -> Photo:
    owner = owners.owner_of(session, kind, owner_id)
    owners.authorize_photos(principal, kind, owner)
    return store_photo(session, storage, limits, kind, owner_id, data, principal.user_id)


def remove_photo(session: Session, storage: Storage, principal: Principal, photo_id: int) -> None:
    photo = session.get(Photo, photo_id)
    if photo is None:
        raise PhotoNotFound()
    owners.authorize_photos(principal, photo.owner_kind, owners.owner_of(session, photo.owner_kind, photo.owner_id))
    session.delete(photo)
    session.flush()
    for name in (photo.name, photo.thumb_name):
        storage.delete(name)


def read(photo: Photo) -> PhotoRead:
    return PhotoRead(id=photo.id, owner_kind=photo.owner_kind, owner_id=photo.owner_id, position=photo.position,
                     url=URL_PREFIX + photo.name, thumb_url=URL_PREFIX + photo.thumb_name, width=photo.width,
                     height=photo.height)


def photos_of(session: Session, kind: OwnerKind, owner_ids: Iterable[int]) -> dict[int, list[PhotoRead]]:
    """The photos of many owners of one kind in one query, each owner's in order (owners without any absent)."""
    ids = sorted(set(owner_ids))
    found: dict[int, list[PhotoRead]] = defaultdict(list)
    if not ids:
        return found
    rows = session.scalars(select(Photo).where(Photo.owner_kind == kind, Photo.owner_id.in_(ids))
                           .order_by(Photo.owner_id, Photo.position))
    for photo in rows:
        found[photo.owner_id].append(read(photo))
    return found


def covers_of(session: Session, kind: OwnerKind, owner_ids: Iterable[int]) -> dict[int, PhotoRead]:
    """The first photo of each owner that has one."""
    return {owner_id: photos[0] for owner_id, photos in photos_of(session, kind, owner_ids).items()}


def photo_count(session: Session, kind: OwnerKind, owner_id: int) -> int:
    return session.scalar(select(func.count()).where(Photo.owner_kind == kind, Photo.owner_id == owner_id)) or 0

