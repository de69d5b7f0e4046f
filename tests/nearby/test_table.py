"""The store table keeps integer columns narrow while their values fit, and widens them, in place of
wrapping around, when a store with a larger value comes."""

import numpy as np

from daodian.merchants.models import MerchantStatus
from daodian.nearby.table import StoreTable


def row(store_id: int, popularity: int = 5) -> tuple:
    return (store_id, 1, 30.0, 120.0, "open", "Asia/Shanghai", "[[1, 0, 1440]]", "[]", 4.5, 10, popularity, None)


def test_ids_and_counts_widen_when_they_no_longer_fit():
    table = StoreTable()
    table.set_merchants([(1, MerchantStatus.ACTIVE)])
    table.append([row(1), row(2), row(3)])
    table.seal()
    assert table.col("id").dtype == np.int32
    big = 2**31 + 7  # ids are BigIntegers on PostgreSQL
    slots = table.append([row(big, popularity=3_000_000_000)])
    assert table.col("id").dtype == np.int64 and table.col("popularity").dtype == np.int64
    assert table.slots_of(np.array([big, 2, big - 2**32, 99])).tolist() == [slots[0], 1, -1, -1]
    assert table.col("popularity")[slots[0]] == 3_000_000_000 and table.col("listed")[: len(table)].all()
    table.write([row(2, popularity=2**40)], np.array([1]))
    assert table.col("popularity")[1] == 2**40
