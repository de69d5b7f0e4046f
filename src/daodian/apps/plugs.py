"""What the apps domain plugs into the layers below it, at bootstrap: the principal lookup learns apps' access
tokens (accounts.tokens.foreign), and an app's request passes its installation's rate limit after its scope
(kit.api.scopes)."""

from daodian.apps import rate_limits, tokens
from daodian.kit.api import scopes


def plug() -> None:
    tokens.register()
    scopes.add_gate(rate_limits.limit)
