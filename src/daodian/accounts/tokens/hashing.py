"""How a token is kept: only its SHA-256, so a stolen table gives no login (sessions, the principal cache)."""

import hashlib


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
