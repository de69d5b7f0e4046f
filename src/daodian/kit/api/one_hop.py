"""A sync route runs in one worker-thread hop: the route, its response's validation, the end of its transaction.

FastAPI runs a sync route in a worker thread, then validates its response in another, and a request's
session (kit.api.http.DbSession, a dependency with yield) ended in a third. Under load each hop cost more
than the work it carried (a thread wakes, the GIL changes hands, the event loop is woken back), and a
request paid three or four of them. `OneHopRoute` wraps a plain sync endpoint in an async one that makes
a single hop, in which it:

1. calls the endpoint with what FastAPI resolved, as FastAPI would;
2. validates the result against the route's response model, as FastAPI does next, still in the thread
   and before the commit, so ORM objects may load what they lack from the open session. FastAPI then
   validates the validated value again in the event loop: an instance of the response model passes as
   it is. A result that fails is handed over unvalidated, and FastAPI reports it its own way;
3. ends the request's unit of work (kit.api.http.RequestUnit): commit, or roll back when the endpoint
   raised, then close; a failed commit raises from here, before any response, as it did from the
   dependency's exit.

An API route (`ApiRoute`, api.py) also refuses a single-valued query parameter given twice (kit.api.query)
before FastAPI solves its dependencies.

Nothing else changes: dependencies, the status code, headers a route sets through a `Response`
parameter and the serialisation are FastAPI's own; a route without DbSession just makes one hop less.
Async endpoints and generators (streams) are left as they are.
"""

import inspect
from collections.abc import Callable, Coroutine
from functools import partial, wraps
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from daodian.kit.api.query import refuse_repeats
from daodian.kit.api.request_unit import CURRENT_UNIT
from daodian.kit.worker_threads import run_sync

ENDPOINT = "__one_hop_endpoint__"  # the wrapped endpoint, on its wrapper


class OneHopRoute(APIRoute):
    def __init__(self, path: str, endpoint: Any, **kwargs: Any) -> None:
        endpoint = getattr(endpoint, ENDPOINT, endpoint)  # a route copied from another (kit.api.routing): wrap anew
        if inspect.isfunction(endpoint) and not (inspect.iscoroutinefunction(endpoint)
                                                 or inspect.isgeneratorfunction(endpoint)
                                                 or inspect.isasyncgenfunction(endpoint)):
            endpoint = _in_one_hop(endpoint, self)
        super().__init__(path, endpoint, **kwargs)


class ApiRoute(OneHopRoute):
    """A JSON API route (api.py): one hop, and the API's one reading of the query string (kit.api.query)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            refuse_repeats(request, self)
            return await handler(request)

        return handle


def _in_one_hop(endpoint: Any, route: APIRoute) -> Any:
    # FastAPI reads the signature and the return annotation through __wrapped__ (functools.wraps): the
    # parameters, the documented schema and the inferred response model are the endpoint's own.
    @wraps(endpoint)
    async def run(**values: Any) -> Any:
        # The project's worker threads (kit.worker_threads): routes may call back into the loop from there.
        return await run_sync(partial(_call, endpoint, route, values))

    setattr(run, ENDPOINT, endpoint)
    return run


def _call(endpoint: Any, route: APIRoute, values: dict[str, Any]) -> Any:
    unit = CURRENT_UNIT.get()
    try:
        result = endpoint(**values)
        field = route.response_field
        if field is not None and not isinstance(result, Response):
            validated, errors = field.validate(result, {}, loc=("response",))
            if not errors:
                result = validated
    except BaseException:
        if unit is not None:
            unit.end(failed=True)
        raise
    if unit is not None:
        unit.end(failed=False)
    return result
