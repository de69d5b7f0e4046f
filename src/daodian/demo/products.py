"""Online shops and their products for the demo: every leaf product category, 1-4 SKUs each.

Each template is a product line ("{brand}全合成机油 5W-30") with its SKU specs and a price range per
SKU in yuan; a product draws one price level inside each range so its SKUs stay in order.
"""

from typing import NamedTuple


class Spec(NamedTuple):
    code: str
    zh: str
    en: str
    lo: int  # yuan
    hi: int


class Line(NamedTuple):
    zh: str  # "{b}" is the brand
    en: str
    specs: tuple[Spec, ...]


S = Spec

LINES: dict[str, tuple[Line, ...]] = {
    "auto.oil": (
        Line("{b}全合成机油 5W-30 SP级", "{b} full synthetic motor oil 5W-30 SP",
             (S("1L", "1L", "1 L", 50, 110), S("4L", "4L", "4 L", 150, 400))),
        Line("{b}全合成机油 0W-20", "{b} full synthetic motor oil 0W-20",
             (S("4L", "4L", "4 L", 200, 400), S("4L-FILTER", "4L+机滤", "4 L + oil filter", 230, 450))),
        Line("{b}半合成机油 10W-40", "{b} semi-synthetic motor oil 10W-40",
             (S("4L", "4L", "4 L", 120, 220),)),
    ),
    "auto.tyre": (
        Line("{b}静音舒适轮胎", "{b} quiet comfort tyre",
             (S("205-55R16", "205/55R16", "205/55R16", 300, 600), S("215-55R17", "215/55R17", "215/55R17", 450, 800),
              S("225-45R18", "225/45R18", "225/45R18", 600, 1000))),
        Line("{b}SUV耐磨轮胎", "{b} SUV all-season tyre",
             (S("225-65R17", "225/65R17", "225/65R17", 500, 900), S("235-55R19", "235/55R19", "235/55R19", 700, 1200))),
    ),
    "auto.wiper": (
        Line("{b}无骨雨刮器", "{b} frameless wiper blades",
             (S("PAIR-22-18", "22+18英寸一对", "22\" + 18\" pair", 50, 120), S("PAIR-26-16", "26+16英寸一对",
                                                                           "26\" + 16\" pair", 60, 140))),
    ),
    "auto.care": (
        Line("{b}洗车液套装", "{b} car wash kit", (S("2L", "2L", "2 L", 30, 70), S("KIT", "洗车套装", "Full kit", 80, 180))),
        Line("{b}镀晶蜡", "{b} ceramic wax", (S("300ML", "300ml", "300 ml", 60, 160),)),
    ),
    "beauty.mask": (
        Line("{b}补水保湿面膜", "{b} hydrating sheet masks",
             (S("5PCS", "5片装", "5 sheets", 39, 89), S("10PCS", "10片装", "10 sheets", 69, 159))),
    ),
    "beauty.serum": (
        Line("{b}修护精华液", "{b} repair serum", (S("30ML", "30ml", "30 ml", 159, 399), S("50ML", "50ml", "50 ml", 239, 599))),
    ),
    "beauty.nail": (
        Line("{b}甲油胶套装", "{b} gel polish set", (S("6C", "6色", "6 colours", 49, 129), S("12C", "12色", "12 colours", 89, 219))),
    ),
    "beauty.hair": (
        Line("{b}氨基酸洗发水", "{b} amino-acid shampoo", (S("500ML", "500ml", "500 ml", 49, 129),)),
        Line("{b}发膜", "{b} hair mask", (S("250ML", "250ml", "250 ml", 59, 149),)),
    ),
    "wedding.dress": (
        Line("{b}缎面婚纱", "{b} satin wedding gown",
             (S("S", "S码", "S", 1200, 3000), S("M", "M码", "M", 1200, 3000), S("L", "L码", "L", 1200, 3000))),
        Line("{b}敬酒服", "{b} toast dress", (S("M", "M码", "M", 399, 999),)),
    ),
    "wedding.decor": (
        Line("{b}婚房布置套装", "{b} wedding room decoration kit",
             (S("BASIC", "基础款", "Basic", 59, 149), S("DELUXE", "豪华款", "Deluxe", 159, 399))),
    ),
    "wedding.candy": (
        Line("{b}喜糖礼盒", "{b} wedding candy boxes",
             (S("20BOX", "20盒", "20 boxes", 99, 199), S("50BOX", "50盒", "50 boxes", 199, 449))),
    ),
    "sports.pingpong": (
        Line("{b}碳素乒乓球拍", "{b} carbon table-tennis bat",
             (S("SINGLE", "单拍", "Single bat", 129, 399), S("PAIR", "双拍套装", "Pair with balls", 229, 699))),
    ),
    "sports.badminton": (
        Line("{b}全碳羽毛球拍", "{b} full-carbon badminton racket",
             (S("3U", "3U", "3U", 199, 599), S("4U", "4U", "4U", 199, 599))),
    ),
    "sports.fitness": (
        Line("{b}可调节哑铃", "{b} adjustable dumbbells",
             (S("10KG", "10kg一对", "10 kg pair", 199, 399), S("20KG", "20kg一对", "20 kg pair", 299, 699))),
        Line("{b}瑜伽垫", "{b} yoga mat", (S("6MM", "6mm", "6 mm", 49, 129), S("10MM", "10mm", "10 mm", 69, 159))),
    ),
    "home.movingbag": (
        Line("{b}加厚搬家袋", "{b} heavy-duty moving bags",
             (S("5PCS", "5只装", "5 bags", 29, 59), S("10PCS", "10只装", "10 bags", 49, 99))),
    ),
    "home.storage": (
        Line("{b}收纳箱", "{b} storage boxes",
             (S("3PCS", "3个装", "3 boxes", 59, 129), S("6PCS", "6个装", "6 boxes", 99, 219))),
    ),
    "home.cleaning": (
        Line("{b}多用途清洁剂", "{b} all-purpose cleaner", (S("1L", "1L", "1 L", 19, 49), S("3L", "3L", "3 L", 39, 99))),
    ),
    "av.speaker": (
        Line("{b}蓝牙音箱", "{b} Bluetooth speaker", (S("STD", "标准版", "Standard", 199, 599), S("PRO", "Pro版", "Pro", 399, 999))),
    ),
    "av.mic": (
        Line("{b}无线麦克风", "{b} wireless microphone",
             (S("ONE", "单支", "Single", 129, 399), S("TWO", "一拖二", "Pair", 229, 699))),
    ),
    "av.karaoke": (
        Line("{b}家庭点歌机", "{b} home karaoke machine",
             (S("2T", "2T曲库", "2 TB songs", 1599, 3999), S("4T", "4T曲库", "4 TB songs", 2299, 5999))),
    ),
    "pets.food": (
        Line("{b}全价成犬粮", "{b} adult dog food", (S("2KG", "2kg", "2 kg", 69, 159), S("10KG", "10kg", "10 kg", 259, 599))),
        Line("{b}全价猫粮", "{b} cat food", (S("1.5KG", "1.5kg", "1.5 kg", 59, 149), S("5KG", "5kg", "5 kg", 159, 399))),
    ),
    "pets.grooming": (
        Line("{b}宠物沐浴露", "{b} pet shampoo", (S("500ML", "500ml", "500 ml", 39, 99),)),
    ),
    "food.tea": (
        Line("{b}明前龙井", "{b} pre-Qingming Longjing tea",
             (S("100G", "100g", "100 g", 159, 599), S("250G", "250g", "250 g", 359, 1299))),
        Line("{b}九曲红梅", "{b} Jiuqu Hongmei black tea", (S("150G", "150g", "150 g", 99, 299),)),
    ),
    "food.snacks": (
        Line("{b}坚果礼盒", "{b} mixed nuts gift box", (S("750G", "750g", "750 g", 69, 159),)),
        Line("{b}定胜糕", "{b} Dingsheng cakes", (S("6PCS", "6只装", "6 pieces", 19, 39), S("12PCS", "12只装", "12 pieces", 35, 69))),
    ),
}

# What an online shop calls itself, by top-level product group.
SHOP_SUFFIX: dict[str, tuple[str, str]] = {
    "auto": ("汽车用品旗舰店", "Car Supplies Flagship Store"),
    "beauty": ("美妆旗舰店", "Beauty Flagship Store"),
    "wedding": ("婚庆用品店", "Wedding Supplies Store"),
    "sports": ("运动专营店", "Sports Store"),
    "home": ("家居生活馆", "Home Store"),
    "av": ("影音旗舰店", "Audio & Video Store"),
    "pets": ("宠物生活馆", "Pet Store"),
    "food": ("杭州特产店", "Hangzhou Specialties Store"),
}
