"""The links planted in the demo city's history: the ground truth for the miner's precision and recall.

A buyer of a product in the left category goes on, with probability FOLLOW_P, to consume the service on
the right (one of them, if several) a few days later; everything else in the history is noise (people
buy and consume at random). Some pairs repeat a curated link (机油 -> 保养换油), others are the finer
links only the closed loop reveals (喜糖 -> 婚宴酒店, 猫狗粮 -> 宠物美容, 茶叶 -> 咖啡茶馆).
"""

PLANTED: tuple[tuple[str, str], ...] = (
    ("auto.oil", "auto_service.oil_change"),
    ("auto.tyre", "auto_service.tyre_fitting"),
    ("auto.care", "auto_service.car_wash"),
    ("auto.wiper", "auto_service.repair"),
    ("beauty.mask", "beauty_service.salon"),
    ("beauty.nail", "beauty_service.nail"),
    ("wedding.dress", "wedding_service.photo"),
    ("wedding.candy", "wedding_service.banquet"),
    ("sports.pingpong", "fitness.pingpong"),
    ("sports.fitness", "fitness.gym"),
    ("home.movingbag", "life_service.moving"),
    ("av.mic", "leisure.ktv"),
    ("pets.food", "pet_service.grooming"),
    ("food.tea", "dining.cafe"),
)
FOLLOW_P = 0.55  # share of buyers who go on to the linked service
DELAY_DAYS = (0.5, 20.0)  # how long after the purchase they do


def planted_pairs() -> set[tuple[str, str]]:
    return set(PLANTED)


