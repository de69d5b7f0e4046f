"""Our trade and refund numbers at the providers."""

import secrets

from daodian.kit.clock import utcnow


def new_reference(prefix: str) -> str:
    """Unique across databases sharing one provider account (ids alone would repeat after a reset);
    20 characters of [0-9A-Z], within what Alipay (64) and WeChat Pay (32) accept."""
    return f"{prefix}{utcnow():%Y%m%d}{secrets.token_hex(6).upper()}"[:32]
