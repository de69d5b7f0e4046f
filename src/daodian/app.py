"""Builds the ASGI app: JSON API under /api/v1, pages at /, /merchant and /admin, static assets."""

import asyncio
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker

from daodian import __version__, bootstrap
from daodian.api import build_api_router
from daodian.apps.embed import EmbedCors
from daodian.apps.rate_limits import rate_limit_headers
from daodian.coupons.claim_fast_path import ClaimFastPath
from daodian.jobs import scheduler
from daodian.kit import collector
from daodian.kit.api import dependency_memo
from daodian.kit.api.error_handlers import install_error_handlers
from daodian.kit.api.request_unit import close_readers
from daodian.kit.api.routing import include_flat, index_routes
from daodian.kit.api.scopes import document as document_scopes
from daodian.kit.db import create_db_engine, make_session_factory
from daodian.kit.html.rendering import WEB_DIR
from daodian.kit.html.security_headers import SecurityHeaders
from daodian.kit.one_core import keep_request_threads_on_one_core
from daodian.kit.ops import metrics, pauses
from daodian.kit.ops.edge import Door, Edge
from daodian.kit.settings import Settings, get_settings
from daodian.nearby.process import warm_up as start_nearby
from daodian.search.service import start as start_search
from daodian.web.error_pages import render_error_page
from daodian.web.pages import build_pages_router
from daodian.webhooks.worker import WebhookWorker

DESCRIPTION = """
daodian (到店) links what people buy online to the local services around them.

Authenticate with `POST /api/v1/auth/login` and send `Authorization: Bearer <token>`.
Errors are always `{"error": {"code", "message", "details"}}` with a stable `code`.
Money is integer fen (1/100 CNY). Coordinates carry their datum (wgs84, gcj02, bd09).
"""


def create_app(settings: Settings | None = None, session_factory: sessionmaker[Session] | None = None) -> FastAPI:
    settings = settings or get_settings()
    bootstrap.wire()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine = None
        if session_factory is None:
            engine = create_db_engine(settings)
            app.state.session_factory = make_session_factory(engine)
            metrics.watch_pool(engine)
        start_search(app)  # this process's search index
        start_nearby(app.state)  # this process's nearby index (nearby.index)
        collector.settle_after_startup()  # start-up's objects set aside; the young collected less eagerly
        pauses.watch_collections()  # each collection's pause and the loop's lateness, in /metrics
        lag_watch = asyncio.get_running_loop().create_task(pauses.watch_loop_lag())
        # The periodic jobs, each once per period across processes (daodian.jobs); off in tests.
        jobs = scheduler.start(app.state.session_factory, settings) if settings.runs_periodic_jobs else None
        # Webhook deliveries, sent by a worker thread of this process (daodian.webhooks); off in tests.
        webhooks = WebhookWorker(app.state.session_factory, settings).start() if settings.runs_webhook_worker else None
        # Last, so the threads started above keep every core; the loop and its worker threads share one
        # (kit.one_core: the GIL handed between them no longer wakes threads on other cores).
        if settings.keeps_requests_on_one_core:
            keep_request_threads_on_one_core()
        yield
        lag_watch.cancel()
        if webhooks is not None:
            webhooks.stop()
        if jobs is not None:
            jobs.shutdown(wait=False)
        if engine is not None:
            close_readers(engine)  # the read sessions' connections, kept checked out (kit.api.request_unit)
            engine.dispose()

    app = FastAPI(title="daodian", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  openapi_url="/openapi.json", docs_url=None, redoc_url=None)  # /docs: web.docs_page, local assets
    app.state.settings = settings
    if session_factory is not None:
        app.state.session_factory = session_factory
    install_error_handlers(app, render_error_page)
    include_flat(app.router, build_api_router())
    include_flat(app.router, build_pages_router())
    document_scopes(app, token_url="/oauth/token", authorization_url="/oauth/authorize")  # apps' OAuth2 scheme
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    app.add_route("/metrics", metrics.metrics_endpoint, include_in_schema=False)
    index_routes(app.router)
    dependency_memo.install()  # FastAPI's per-request questions about each dependency, answered once
    # One middleware (kit.ops.edge): every response, the doors' too, carries a request id and the headers, and
    # is counted and timed.
    app.add_middleware(Edge, hooks=[
        SecurityHeaders(settings),
        rate_limit_headers,  # apps' RateLimit-* headers (apps.rate_limits)
    ], doors=[
        Door(EmbedCors.takes, EmbedCors),  # pages on apps' registered origins may read the API (apps.embed)
        Door(ClaimFastPath.takes, partial(ClaimFastPath, fastapi_app=app)),  # a coupon grab's crowd
    ])
    return app
