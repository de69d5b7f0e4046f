"""Where the bytes of photos live: a folder (the default, var/media) or any S3-compatible store. Names are
random and never reused, so a stored object never changes and may be cached for good."""

import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from daodian.kit.settings import Settings, get_settings

NAME = re.compile(r"^[0-9a-f]{32}(\.thumb)?\.jpg$")  # what service.new_names makes; anything else is not ours


class Storage(Protocol):
    def put(self, name: str, data: bytes, content_type: str) -> None: ...

    def get(self, name: str) -> bytes | None: ...

    def delete(self, name: str) -> None: ...


class LocalStorage:
    """Files under one folder, two levels of fan-out so no folder grows without bound."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, name: str) -> Path:
        if not NAME.match(name):
            raise ValueError(f"not a photo name: {name!r}")
        return self.root / name[:2] / name[2:4] / name

    def put(self, name: str, data: bytes, content_type: str) -> None:
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a reader never sees half a photo.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, name: str) -> bytes | None:
        try:
            return self._path(name).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)


class S3Storage:
    """Objects in a bucket of AWS S3 or a compatible store (MinIO, Aliyun OSS, Tencent COS) through boto3."""

    def __init__(self, client, bucket: str, prefix: str = "") -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix

    def put(self, name: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + name, Body=data, ContentType=content_type,
                               CacheControl="public, max-age=31536000, immutable")

    def get(self, name: str) -> bytes | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + name)
        except self.client.exceptions.NoSuchKey:
            return None
        return answer["Body"].read()

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + name)


def s3_client(settings: Settings):
    import boto3  # noqa: PLC0415  (only deployments that keep photos in S3 pay for loading boto3)

    return boto3.client("s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.s3_region,
                        aws_access_key_id=settings.s3_access_key_id,
                        aws_secret_access_key=settings.s3_secret_access_key)


def storage_for(settings: Settings) -> Storage:
    if settings.media_backend == "s3":
        if not settings.s3_bucket:
            raise ValueError("DAODIAN_MEDIA_BACKEND=s3 needs DAODIAN_S3_BUCKET")
        return S3Storage(s3_client(settings), settings.s3_bucket, settings.s3_prefix)
    return LocalStorage(settings.media_root)


def storage_of(app) -> Storage:
    """The app's storage, made from its settings on first use (an S3 client is worth keeping)."""
    state = app.state
    storage = getattr(state, "media_storage", None)
    if storage is None:
        storage = state.media_storage = storage_for(getattr(state, "settings", None) or get_settings())
    return storage
