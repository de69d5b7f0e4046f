"""Hangzhou for the demo: business districts (GCJ-02 centres, as AMap shows them), roads and water.

Stores cluster around districts with a Gaussian spread and a thin background over the urban area;
points that land in West Lake or the Qiantang River are drawn again. Weights are rough shares of
the city's shops, not statistics. Administrative districts follow the 2021 re-division (下城 and
江干 merged into 拱墅 and 上城; 临平 and 钱塘 split from 余杭).
"""

from typing import NamedTuple

import numpy as np

KM_PER_DEG_LAT = 110.95


class District(NamedTuple):
    zh: str
    en: str
    admin_zh: str  # 区, as written in addresses
    admin_en: str
    lat: float  # GCJ-02
    lng: float
    sigma_km: float
    weight: float
    roads: tuple[tuple[str, str], ...]


DISTRICTS: tuple[District, ...] = (
    District("武林广场", "Wulin Square", "拱墅区", "Gongshu", 30.2716, 120.1645, 0.9, 10,
             (("延安路", "Yan'an Rd"), ("体育场路", "Tiyuchang Rd"), ("环城北路", "Huancheng N Rd"),
              ("凤起路", "Fengqi Rd"), ("武林路", "Wulin Rd"))),
    District("湖滨", "Hubin (West Lake)", "上城区", "Shangcheng", 30.2577, 120.1660, 0.8, 8,
             (("平海路", "Pinghai Rd"), ("湖滨路", "Hubin Rd"), ("解放路", "Jiefang Rd"), ("东坡路", "Dongpo Rd"),
              ("南山路", "Nanshan Rd"))),
    District("钱江新城", "Qianjiang New Town", "上城区", "Shangcheng", 30.2465, 120.2115, 1.0, 9,
             (("富春路", "Fuchun Rd"), ("新业路", "Xinye Rd"), ("民心路", "Minxin Rd"), ("钱江路", "Qianjiang Rd"),
              ("之江路", "Zhijiang Rd"))),
    District("庆春", "Qingchun", "上城区", "Shangcheng", 30.2620, 120.1990, 0.9, 4,
             (("庆春东路", "Qingchun E Rd"), ("秋涛路", "Qiutao Rd"), ("景昙路", "Jingtan Rd"),
              ("新塘路", "Xintang Rd"))),
    District("城东", "East Station", "上城区", "Shangcheng", 30.2905, 120.2110, 1.2, 5,
             (("天城路", "Tiancheng Rd"), ("新风路", "Xinfeng Rd"), ("东宁路", "Dongning Rd"),
              ("艮山西路", "Genshan W Rd"))),
    District("黄龙", "Huanglong", "西湖区", "Xihu", 30.2700, 120.1380, 1.0, 7,
             (("天目山路", "Tianmushan Rd"), ("曙光路", "Shuguang Rd"), ("黄龙路", "Huanglong Rd"),
              ("文三路", "Wensan Rd"), ("学院路", "Xueyuan Rd"))),
    District("城西", "Chengxi", "拱墅区", "Gongshu", 30.2960, 120.1110, 1.2, 8,
             (("丰潭路", "Fengtan Rd"), ("古墩路", "Gudun Rd"), ("文二西路", "Wen'er W Rd"),
              ("益乐路", "Yile Rd"), ("余杭塘路", "Yuhangtang Rd"))),
    District("西溪", "Xixi", "西湖区", "Xihu", 30.2760, 120.0900, 1.4, 6,
             (("文一西路", "Wenyi W Rd"), ("五常大道", "Wuchang Ave"), ("紫金港路", "Zijingang Rd"),
              ("西溪路", "Xixi Rd"))),
    District("运河", "Grand Canal", "拱墅区", "Gongshu", 30.3040, 120.1460, 1.1, 6,
             (("湖墅南路", "Hushu S Rd"), ("莫干山路", "Moganshan Rd"), ("上塘路", "Shangtang Rd"),
              ("大关路", "Daguan Rd"), ("金华路", "Jinhua Rd"))),
    District("滨江", "Binjiang", "滨江区", "Binjiang", 30.2085, 120.2126, 1.3, 9,
             (("江南大道", "Jiangnan Ave"), ("滨盛路", "Binsheng Rd"), ("长河路", "Changhe Rd"),
              ("江陵路", "Jiangling Rd"), ("网商路", "Wangshang Rd"))),
    District("钱江世纪城", "Qianjiang Century City", "萧山区", "Xiaoshan", 30.2350, 120.2620, 1.4, 3,
             (("市心北路", "Shixin N Rd"), ("奔竞大道", "Benjing Ave"), ("民和路", "Minhe Rd"))),
    District("萧山", "Xiaoshan", "萧山区", "Xiaoshan", 30.1690, 120.2650, 1.8, 7,
             (("市心中路", "Shixin Middle Rd"), ("人民路", "Renmin Rd"), ("金城路", "Jincheng Rd"),
              ("山阴路", "Shanyin Rd"), ("建设一路", "Jianshe 1st Rd"))),
    District("下沙", "Xiasha", "钱塘区", "Qiantang", 30.3080, 120.3250, 1.8, 6,
             (("金沙大道", "Jinsha Ave"), ("文泽路", "Wenze Rd"), ("学林街", "Xuelin St"), ("下沙路", "Xiasha Rd"),
              ("2号大街", "2nd Ave"))),
    District("九堡", "Jiubao", "上城区", "Shangcheng", 30.3010, 120.2710, 1.3, 3,
             (("九堡大道", "Jiubao Ave"), ("德胜东路", "Desheng E Rd"), ("杭海路", "Hanghai Rd"))),
    District("临平", "Linping", "临平区", "Linping", 30.4205, 120.3010, 1.8, 5,
             (("人民大道", "Renmin Ave"), ("迎宾路", "Yingbin Rd"), ("南苑街", "Nanyuan St"),
              ("星桥路", "Xingqiao Rd"))),
    District("未来科技城", "Future Sci-Tech City", "余杭区", "Yuhang", 30.2810, 120.0150, 1.6, 5,
             (("文一西路", "Wenyi W Rd"), ("高教路", "Gaojiao Rd"), ("良睦路", "Liangmu Rd"), ("海曙路", "Haishu Rd"))),
    District("良渚", "Liangzhu", "余杭区", "Yuhang", 30.3750, 120.0500, 1.6, 2,
             (("良渚大道", "Liangzhu Ave"), ("古墩路", "Gudun Rd"), ("杭行路", "Hangxing Rd"))),
    District("之江", "Zhijiang", "西湖区", "Xihu", 30.1600, 120.0900, 1.6, 2,
             (("之江路", "Zhijiang Rd"), ("转塘街道", "Zhuantang St"), ("象山路", "Xiangshan Rd"))),
    District("富阳", "Fuyang", "富阳区", "Fuyang", 30.0490, 119.9600, 1.8, 2,
             (("桂花路", "Guihua Rd"), ("金桥北路", "Jinqiao N Rd"), ("富春街道", "Fuchun St"))),
)

# Everything the demo places lies inside this box (GCJ-02): the contiguous urban area.
LAT_MIN, LAT_MAX = 29.98, 30.50
LNG_MIN, LNG_MAX = 119.90, 120.42

BACKGROUND_SHARE = 0.06  # stores anywhere in the urban core, not tied to a district
_CORE = (30.15, 30.35, 120.05, 120.35)  # lat_min, lat_max, lng_min, lng_max of that core

# West Lake as an ellipse (centre lat/lng, half-axes in degrees) and the Qiantang as a band along a
# polyline; both rough, slightly inside the shores so lakeside shops stay possible.
_WEST_LAKE = (30.2450, 120.1470, 0.0150, 0.0135)
_RIVER = np.array([(30.125, 120.075), (30.165, 120.120), (30.192, 120.145), (30.214, 120.180), (30.232, 120.215),
                   (30.252, 120.250), (30.270, 120.295), (30.283, 120.345), (30.275, 120.400)])
_RIVER_HALF_WIDTH_DEG = 0.0045


def in_water(lat: np.ndarray, lng: np.ndarray) -> np.ndarray:
    clat, clng, alat, alng = _WEST_LAKE
    lake = ((lat - clat) / alat) ** 2 + ((lng - clng) / alng) ** 2 < 1.0
    river = np.zeros(lat.shape, dtype=bool)
    for (alat_, alng_), (blat, blng) in zip(_RIVER[:-1], _RIVER[1:]):
        dlat, dlng = blat - alat_, blng - alng_
        t = np.clip(((lat - alat_) * dlat + (lng - alng_) * dlng) / (dlat * dlat + dlng * dlng), 0.0, 1.0)
        river |= np.hypot(lat - (alat_ + t * dlat), lng - (alng_ + t * dlng)) < _RIVER_HALF_WIDTH_DEG
    return lake | river


def in_bbox(lat: np.ndarray, lng: np.ndarray) -> np.ndarray:
    return (lat >= LAT_MIN) & (lat <= LAT_MAX) & (lng >= LNG_MIN) & (lng <= LNG_MAX)


def district_weights() -> np.ndarray:
    w = np.array([d.weight for d in DISTRICTS], dtype=float)
    return w / w.sum()


def place(rng: np.random.Generator, district: np.ndarray, spread: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 points for stores of the given districts (-1 = background), `spread` scaling each sigma.

    Points in water or outside the box are redrawn until none is left; each round redraws only those.
    """
    n = district.size
    lat, lng = np.empty(n), np.empty(n)
    todo = np.arange(n)
    centre_lat = np.array([d.lat for d in DISTRICTS])
    centre_lng = np.array([d.lng for d in DISTRICTS])
    sigma = np.array([d.sigma_km for d in DISTRICTS])
    while todo.size:
        d = district[todo]
        bg = d < 0
        dd = np.where(bg, 0, d)
        s_km = sigma[dd] * spread[todo]
        la = centre_lat[dd] + rng.normal(0.0, 1.0, todo.size) * s_km / KM_PER_DEG_LAT
        ln = centre_lng[dd] + rng.normal(0.0, 1.0, todo.size) * s_km / (KM_PER_DEG_LAT * np.cos(np.radians(la)))
        la = np.where(bg, rng.uniform(_CORE[0], _CORE[1], todo.size), la)
        ln = np.where(bg, rng.uniform(_CORE[2], _CORE[3], todo.size), ln)
        lat[todo], lng[todo] = la, ln
        todo = todo[in_water(la, ln) | ~in_bbox(la, ln)]
    return lat, lng


def nearest_district(lat: np.ndarray, lng: np.ndarray) -> np.ndarray:
    """Index of the closest district centre: background stores take their address from it."""
    centre_lat = np.array([d.lat for d in DISTRICTS])
    centre_lng = np.array([d.lng for d in DISTRICTS])
    out = np.empty(lat.size, dtype=np.int64)
    for start in range(0, lat.size, 200_000):  # bounded memory for a million stores
        sl = slice(start, start + 200_000)
        dist = (lat[sl, None] - centre_lat) ** 2 + ((lng[sl, None] - centre_lng) * 0.86) ** 2
        out[sl] = dist.argmin(axis=1)
    return out
