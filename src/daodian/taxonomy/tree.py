"""The platform's category trees: stable codes with zh-CN and English names.

Codes never change once published (links, imports and third-party apps refer to them); names may.
`daodian db upgrade` syncs these into the database: it adds what is missing and puts names and places back,
except on categories an operator has added, renamed, retired or re-activated from the console
(taxonomy.editing), which keep the operator's version (service.sync_taxonomy says why). So renaming a seed
category here reaches a database only where no operator has edited it.
"""

from typing import NamedTuple


class Node(NamedTuple):
    code: str
    name_zh: str
    name_en: str
    children: tuple["Node", ...] = ()


def n(code: str, zh: str, en: str, *children: Node) -> Node:
    return Node(code, zh, en, children)


PRODUCT_TREE: tuple[Node, ...] = (
    n("auto", "汽车用品", "Car supplies",
      n("auto.oil", "机油", "Motor oil"),
      n("auto.tyre", "轮胎", "Tyres"),
      n("auto.wiper", "雨刮", "Wipers"),
      n("auto.care", "洗车美容用品", "Car care")),
    n("beauty", "美容护肤", "Beauty & skin care",
      n("beauty.mask", "面膜", "Face masks"),
      n("beauty.serum", "精华", "Serums"),
      n("beauty.nail", "美甲用品", "Nail products"),
      n("beauty.hair", "美发护发", "Hair care")),
    n("wedding", "婚庆用品", "Wedding supplies",
      n("wedding.dress", "婚纱礼服", "Wedding dresses"),
      n("wedding.decor", "婚庆布置", "Wedding decorations"),
      n("wedding.candy", "喜糖喜盒", "Wedding candy")),
    n("sports", "运动户外", "Sports & outdoors",
      n("sports.pingpong", "乒乓球拍", "Table-tennis bats"),
      n("sports.badminton", "羽毛球拍", "Badminton rackets"),
      n("sports.fitness", "健身器材", "Fitness equipment")),
    n("home", "家居日用", "Home & living",
      n("home.movingbag", "搬家袋", "Moving bags"),
      n("home.storage", "收纳", "Storage"),
      n("home.cleaning", "清洁用品", "Cleaning supplies")),
    n("av", "影音", "Audio & video",
      n("av.speaker", "音箱", "Speakers"),
      n("av.mic", "麦克风", "Microphones"),
      n("av.karaoke", "点歌机", "Karaoke machines")),
    n("pets", "宠物用品", "Pet supplies",
      n("pets.food", "宠物食品", "Pet food"),
      n("pets.grooming", "宠物洗护", "Pet grooming products")),
    n("food", "食品茶饮", "Food & tea",
      n("food.tea", "茶叶", "Tea"),
      n("food.snacks", "零食", "Snacks")),
)

SERVICE_TREE: tuple[Node, ...] = (
    n("auto_service", "汽车服务", "Auto services",
      n("auto_service.oil_change", "保养换油", "Oil change"),
      n("auto_service.tyre_fitting", "轮胎安装", "Tyre fitting"),
      n("auto_service.car_wash", "洗车", "Car wash"),
      n("auto_service.repair", "汽车维修", "Car repair")),
    n("beauty_service", "丽人", "Beauty",
      n("beauty_service.salon", "美容院", "Beauty salon"),
      n("beauty_service.nail", "美甲", "Nail salon"),
      n("beauty_service.hair", "美发", "Hair salon")),
    n("wedding_service", "婚庆", "Weddings",
      n("wedding_service.photo", "婚纱摄影", "Wedding photography"),
      n("wedding_service.planning", "婚礼策划", "Wedding planning"),
      n("wedding_service.banquet", "婚宴酒店", "Banquet hall")),
    n("fitness", "运动健身", "Sports & fitness",
      n("fitness.pingpong", "乒乓球馆", "Table-tennis hall"),
      n("fitness.badminton", "羽毛球馆", "Badminton hall"),
      n("fitness.gym", "健身房", "Gym")),
    n("life_service", "生活服务", "Home services",
      n("life_service.moving", "搬家", "Movers"),
      n("life_service.cleaning", "家政保洁", "Housekeeping"),
      n("life_service.laundry", "洗衣", "Laundry")),
    n("leisure", "休闲娱乐", "Leisure & entertainment",
      n("leisure.ktv", "KTV", "KTV"),
      n("leisure.cinema", "电影院", "Cinema"),
      n("leisure.massage", "足疗按摩", "Foot massage")),
    n("pet_service", "宠物服务", "Pet services",
      n("pet_service.grooming", "宠物美容", "Pet grooming"),
      n("pet_service.hospital", "宠物医院", "Vet")),
    n("dining", "餐饮", "Dining",
      n("dining.chinese", "中餐", "Chinese food"),
      n("dining.hotpot", "火锅", "Hotpot"),
      n("dining.cafe", "咖啡馆", "Café"),
      n("dining.bakery", "面包甜点", "Bakery & desserts"),
      n("dining.fastfood", "快餐", "Fast food"),
      n("dining.western", "西餐", "Western food")),
)


def walk(tree: tuple[Node, ...], parent: str | None = None, level: int = 1):
    """Yield (node, parent_code, level, sort_order) depth-first, parents before children."""
    for order, node in enumerate(tree):
        yield node, parent, level, order
        yield from walk(node.children, node.code, level + 1)
