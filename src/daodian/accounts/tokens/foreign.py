"""Bearer tokens that accounts does not issue, looked up by the layer that does (apps' access tokens).

Such a token starts with its issuer's prefix; the issuer registers, at bootstrap, how to find the principal
behind a token's hash. The lookup (accounts.tokens.lookup) asks it only for a token with its prefix that
this process does not remember, so a login's token pays nothing for it.
"""

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection

from daodian.accounts.authz import Principal

# (connection, token hash) -> (principal, when the token expires), or None when it is not live.
Resolver = Callable[[Connection, str], tuple[Principal, datetime] | None]

_resolvers: dict[str, Resolver] = {}


def register(prefix: str, resolver: Resolver) -> None:
    _resolvers[prefix] = resolver


def resolver_for(token: str) -> Resolver | None:
    for prefix, resolver in _resolvers.items():
        if token.startswith(prefix):
            return resolver
    return None
