"""Routes included flat and found through an index answer exactly as FastAPI's nested inclusion did."""

import re

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import Match

from daodian import api
from daodian.app import create_app
from daodian.kit.api.routing import RouteIndex
from daodian.kit.api.scopes import document as document_scopes
from daodian.kit.settings import Settings
from daodian.web import pages


def _nested_app() -> FastAPI:
    """The app as it was mounted before: every router through FastAPI's own include_router."""
    app = FastAPI(title="daodian", version="x", description="d", openapi_url="/openapi.json", docs_url="/docs",
                  redoc_url=None)
    api_router, pages_router = api.api_router(), pages.pages_router()
    for router in api.ROUTERS:
        api_router.include_router(router)
    for router in pages.ROUTERS:
        pages_router.include_router(router)
    app.include_router(api_router)
    app.include_router(pages_router)
    document_scopes(app, token_url="/oauth/token", authorization_url="/oauth/authorize")  # as create_app does
    return app


@pytest.fixture(scope="module")
def flat_app() -> FastAPI:
    return create_app(Settings(env="test", database_url="sqlite://"))


def test_the_flat_routes_are_documented_exactly_as_the_nested_ones(flat_app):
    flat = flat_app.openapi()
    nested = _nested_app().openapi()
    assert flat["paths"] == nested["paths"]
    assert flat["components"] == nested["components"]


def test_the_flat_routes_keep_the_inclusion_order(flat_app):
    def order(app: FastAPI) -> list[tuple[str, tuple[str, ...]]]:
        return [(c.path, tuple(sorted(c.methods or ()))) for c in iter_route_contexts(app.router.routes)
                if not c.path.startswith(("/docs", "/openapi", "/static", "/metrics"))]

    flat = order(flat_app)
    assert flat == order(_nested_app()) and len(flat) > 200


def _sample_paths(app: FastAPI) -> set[str]:
    """Every route's path with its parameters filled in several ways, its neighbours (a trailing slash, one
    segment more or less) and paths no route has."""
    paths = {"/", "/nothing", "/api", "/api/v1", "/api/v1/", "/api/v1/nothing/1", "/static/app.css", "/static",
             "/api/v1/stores/nearby", "/api/v1/stores/1", "/api/v1/me", "/merchant/1/items/new"}
    for route in app.router.routes:
        template = getattr(route, "path", "")
        for value in ("1", "nearby", "x.csv", "0"):
            path = re.sub(r"{[^}]+}", value, template)
            paths |= {path, path + "/", path.rstrip("/") + "/extra", path.rsplit("/", 1)[0] or "/"}
    return paths


def test_the_index_finds_the_route_a_scan_of_every_route_finds(flat_app):
    index = RouteIndex(flat_app.router)
    routes = flat_app.router.routes
    checked = 0
    for path in sorted(_sample_paths(flat_app)):
        for method in ("GET", "POST", "PATCH", "PUT", "DELETE"):
            scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
            scanned = next((r for r in routes if r.matches(dict(scope))[0] is Match.FULL), None)
            indexed = next((r for r in index.candidates(path) if r.matches(dict(scope))[0] is Match.FULL), None)
            assert indexed is scanned, (method, path)
            checked += scanned is not None
    assert checked > 300  # most samples do reach a route: the comparison is not between two Nones


def test_a_path_that_begins_with_a_parameter_is_tried_on_every_request():
    app = FastAPI()

    @app.get("/{slug}/about")
    def about(slug: str) -> dict:
        return {"slug": slug}

    @app.get("/api/v1/me")
    def me() -> dict:
        return {}

    index = RouteIndex(app.router)
    assert [r.path for r in index.candidates("/api/v1/me")] == ["/{slug}/about", "/api/v1/me"]
    assert "/{slug}/about" in [r.path for r in index.candidates("/anything/about")]
