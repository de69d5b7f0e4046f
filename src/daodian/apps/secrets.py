"""An app's credentials: the public client id, the secret shown once, and tokens, with their prefixes.

The prefixes say what a string is when it turns up in a log or a leak scanner, and let the principal
lookup (accounts.tokens.foreign) send an app's access token here without a read.
"""

import hmac
import secrets
from datetime import datetime

from daodian.accounts.tokens.hashing import hash_token
from daodian.apps.models import App

CLIENT_ID_PREFIX = "ddc_"
SECRET_PREFIX = "dds_"
ACCESS_TOKEN_PREFIX = "ddat_"
REFRESH_TOKEN_PREFIX = "ddrt_"
CODE_PREFIX = "ddac_"


def new_client_id() -> str:
    return CLIENT_ID_PREFIX + secrets.token_hex(12)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def new_access_token() -> str:
    return ACCESS_TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_refresh_token() -> str:
    return REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_code() -> str:
    return CODE_PREFIX + secrets.token_urlsafe(32)


def secret_matches(app: App, secret: str, now: datetime) -> bool:
    """The current secret, or the previous one within its overlap window after a rotation."""
    given = hash_token(secret)
    if hmac.compare_digest(given, app.secret_hash):
        return True
    return (app.previous_secret_hash is not None and app.previous_valid_until is not None
            and now < app.previous_valid_until and hmac.compare_digest(given, app.previous_secret_hash))
