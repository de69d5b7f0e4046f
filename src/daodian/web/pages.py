"""Mounts every domain's HTML routes (each domain keeps its pages in its own `pages.py`)."""

from fastapi import APIRouter

from daodian.accounts.pages import router as accounts_pages
from daodian.analytics.pages import router as analytics_pages
from daodian.catalog.pages import router as catalog_pages
from daodian.linkage.pages import router as linkage_pages
from daodian.loyalty.feed_pages import router as feed_pages
from daodian.loyalty.tier_pages import router as tier_pages
from daodian.marketing.c2b_console_pages import router as c2b_console_pages
from daodian.marketing.group_buy_pages import router as group_buy_pages
from daodian.marketing.pages import router as marketing_pages
from daodian.marketing.post_campaign_pages import router as post_campaign_pages
from daodian.marketing.presale_pages import router as presale_pages
from daodian.merchants.pages import router as merchants_pages
from daodian.orders.booking_pages import router as booking_pages
from daodian.orders.counter_pages import router as counter_pages
from daodian.orders.pages import router as order_pages
from daodian.payments.sandbox_pages import router as sandbox_pages
from daodian.records.pages import router as record_pages
from daodian.records.review_pages import router as review_pages
from daodian.search.pages import router as search_pages
from daodian.web import moments  # noqa: F401  (registers the template global `local_time`)


def build_pages_router() -> APIRouter:
    pages = APIRouter(include_in_schema=False)
    pages.include_router(search_pages)
    for router in (accounts_pages, catalog_pages, merchants_pages):
        pages.include_router(router)
    pages.include_router(sandbox_pages)
    pages.include_router(analytics_pages)
    pages.include_router(linkage_pages)
    pages.include_router(marketing_pages)
    pages.include_router(c2b_console_pages)  # console: group buys and pre-sales
    pages.include_router(presale_pages)  # pre-sales by vote
    pages.include_router(group_buy_pages)  # tiered group buys
    pages.include_router(feed_pages)
    pages.include_router(post_campaign_pages)  # console: a post sent to a segment
    pages.include_router(tier_pages)  # members by tier
    for router in (order_pages, booking_pages, counter_pages, record_pages, review_pages):
        pages.include_router(router)
    return pages
