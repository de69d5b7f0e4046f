"""The two places photos are kept: a folder, and an S3-compatible bucket (through boto3; botocore's own
Stubber stands in for the network, checking every call's parameters against the S3 API model)."""

import io

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from daodian.kit.settings import Settings
from daodian.media.storage import LocalStorage, S3Storage, storage_for

NAME = "0123456789abcdef0123456789abcdef.jpg"


def test_local_storage_round_trip(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.put(NAME, b"jpeg bytes", "image/jpeg")
    assert storage.get(NAME) == b"jpeg bytes"
    assert (tmp_path / "01" / "23" / NAME).exists()
    storage.delete(NAME)
    assert storage.get(NAME) is None


def test_local_storage_refuses_names_it_did_not_make(tmp_path):
    with pytest.raises(ValueError):
        LocalStorage(tmp_path).get("../../etc/passwd")


def test_s3_storage_puts_gets_and_deletes_with_caching_headers():
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    storage = S3Storage(client, "photos", "media/")
    with Stubber(client) as stub:
        stub.add_response("put_object", {}, {"Bucket": "photos", "Key": "media/" + NAME, "Body": b"jpeg",
                                             "ContentType": "image/jpeg",
                                             "CacheControl": "public, max-age=31536000, immutable"})
        stub.add_response("get_object", {"Body": StreamingBody(io.BytesIO(b"jpeg"), 4)},
                          {"Bucket": "photos", "Key": "media/" + NAME})
        stub.add_client_error("get_object", "NoSuchKey", http_status_code=404)
        stub.add_response("delete_object", {}, {"Bucket": "photos", "Key": "media/" + NAME})
        storage.put(NAME, b"jpeg", "image/jpeg")
        assert storage.get(NAME) == b"jpeg"
        assert storage.get(NAME) is None
        storage.delete(NAME)
        stub.assert_no_pending_responses()


def test_settings_choose_the_backend(tmp_path):
    assert isinstance(storage_for(Settings(media_root=tmp_path)), LocalStorage)
    s3 = storage_for(Settings(media_backend="s3", s3_bucket="b", s3_region="cn-north-1",
                              s3_endpoint_url="http://127.0.0.1:9", s3_access_key_id="k", s3_secret_access_key="s"))
    assert isinstance(s3, S3Storage) and s3.bucket == "b" and s3.client.meta.endpoint_url == "http://127.0.0.1:9"
    with pytest.raises(ValueError):
        storage_for(Settings(media_backend="s3"))
