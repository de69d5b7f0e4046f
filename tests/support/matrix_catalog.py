"""Authorization-matrix entries (see tests/support/matrix.py) for the catalog: products, SKUs, service items."""

from sqlalchemy import select

from daodian.catalog.models import Sku
from tests.support.matrix import API_PREFIX


def _sku_id(scene, world) -> int:
    return scene.db.scalar(select(Sku.id).where(Sku.product_id == world.objects["product"].id).order_by(Sku.id))


PARAMS = {
    "item_id": lambda s, w: w.objects["item"].id,
    "product_id": lambda s, w: w.objects["product"].id,
    "sku_id": _sku_id,
    f"{API_PREFIX}/catalog/product-categories/{{code}}#code": lambda s, w: "auto.oil",
    f"{API_PREFIX}/catalog/service-categories/{{code}}#code": lambda s, w: "auto_service.oil_change",
}

BODIES = {
    "POST /api/v1/merchants/{merchant_id}/products": {
        "category": "auto.tyre", "name_zh": "轮胎", "skus": [{"code": "R16", "price_fen": 45000}]},
    "PATCH /api/v1/products/{product_id}": {"name_zh": "改名的机油"},
    "POST /api/v1/products/{product_id}/skus": {"code": "1L", "spec_zh": "1升", "price_fen": 9900},
    "PATCH /api/v1/skus/{sku_id}": {"price_fen": 27900},
    "POST /api/v1/merchants/{merchant_id}/service-items": lambda s, w: {
        "service_category": "auto_service.tyre_fitting", "name_zh": "换胎", "price_fen": 8000, "duration_min": 30,
        "store_ids": [w.objects["store"].id]},
    "PATCH /api/v1/service-items/{item_id}": {"price_fen": 18800},
    "PUT /api/v1/skus/{sku_id}/stock": {"stock": 12},
    "PUT /api/v1/service-items/{item_id}/sessions": {"sessions": 5},
}
