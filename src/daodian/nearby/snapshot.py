"""The nearby index written once to files and mapped by every server process, instead of each process
reading a million stores from the database at start-up.

A snapshot is a directory of .npy arrays (the store columns, the opening rules, the postings) and a
manifest naming the database it came from and its watermark: the newest change it holds. Processes
map the arrays copy-on-write, so the pages are shared until a process changes a store (only those
pages become its own), and then catch up by polling changes since the watermark, as always
(kit.freshness). Snapshots live under var/nearby/<database key>/; the directory is written under a
temporary name and renamed, so a reader never sees half of one, and an exclusive file lock makes the
first process of a deploy build it while the others wait and map it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from daodian.kit.settings import PROJECT_ROOT

FORMAT = 3  # bump when the arrays or their meaning change: older snapshots are then ignored
DEFAULT_DIR = PROJECT_ROOT / "var" / "nearby"
KEEP = 2  # snapshots kept per database (a process may still map the one before the newest)


@dataclass(frozen=True)
class Manifest:
    format: int
    database: str
    watermark: str  # ISO datetime: the snapshot holds every change stamped up to here (less the overlap)
    stores: int
    newest_store: tuple[int, str] | None  # (id, ISO stamp) of the most recently stamped store: identity check
    prior: float  # the table's prior mean rating
    postings_prior: float  # the prior the postings' potentials were worked out with
    cell_m: float
    codes: dict[str, int]  # service category id -> postings code
    tz_names: list[str]

    @property
    def watermark_at(self) -> datetime:
        return datetime.fromisoformat(self.watermark)


def database_key(session: Session) -> str | None:
    """A name for the database the session reads, or None when it has none that outlives the process
    (an in-memory SQLite database, or a test's connection)."""
    bind = session.get_bind()
    if not isinstance(bind, Engine) or bind.url.get_backend_name() == "sqlite" and bind.url.database in (None, "", ":memory:"):
        return None
    url = bind.url
    if url.get_backend_name() == "sqlite":
        url = url.set(database=str(Path(url.database).resolve()))
    return hashlib.sha256(f"{FORMAT}:{url.render_as_string(hide_password=True)}".encode()).hexdigest()[:16]


@contextmanager
def exclusive(directory: Path) -> Iterator[None]:
    """Hold the database's snapshot lock (across processes) for the block."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def latest(directory: Path) -> Path | None:
    found = sorted(p for p in directory.glob("snapshot-*") if (p / "manifest.json").exists()) if directory.exists() else []
    return found[-1] if found else None


def write(directory: Path, manifest: Manifest, arrays: dict[str, np.ndarray]) -> Path:
    stamp = datetime.fromisoformat(manifest.watermark).strftime("%Y%m%dT%H%M%S%f")
    final = directory / f"snapshot-{stamp}-{manifest.stores:012d}"
    partial = directory / f".partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for name, array in arrays.items():
        np.save(partial / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
    (partial / "manifest.json").write_text(json.dumps(asdict(manifest)))
    shutil.rmtree(final, ignore_errors=True)
    os.rename(partial, final)
    for old in sorted(directory.glob("snapshot-*"))[:-KEEP]:
        shutil.rmtree(old, ignore_errors=True)  # a process mapping it keeps its pages until it lets go
    return final


def read_manifest(path: Path) -> Manifest | None:
    """The snapshot's manifest, or None if it is of another format."""
    raw = json.loads((path / "manifest.json").read_text())
    if raw.get("format") != FORMAT:
        return None
    raw["newest_store"] = tuple(raw["newest_store"]) if raw["newest_store"] else None
    return Manifest(**raw)


def open_for_reads(path: Path, name: str) -> tuple[BinaryIO, int]:
    """One of the snapshot's arrays as a file to read at offsets (os.pread), and where its data starts: for
    bytes read a few at a time from anywhere in a large array. Mapped, each page fault would map a run of
    neighbouring pages into the process as well (the kernel's fault-around), and a worker's memory grew by
    most of the file; read, the pages stay in the page cache, shared and reclaimable, like the database's."""
    handle = open(path / f"{name}.npy", "rb", buffering=0)  # noqa: SIM115 (kept open by its reader; closed with it)
    version = np.lib.format.read_magic(handle)
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, _, dtype = read_header(handle)
    if dtype != np.uint8 or len(shape) != 1:
        raise ValueError(f"{path / name}.npy is not an array of bytes")
    return handle, handle.tell()


def read(path: Path) -> tuple[Manifest, dict[str, np.ndarray]]:
    manifest = read_manifest(path)
    if manifest is None:
        raise ValueError(f"snapshot {path} is of another format")
    arrays = {}
    for file in path.glob("*.npy"):
        # Copy-on-write: shared with every process mapping the file until one writes to a page.
        try:
            array = np.load(file, mmap_mode="c", allow_pickle=False).view(np.ndarray)
        except ValueError:  # an empty array: nothing to map
            array = np.load(file, allow_pickle=False)
        arrays[file.stem] = array
    return manifest, arrays
