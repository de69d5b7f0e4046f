"""Authorization-matrix entries (see tests/support/matrix.py) for merchants, staff, stores, opening hours,
nearby search and store promotions."""

from datetime import timedelta

from daodian.kit.clock import utcnow
from daodian.merchants import promotions
from daodian.merchants.promotions import PromotionCreate
from tests.factories import principal_of
from tests.support.matrix import API_PREFIX

HOURS = {"intervals": [{"weekday": 5, "opens": "18:00", "closes": "02:00", "next_day": True}],
         "closed_dates": ["2026-10-01"]}


def _promotion_window() -> dict:
    start = utcnow() + timedelta(days=1)
    return {"starts_at": start.isoformat(), "ends_at": (start + timedelta(days=7)).isoformat()}


def _promotion_id(scene, world) -> int:
    operator = principal_of(scene.db, scene.users["operator"])
    data = PromotionCreate(store_id=world.objects["store"].id, note="矩阵", **_promotion_window())
    return promotions.create_promotion(scene.db, operator, data).id


PARAMS = {
    "merchant_id": lambda s, w: w.objects["merchant"].id,
    "store_id": lambda s, w: w.objects["store"].id,
    "user_id": lambda s, w: w.objects["staff_member"].id,
    "promotion_id": _promotion_id,
    # Required query parameters.
    f"{API_PREFIX}/stores/nearby#lat": lambda s, w: 30.2590,
    f"{API_PREFIX}/stores/nearby#lng": lambda s, w: 120.1490,
    f"{API_PREFIX}/stores/nearby#datum": lambda s, w: "gcj02",
}

BODIES = {
    "POST /api/v1/merchants": {"name": "新开的店", "description": "矩阵测试"},
    "PATCH /api/v1/merchants/{merchant_id}": {"description": "改过的介绍"},
    "POST /api/v1/merchants/{merchant_id}/staff": lambda s, w: {"phone": s.users["newcomer"].phone, "role": "clerk"},
    "POST /api/v1/merchants/{merchant_id}/stores": {
        "name": "新门店", "address": "杭州市西湖区龙井路1号", "location": {"lat": 30.25, "lng": 120.15, "datum": "gcj02"},
        "primary_category": "auto_service.car_wash", "hours": HOURS},
    "PATCH /api/v1/stores/{store_id}": {"name": "改名的门店"},
    "PUT /api/v1/stores/{store_id}/hours": HOURS,
    "POST /api/v1/admin/promotions": lambda s, w: {"store_id": w.objects["store"].id, "note": "矩阵",
                                                   **_promotion_window()},
}
