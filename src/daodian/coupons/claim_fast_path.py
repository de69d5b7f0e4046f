"""The coupon claim's fast path: a crowd grabbing coupons meets plain ASGI, not the whole framework.

FastAPI's work per request (its middleware, routing, dependencies, an error raised and rendered by its
exception handlers) cost a claim several times what the claim itself costs, and a flash sale is
thousands of claims a second, most of them refused once the stock is gone. With the shared request path
made lean (kit.api.routing, kit.api.one_hop, accounts.principal_lookup, kit.worker_threads) this path still
answers 2.4x the route's refusals after a sell-out on SQLite, the embedded default (7,366 against 3,065 a
second: without it that crowd would fall below issue 5's 5,000), but only 1.4x its successes there and
1.1-1.5x on PostgreSQL (bench/coupon_claims.py prints both, issue 15). It stays for the sell-out's crowd. So `POST /api/v1/coupons/{id}/claims` with a bearer token is
answered here, the caller found by a gathered lookup (accounts.tokens.batched) and the claim written like
the route's (coupons.claim_batches), in the same error envelope. Anything else passes through to the FastAPI route, which stays the documented one: no or a
malformed token, a token that is not live (the route answers 401), a query string, an id out of range.
"""

import json
import logging
import re
from typing import Any

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.types import ASGIApp, Receive, Scope, Send

from daodian.accounts.tokens.batched import lookups_of
from daodian.coupons.claim_batches import batches_of
from daodian.kit.api.error_handlers import BUSY, BUSY_HEADERS, CONFLICT, UNEXPECTED
from daodian.kit.errors import DomainError, error_body
from daodian.kit.ids import MAX_ID

log = logging.getLogger("daodian")

CLAIMS_PREFIX = "/api/v1/coupons/"
CLAIM_PATH = re.compile(r"/api/v1/coupons/([1-9][0-9]{0,15})/claims")


class ClaimFastPath:
    """ASGI middleware in front of the app: claims it can answer, it answers; the rest go on."""

    def __init__(self, app: ASGIApp, fastapi_app: FastAPI) -> None:
        self.app = app
        self.fastapi_app = fastapi_app

    @staticmethod
    def takes(scope: Scope) -> bool:
        """The requests this door is for (kit.ops.edge lets only these through it): POSTs under the coupons."""
        return scope["method"] == "POST" and scope["path"].startswith(CLAIMS_PREFIX)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        claim = _claim_of(scope) if scope["type"] == "http" else None
        if claim is None:
            await self.app(scope, receive, send)
            return
        template_id, token = claim
        user_id = await lookups_of(self.fastapi_app.state).user_id(token)
        if user_id is None:
            await self.app(scope, receive, send)  # the route says 401 the documented way
            return
        status, body, headers = await self._claim(user_id, template_id)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                *((k.lower().encode(), v.encode()) for k, v in headers.items())]})
        await send({"type": "http.response.body", "body": body})

    async def _claim(self, user_id: int, template_id: int) -> tuple[int, bytes, dict[str, str]]:
        try:
            coupon = await batches_of(self.fastapi_app).claim(user_id, template_id)
            return 201, coupon.model_dump_json().encode(), {}
        except DomainError as exc:
            return _error(exc.status, exc.code, exc.message, exc.details)
        except IntegrityError:
            return _error(*CONFLICT)
        except OperationalError as exc:
            log.warning("database unavailable on a coupon claim: %s", exc.orig)
            return _error(*BUSY, headers=BUSY_HEADERS)
        except Exception:
            log.exception("unhandled error on a coupon claim")
            return _error(*UNEXPECTED)


def _claim_of(scope: Scope) -> tuple[int, str] | None:
    """(template id, bearer token) of a claim this path answers, else None."""
    if scope["method"] != "POST" or scope.get("query_string") or scope.get("root_path"):
        return None
    match = CLAIM_PATH.fullmatch(scope["path"])
    if match is None or int(match[1]) > MAX_ID:
        return None
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return (int(match[1]), token[:128]) if scheme.lower() == "bearer" and token else None
    return None


def _error(status: int, code: str, message: str, details: Any = None,
           headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    body = json.dumps(error_body(code, message, details), ensure_ascii=False, separators=(",", ":")).encode()
    return status, body, headers or {}
