"""What each leaf service category looks like in the demo city: how common, how chained, how named,
when open, what it sells and for how much.

Shares are rough impressions of a Chinese city's local-life listings (dining is half of them, banquet
halls a fraction of a percent). Prices are in yuan here and become integer fen on the way out.
"""

from typing import NamedTuple

from daodian.demo.hours import ALL_DAY, Week, week


class Item(NamedTuple):
    zh: str
    en: str
    lo: int  # yuan
    hi: int
    minutes: int


class Profile(NamedTuple):
    share: float  # relative number of stores
    chain: float  # fraction of its stores that belong to chains
    spread: float  # district sigma multiplier: car services sit further out than cafés
    suffix: tuple[tuple[str, str], ...]  # brand suffixes (zh, en)
    hours: tuple[tuple[float, Week], ...]  # weighted templates
    items: tuple[Item, ...]
    also: tuple[str, ...] = ()  # plausible second categories
    also_p: float = 0.0


I = Item  # noqa: E741 - the tables below read better short

PROFILES: dict[str, Profile] = {
    "auto_service.oil_change": Profile(
        2.5, 0.35, 1.8, (("养车", "Auto Care"), ("汽车服务", "Car Service"), ("汽修保养", "Auto Maintenance")),
        ((0.7, week(("08:30", "18:30"))), (0.3, week(("08:00", "19:00"), days={7: (("09:00", "17:00"),)}))),
        (I("小保养(机油+机滤)", "Basic service (oil + filter)", 150, 400, 45),
         I("大保养", "Full service", 500, 1200, 120), I("全合成机油更换", "Synthetic oil change", 300, 600, 40),
         I("空调滤芯更换", "Cabin filter replacement", 60, 150, 20), I("刹车油更换", "Brake fluid change", 120, 260, 40)),
        ("auto_service.tyre_fitting", "auto_service.repair", "auto_service.car_wash"), 0.55),
    "auto_service.tyre_fitting": Profile(
        1.5, 0.3, 1.8, (("轮胎", "Tyres"), ("轮胎服务", "Tyre Service")),
        ((1.0, week(("08:30", "18:30"))),),
        (I("轮胎安装(单条)", "Tyre fitting (one)", 30, 80, 30), I("四轮定位", "Wheel alignment", 80, 200, 40),
         I("动平衡", "Wheel balancing", 30, 80, 20), I("补胎", "Puncture repair", 20, 60, 20)),
        ("auto_service.oil_change",), 0.5),
    "auto_service.car_wash": Profile(
        2.5, 0.2, 1.6, (("洗车", "Car Wash"), ("汽车美容", "Car Detailing")),
        ((0.85, week(("08:00", "20:00"))), (0.1, week(("07:30", "21:00"))), (0.05, ALL_DAY)),
        (I("标准洗车(五座)", "Standard wash (sedan)", 25, 50, 30), I("精洗", "Premium wash", 60, 128, 60),
         I("打蜡", "Waxing", 128, 298, 90), I("内饰清洗", "Interior cleaning", 198, 498, 120)),
        ("auto_service.oil_change",), 0.15),
    "auto_service.repair": Profile(
        2.5, 0.15, 1.8, (("汽修", "Auto Repair"), ("汽车维修", "Car Repair")),
        ((0.8, week(("08:00", "18:00"))), (0.2, week(("08:30", "17:30"), closed=(7,)))),
        (I("故障检测", "Diagnostics", 50, 150, 30), I("钣金喷漆(单面)", "Body paint (one panel)", 300, 800, 240),
         I("刹车片更换", "Brake pad replacement", 200, 600, 60), I("电瓶更换", "Battery replacement", 300, 900, 30)),
        ("auto_service.oil_change", "auto_service.tyre_fitting"), 0.45),
    "beauty_service.salon": Profile(
        3.0, 0.3, 1.0, (("美容", "Beauty"), ("美肤中心", "Skin Care Center")),
        ((0.8, week(("10:00", "21:00"))), (0.2, week(("10:00", "21:30"), closed=(1,)))),
        (I("深层清洁护理", "Deep cleansing facial", 98, 298, 60), I("补水护理", "Hydrating facial", 128, 398, 60),
         I("肩颈护理", "Neck & shoulder care", 128, 268, 60), I("眼部护理", "Eye care", 88, 198, 45)),
        ("beauty_service.nail",), 0.2),
    "beauty_service.nail": Profile(
        3.0, 0.2, 1.0, (("美甲", "Nails"), ("美甲美睫", "Nails & Lashes")),
        ((1.0, week(("10:00", "22:00"))),),
        (I("纯色美甲", "Solid colour manicure", 58, 128, 60), I("款式美甲", "Nail art", 128, 298, 90),
         I("美睫嫁接", "Eyelash extensions", 128, 298, 90), I("手部护理", "Hand care", 48, 98, 30)),
        ("beauty_service.salon",), 0.25),
    "beauty_service.hair": Profile(
        6.0, 0.25, 1.0, (("造型", "Hair Studio"), ("美发", "Hair Salon"), ("发艺", "Hair Art")),
        ((0.8, week(("10:00", "22:00"))), (0.2, week(("09:30", "21:30")))),
        (I("洗剪吹", "Wash, cut & blow-dry", 38, 128, 45), I("烫发", "Perm", 298, 898, 150),
         I("染发", "Hair colouring", 258, 798, 120), I("头皮护理", "Scalp treatment", 98, 298, 45)),
        ("beauty_service.salon", "beauty_service.nail"), 0.15),
    "wedding_service.photo": Profile(
        0.6, 0.25, 1.2, (("婚纱摄影", "Wedding Photography"), ("影像", "Studio")),
        ((0.6, week(("09:00", "18:00"), closed=(1,))), (0.4, week(("09:30", "18:30")))),
        (I("婚纱照基础套系", "Wedding photo package", 2999, 6999, 480),
         I("旅拍套系", "Destination photo package", 5999, 12999, 600), I("证件照", "ID photos", 49, 129, 20)),
        ("wedding_service.planning",), 0.3),
    "wedding_service.planning": Profile(
        0.4, 0.1, 1.2, (("婚礼策划", "Wedding Planning"), ("婚礼", "Weddings")),
        ((1.0, week(("09:30", "18:00"), closed=(1,))),),
        (I("婚礼策划基础套餐", "Wedding planning package", 8000, 20000, 480),
         I("婚礼主持", "Wedding host", 2000, 5000, 240), I("跟拍摄像", "Wedding video", 3000, 8000, 480)),
        ("wedding_service.photo",), 0.3),
    "wedding_service.banquet": Profile(
        0.25, 0.1, 1.5, (("大酒店", "Grand Hotel"), ("宴会中心", "Banquet Center")),
        ((1.0, week(("10:00", "21:30"))),),
        (I("婚宴套餐(每桌)", "Wedding banquet (per table)", 2888, 6888, 180),
         I("订婚宴(每桌)", "Engagement dinner (per table)", 1888, 3888, 150)),
        ("dining.chinese",), 0.6),
    "fitness.pingpong": Profile(
        0.5, 0.05, 1.3, (("乒乓球馆", "Table Tennis Hall"), ("乒乓俱乐部", "Table Tennis Club")),
        ((1.0, week(("09:00", "22:00"))),),
        (I("球台(每小时)", "Table (per hour)", 25, 60, 60), I("私教课", "Private lesson", 150, 300, 60)),
        ("fitness.badminton",), 0.3),
    "fitness.badminton": Profile(
        0.8, 0.1, 1.3, (("羽毛球馆", "Badminton Hall"), ("羽毛球中心", "Badminton Center")),
        ((0.7, week(("09:00", "22:00"))), (0.3, week(("08:00", "23:00")))),
        (I("场地(每小时)", "Court (per hour)", 40, 100, 60), I("青少年培训", "Junior training", 120, 260, 90)),
        ("fitness.pingpong",), 0.3),
    "fitness.gym": Profile(
        2.0, 0.35, 1.1, (("健身", "Fitness"), ("健身工作室", "Fitness Studio")),
        ((0.6, week(("06:30", "22:00"), days={6: (("08:00", "21:00"),), 7: (("08:00", "21:00"),)})),
         (0.2, ALL_DAY), (0.2, week(("07:00", "23:00")))),
        (I("单次体验", "Day pass", 39, 99, 90), I("私教课(单节)", "Personal training", 199, 499, 60),
         I("月卡", "Monthly pass", 199, 599, 60), I("瑜伽团课", "Yoga class", 59, 129, 60))),
    "life_service.moving": Profile(
        0.6, 0.3, 1.8, (("搬家", "Movers"), ("搬家公司", "Moving Company")),
        ((1.0, week(("07:00", "19:00"))),),
        (I("小面包车搬家", "Small van move", 200, 400, 180), I("厢式货车搬家", "Box truck move", 400, 900, 240),
         I("钢琴搬运", "Piano moving", 300, 800, 120)),
        ("life_service.cleaning",), 0.15),
    "life_service.cleaning": Profile(
        1.5, 0.3, 1.3, (("家政", "Home Services"), ("保洁", "Cleaning")),
        ((1.0, week(("08:00", "18:00"))),),
        (I("日常保洁(3小时)", "Regular cleaning (3 h)", 120, 240, 180), I("深度保洁", "Deep cleaning", 300, 800, 300),
         I("油烟机清洗", "Range hood cleaning", 120, 260, 90), I("空调清洗", "Air-conditioner cleaning", 80, 180, 60)),
        ("life_service.laundry",), 0.1),
    "life_service.laundry": Profile(
        2.0, 0.3, 1.0, (("洗衣", "Laundry"), ("干洗店", "Dry Cleaners")),
        ((0.85, week(("08:30", "20:30"))), (0.15, week(("08:00", "21:00")))),
        (I("衬衫干洗", "Shirt dry cleaning", 15, 30, 1440), I("羽绒服清洗", "Down jacket cleaning", 40, 98, 2880),
         I("大衣干洗", "Coat dry cleaning", 30, 68, 2880), I("皮鞋护理", "Leather shoe care", 30, 80, 1440))),
    "leisure.ktv": Profile(
        1.2, 0.4, 1.1, (("KTV", "KTV"), ("量贩KTV", "Karaoke")),
        ((0.6, week(("12:00", "02:00"), days={5: (("12:00", "04:00"),), 6: (("12:00", "04:00"),)})),
         (0.4, week(("11:00", "02:00")))),
        (I("小包欢唱3小时", "Small room, 3 hours", 68, 168, 180), I("中包欢唱3小时", "Medium room, 3 hours", 128, 268, 180),
         I("夜场套餐", "Late-night package", 198, 498, 240))),
    "leisure.cinema": Profile(
        0.5, 0.6, 1.0, (("影城", "Cinemas"), ("国际影城", "International Cinema")),
        ((0.7, week(("09:00", "24:00"))), (0.3, week(("09:30", "01:00")))),
        (I("2D电影票", "2D ticket", 29, 59, 120), I("IMAX电影票", "IMAX ticket", 59, 99, 150),
         I("双人观影套餐", "Movie for two with snacks", 79, 149, 150))),
    "leisure.massage": Profile(
        3.0, 0.3, 1.0, (("足道", "Foot Spa"), ("养生馆", "Wellness"), ("推拿", "Massage")),
        ((0.6, week(("11:00", "02:00"))), (0.4, week(("10:00", "24:00")))),
        (I("足疗60分钟", "Foot massage, 60 min", 88, 198, 60), I("全身推拿90分钟", "Full-body massage, 90 min", 168, 398, 90),
         I("肩颈推拿", "Neck & shoulder massage", 68, 168, 45)),
        ("beauty_service.salon",), 0.1),
    "pet_service.grooming": Profile(
        1.2, 0.2, 1.2, (("宠物", "Pets"), ("宠物美容", "Pet Grooming")),
        ((1.0, week(("09:30", "20:00"))),),
        (I("小型犬洗护", "Small dog bath", 60, 128, 60), I("大型犬洗护", "Large dog bath", 128, 268, 90),
         I("猫咪洗护", "Cat bath", 98, 198, 60), I("造型修剪", "Styling trim", 128, 298, 90)),
        ("pet_service.hospital",), 0.2),
    "pet_service.hospital": Profile(
        0.8, 0.35, 1.2, (("宠物医院", "Pet Hospital"), ("动物医院", "Animal Clinic")),
        ((0.8, week(("09:00", "21:00"))), (0.2, ALL_DAY)),
        (I("体检套餐", "Health check", 198, 598, 60), I("疫苗接种", "Vaccination", 80, 198, 30),
         I("驱虫", "Deworming", 50, 150, 20), I("绝育手术", "Neutering", 600, 1800, 120)),
        ("pet_service.grooming",), 0.4),
    "dining.chinese": Profile(
        22.0, 0.2, 1.0, (("小馆", "Bistro"), ("饭店", "Restaurant"), ("面馆", "Noodles"), ("杭帮菜", "Hangzhou Kitchen"),
                         ("私房菜", "Private Kitchen")),
        ((0.5, week(("10:00", "22:00"))), (0.3, week(("10:30", "14:00"), ("16:30", "21:30"))),
         (0.1, week(("06:30", "20:00"))), (0.1, week(("11:00", "14:00"), ("17:00", "22:00"), closed=(1,)))),
        (I("双人套餐", "Set meal for two", 88, 238, 90), I("四人套餐", "Set meal for four", 198, 498, 120),
         I("100元代金券", "¥100 voucher", 85, 95, 90), I("招牌菜单人餐", "Signature meal for one", 38, 88, 60)),
        ("dining.fastfood",), 0.1),
    "dining.hotpot": Profile(
        6.0, 0.35, 1.0, (("火锅", "Hotpot"), ("老火锅", "Old Hotpot"), ("涮肉", "Shuan Rou")),
        ((0.6, week(("11:00", "23:00"))), (0.4, week(("11:00", "02:00")))),
        (I("双人套餐", "Hotpot for two", 128, 298, 120), I("四人套餐", "Hotpot for four", 268, 598, 150),
         I("100元代金券", "¥100 voucher", 85, 95, 120)),
        ("dining.chinese",), 0.15),
    "dining.cafe": Profile(
        7.0, 0.35, 0.9, (("咖啡", "Coffee"), ("咖啡馆", "Café"), ("茶饮", "Tea House")),
        ((0.6, week(("08:00", "22:00"))), (0.3, week(("07:30", "20:00"), days={6: (("09:00", "22:00"),),
                                                                               7: (("09:00", "22:00"),)})),
         (0.1, week(("10:00", "23:00"), closed=(1,)))),
        (I("美式咖啡", "Americano", 15, 32, 10), I("拿铁", "Latte", 18, 38, 10), I("双人下午茶", "Afternoon tea for two", 88, 198, 90)),
        ("dining.bakery",), 0.25),
    "dining.bakery": Profile(
        6.0, 0.4, 1.0, (("烘焙", "Bakery"), ("面包坊", "Bakehouse"), ("甜品", "Desserts")),
        ((0.8, week(("07:00", "21:00"))), (0.2, week(("08:00", "22:00")))),
        (I("6寸蛋糕", "6-inch cake", 128, 268, 5), I("8寸蛋糕", "8-inch cake", 168, 368, 5),
         I("50元代金券", "¥50 voucher", 42, 48, 5), I("甜品双人套餐", "Dessert set for two", 58, 128, 45)),
        ("dining.cafe",), 0.3),
    "dining.fastfood": Profile(
        10.0, 0.45, 1.0, (("快餐", "Fast Food"), ("简餐", "Quick Bites"), ("汉堡", "Burgers"), ("盖浇饭", "Rice Bowls")),
        ((0.6, week(("09:30", "21:30"))), (0.3, week(("07:00", "22:00"))), (0.1, ALL_DAY)),
        (I("单人套餐", "Meal for one", 18, 45, 20), I("双人套餐", "Meal for two", 39, 89, 30),
         I("早餐套餐", "Breakfast set", 8, 18, 15))),
    "dining.western": Profile(
        4.0, 0.25, 0.9, (("西餐厅", "Bistro"), ("牛排", "Steakhouse"), ("意式餐厅", "Trattoria")),
        ((0.6, week(("11:00", "22:00"))), (0.4, week(("11:00", "14:30"), ("17:00", "22:00"), closed=(1,)))),
        (I("双人牛排套餐", "Steak dinner for two", 198, 498, 120), I("商务午餐", "Business lunch", 58, 128, 60),
         I("周末早午餐", "Weekend brunch", 88, 198, 90)),
        ("dining.cafe",), 0.15),
}
