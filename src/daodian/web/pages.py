"""Mounts every domain's HTML routes (each domain keeps its pages in its own `pages.py`; pages that show several
domains at once, such as the home page and the store page, live here in web/)."""

from fastapi import APIRouter

from daodian.accounts.pages import router as accounts_pages
from daodian.analytics.overview_pages import router as overview_pages
from daodian.analytics.pages import router as analytics_pages
from daodian.apps.embed import router as embed_pages
from daodian.apps.oauth_http import router as oauth_endpoints
from daodian.apps.pages import router as developer_pages
from daodian.bookings.counter_pages import router as booking_counter_pages
from daodian.bookings.pages import router as booking_pages
from daodian.c2b.console_pages import router as c2b_console_pages
from daodian.c2b.group_buy.pages import router as group_buy_pages
from daodian.c2b.presale.pages import router as presale_pages
from daodian.campaigns.pages import router as marketing_console_pages
from daodian.campaigns.post_pages import router as post_campaign_pages
from daodian.checkout.pages import router as order_pages
from daodian.checkout.refund_pages import router as refund_pages
from daodian.checkout.summary_pages import router as checkout_summary_pages
from daodian.coupons.pages import router as marketing_pages
from daodian.delivery.pages import router as delivery_pages
from daodian.follows.pages import router as feed_pages
from daodian.kit.api.one_hop import OneHopRoute
from daodian.kit.api.routing import include_flat
from daodian.kit.html import moments  # noqa: F401  (registers the template global `local_time`)
from daodian.linkage.pages import router as linkage_pages
from daodian.loyalty.tier_pages import router as tier_pages
from daodian.media.pages import router as media_files
from daodian.merchants.pages import router as merchants_pages
from daodian.payments.sandbox_pages import router as sandbox_pages
from daodian.records.pages import router as record_pages
from daodian.records.review_pages import router as review_pages
from daodian.vouchers.counter_pages import router as counter_pages
from daodian.web.catalog_pages import router as catalog_pages
from daodian.web.docs_page import router as docs_page
from daodian.web.operator_categories import router as operator_categories
from daodian.web.operator_pages import router as operator_pages
from daodian.web.operator_promotions import router as operator_promotions
from daodian.web.photo_pages import router as photo_pages
from daodian.web.search_pages import router as search_pages
from daodian.web.store_pages import router as store_pages
from daodian.webhooks.pages import router as webhook_pages

# In the order they are matched (kit.api.routing keeps it).
ROUTERS = (
    search_pages, accounts_pages, catalog_pages, store_pages, merchants_pages, sandbox_pages, analytics_pages,
    linkage_pages, marketing_pages,
    marketing_console_pages,  # console: coupon templates and segment campaigns
    c2b_console_pages,  # console: group buys and pre-sales
    presale_pages,  # pre-sales by vote
    group_buy_pages,  # tiered group buys
    feed_pages,
    post_campaign_pages,  # console: a post sent to a segment
    tier_pages,  # members by tier
    delivery_pages,  # the courier's page, live tracking, dispatch boards
    order_pages, booking_pages, counter_pages, booking_counter_pages, record_pages, review_pages,
    media_files,  # the stored photos
    photo_pages,  # console: a store's photos
    checkout_summary_pages,  # the checkout's live breakdown (htmx)
    refund_pages,  # a consumer's refund request from the order page
    overview_pages,  # console: 经营概况, today against last week
    operator_pages, operator_categories, operator_promotions,  # operator console: merchants, categories, promotions
    docs_page,  # /docs from local assets, /favicon.ico
    oauth_endpoints, developer_pages, embed_pages,  # apps: OAuth, developer console and guide, the embed
    webhook_pages,  # apps' webhook endpoints and delivery logs in the developer console
)


def pages_router() -> APIRouter:
    """The router every page is added to; a sync page runs in one worker-thread hop (kit.api.one_hop)."""
    return APIRouter(include_in_schema=False, route_class=OneHopRoute)


def build_pages_router() -> APIRouter:
    """Every page route in one flat router (kit.api.routing: included flat, matched by an index)."""
    pages = pages_router()
    for router in ROUTERS:
        include_flat(pages, router)
    return pages
