"""The curated seed: which local services complete which products (PRODUCT.md, seed 000).

Codes are the taxonomy's (taxonomy.tree). A level-1 product code covers its whole subtree; the
service code is always a leaf. Strength orders the services shown for one product: 0.9 for the
service that obviously completes the purchase, lower for plausible follow-ups. `daodian db upgrade`
syncs this list (linkage.service.sync_curated); operators' later decisions win over it.
"""

from typing import NamedTuple


class Seed(NamedTuple):
    product_category: str
    service_category: str
    strength: float


CURATED_LINKS: tuple[Seed, ...] = (
    # 买了一瓶机油 -> 本地可以上机油的汽车服务商家
    Seed("auto.oil", "auto_service.oil_change", 0.9),
    Seed("auto.tyre", "auto_service.tyre_fitting", 0.9),
    Seed("auto.wiper", "auto_service.repair", 0.5),
    Seed("auto.care", "auto_service.car_wash", 0.6),
    # 美容产品 -> 美容院 (the whole beauty tree), with closer matches for nails and hair
    Seed("beauty", "beauty_service.salon", 0.6),
    Seed("beauty.mask", "beauty_service.salon", 0.9),
    Seed("beauty.serum", "beauty_service.salon", 0.8),
    Seed("beauty.nail", "beauty_service.nail", 0.9),
    Seed("beauty.hair", "beauty_service.hair", 0.9),
    # 婚嫁用品 -> 婚庆、摄影、婚宴酒店
    Seed("wedding", "wedding_service.photo", 0.8),
    Seed("wedding", "wedding_service.planning", 0.8),
    Seed("wedding", "wedding_service.banquet", 0.7),
    Seed("wedding.dress", "wedding_service.photo", 0.9),
    # 乒乓球拍 -> 运动场馆
    Seed("sports.pingpong", "fitness.pingpong", 0.9),
    Seed("sports.badminton", "fitness.badminton", 0.9),
    Seed("sports.fitness", "fitness.gym", 0.7),
    # 搬家袋 -> 搬家公司
    Seed("home.movingbag", "life_service.moving", 0.9),
    Seed("home.cleaning", "life_service.cleaning", 0.4),
    # 音像制品 -> KTV
    Seed("av", "leisure.ktv", 0.8),
    Seed("av.karaoke", "leisure.ktv", 0.9),
    Seed("pets.grooming", "pet_service.grooming", 0.8),
    Seed("pets", "pet_service.hospital", 0.4),
)
