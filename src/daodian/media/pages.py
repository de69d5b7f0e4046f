"""Serving the stored photos. A name is never reused for other bytes, so browsers and proxies keep them
for a year without asking again; the ETag is the name itself."""

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from daodian.media import images
from daodian.media.errors import PhotoNotFound
from daodian.media.storage import NAME, storage_of

router = APIRouter()

CACHE_FOREVER = "public, max-age=31536000, immutable"


@router.get("/media/{name}")
def media_file(request: Request, name: Annotated[str, Path(max_length=48)]) -> Response:
    if not NAME.match(name):
        raise PhotoNotFound()
    etag = f'"{name}"'
    headers = {"Cache-Control": CACHE_FOREVER, "ETag": etag, "X-Content-Type-Options": "nosniff"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    data = storage_of(request.app).get(name)
    if data is None:
        raise PhotoNotFound()
    return Response(data, media_type=images.CONTENT_TYPE, headers=headers)
