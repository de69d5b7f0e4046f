"""What the HTTP benches share: a fresh database, a real server in a subprocess, wrk, worker threads whose
errors are never swallowed, and the loud failure that stops a run instead of printing a rate.

A bench prints a rate only from a run in which every worker finished, the server stayed alive and every
answer was one it expected; anything else raises `BenchFailed`, which `main_guard` turns into a message
on stderr and exit status 1.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from daodian import migrate
from daodian.kit.db import create_db_engine
from daodian.kit.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


class BenchFailed(Exception):
    """The run is void: a worker failed, the server died, or an answer was not one the bench expects."""


def main_guard(main: Callable[[], None]) -> None:
    try:
        main()
    except BenchFailed as exc:
        print(f"BENCH FAILED: {exc}", file=sys.stderr)
        sys.exit(1)


def load_average() -> str:
    return f"load average {os.getloadavg()[0]:.2f}"


def pooled_percentile(runs: list[dict], q: float) -> float:
    """The latency (ms) at percentile q (0-100) of several wrk runs' requests taken together.

    Each run gives its tail (wrk_result.lua: the latency at percentiles 90 to 99.95 and the max), that is its
    distribution function at those points; the runs' requests together have the mixture of them, weighted by
    each run's count. The answer is the least latency seen in any tail at which the mixture reaches q, with each
    run counted at the highest percentile it had reached there (so it never comes out below the true value by
    more than one 0.05 step). One run's p99 swings with what one shared second did; several runs' together
    swing much less.
    """
    if q < 90:
        raise ValueError("the tails start at the 90th percentile")
    total = sum(run["requests"] for run in runs)

    def share_below(latency_ms: float) -> float:
        reached = 0.0
        for run in runs:
            at = max((p for p, ms in run["tail"] if ms <= latency_ms), default=0.0)
            reached += run["requests"] * at / 100
        return reached / total * 100

    candidates = sorted({ms for run in runs for _, ms in run["tail"]})
    return next(ms for ms in candidates if share_below(ms) >= q - 1e-9)


def fresh_database(url: str) -> None:
    """Delete the SQLite file, or drop and create the PostgreSQL database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def migrated_database(url: str) -> Settings:
    """A fresh database at `url`, migrated to the head: the settings a bench seeds it and serves it with."""
    fresh_database(url)
    settings = Settings(env="dev", database_url=url)
    engine = create_db_engine(settings)
    migrate.upgrade(settings, engine)
    engine.dispose()
    return settings


def deployed_workers(settings: Settings, asked: int | None) -> int:
    """Server processes as deployed unless asked otherwise: SQLite 1 (one writer), PostgreSQL 2."""
    return asked or (1 if settings.is_sqlite else 2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command(port: int, workers: int, log_level: str = "warning") -> list[str]:
    """`daodian serve` as deployed (several workers fork from one import: cli.prefork), without access lines."""
    return [str(Path(sys.executable).with_name("daodian")), "serve", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--log-level", log_level, "--no-access-log"]


@contextmanager
def running_server(database_url: str, workers: int, env: dict[str, str] | None = None) -> Iterator[str]:
    """A real server on `database_url` (uvicorn, `workers` processes) for the block; its base URL. A server
    that does not start, or that is no longer alive and answering when the block ends, fails the run."""
    port = free_port()
    environment = {**os.environ, "DAODIAN_DATABASE_URL": database_url, "DAODIAN_ENV": "dev", **(env or {})}
    server = subprocess.Popen(server_command(port, workers), env=environment, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # each worker imports the app and warms its indexes; slow on a loaded box
        while not _answers(url):
            if server.poll() is not None or time.monotonic() > deadline:
                raise BenchFailed(f"the server did not start (exit status {server.poll()})")
            time.sleep(0.1)
        yield url
        if server.poll() is not None or not _answers(url):
            raise BenchFailed(f"the server died during the run (exit status {server.poll()})")
    finally:
        if server.poll() is None:
            server.terminate()  # not kill: the supervisor must stop its workers
            server.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/v1/health", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def server_pauses(url: str) -> dict[str, float]:
    """The server's stops so far, from its /metrics (kit.ops.pauses; every worker's summed): per collector
    generation the count, total seconds and count over 25 ms; the event loop's wakes late by over 10 / 25 / 100 ms.
    Take one before and one after a leg and `pauses_between` says what happened in it."""
    seen: dict[str, float] = {}
    for family in text_string_to_metric_families(httpx.get(f"{url}/metrics", timeout=10).text):
        for sample in family.samples:
            if family.name == "daodian_gc_pause_seconds":
                generation = sample.labels["generation"]
                if sample.name.endswith("_count"):
                    seen[f"gc{generation}"] = sample.value
                elif sample.name.endswith("_sum"):
                    seen[f"gc{generation} s"] = sample.value
                elif sample.name.endswith("_bucket") and sample.labels["le"] == "0.025":
                    seen[f"gc{generation} <=25ms"] = sample.value
            elif family.name == "daodian_event_loop_lag_seconds":
                if sample.name.endswith("_count"):
                    seen["lag"] = sample.value
                elif sample.name.endswith("_bucket") and sample.labels["le"] in ("0.01", "0.025", "0.1"):
                    seen[f"lag <={float(sample.labels['le']) * 1000:.0f}ms"] = sample.value
    return seen


def pauses_between(before: dict[str, float], after: dict[str, float]) -> str:
    """What the server stopped for between two `server_pauses` readings, in one line."""
    def delta(key: str) -> float:
        return after.get(key, 0.0) - before.get(key, 0.0)

    collections = ", ".join(
        f"gen{g} {delta(f'gc{g}'):.0f} ({delta(f'gc{g} s') * 1000:.0f} ms, "
        f"{delta(f'gc{g}') - delta(f'gc{g} <=25ms'):.0f} over 25 ms)" for g in range(3))
    late = ", ".join(f">{ms} ms {delta('lag') - delta(f'lag <={ms}ms'):.0f}" for ms in (10, 25, 100))
    return f"collections {collections}; loop wakes late {late}"


def wrk_binary() -> str:
    """wrk (Debian's package): a C load generator, so the client costs the 2 shared cores little."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        if shutil.which("wrk"):
            return shutil.which("wrk")
    raise BenchFailed("this benchmark needs wrk: sudo apt-get install wrk")


def wrk_until(command: list[str], finished: Callable[[], bool], timeout_s: float) -> str:
    """Run wrk (with a long -d) until `finished()` says its script has done all its requests, then stop it
    (SIGINT: it prints its summary and exits); its output. Socket errors, or no end in time, fail the run."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + timeout_s
    while not finished():
        if process.poll() is not None:
            break
        if time.monotonic() > deadline:
            process.kill()
            raise BenchFailed(f"wrk's requests did not finish within {timeout_s:.0f} s")
        time.sleep(0.05)
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    if "Socket errors" in output:
        raise BenchFailed("wrk saw socket errors: " + next(line for line in output.splitlines() if "Socket errors" in line))
    if not finished():
        raise BenchFailed(f"wrk ended before its requests did:\n{output}")
    return output


def in_threads(count: int, work: Callable[[int], None]) -> float:
    """`work(i)` for i in range(count), each in a thread of its own, started together; seconds taken. A thread
    that raises fails the run with its traceback (a worker that died must not leave a rate behind)."""
    errors: list[str] = []
    barrier = threading.Barrier(count + 1)

    def run(i: int) -> None:
        try:
            barrier.wait()
            work(i)
        except BaseException:
            errors.append(traceback.format_exc())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise BenchFailed(f"{len(errors)} of {count} worker threads failed; the first:\n{errors[0]}")
    return elapsed
