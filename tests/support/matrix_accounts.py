"""Authorization-matrix entries (see tests/support/matrix.py) for accounts, and the headers every area shares."""

import uuid

from tests.factories import PASSWORD

PARAMS = {
    "Idempotency-Key": lambda s, w: uuid.uuid4().hex,  # kit.api.idempotency: a fresh key per world
}

BODIES = {
    "POST /api/v1/auth/register": {"phone": "+86 137-0000-0001", "password": PASSWORD, "display_name": "新用户"},
    "POST /api/v1/auth/login": lambda s, w: {"phone": s.users["consumer_a"].phone, "password": PASSWORD},
}
