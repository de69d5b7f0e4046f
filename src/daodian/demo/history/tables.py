"""What the history's row builders share: the price list, the tables built so far, the facts, column helpers."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

MINUTE_US = 60_000_000

Columns = dict[str, object]
Ids = Callable[[str, int], np.ndarray]


@dataclass(frozen=True)
class Prices:
    """Per SKU and per service item position: what it costs, who sells it and what it is called."""

    sku_price: np.ndarray
    sku_merchant: np.ndarray
    sku_name: np.ndarray
    item_ids: np.ndarray
    item_price: np.ndarray
    item_merchant: np.ndarray
    item_name: np.ndarray
    clerk_of: dict[int, int]  # merchant id -> the staff user who works its counter
    consumer_name: dict[int, str]
    consumer_phone: dict[int, str]
    chain_merchant_id: int
    voucher_valid_days: int = 90


@dataclass
class HistoryTables:
    tables: list[tuple[str, Columns]] = field(default_factory=list)  # in foreign-key order
    rating_sum: dict[int, int] = field(default_factory=dict)  # store id -> sum of new experience ratings
    rating_n: dict[int, int] = field(default_factory=dict)
    sold: dict[int, int] = field(default_factory=dict)  # sku id -> units sold (paid or reserved)


class Facts:
    """The facts the history's rows would have appended, in the outbox's columns."""


    def __init__(self) -> None:
        self.rows: list[tuple] = []

    def add(self, kind: str, at, payload: dict, merchant_id=None, store_id=None, consumer_id=None) -> None:
        self.rows.append((kind, at, merchant_id, store_id, consumer_id, payload))

    def columns(self, ids: Ids, now: np.datetime64) -> Columns:
        n = len(self.rows)
        at = np.array([r[1] for r in self.rows], dtype="datetime64[us]")
        order = np.argsort(at, kind="stable")  # export order follows time, as live facts would
        rows = [self.rows[i] for i in order.tolist()]
        encode = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
        return dict(id=ids("facts", n), kind=[r[0] for r in rows], occurred_at=at[order], recorded_at=at[order],
                    merchant_id=[r[2] for r in rows], store_id=[r[3] for r in rows], consumer_id=[r[4] for r in rows],
                    payload=[encode(r[5]) for r in rows])


def iso(t: np.datetime64) -> str:
    return f"{np.datetime_as_string(t, unit='us')}+00:00"


def append(columns: dict[str, list], **row) -> None:
    for name, value in row.items():
        columns[name].append(value)
