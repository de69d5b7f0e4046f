"""The "services near you" block shown for a product: on its page and wherever an order for it is shown.

Both pages ask linkage for the live linked services of the product's category and the same nearby
ranking the search page uses (linkage.nearest). The shopper's place comes from `lat`/`lng`/`datum` in the
address (the "near me" button adds them from the browser, which reports WGS-84); without one the block
lists the services and offers the button.
"""

import math

from fastapi import Request
from sqlalchemy.orm import Session

from daodian.catalog.models import Product
from daodian.geo.datum import Datum
from daodian.linkage import service as linkage
from daodian.linkage.nearest import store_finder
from daodian.linkage.schemas import Near, ProductServices

STORES_PER_SERVICE = 3


def near_from_query(request: Request) -> Near | None:
    """Where the shopper is, from the page's query string (`near_of`)."""
    return near_of(request.query_params)


def near_of(params) -> Near | None:
    """Where the shopper is, from `lat`, `lng` and `datum` in a query string's parameters, or None for anything
    missing or malformed (a page never fails for it)."""
    try:
        lat, lng = float(params.get("lat", "")[:32]), float(params.get("lng", "")[:32])
    except ValueError:
        return None
    if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    datum = params.get("datum")
    return Near(lat, lng, Datum(datum) if datum in set(Datum) else Datum.WGS84)


def services_near(request: Request, session: Session, product: Product, near: Near | None) -> ProductServices:
    return linkage.services_for_product(session, product, find_stores=store_finder(request, session, near),
                                        limit_per_service=STORES_PER_SERVICE)
