from pydantic import BaseModel, Field

from daodian.media.models import OwnerKind


class PhotoRead(BaseModel):
    id: int
    owner_kind: OwnerKind
    owner_id: int
    position: int = Field(description="Order of the photos of one owner; 0 is the cover.")
    url: str = Field(description="The photo, JPEG, at most DAODIAN_MEDIA_MAX_SIDE pixels on its longer side.")
    thumb_url: str = Field(description="Its thumbnail.")
    width: int
    height: int
