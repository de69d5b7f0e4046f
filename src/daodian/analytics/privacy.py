"""The privacy guard: what a merchant sees is built from at least k distinct consumers, and stays so
when published figures are subtracted from each other (the model below, and its limits).

A protected table is a set of cells (row, node). Rows are one or more families of rows (items, stores,
campaigns...) plus the `total` row, which each family adds up to. Nodes form a tree whose parent is the
sum of its children (day -> week -> month -> year -> all; or store -> all stores). Every figure any
dashboard publishes from that data is one of these cells, so one suppression pattern serves them all.

Rules, applied until nothing changes (suppression only ever grows, so this ends):
- primary: a cell with fewer than k distinct consumers is suppressed;
- complementary (siblings): in every group of cells that add up to a published cell (children of one
  node in a row; one family's rows at a node, under the total), suppressed cells are either none, or at
  least two of which one has >= k consumers; else the smallest publishable sibling is suppressed too.
  Then "total minus the cells shown" covers two or more cells and at least k consumers;
- complementary (parents): a suppressed cell whose children are all published would be their sum, so
  one of its children is suppressed as well (and then the sibling rule applies to them);
- a cell that is its parent's only child is the same figure: both are published or neither.

Limits (what this does not promise): differencing is checked within one protected table and one export;
figures of two different exports (before and after new facts arrive) can still be subtracted, so the
dashboards show whole periods and the export only grows; measures other than the consumer count (an
amount) are not protected against being dominated by one big buyer; the operator sees totals per
merchant without suppression (merchants are not people).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd

TOTAL = "total"


@dataclass(frozen=True)
class Suppression:
    k: int
    primary: int
    complementary: int
    rounds: int


def family_of(row: str) -> str:
    return "" if row == TOTAL else row.split(":", 1)[0]


def protect(cells: pd.DataFrame, k: int, parent_of: Callable[[str], str | None]) -> tuple[pd.Series, Suppression]:
    """Which cells to suppress. `cells` has columns row, node, consumers, weight (|amount|, to prefer
    small cells as complements); (row, node) is unique. Returns a boolean Series aligned with `cells`."""
    if cells.empty:
        return pd.Series([], dtype=bool, index=cells.index), Suppression(k, 0, 0, 0)
    df = pd.DataFrame({"row": cells["row"].astype(str).to_numpy(), "node": cells["node"].astype(str).to_numpy(),
                       "consumers": cells["consumers"].fillna(0).astype("int64").to_numpy(),
                       "weight": cells["weight"].fillna(0).abs().astype("float64").to_numpy()})
    df["family"] = df["row"].map(family_of)
    parents = {node: parent_of(node) for node in df["node"].unique()}
    df["parent"] = df["node"].map(parents)
    # Deterministic preference among candidates: fewest consumers, then smallest amount, then key.
    df["rank"] = df.sort_values(["consumers", "weight", "row", "node"]).index.argsort()
    df["sup"] = df["consumers"] < k
    primary = int(df["sup"].sum())

    position = {key: i for i, key in enumerate(zip(df["row"], df["node"]))}
    time_groups = df[df["parent"].notna()]
    time_keys = ["row", "parent"]
    time_parent_idx = np.array([position.get(key, -1) for key in zip(time_groups["row"], time_groups["parent"])])
    total_nodes = set(df.loc[df["row"] == TOTAL, "node"])
    row_groups = df[(df["row"] != TOTAL) & df["node"].isin(total_nodes)]
    row_keys = ["family", "node"]
    row_parent_idx = np.array([position[(TOTAL, node)] for node in row_groups["node"]], dtype=int)

    rounds = 0
    while True:
        rounds += 1
        before = int(df["sup"].sum())
        _apply(df, time_groups.index.to_numpy(), time_keys, time_parent_idx, k)
        _apply(df, row_groups.index.to_numpy(), row_keys, row_parent_idx, k)
        if int(df["sup"].sum()) == before:
            break
    suppressed = pd.Series(df["sup"].to_numpy(), index=cells.index)
    return suppressed, Suppression(k, primary, int(df["sup"].sum()) - primary, rounds)


def _apply(df: pd.DataFrame, members: np.ndarray, keys: list[str], parent_idx: np.ndarray, k: int) -> None:
    """One pass of the three complementary rules over one kind of group."""
    if len(members) == 0:
        return
    g = df.loc[members, keys + ["consumers", "rank"]].copy()
    g["sup"] = df["sup"].to_numpy()[members]
    g["parent_idx"] = parent_idx
    g["parent_sup"] = np.where(parent_idx >= 0, df["sup"].to_numpy()[np.clip(parent_idx, 0, None)], False)
    g["sup_consumers"] = np.where(g["sup"], g["consumers"], -1)
    grouped = g.groupby(keys, sort=False)
    size = grouped["sup"].transform("size")
    n_sup = grouped["sup"].transform("sum")
    max_sup = grouped["sup_consumers"].transform("max")
    parent_sup = grouped["parent_sup"].transform("max").astype(bool)

    # An only child is its parent: both suppressed or neither.
    only = size == 1
    to_parent = g.loc[only & g["sup"] & ~g["parent_sup"] & (g["parent_idx"] >= 0), "parent_idx"].to_numpy()
    to_child = g.index[only & ~g["sup"] & g["parent_sup"]].to_numpy()
    # Siblings: none suppressed, or two or more with one of them covering k consumers.
    weak = (size >= 2) & (n_sup >= 1) & ((n_sup < 2) | (max_sup < k))
    # Parents: a suppressed parent needs a suppressed child.
    bare = (size >= 2) & parent_sup & (n_sup == 0)
    needy = g[(weak | bare) & ~g["sup"]]
    picks = needy.sort_values("rank").drop_duplicates(keys).index.to_numpy()

    for idx in (to_parent, to_child, picks):  # df has a RangeIndex: labels are positions
        if len(idx):
            df.loc[idx, "sup"] = True


# --- the time tree ---------------------------------------------------------------------------------------

LEVEL_PARENT = {"day": "week", "week": "month", "month": "year", "year": "all", "all": None}


def time_node(level: str, bucket) -> str:
    return "all" if level == "all" else f"{level}:{bucket.isoformat()}"


@lru_cache(maxsize=200_000)
def time_parent(node: str) -> str | None:
    """day:2011-03-09 -> week:2011-03-07 (weeks start on Monday, cut at the month's first day) -> month:
    2011-03-01 -> year:2011-01-01 -> all."""
    if node == "all":
        return None
    level, day = node.split(":", 1)
    y, m, d = (int(part) for part in day.split("-"))
    if level == "day":
        weekday = date(y, m, d).weekday()
        return f"week:{y:04d}-{m:02d}-{max(1, d - weekday):02d}"
    if level == "week":
        return f"month:{y:04d}-{m:02d}-01"
    if level == "month":
        return f"year:{y:04d}-01-01"
    return "all"


def flat_parent(node: str) -> str | None:
    """A one-level tree: every node adds up to `all`."""
    return None if node == "all" else "all"


def no_parent(node: str) -> str | None:
    """Nodes that do not add up to anything (e.g. months since the first purchase)."""
    return None


def apply(frame: pd.DataFrame, suppressed: pd.Series, measures: Iterable[str]) -> pd.DataFrame:
    """The published form: measures of suppressed cells blanked, a `suppressed` flag added."""
    out = frame.copy()
    out["suppressed"] = suppressed.to_numpy()
    for column in measures:
        out[column] = out[column].astype("Int64").mask(out["suppressed"])
    return out
