"""The shape of the demo city before any names: which merchants exist, which are chains, and where
each of their stores stands. Everything is numpy arrays indexed by merchant or store position.
"""

from dataclasses import dataclass

import numpy as np

from daodian.demo import city
from daodian.demo.profiles import PROFILES

DEMO_CHAIN_LEAF = "auto_service.oil_change"  # the chain whose staff get demo logins
MIN_CHAIN = 3


class TooFewStores(ValueError):
    pass


@dataclass
class Layout:
    leaves: list[str]  # leaf service category codes; `*_leaf` arrays index into this
    merchant_leaf: np.ndarray
    merchant_chain: np.ndarray  # bool
    store_merchant: np.ndarray  # merchant position of each store, grouped by merchant
    store_district: np.ndarray  # district index (address and name); background stores take the nearest
    lat: np.ndarray  # GCJ-02
    lng: np.ndarray
    demo_chain: int  # merchant position of the demo chain

    @property
    def merchants(self) -> int:
        return self.merchant_leaf.size

    @property
    def stores(self) -> int:
        return self.store_merchant.size

    @property
    def store_leaf(self) -> np.ndarray:
        return self.merchant_leaf[self.store_merchant]


def min_stores(leaves: list[str]) -> int:
    return len(leaves) + MIN_CHAIN


def plan(rng: np.random.Generator, leaves: list[str], n_stores: int) -> Layout:
    if n_stores < min_stores(leaves):
        raise TooFewStores(f"a demo city needs at least {min_stores(leaves)} stores (one per service and a chain)")
    counts = _store_counts(rng, leaves, n_stores)
    merchant_leaf, merchant_size, demo_chain = [], [], -1
    for leaf_index, (leaf, n) in enumerate(zip(leaves, counts.tolist())):
        sizes = _chain_sizes(rng, n, PROFILES[leaf].chain, leaf == DEMO_CHAIN_LEAF)
        if leaf == DEMO_CHAIN_LEAF:
            demo_chain = len(merchant_size)
        merchant_size += sizes + [1] * (n - sum(sizes))
        merchant_leaf += [leaf_index] * (len(sizes) + n - sum(sizes))
    size = np.array(merchant_size, dtype=np.int64)
    m_leaf = np.array(merchant_leaf, dtype=np.int64)
    store_merchant = np.repeat(np.arange(size.size), size)
    district = _districts(rng, store_merchant, size)
    spread = np.array([PROFILES[leaf].spread for leaf in leaves])[m_leaf[store_merchant]]
    lat, lng = city.place(rng, district, spread)
    background = district < 0
    district[background] = city.nearest_district(lat[background], lng[background])
    return Layout(leaves=leaves, merchant_leaf=m_leaf, merchant_chain=size > 1, store_merchant=store_merchant,
                  store_district=district, lat=lat, lng=lng, demo_chain=demo_chain)


def _store_counts(rng: np.random.Generator, leaves: list[str], n: int) -> np.ndarray:
    """Stores per leaf: one each for certain, the rest by share; the demo chain's leaf gets enough for it."""
    share = np.array([PROFILES[leaf].share for leaf in leaves])
    counts = 1 + rng.multinomial(n - len(leaves), share / share.sum())
    demo = leaves.index(DEMO_CHAIN_LEAF)
    while counts[demo] < MIN_CHAIN + 1:
        counts[counts.argmax()] -= 1
        counts[demo] += 1
    return counts


def _chain_sizes(rng: np.random.Generator, n: int, chain_share: float, demo: bool) -> list[int]:
    """Store counts of the chains in a leaf with n stores; the rest are single-store merchants.

    Sizes are log-normal (most chains have a handful of stores, a few have dozens), capped so one brand
    never fills a category. The demo chain comes first, with 3-30 stores.
    """
    sizes = [int(np.clip(n // 4, MIN_CHAIN, 30))] if demo else []
    budget = max(int(round(n * chain_share)), sum(sizes))
    if n < 8 and not demo:
        return []
    cap = max(MIN_CHAIN, min(n // 6, 400))
    left = budget - sum(sizes)
    while left >= MIN_CHAIN:
        size = int(np.clip(rng.lognormal(np.log(6), 0.9), MIN_CHAIN, cap))
        size = left if left - size < MIN_CHAIN else min(size, left)
        sizes.append(size)
        left -= size
    return sizes


def _districts(rng: np.random.Generator, store_merchant: np.ndarray, size: np.ndarray) -> np.ndarray:
    """District of each store (-1 = background). Chains spread over the city like everyone else."""
    weights = city.district_weights() * (1 - city.BACKGROUND_SHARE)
    p = np.append(weights, city.BACKGROUND_SHARE)
    d = rng.choice(p.size, size=store_merchant.size, p=p)
    return np.where(d == p.size - 1, -1, d).astype(np.int64)
