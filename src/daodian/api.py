"""Mounts every domain's JSON routes under /api/v1."""

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from daodian.accounts.endpoints import router as accounts_router
from daodian.accounts.privacy import router as privacy_router
from daodian.analytics.endpoints import router as analytics_router
from daodian.bookings.endpoints import router as bookings_router
from daodian.c2b.group_buy.endpoints import router as group_buys_router
from daodian.c2b.presale.endpoints import router as presales_router
from daodian.campaigns.endpoints import router as campaigns_router
from daodian.catalog.endpoints import router as catalog_router
from daodian.coupons.endpoints import claims_router
from daodian.coupons.endpoints import router as coupons_router
from daodian.delivery.endpoints import router as delivery_router
from daodian.follows.endpoints import router as follows_router
from daodian.health import router as readiness_router
from daodian.kit.api.http import DbSession, access
from daodian.kit.api.one_hop import ApiRoute
from daodian.kit.api.routing import include_flat
from daodian.kit.api.scopes import ANY_APP, declare
from daodian.kit.api.scopes import annotate as annotate_scopes
from daodian.kit.errors import ERROR_RESPONSES
from daodian.linkage.endpoints import router as linkage_router
from daodian.loyalty.points_endpoints import router as points_router
from daodian.loyalty.tier_endpoints import router as tiers_router
from daodian.media.endpoints import router as photos_router
from daodian.merchants.consent_endpoints import router as consents_router
from daodian.merchants.endpoints import router as merchants_router
from daodian.merchants.item_endpoints import router as service_items_router
from daodian.nearby.endpoints import router as nearby_router
from daodian.orders.endpoints import router as orders_router
from daodian.payments.endpoints import router as payments_router
from daodian.records.endpoints import router as records_router
from daodian.search.endpoints import router as search_router
from daodian.taxonomy.endpoints import router as categories_router
from daodian.vouchers.endpoints import router as vouchers_router
from daodian.webhooks.endpoints import router as webhooks_router

API_PREFIX = "/api/v1"


class Health(BaseModel):
    status: str
    database: str


health_router = APIRouter(tags=["health"])
declare(health_router, ANY_APP)  # the scopes apps' tokens need here (kit.api.scopes)


@health_router.get("/health", response_model=Health, openapi_extra=access("public"))
def health(session: DbSession) -> Health:
    """Liveness and database reachability."""
    session.execute(text("SELECT 1"))
    return Health(status="ok", database=session.get_bind().dialect.name)


# In the order they are matched (kit.api.routing keeps it). Claims first, as they always were: a coupon
# grab's crowd. nearby before merchants: `/stores/nearby` must not be taken for `/stores/{store_id}`.
ROUTERS = (
    claims_router, health_router, readiness_router, accounts_router, nearby_router, merchants_router, categories_router,
    catalog_router, service_items_router, linkage_router, search_router, records_router, bookings_router,
    orders_router, vouchers_router, payments_router,
    delivery_router,  # couriers, deliveries, tracking, dispatch boards
    consents_router,  # the consumer's consents to merchants
    privacy_router, analytics_router,
    coupons_router, points_router, campaigns_router, group_buys_router,  # marketing
    presales_router,  # pre-sales by vote
    follows_router,  # follows, merchant posts, the feed
    tiers_router,  # earning rules, member tiers, memberships
    photos_router,  # photos of stores, products, service items, reviews
    webhooks_router,  # apps' webhook endpoints, deliveries and the event catalogue
)


def api_router() -> APIRouter:
    """The router every JSON route is added to: one reading of query strings for the whole API
    (kit.api.query, run by kit.api.one_hop): unknown parameters are ignored, a single-valued one given twice is refused. A sync
    route runs in one worker-thread hop (kit.api.one_hop)."""
    return APIRouter(prefix=API_PREFIX, responses=ERROR_RESPONSES, route_class=ApiRoute)


def build_api_router() -> APIRouter:
    """Every JSON route in one flat router (kit.api.routing: included flat, matched by an index)."""
    api = api_router()
    for router in ROUTERS:
        annotate_scopes(router)  # each route's scope for apps' tokens (kit.api.scopes)
        include_flat(api, router)
    return api
