"""The merchant console's photo galleries of a store, a product and a service item: upload (judged by content,
re-encoded without EXIF or GPS: daodian.media) and remove. Here in web/ because each shows an owner from its
own domain (merchants, catalog) with its photos (media). One gallery per owner kind (GALLERIES); the routes
are the same for each."""

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from starlette.datastructures import UploadFile

from daodian.accounts.authz import Action, Principal, authorize
from daodian.accounts.dependencies import PagePrincipal
from daodian.catalog import service as catalog
from daodian.kit.api.http import DbSession, ObjectId
from daodian.kit.errors import DomainError, NotFound
from daodian.kit.html.forms import CheckedForm, login_redirect, see_other
from daodian.kit.html.rendering import render
from daodian.media import service as media
from daodian.media.errors import PhotoNotFound
from daodian.media.models import OwnerKind
from daodian.media.owners import MAX_PHOTOS
from daodian.media.storage import storage_of
from daodian.merchants import service_items, stores
from daodian.taxonomy.models import CatalogStatus

router = APIRouter()


@dataclass(frozen=True)
class Shown:
    """The owner as its gallery shows it: a name, and where its own page is."""

    id: int
    name: str
    name_en: str | None
    href: str


@dataclass(frozen=True)
class Gallery:
    kind: OwnerKind
    base: str  # the console path before the owner's id
    managed: Callable[..., Shown]  # (session, principal, id) -> the owner, or 404/403 as its API answers

    def path(self, owner_id: int) -> str:
        return f"{self.base}/{owner_id}/photos"


def _store(session, principal: Principal, store_id: int) -> Shown:
    store = stores.visible_store(session, principal, store_id)
    authorize(principal, Action.STORE_MANAGE, store.merchant_id)
    return Shown(store.id, store.name, store.name_en, f"/merchant/stores/{store.id}")


def _catalog_entry(principal: Principal, entry, not_found: NotFound):
    """A hidden product or item is as missing to anyone outside its merchant; a listed one may be seen by all,
    but only the merchant's catalog managers change its photos."""
    if entry.status != CatalogStatus.ACTIVE and not principal.can(Action.CONSOLE_VIEW, entry.merchant_id):
        raise not_found
    authorize(principal, Action.CATALOG_MANAGE, entry.merchant_id)
    return entry


def _product(session, principal: Principal, product_id: int) -> Shown:
    product = _catalog_entry(principal, catalog.get_product(session, product_id),
                             NotFound("No such product.", code="product_not_found"))
    return Shown(product.id, product.name_zh, product.name_en, f"/p/{product.id}")


def _service_item(session, principal: Principal, item_id: int) -> Shown:
    item = _catalog_entry(principal, service_items.get_item(session, item_id),
                          NotFound("No such service item.", code="service_item_not_found"))
    return Shown(item.id, item.name_zh, item.name_en, f"/merchant/items/{item.id}")


GALLERIES = (
    Gallery(OwnerKind.STORE, "/merchant/stores", _store),
    Gallery(OwnerKind.PRODUCT, "/merchant/products", _product),
    Gallery(OwnerKind.SERVICE_ITEM, "/merchant/items", _service_item),
)


def _page(request: Request, session, principal, gallery: Gallery, owner: Shown, error: str | None = None,
          status: int = 200) -> HTMLResponse:
    return render(request, "console/photos.html", {
        "principal": principal, "kind": gallery.kind.value, "owner": owner, "photos_path": gallery.path(owner.id),
        "error": error, "max_photos": MAX_PHOTOS[gallery.kind],
        "photos": media.photos_of(session, gallery.kind, [owner.id]).get(owner.id, []),
    }, status=status)


def _add_routes(gallery: Gallery) -> None:
    def photos(owner_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal) -> Response:
        if not principal.is_authenticated:
            return login_redirect(request)
        return _page(request, session, principal, gallery, gallery.managed(session, principal, owner_id))

    def upload(owner_id: ObjectId, request: Request, session: DbSession, principal: PagePrincipal,
               form: CheckedForm) -> Response:
        owner = gallery.managed(session, principal, owner_id)
        sent = form.get("photo")
        if not isinstance(sent, UploadFile):
            return _page(request, session, principal, gallery, owner, error="image_invalid", status=422)
        limit = request.app.state.settings.media_max_bytes
        try:
            data = sent.file.read(limit + 1)
            media.add_photo(session, storage_of(request.app), media.limits_of(request.app.state.settings), principal,
                            gallery.kind, owner.id, data)
        except DomainError as error:
            if error.status in (401, 403, 404):
                raise
            return _page(request, session, principal, gallery, owner, error=error.code, status=error.status)
        return see_other(gallery.path(owner.id))

    def delete(owner_id: ObjectId, photo_id: ObjectId, request: Request, session: DbSession,
               principal: PagePrincipal, form: CheckedForm) -> Response:
        owner = gallery.managed(session, principal, owner_id)
        if photo_id not in {p.id for p in media.photos_of(session, gallery.kind, [owner.id]).get(owner.id, [])}:
            raise PhotoNotFound()  # another owner's photo is not removed through this one's gallery
        media.remove_photo(session, storage_of(request.app), principal, photo_id)
        return see_other(gallery.path(owner.id))

    name = gallery.kind.value
    router.add_api_route(f"{gallery.base}/{{owner_id}}/photos", photos, methods=["GET"],
                         response_class=HTMLResponse, name=f"{name}_photos")
    router.add_api_route(f"{gallery.base}/{{owner_id}}/photos", upload, methods=["POST"],
                         response_class=HTMLResponse, name=f"upload_{name}_photo")
    router.add_api_route(f"{gallery.base}/{{owner_id}}/photos/{{photo_id}}/delete", delete, methods=["POST"],
                         response_class=HTMLResponse, name=f"delete_{name}_photo")


for _gallery in GALLERIES:
    _add_routes(_gallery)
