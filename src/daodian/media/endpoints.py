"""Photos through the API: a merchant's staff add them to stores, products and service items, a consumer up
to nine to a review of theirs; anyone lists an owner's photos. Uploads are multipart (`file`), judged by
their content, never by the name or Content-Type they arrive with."""

from typing import Annotated

from fastapi import APIRouter, File, Query, Request, Response, UploadFile, status

from daodian.accounts.authz import Principal
from daodian.accounts.dependencies import LoggedIn
from daodian.kit.api.http import DbSession, ObjectId, access
from daodian.kit.api.scopes import declare
from daodian.kit.ids import MAX_ID
from daodian.media import service
from daodian.media.errors import ImageTooLarge
from daodian.media.models import OwnerKind
from daodian.media.schemas import PhotoRead
from daodian.media.storage import storage_of

router = APIRouter(tags=["photos"])
declare(router, "catalog:read", "catalog:write")  # the scopes apps' tokens need here (kit.api.scopes)

Upload = Annotated[UploadFile, File(description="JPEG, PNG or WebP, judged by content; re-encoded as JPEG "
                                                "without EXIF or GPS, with a thumbnail.")]
ERRORS = ("413 `image_too_large` / `image_too_many_pixels`, 415 `image_format_unsupported`, "
          "422 `image_invalid`, 409 `too_many_photos`.")


def _read(request: Request, file: UploadFile) -> bytes:
    """The upload's bytes, reading at most one byte past the limit (a huge upload is refused unread)."""
    limit = request.app.state.settings.media_max_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise ImageTooLarge(details={"max_bytes": limit})
    return data


def _add(request: Request, session, principal: Principal, kind: OwnerKind, owner_id: int, file: UploadFile) -> PhotoRead:
    settings = request.app.state.settings
    return service.read(service.add_photo(session, storage_of(request.app), service.limits_of(settings), principal,
                                          kind, owner_id, _read(request, file)))


@router.post("/stores/{store_id:int}/photos", status_code=status.HTTP_201_CREATED, response_model=PhotoRead,
             openapi_extra=access("merchant:store.manage"),
             description="Add a photo to a store's gallery (at most 20; the first is the cover). " + ERRORS)
def add_store_photo(store_id: ObjectId, file: Upload, request: Request, session: DbSession,
                    principal: LoggedIn) -> PhotoRead:
    return _add(request, session, principal, OwnerKind.STORE, store_id, file)


@router.post("/products/{product_id:int}/photos", status_code=status.HTTP_201_CREATED, response_model=PhotoRead,
             openapi_extra=access("merchant:catalog.manage"),
             description="Add a photo to a product (at most 12). " + ERRORS)
def add_product_photo(product_id: ObjectId, file: Upload, request: Request, session: DbSession,
                      principal: LoggedIn) -> PhotoRead:
    return _add(request, session, principal, OwnerKind.PRODUCT, product_id, file)


@router.post("/service-items/{item_id:int}/photos", status_code=status.HTTP_201_CREATED, response_model=PhotoRead,
             openapi_extra=access("merchant:catalog.manage"),
             description="Add a photo to a service item (at most 12). " + ERRORS)
def add_service_item_photo(item_id: ObjectId, file: Upload, request: Request, session: DbSession,
                           principal: LoggedIn) -> PhotoRead:
    return _add(request, session, principal, OwnerKind.SERVICE_ITEM, item_id, file)


@router.post("/reviews/{review_id:int}/photos", status_code=status.HTTP_201_CREATED, response_model=PhotoRead,
             openapi_extra=access("self"),
             description="Add a photo to a review of yours (at most 9). " + ERRORS)
def add_review_photo(review_id: ObjectId, file: Upload, request: Request, session: DbSession,
                     principal: LoggedIn) -> PhotoRead:
    return _add(request, session, principal, OwnerKind.REVIEW, review_id, file)


@router.get("/photos", response_model=list[PhotoRead], openapi_extra=access("public"))
def list_photos(session: DbSession, owner_kind: Annotated[OwnerKind, Query()],
                owner_id: Annotated[int, Query(ge=1, le=MAX_ID)]) -> list[PhotoRead]:
    """The photos of a store, product, service item or review, in order."""
    return service.photos_of(session, owner_kind, [owner_id]).get(owner_id, [])


@router.delete("/photos/{photo_id:int}", status_code=status.HTTP_204_NO_CONTENT,
               openapi_extra=access("merchant:store.manage"))
def delete_photo(photo_id: ObjectId, request: Request, session: DbSession, principal: LoggedIn) -> Response:
    """Remove a photo: staff with store.manage (stores) or catalog.manage (products, service items) of its
    merchant, or a review's author."""
    service.remove_photo(session, storage_of(request.app), principal, photo_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
