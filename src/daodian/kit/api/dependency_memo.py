"""What FastAPI works out about a dependency, worked out once instead of per request.

For every dependency of every request, FastAPI's solver (fastapi.dependencies.utils.solve_dependencies) asks
again what kind of callable it is (a generator? a coroutine function?, each behind an LRU cache keyed by a
wrapper object made per call) and computes its cache key (its OAuth scopes walked and sorted, its scope
derived). The answers depend on the dependency alone, which does not change once its route is built, and
asking cost `GET /api/v1/me`, with five dependencies, about a tenth of its time. Likewise for each query,
header, cookie and path parameter, reading the request: is it a model, a list, JSON, under which names may it
come; the eight of `GET /stores/nearby` cost it some 7% of its time.

`install()` puts memoised twins of those helpers where the solver looks them up: the same function computes
each answer, once per dependency, callable, parameter or annotation, and a dict lookup answers after that. Identity
is checked (a memo entry holds its key object, so an id is never reused while it is remembered), and the
memo is emptied when it grows past MEMO_LIMIT: dependency overrides make a fresh Dependant per request.
Nothing else of the solver changes; tests/kit/test_dependency_memo.py holds the twins to the originals.
"""

from collections.abc import Callable
from typing import Any

from fastapi.dependencies import models, utils

MEMO_LIMIT = 4096

_ORIGINALS = {name: getattr(models, name)
              for name in ("_get_cache_key", "_is_gen_callable", "_is_async_gen_callable", "_is_coroutine_callable")}
# About a parameter (a ModelField) or its annotation, as the solver reads the request: in utils' namespace.
_PARAMETER_HELPERS = ("_get_param_model", "_is_json_field", "field_annotation_is_sequence")
_ORIGINALS.update({name: getattr(utils, name) for name in (*_PARAMETER_HELPERS, "_get_param_aliases")})


def _memo_by_identity(compute: Callable[..., Any]) -> Callable[..., Any]:
    memo: dict[int, tuple[Any, Any]] = {}

    def by_call(call: Any) -> Any:
        known = memo.get(id(call))
        if known is not None and known[0] is call:
            return known[1]
        answer = compute(call)
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
        memo[id(call)] = (call, answer)
        return answer

    by_call.__wrapped__ = compute  # type: ignore[attr-defined]
    return by_call


def _memo_cache_key(compute: Callable[..., Any]) -> Callable[..., Any]:
    memo: dict[int, tuple[Any, Any]] = {}

    def cache_key(*, dependant: Any, uses_scopes_cache: Any = None) -> Any:
        known = memo.get(id(dependant))
        if known is not None and known[0] is dependant:
            return known[1]
        answer = compute(dependant=dependant, uses_scopes_cache=uses_scopes_cache)
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
        memo[id(dependant)] = (dependant, answer)
        return answer

    cache_key.__wrapped__ = compute  # type: ignore[attr-defined]
    return cache_key


def _memo_aliases(compute: Callable[..., Any]) -> Callable[..., Any]:
    """The (validation alias, request key) pairs of a parameter, as a tuple: every caller only reads them."""
    memo: dict[tuple[int, bool], tuple[Any, tuple]] = {}

    def aliases(field: Any, *, convert_underscores: bool = False) -> tuple:
        key = (id(field), convert_underscores)
        known = memo.get(key)
        if known is not None and known[0] is field:
            return known[1]
        answer = tuple(compute(field, convert_underscores=convert_underscores))
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
        memo[key] = (field, answer)
        return answer

    aliases.__wrapped__ = compute  # type: ignore[attr-defined]
    return aliases


def install() -> None:
    """Put the memoised helpers in the solver's namespace (idempotent)."""
    if getattr(utils._get_cache_key, "__wrapped__", None) is _ORIGINALS["_get_cache_key"]:
        return
    utils._get_cache_key = _memo_cache_key(_ORIGINALS["_get_cache_key"])
    for name in ("_is_gen_callable", "_is_async_gen_callable", "_is_coroutine_callable", *_PARAMETER_HELPERS):
        setattr(utils, name, _memo_by_identity(_ORIGINALS[name]))
    utils._get_param_aliases = _memo_aliases(_ORIGINALS["_get_param_aliases"])
