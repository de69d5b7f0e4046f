"""Position reports over one WebSocket per courier: `/api/v1/couriers/me/positions/live`.

A phone on duty reports every 5 s for hours. As HTTP requests, each report paid for a request: its headers
parsed, its token looked up, a response with its headers, often a new connection. 2,000 couriers made that
400 requests a second, and on two cores the rest of the city's requests waited behind them (bench/
courier_positions.py). Over a socket the courier is identified once, at the handshake, and each report is one
small frame in and one out; what a report does with the database is unchanged (delivery.positions: the same
queue, memory and batches as `POST /couriers/me/positions`, which stays for clients that cannot hold a socket).

The protocol, one JSON text frame each way:
- in: a position, as `POST /couriers/me/positions` takes it: `{"lat": .., "lng": .., "datum": "wgs84",
  "accuracy_m": ..}`;
- out: `{"kept": .., "next_after": ..}` as that route answers, or the error envelope
  (`{"error": {"code", "message", "details"}}`) for a report it would refuse. A bad report does not end the
  socket; one whose caller is no longer allowed (logged out, deactivated, no courier) ends it with close
  code 4000 + the HTTP status (4401, 4403).
- the handshake: a bearer token (`Authorization: Bearer ...`, for apps and native clients) or the page's
  session cookie, which a browser sends with any request to this host, so only from this site's pages
  (Origin checked as for a form post). A refused handshake is answered with the HTTP status and the error
  envelope, before any socket is opened.

Each frame asks the token's principal again, from this process's memory of tokens
(accounts.tokens.lookup: no database read), so a logout ends the socket at its next report as it would
refuse the next request.
"""

import json

from fastapi import WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import ValidationError

from daodian.accounts.authz import Principal
from daodian.accounts.dependencies import SESSION_COOKIE
from daodian.accounts.tokens.lookup import principal_for
from daodian.delivery import positions
from daodian.delivery.schemas import PositionAck, PositionIn
from daodian.kit.api.error_handlers import field_problems
from daodian.kit.api.scopes import AppNotAllowed
from daodian.kit.errors import DomainError, Invalid, NotAuthenticated
from daodian.kit.html.forms import CsrfFailed, same_origin

MAX_FRAME = 1024  # a report is about 100 bytes; anything much larger is not one
TOKEN_LENGTH = 128  # as every other lookup cuts a presented token


class FrameTooLarge(DomainError):
    status, code, message = 413, "payload_too_large", "A position report is a small JSON object."


def _credentials(websocket: WebSocket) -> tuple[str, str]:
    """(token, kind) the handshake presents: a bearer token, else the page's cookie from this site's pages."""
    scheme, token = get_authorization_scheme_param(websocket.headers.get("authorization"))  # as HTTPBearer reads it
    if scheme.lower() == "bearer" and token:
        return token[:TOKEN_LENGTH], "bearer"
    cookie = websocket.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise NotAuthenticated()
    if not same_origin(websocket):  # a socket opened by another site's page would carry our cookie too
        raise CsrfFailed()
    return cookie[:TOKEN_LENGTH], "cookie"


async def _caller(websocket: WebSocket, token: str, kind: str) -> Principal:
    principal = await principal_for(websocket.app.state.session_factory, token, kind)
    if principal is None:
        raise NotAuthenticated()
    if principal.app_id is not None:  # no app acts as a courier (as the route's own check says)
        raise AppNotAllowed()
    return principal


async def serve_positions(websocket: WebSocket) -> None:
    try:
        token, kind = _credentials(websocket)
        await _caller(websocket, token, kind)
    except DomainError as error:
        if "websocket.http.response" in websocket.scope.get("extensions", {}):  # uvicorn's: the status and body
            await websocket.send_denial_response(JSONResponse(error.body(), status_code=error.status))
        else:
            await websocket.close(code=4000 + error.status)
        return
    await websocket.accept()
    batches = positions.batches_of(websocket.app)
    while True:
        try:
            frame = await websocket.receive_text()
        except WebSocketDisconnect:
            return
        try:
            principal = await _caller(websocket, token, kind)
            if len(frame) > MAX_FRAME:
                raise FrameTooLarge()
            try:
                data = PositionIn.model_validate_json(frame)
            except ValidationError as exc:
                raise Invalid(details=field_problems(exc)) from None
            kept, next_after = await batches.report(principal.user_id, data)
        except DomainError as error:
            await websocket.send_text(json.dumps(error.body(), ensure_ascii=False))
            if error.status in (401, 403):  # the caller may not report (any more): nothing later would pass
                await websocket.close(code=4000 + error.status)
                return
            continue
        await websocket.send_text(PositionAck(kept=kept, next_after=next_after).model_dump_json())
