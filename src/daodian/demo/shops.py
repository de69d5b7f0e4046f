"""Online shops (merchants without stores) and their products with SKUs, covering every leaf product
category; the demo chain also sells motor oil, so its customers can buy online and redeem in store.
"""

from collections.abc import Callable

import numpy as np

from daodian.demo import names
from daodian.demo.products import LINES, SHOP_SUFFIX
from daodian.demo.rows import Columns, between, nice_fen, past

SHOPS_PER_GROUP = 3
MIN_PRODUCTS = 240

Ids = Callable[[int], np.ndarray]


def product_count(n_stores: int) -> int:
    return max(MIN_PRODUCTS, n_stores // 1000)


def shops(rng: np.random.Generator, leaves: list[str], category_ids: np.ndarray, n_products: int,
          chain_merchant_id: int, merchant_ids: Ids, product_ids: Ids, sku_ids: Ids,
          now: np.datetime64) -> tuple[Columns, Columns, Columns]:
    missing = [leaf for leaf in leaves if leaf not in LINES]
    if missing:
        raise LookupError(f"no demo products for categories {missing}; add them to demo/products.py")
    groups = sorted({leaf.split(".")[0] for leaf in leaves})
    m = len(groups) * SHOPS_PER_GROUP
    brand_zh, brand_en = names.brands(rng, m)
    shop_group = [g for g in groups for _ in range(SHOPS_PER_GROUP)]
    shop_ids = merchant_ids(m)
    created = past(rng, now, m, 90, 1500)
    merchant_cols = dict(
        id=shop_ids, name=[b + SHOP_SUFFIX[g][0] for b, g in zip(brand_zh, shop_group)],
        name_en=[f"{b} {SHOP_SUFFIX[g][1]}" for b, g in zip(brand_en, shop_group)],
        description=["线上店铺，全国包邮。"] * m, phone=names.hotlines(rng, m), status=["active"] * m,
        external_ref=[None] * m, created_at=created, updated_at=created,
    )

    # Even spread over leaves (each gets at least one), the remainder at random.
    per_leaf = np.full(len(leaves), n_products // len(leaves))
    per_leaf[rng.choice(len(leaves), n_products % len(leaves), replace=False)] += 1
    leaf_of = np.repeat(np.arange(len(leaves)), per_leaf)
    n = leaf_of.size
    line_pick, shop_pick, level = rng.random(n), rng.integers(0, SHOPS_PER_GROUP, n), rng.random(n)
    product_brand_zh, product_brand_en = names.brands(rng, n)
    pids = product_ids(n)
    owner, name_zh, name_en, sku_rows = [], [], [], []
    for i, leaf_index in enumerate(leaf_of.tolist()):
        leaf = leaves[leaf_index]
        lines = LINES[leaf]
        line = lines[int(line_pick[i] * len(lines))]
        if leaf == "auto.oil" and shop_pick[i] == 0:
            owner.append(chain_merchant_id)  # a third of the motor oil is the demo chain's own
        else:
            owner.append(int(shop_ids[groups.index(leaf.split(".")[0]) * SHOPS_PER_GROUP + shop_pick[i]]))
        name_zh.append(line.zh.format(b=product_brand_zh[i]))
        name_en.append(line.en.format(b=product_brand_en[i]))
        keep = [s for j, s in enumerate(line.specs) if j == 0 or rng.random() < 0.75]  # 1..all specs
        sku_rows += [(int(pids[i]), s, level[i]) for s in keep]
    product_created = between(rng, np.full(n, now - np.timedelta64(400, "D")), now)
    product_cols = dict(id=pids, merchant_id=owner, category_id=category_ids[leaf_of], name_zh=name_zh,
                        name_en=name_en, description=[""] * n, status=["active"] * n,
                        created_at=product_created, updated_at=product_created)
    lo = np.array([s.lo for _, s, _ in sku_rows], dtype=float)
    hi = np.array([s.hi for _, s, _ in sku_rows], dtype=float)
    q = np.array([q for _, _, q in sku_rows])
    sku_cols = dict(id=sku_ids(len(sku_rows)), product_id=[p for p, _, _ in sku_rows],
                    code=[s.code for _, s, _ in sku_rows], spec_zh=[s.zh for _, s, _ in sku_rows],
                    spec_en=[s.en for _, s, _ in sku_rows], price_fen=nice_fen(lo + q * (hi - lo)),
                    status=["active"] * len(sku_rows))
    return merchant_cols, product_cols, sku_cols
