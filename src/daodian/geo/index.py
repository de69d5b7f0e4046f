"""A spatial index over (key, lat, lng) answering radius queries, updatable while it serves.

Points live on the unit sphere (xyz), so a KD-tree query by chord length is exactly a great-circle
radius query, with no trouble at +-180 deg or near the poles. Rebuilding a tree of a million points
takes a fraction of a second, too much for every change, so changes go to a small delta scanned by
brute force plus tombstones over the main tree; once the delta outgrows a threshold, both are merged
into a new tree.

Each change publishes a new immutable `_State`, so readers in other threads never see half a
change and need no lock; writers are serialised by a lock. Keys are non-negative integers (the
caller's row numbers or ids); a key is in the index at most once. Coordinates are WGS-84 degrees.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from daodian.geo.distance import EARTH_RADIUS_M, chord_for_distance_m, unit_vectors

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

_MAX_CHORD = 2.0  # the unit sphere's diameter: antipodes
_EMPTY_KEYS = np.empty(0, dtype=np.int64)
_EMPTY_XYZ = np.empty((0, 3), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class _State:
    tree: cKDTree | None
    main_keys: IntArray  # sorted; main_keys[i] is the key of tree point i
    alive: NDArray[np.bool_]  # False marks a tombstone: removed, or moved into the delta
    delta_keys: IntArray
    delta_xyz: FloatArray
    size: int


def _unique_last(keys: IntArray) -> NDArray[np.intp]:
    """Positions of the last occurrence of each key: within one batch, the later change wins."""
    _, first_in_reversed = np.unique(keys[::-1], return_index=True)
    return len(keys) - 1 - first_in_reversed


def _build_tree(xyz: FloatArray) -> cKDTree | None:
    # Unbalanced, non-compact trees build about twice as fast and answer radius queries as fast.
    return cKDTree(xyz, balanced_tree=False, compact_nodes=False) if len(xyz) else None


def _chord_to_m(chord: FloatArray) -> FloatArray:
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))


class GeoIndex:
    def __init__(self, keys: ArrayLike = (), lat: ArrayLike = (), lng: ArrayLike = (), *,
                 min_merge: int = 1024, merge_fraction: float = 0.02):
        """Build from unique keys; the delta is merged once it holds more than
        max(min_merge, merge_fraction * size) points."""
        keys = np.asarray(keys, dtype=np.int64).reshape(-1)
        self.min_merge = min_merge
        self.merge_fraction = merge_fraction
        self._write_lock = threading.Lock()
        self._state = self._fresh_state(keys, unit_vectors(lat, lng) if len(keys) else _EMPTY_XYZ)

    @staticmethod
    def _fresh_state(keys: IntArray, xyz: FloatArray) -> _State:
        order = np.argsort(keys, kind="stable")
        keys, xyz = keys[order], np.ascontiguousarray(xyz[order])
        if np.any(keys[1:] == keys[:-1]):
            raise ValueError("keys must be unique")
        return _State(_build_tree(xyz), keys, np.ones(len(keys), dtype=bool), _EMPTY_KEYS, _EMPTY_XYZ, len(keys))

    def __len__(self) -> int:
        return self._state.size

    @property
    def delta_size(self) -> int:
        return len(self._state.delta_keys)

    def __contains__(self, key: int) -> bool:
        state = self._state
        return bool(self._main_positions(state, np.array([key], dtype=np.int64)).size) or key in state.delta_keys

    # --- changes -----------------------------------------------------------------------------

    def upsert(self, keys: ArrayLike, lat: ArrayLike, lng: ArrayLike) -> None:
        """Add points, or move them if their keys are already present."""
        keys = np.asarray(keys, dtype=np.int64).reshape(-1)
        if not len(keys):
            return
        last = _unique_last(keys)
        keys, xyz = keys[last], unit_vectors(lat, lng)[last]
        self._change(keys, keys, xyz)

    def remove(self, keys: ArrayLike) -> None:
        """Drop points; keys that are not present are ignored."""
        keys = np.unique(np.asarray(keys, dtype=np.int64).reshape(-1))
        if len(keys):
            self._change(keys, _EMPTY_KEYS, _EMPTY_XYZ)

    def _change(self, gone: IntArray, new_keys: IntArray, new_xyz: FloatArray) -> None:
        with self._write_lock:
            state = self._state
            alive = state.alive
            positions = self._main_positions(state, gone)
            if positions.size:
                alive = alive.copy()
                alive[positions] = False
            keep = ~np.isin(state.delta_keys, gone)
            delta_keys = np.concatenate((state.delta_keys[keep], new_keys))
            delta_xyz = np.concatenate((state.delta_xyz[keep], new_xyz))
            size = int(state.size - positions.size - (len(keep) - keep.sum()) + len(new_keys))
            state = _State(state.tree, state.main_keys, alive, delta_keys, delta_xyz, size)
            if len(delta_keys) > max(self.min_merge, self.merge_fraction * size):
                state = self._merged(state)
            self._state = state

    @staticmethod
    def _main_positions(state: _State, keys: IntArray) -> NDArray[np.intp]:
        """Positions in the main tree of those `keys` that are there and alive."""
        if not len(state.main_keys) or not len(keys):
            return np.empty(0, dtype=np.intp)
        pos = np.searchsorted(state.main_keys, keys)
        inside = pos < len(state.main_keys)
        pos, keys = pos[inside], keys[inside]
        pos = pos[state.main_keys[pos] == keys]
        return pos[state.alive[pos]]

    def merge(self) -> None:
        """Fold the delta and the tombstones into a new main tree now."""
        with self._write_lock:
            self._state = self._merged(self._state)

    def _merged(self, state: _State) -> _State:
        main_xyz = state.tree.data[state.alive] if state.tree is not None else _EMPTY_XYZ
        keys = np.concatenate((state.main_keys[state.alive], state.delta_keys))
        return self._fresh_state(keys, np.concatenate((main_xyz, state.delta_xyz)))

    # --- queries -----------------------------------------------------------------------------

    @staticmethod
    def _chord(radius_m: float) -> float:
        # Past half the circumference the chord would shrink again (it is a sine): take everything.
        return _MAX_CHORD if radius_m >= np.pi * EARTH_RADIUS_M else chord_for_distance_m(radius_m)

    def count_within(self, lat: float, lng: float, radius_m: float) -> int:
        """About how many points lie within `radius_m`: cheap (the tree counts whole nodes), and never
        too low (removed points still in the tree are counted until the next merge)."""
        state = self._state
        chord, center = self._chord(radius_m), unit_vectors(lat, lng)[0]
        n = int(state.tree.query_ball_point(center, chord, return_length=True)) if state.tree is not None else 0
        return n + int((np.linalg.norm(state.delta_xyz - center, axis=1) <= chord).sum())

    def query_radius(self, lat: float, lng: float, radius_m: float) -> tuple[IntArray, FloatArray]:
        """Keys within `radius_m` (great circle) of the point, with their distances in metres."""
        state = self._state
        chord, center = self._chord(radius_m), unit_vectors(lat, lng)[0]
        keys, chords = [_EMPTY_KEYS], [np.empty(0)]
        if state.tree is not None:
            found = np.asarray(state.tree.query_ball_point(center, chord, return_sorted=False), dtype=np.intp)
            found = found[state.alive[found]]
            keys.append(state.main_keys[found])
            chords.append(np.linalg.norm(state.tree.data[found] - center, axis=1))
        if len(state.delta_keys):
            d = np.linalg.norm(state.delta_xyz - center, axis=1)
            near = d <= chord
            keys.append(state.delta_keys[near])
            chords.append(d[near])
        return np.concatenate(keys), _chord_to_m(np.concatenate(chords))
