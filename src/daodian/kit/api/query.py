"""One reading of a query string for the whole API.

- A parameter nobody declared is ignored, as HTTP APIs usually do (clients and proxies add their own,
  e.g. cache busters and tracking tags).
- A parameter declared as one value must come once. Starlette keeps every value of a repeated
  parameter and FastAPI silently takes the last, so `?as_of=2025-01-01&as_of=x` would mean whichever
  came last; such a request is refused (422 `validation_error`, naming the parameter) instead.
  Parameters declared as lists (`?category=a&category=b`) repeat as they like.
"""

from types import UnionType
from typing import Union, get_args, get_origin

from fastapi import Request, params
from fastapi.dependencies.utils import get_flat_params
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

_SEQUENCES = (list, tuple, set, frozenset)


def _is_sequence(annotation) -> bool:
    origin = get_origin(annotation)
    if origin in (Union, UnionType):
        return any(_is_sequence(arg) for arg in get_args(annotation))
    return annotation in _SEQUENCES or origin in _SEQUENCES


def _single_valued(route: APIRoute) -> tuple[str, ...]:
    """The query parameters of `route` (its dependencies' too) that take one value; kept on the route."""
    names = getattr(route, "_single_valued_query", None)
    if names is None:
        names = route._single_valued_query = tuple(p.alias for p in get_flat_params(route.dependant)
            if isinstance(p.field_info, params.Query) and not _is_sequence(p.field_info.annotation))
    return names


def refuse_repeats(request: Request, route: APIRoute) -> None:
    """Refuse single-valued query parameters given more than once (kit.api.one_hop calls it for every API
    route, before FastAPI solves the route's dependencies: as a router-wide dependency it cost every request a
    round of the solver, though most requests have no query string at all)."""
    if not request.scope.get("query_string"):
        return
    given = request.query_params
    if len(given.multi_items()) == len(given):  # no name came twice: nothing to look up per parameter
        return
    repeated = [name for name in _single_valued(route) if len(given.getlist(name)) > 1]
    if repeated:
        raise RequestValidationError([
            {"type": "value_error", "loc": ("query", name), "input": request.query_params.getlist(name),
             "msg": "Value error, give this parameter once"} for name in repeated])
