"""Words shoppers use for a category that its name does not contain, by category code.

Indexed with the category (a little below its name), so "换机油" finds 保养换油 and "唱歌" finds KTV.
Each synonym is also taught to the word segmenter, so it is kept whole.
"""

SERVICE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "auto_service.oil_change": ("换机油", "机油", "换油", "保养", "小保养", "大保养", "oil", "service"),
    "auto_service.tyre_fitting": ("换轮胎", "换胎", "补胎", "装胎", "四轮定位", "动平衡", "tire"),
    "auto_service.car_wash": ("精洗", "打蜡", "汽车美容"),
    "auto_service.repair": ("修车", "汽修", "换雨刮", "garage"),
    "beauty_service.salon": ("美容", "做脸", "面部护理", "护肤", "spa", "facial"),
    "beauty_service.nail": ("做指甲", "美睫", "manicure"),
    "beauty_service.hair": ("理发", "剪头", "烫发", "染发", "haircut", "barber"),
    "wedding_service.photo": ("婚纱照", "拍婚纱", "婚纱"),
    "wedding_service.planning": ("婚礼", "婚庆公司", "wedding"),
    "wedding_service.banquet": ("婚宴", "喜宴", "酒席", "banquet"),
    "fitness.pingpong": ("乒乓球", "打乒乓", "ping pong", "pingpong", "table tennis"),
    "fitness.badminton": ("羽毛球", "打羽毛球"),
    "fitness.gym": ("健身", "私教", "fitness"),
    "life_service.moving": ("搬家公司", "搬场", "moving", "removals"),
    "life_service.cleaning": ("保洁", "家政", "打扫", "cleaning"),
    "life_service.laundry": ("干洗", "dry cleaning"),
    "leisure.ktv": ("唱歌", "K歌", "卡拉OK", "karaoke"),
    "leisure.cinema": ("看电影", "影院", "movie"),
    "leisure.massage": ("按摩", "足浴", "massage"),
    "pet_service.grooming": ("宠物洗澡", "洗狗"),
    "pet_service.hospital": ("兽医", "宠物看病", "vet"),
}

PRODUCT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "auto.oil": ("润滑油", "oil"),
    "auto.tyre": ("车胎", "tire"),
    "auto.wiper": ("雨刷", "雨刮器"),
    "beauty.mask": ("面膜贴",),
    "sports.pingpong": ("乒乓球", "球拍"),
    "home.movingbag": ("打包袋", "编织袋"),
    "av.speaker": ("音响", "蓝牙音箱"),
    "av.mic": ("话筒",),
}
