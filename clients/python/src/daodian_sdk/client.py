"""`Client`: the daodian API over httpx, typed for the open platform's routes, with any route reachable
through `get`/`post`/`patch`. Errors come back as ApiError carrying daodian's stable error code."""

from typing import Any

import httpx

from daodian_sdk.models import Attempt, Delivery, Endpoint, EventType, Page
from daodian_sdk.tokens import BearerToken

API = "/api/v1"


class ApiError(RuntimeError):
    """A 4xx/5xx answer: `code` is the stable machine-readable code of `{"error": {...}}`."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details


class Client:
    """`auth`: a `BearerToken`, `ClientCredentials` or `RefreshingToken` (or a plain token string)."""

    def __init__(self, base_url: str, auth: httpx.Auth | str | None = None, *, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        if isinstance(auth, str):
            auth = BearerToken(auth)
        self._http = httpx.Client(base_url=base_url.rstrip("/") + API, auth=auth, timeout=timeout,
                                  transport=transport, headers={"Accept": "application/json"})

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- any route -------------------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
            except (ValueError, KeyError, TypeError):
                error = {"code": "http_error", "message": response.text[:200]}
            raise ApiError(response.status_code, error.get("code", "http_error"), error.get("message", ""),
                           error.get("details"))
        return response.json() if response.content else None

    def get(self, path: str, **params) -> Any:
        return self.request("GET", path, params=params or None)

    def post(self, path: str, json: Any = None, **kwargs) -> Any:
        return self.request("POST", path, json=json, **kwargs)

    def patch(self, path: str, json: Any = None) -> Any:
        return self.request("PATCH", path, json=json)

    # --- webhooks --------------------------------------------------------------------------------

    def event_types(self) -> list[EventType]:
        return [EventType.from_json(e) for e in self.get("/webhooks/events")]

    def webhook_endpoints(self, app_id: int) -> list[Endpoint]:
        return [Endpoint.from_json(e) for e in self.get(f"/apps/{app_id}/webhooks")]

    def create_webhook_endpoint(self, app_id: int, url: str, events: list[str], description: str = "") -> Endpoint:
        body = {"url": url, "events": events, "description": description}
        return Endpoint.from_json(self.post(f"/apps/{app_id}/webhooks", json=body))

    def update_webhook_endpoint(self, app_id: int, endpoint_id: int, **changes: Any) -> Endpoint:
        """Changes: url, events, description, status ("active" enables a disabled endpoint)."""
        return Endpoint.from_json(self.patch(f"/apps/{app_id}/webhooks/{endpoint_id}", json=changes))

    def rotate_webhook_secret(self, app_id: int, endpoint_id: int) -> Endpoint:
        return Endpoint.from_json(self.post(f"/apps/{app_id}/webhooks/{endpoint_id}/rotate-secret"))

    def webhook_deliveries(self, app_id: int, endpoint_id: int, *, limit: int = 50,
                           cursor: str | None = None) -> Page[Delivery]:
        page = self.get(f"/apps/{app_id}/webhooks/{endpoint_id}/deliveries", limit=limit,
                        **({"cursor": cursor} if cursor else {}))
        return Page([Delivery.from_json(d) for d in page["items"]], page["next_cursor"])

    def webhook_attempts(self, app_id: int, endpoint_id: int, *, limit: int = 50,
                         cursor: str | None = None) -> Page[Attempt]:
        page = self.get(f"/apps/{app_id}/webhooks/{endpoint_id}/attempts", limit=limit,
                        **({"cursor": cursor} if cursor else {}))
        return Page([Attempt.from_json(a) for a in page["items"]], page["next_cursor"])

    def redeliver(self, app_id: int, endpoint_id: int, delivery_id: int) -> Delivery:
        return Delivery.from_json(self.post(f"/apps/{app_id}/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver"))
