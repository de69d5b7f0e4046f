"""Mounts every domain's JSON routes under /api/v1."""

from fastapi import APIRouter, Depends
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
from daodian.follows.endpoints import router as follows_router
from daodian.kit.api.http import DbSession, access
from daodian.kit.api.query import unambiguous_query
from daodian.kit.errors import ERROR_RESPONSES
from daodian.linkage.endpoints import router as linkage_router
from daodian.loyalty.points_endpoints import router as points_router
from daodian.loyalty.tier_endpoints import router as tiers_router
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

API_PREFIX = "/api/v1"


class Health(BaseModel):
    status: str
    database: str


health_router = APIRouter(tags=["health"])


@health_router.get("/health", response_model=Health, openapi_extra=access("public"))
def health(session: DbSession) -> Health:
    """Liveness and database reachability."""
    session.execute(text("SELECT 1"))
    return Health(status="ok", database=session.get_bind().dialect.name)


def _api() -> APIRouter:
    # One reading of query strings for the whole API (kit.api.query): unknown parameters are ignored,
    # a single-valued one given twice is refused.
    return APIRouter(prefix=API_PREFIX, responses=ERROR_RESPONSES, dependencies=[Depends(unambiguous_query)])


def build_flash_sale_router() -> APIRouter:
    """The routes a crowd calls at once (a coupon grab), included before the rest of the API: the framework
    tries routes one after another, and passing the API's few hundred cost a claim more than the claim."""
    api = _api()
    api.include_router(claims_router)
    return api


def build_api_router() -> APIRouter:
    api = _api()
    # nearby before merchants: `/stores/nearby` must not be taken for `/stores/{store_id}`.
    for router in (health_router, accounts_router, nearby_router, merchants_router, categories_router, catalog_router,
                   service_items_router, linkage_router, search_router):
        api.include_router(router)
    api.include_router(records_router)
    api.include_router(bookings_router)
    for router in (orders_router, vouchers_router, payments_router):
        api.include_router(router)
    api.include_router(consents_router)  # the consumer's consents to merchants
    api.include_router(privacy_router)
    api.include_router(analytics_router)
    for router in (coupons_router, points_router, campaigns_router, group_buys_router):  # marketing
        api.include_router(router)
    api.include_router(presales_router)  # pre-sales by vote
    api.include_router(follows_router)  # follows, merchant posts, the feed
    api.include_router(tiers_router)  # earning rules, member tiers, memberships
    return api
