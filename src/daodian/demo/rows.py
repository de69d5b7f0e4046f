"""Column-wise rows for merchants, stores, their categories and service items, from a Layout.

Random draws happen per merchant where a merchant decides (brand, hours, menu) and per store where a
store does (address, rating, status), always in the same order, so one seed gives one city. Text is
assembled from small lookup tables with numpy object arrays, not formatted row by row: at a million
stores the difference is tens of seconds.
"""

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np

from daodian.demo import city, names
from daodian.demo.hours import as_json
from daodian.demo.layout import Layout
from daodian.demo.profiles import PROFILES
from daodian.geo.datum import Datum, to_wgs84_arrays

DAY_US = 86_400_000_000
DEMO_CHAIN = ("驰安", "Chi'an")  # fixed, so the README can name it

Columns = dict[str, object]


def now64(now: datetime) -> np.datetime64:
    return np.datetime64(now.astimezone(UTC).replace(tzinfo=None), "us")


def nice_fen(yuan: np.ndarray) -> np.ndarray:
    """Shop prices: ¥30 and up end in 8 (¥38, ¥128, ¥298), cheaper ones are whole yuan; in fen."""
    y = np.asarray(yuan, dtype=float)
    return (np.where(y >= 30, np.floor(y / 10) * 10 + 8, np.round(y)) * 100).astype(np.int64)


def past(rng: np.random.Generator, now: np.datetime64, n: int, lo_days: float, hi_days: float) -> np.ndarray:
    return now - (rng.uniform(lo_days, hi_days, n) * DAY_US).astype("timedelta64[us]")


def between(rng: np.random.Generator, start: np.ndarray, end: np.datetime64) -> np.ndarray:
    return start + (rng.random(start.size) * (end - start).astype(np.int64)).astype("timedelta64[us]")


def _objects(values) -> np.ndarray:
    return np.array(list(values), dtype=object)


def _pick(options: tuple, roll: np.ndarray) -> np.ndarray:
    return (roll * len(options)).astype(np.int64)


def merchants(rng: np.random.Generator, layout: Layout, ids: np.ndarray, now: np.datetime64,
              category_zh: list[str]) -> tuple[Columns, np.ndarray, np.ndarray]:
    """Merchant rows plus each merchant's display name (zh, en object arrays), which its stores reuse."""
    m, leaf, chain = layout.merchants, layout.merchant_leaf, layout.merchant_chain
    brand_zh, brand_en = names.brands(rng, m)
    brand_zh[layout.demo_chain], brand_en[layout.demo_chain] = DEMO_CHAIN
    # Suffixes by (leaf, choice): "养车" / "Auto Care" ...
    width = max(len(p.suffix) for p in PROFILES.values())
    suffix_zh = np.full((len(layout.leaves), width), "", dtype=object)
    suffix_en = np.full((len(layout.leaves), width), "", dtype=object)
    suffix_n = np.zeros(len(layout.leaves), dtype=np.int64)
    for i, code in enumerate(layout.leaves):
        suffixes = PROFILES[code].suffix
        suffix_n[i] = len(suffixes)
        suffix_zh[i, :len(suffixes)] = [zh for zh, _ in suffixes]
        suffix_en[i, :len(suffixes)] = [" " + en for _, en in suffixes]
    choice = (rng.random(m) * suffix_n[leaf]).astype(np.int64)
    choice[layout.demo_chain] = 0
    name_zh = brand_zh + suffix_zh[leaf, choice]
    name_en = brand_en + suffix_en[leaf, choice]

    phone = np.empty(m, dtype=object)
    phone[chain] = names.hotlines(rng, int(chain.sum()))
    phone[~chain] = names.any_mobiles(rng, int((~chain).sum()))
    description = _objects(f"杭州本地{zh}商户。" for zh in category_zh)[leaf]
    stores_per_merchant = np.bincount(layout.store_merchant, minlength=m)
    for i in np.flatnonzero(chain).tolist():
        description[i] = f"{category_zh[leaf[i]]}连锁品牌，杭州{stores_per_merchant[i]}家门店。"
    status = _objects(("active", "pending"))[(rng.random(m) < 0.01).astype(np.int64)]
    status[layout.demo_chain] = "active"
    created = past(rng, now, m, 60, 1800)
    # updated_at is the load time: running app processes pick up rows changed since their last poll
    # (nearby.index), so a city loaded next to a live server appears there without a restart.
    columns = dict(id=ids, name=name_zh, name_en=name_en, description=description, phone=phone, status=status,
                   external_ref=[None] * m, created_at=created, updated_at=np.full(m, now))
    return columns, name_zh, name_en


def hours_by_merchant(rng: np.random.Generator, layout: Layout) -> np.ndarray:
    """One weekly template per merchant (a chain keeps the same hours everywhere), as JSON text."""
    out = np.empty(layout.merchants, dtype=object)
    for leaf_index, leaf in enumerate(layout.leaves):
        who = np.flatnonzero(layout.merchant_leaf == leaf_index)
        templates = PROFILES[leaf].hours
        weights = np.array([w for w, _ in templates])
        texts = _objects(as_json(t) for _, t in templates)
        out[who] = texts[rng.choice(len(templates), who.size, p=weights / weights.sum())]
    return out


def stores(rng: np.random.Generator, layout: Layout, ids: np.ndarray, merchant_ids: np.ndarray,
           merchant_name: tuple[np.ndarray, np.ndarray], merchant_created: np.ndarray, hours: np.ndarray,
           category_ids: np.ndarray, now: np.datetime64) -> Columns:
    n, district, owner = layout.stores, layout.store_district, layout.store_merchant
    max_roads = max(len(d.roads) for d in city.DISTRICTS)
    road_count = np.array([len(d.roads) for d in city.DISTRICTS])
    road = (rng.random(n) * road_count[district]).astype(np.int64)
    street = np.full(len(city.DISTRICTS) * max_roads, "", dtype=object)
    for d, dist in enumerate(city.DISTRICTS):
        street[d * max_roads:d * max_roads + len(dist.roads)] = [f"杭州市{dist.admin_zh}{zh}" for zh, _ in dist.roads]
    house = _objects(f"{i}号" for i in range(900))
    address = street[district * max_roads + road] + house[rng.integers(1, 900, n)]
    name_zh, name_en = _store_names(layout, merchant_name, road)
    wgs_lat, wgs_lng = to_wgs84_arrays(layout.lat, layout.lng, Datum.GCJ02)
    roll = rng.random(n)
    status = _objects(("open", "paused", "closed"))[(roll >= 0.97).astype(np.int64) + (roll >= 0.99)]
    rating_avg = np.round(3.0 + 2.0 * rng.beta(5.0, 2.2, n), 1)
    rating_count = np.minimum(np.exp(rng.normal(3.2, 1.3, n)).astype(np.int64) + 1, 20_000)
    # Visits in the last 90 days (the ranking's popularity): busy places are the much-reviewed ones.
    popularity = (rating_count * rng.uniform(0.05, 0.6, n)).astype(np.int64)
    created = between(rng, merchant_created[owner], now)
    return dict(
        id=ids, merchant_id=merchant_ids[owner], name=name_zh, name_en=name_en, address=address,
        phone=names.landlines(rng, n), lat=wgs_lat, lng=wgs_lng,
        input_lat=np.round(layout.lat, 6), input_lng=np.round(layout.lng, 6), input_datum=["gcj02"] * n,
        timezone=["Asia/Shanghai"] * n, hours=hours[owner], closed_dates=["[]"] * n, status=status,
        primary_category_id=category_ids[layout.store_leaf], rating_avg=rating_avg, rating_count=rating_count,
        popularity=popularity, external_ref=[None] * n, created_at=created, updated_at=np.full(n, now),
    )


def _store_names(layout: Layout, merchant_name: tuple[np.ndarray, np.ndarray],
                 road: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A single store carries its merchant's name; a chain store adds its district ("·钱江新城店"), or
    its road when the chain already has a store in that district."""
    zh, en = merchant_name[0][layout.store_merchant], merchant_name[1][layout.store_merchant]
    seen: set[tuple[int, int]] = set()
    for s in np.flatnonzero(layout.merchant_chain[layout.store_merchant]).tolist():
        m, d = int(layout.store_merchant[s]), int(layout.store_district[s])
        dist = city.DISTRICTS[d]
        where_zh, where_en = dist.roads[road[s]] if (m, d) in seen else (dist.zh, dist.en)
        seen.add((m, d))
        zh[s] = f"{zh[s]}·{where_zh}店"
        en[s] = f"{en[s]} · {where_en}"
    return zh, en


def store_categories(rng: np.random.Generator, layout: Layout, store_ids: np.ndarray,
                     category_ids: np.ndarray) -> Columns:
    """Primary category for every store, and sometimes a second one that such shops also do."""
    leaf = layout.store_leaf
    code_index = {code: i for i, code in enumerate(layout.leaves)}
    second = np.full(leaf.size, -1, dtype=np.int64)
    roll, pick = rng.random(leaf.size), rng.random(leaf.size)
    for leaf_index, code in enumerate(layout.leaves):
        profile = PROFILES[code]
        also = [code_index[c] for c in profile.also if c in code_index]
        if not also:
            continue
        mask = (leaf == leaf_index) & (roll < profile.also_p)
        second[mask] = np.array(also)[(pick[mask] * len(also)).astype(np.int64)]
    has = second >= 0
    return dict(store_id=np.concatenate([store_ids, store_ids[has]]),
                category_id=np.concatenate([category_ids[leaf], category_ids[second[has]]]))


def service_items(rng: np.random.Generator, layout: Layout, ids_for: Callable[[int], np.ndarray],
                  merchant_ids: np.ndarray, merchant_created: np.ndarray, category_ids: np.ndarray,
                  now: np.datetime64) -> tuple[Columns, Columns]:
    """Each merchant's menu (2-4 items, chains 3-5, from its category's templates) and the rows that offer
    every item at every one of the merchant's stores."""
    m_leaf = layout.merchant_leaf
    templates = [PROFILES[code].items for code in layout.leaves]
    first = np.cumsum([0] + [len(t) for t in templates])  # template numbers of leaf i: first[i]..first[i+1]
    flat = [item for leaf_items in templates for item in leaf_items]
    wanted = np.where(layout.merchant_chain, rng.integers(3, 6, m_leaf.size), rng.integers(2, 5, m_leaf.size))
    owners, picks = [], []
    for leaf_index, leaf_items in enumerate(templates):
        who = np.flatnonzero(m_leaf == leaf_index)
        t = len(leaf_items)
        order = np.argsort(rng.random((who.size, t)), axis=1)  # a random menu per merchant, no repeats
        take = np.arange(t) < np.minimum(wanted[who], t)[:, None]
        owners.append(np.broadcast_to(who[:, None], (who.size, t))[take])
        picks.append(first[leaf_index] + order[take])
    owner = np.concatenate(owners)
    pick = np.concatenate(picks)
    grouped = np.argsort(owner, kind="stable")  # a merchant's items side by side, merchants in order
    owner, pick = owner[grouped], pick[grouped]
    lo = np.array([i.lo for i in flat], dtype=float)[pick]
    hi = np.array([i.hi for i in flat], dtype=float)[pick]
    leaf_of_template = np.repeat(np.arange(len(templates)), [len(t) for t in templates])
    ids = ids_for(owner.size)
    created = between(rng, merchant_created[owner], now)
    item_cols = dict(
        id=ids, merchant_id=merchant_ids[owner], category_id=category_ids[leaf_of_template[pick]],
        name_zh=_objects(i.zh for i in flat)[pick], name_en=_objects(i.en for i in flat)[pick],
        description=[""] * owner.size, price_fen=nice_fen(lo + rng.random(owner.size) * (hi - lo)),
        duration_min=np.array([i.minutes for i in flat])[pick], status=["active"] * owner.size,
        created_at=created, updated_at=created,
    )
    return item_cols, _offers(layout, owner, ids)


def _offers(layout: Layout, item_owner: np.ndarray, item_ids: np.ndarray) -> Columns:
    """(store position, item id) for every item of each store's merchant, without a loop per row."""
    per_merchant = np.bincount(item_owner, minlength=layout.merchants)
    first_item = np.concatenate([[0], np.cumsum(per_merchant)[:-1]])
    k = per_merchant[layout.store_merchant]
    store_pos = np.repeat(np.arange(layout.stores), k)
    offset = np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)
    return dict(store_pos=store_pos, item_id=item_ids[first_item[layout.store_merchant][store_pos] + offset])
