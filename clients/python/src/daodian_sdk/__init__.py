"""daodian's open platform from Python: `Client` (typed calls over httpx), token handling (client credentials,
refresh tokens) and `verify_signature` / `construct_event` for webhook receivers."""

from daodian_sdk.client import ApiError, Client
from daodian_sdk.models import Attempt, Delivery, Endpoint, EventType, Page
from daodian_sdk.tokens import BearerToken, ClientCredentials, RefreshingToken, TokenError
from daodian_sdk.webhooks import SignatureError, construct_event, verify_signature

__all__ = ["ApiError", "Attempt", "BearerToken", "Client", "ClientCredentials", "Delivery", "Endpoint", "EventType",
           "Page", "RefreshingToken", "SignatureError", "TokenError", "construct_event", "verify_signature"]
