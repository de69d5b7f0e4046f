"""The SDK's webhook verifier against the server's own signer: a genuine delivery passes; a replayed one
(old timestamp), an altered body, an altered signature, an unknown secret or a malformed header are refused.
Rotation: a header with two v1 signatures verifies with either secret."""

import time

import pytest
from daodian_sdk import SignatureError, construct_event, verify_signature

from daodian.webhooks.signing import new_secret, signature_header

BODY = b'{"id":"evt_1_1","type":"order.paid","data":{"order_id":1,"amount_fen":19900}}'


def test_a_genuine_delivery_passes():
    secret, now = new_secret(), int(time.time())
    assert construct_event(BODY, signature_header([secret], now, BODY), secret)["id"] == "evt_1_1"


def test_a_replayed_delivery_is_refused():
    secret = new_secret()
    old = int(time.time()) - 3600
    with pytest.raises(SignatureError) as refused:
        verify_signature(BODY, signature_header([secret], old, BODY), secret, tolerance=300)
    assert refused.value.reason == "expired"
    with pytest.raises(SignatureError):  # from the future, too
        verify_signature(BODY, signature_header([secret], int(time.time()) + 3600, BODY), secret)


@pytest.mark.parametrize("tamper", ["body", "signature", "timestamp", "secret"])
def test_anything_altered_is_refused(tamper):
    secret, now = new_secret(), int(time.time())
    header, body = signature_header([secret], now, BODY), BODY
    if tamper == "body":
        body = BODY.replace(b"19900", b"1")
    elif tamper == "signature":
        digest = header.split("v1=")[1]
        header = header.replace(digest, digest[:-1] + ("0" if digest[-1] != "0" else "1"))
    elif tamper == "timestamp":  # a fresh time on an old signature: the HMAC covers the time
        header = header.replace(f"t={now}", f"t={now + 1}")
    else:
        secret = new_secret()
    with pytest.raises(SignatureError) as refused:
        verify_signature(body, header, secret)
    assert refused.value.reason == "mismatch"


@pytest.mark.parametrize("header", ["", "t=abc,v1=00", "v1=00", f"t={int(time.time())}", "garbage"])
def test_a_malformed_header_is_refused(header):
    with pytest.raises(SignatureError) as refused:
        verify_signature(BODY, header, new_secret())
    assert refused.value.reason == "malformed"


def test_during_a_rotation_either_secret_verifies():
    old, new = new_secret(), new_secret()
    header = signature_header([new, old], int(time.time()), BODY)
    assert header.count("v1=") == 2
    for held in (old, new, [old, new], [new_secret(), old]):
        verify_signature(BODY, header, held)
    with pytest.raises(SignatureError):
        verify_signature(BODY, header, [new_secret(), new_secret()])
