"""Nearby and search over HTTP at a million stores, beside GET /api/v1/health in the same run.

    flock /tmp/bench.lock .venv/bin/python bench/nearby_http.py            # warm start only
    flock /tmp/bench.lock .venv/bin/python bench/nearby_http.py --cold     # also a start without the snapshot

The database is var/bench/nearby-1m.sqlite3 unless told otherwise, made once as bench/nearby.py says.
A real server runs as deployed, `daodian serve --workers 2` (the app imported once, the workers forked from it:
daodian.cli.prefork); measured:

1. Start-up: from launching the server until every worker has logged "Application startup complete"
   (each has opened its nearby index and built its search index). With --cold, first a start with the
   database's nearby snapshot removed (the first worker builds and writes it, the other waits and maps
   it), then the warm start that is measured under load (the snapshot there).
2. wrk (16 connections, 2 threads; a C client, so it takes little of the 2 shared cores) in --rounds
   interleaved rounds of --seconds per leg, after a short warm-up of each: health; nearby, all categories
   (3 km, top 20: the API's defaults), each request at another of --origins places around stores;
   nearby, one service; nearby, sort=distance; search `q=轮胎`. req/s, p50 and p99 (the median of the
   rounds' p50s; the p99 of all the rounds' requests together, harness.pooled_percentile, and beside it the
   highest of the rounds' own p99s), each leg's req/s as a share of health's, and what the server stopped
   for in each leg (collections and the event loop's late wakes, from its /metrics: kit.ops.pauses).
3. Per worker: resident (RSS) and proportional (PSS: shared pages split between the processes sharing
   them) memory, and of PSS the anonymous pages (not the snapshot's or libraries' file pages), after
   start-up and after the load; the same of the arbiter the workers forked from, and the PSS of all the
   server's processes divided by the workers ("per worker all told": what the target counts).

The server runs without the periodic jobs and the webhook worker unless told --with-jobs: background
work is not the path measured (bench/README.md), and the analytics job's pandas/DuckDB memory would be
counted against the one worker that happens to run it.

Every answer must be a 200 of JSON: any other status, a 200 of anything else (bench/nearby_paths.lua counts
it as status 0: a wrk thread once fetched the home page) or a socket error fails the run (exit status 1, no
rates).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402
    BenchFailed,
    free_port,
    load_average,
    main_guard,
    pauses_between,
    pooled_percentile,
    server_command,
    server_pauses,
    wrk_binary,
)

from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work  # noqa: E402
from daodian.kit.settings import Settings  # noqa: E402
from daodian.nearby import snapshot  # noqa: E402

LUA = Path(__file__).resolve().parent / "nearby_paths.lua"
SEED = 20160502
READY = "Application startup complete"


def origins(database_url: str, count: int) -> list[tuple[float, float]]:
    """Places 300 m or so from listed stores: weighted to the busy districts, as the stores are."""
    engine = create_db_engine(Settings(env="dev", database_url=database_url))
    rng = np.random.default_rng(SEED)
    with engine.connect() as conn:
        top = conn.execute(text("SELECT max(id) FROM stores")).scalar()
        ids = rng.integers(1, top + 1, count * 2).tolist()
        found = conn.execute(text("SELECT s.lat, s.lng FROM stores s JOIN merchants m ON m.id = s.merchant_id "
                                  f"WHERE s.id IN ({','.join(map(str, ids))}) AND s.status <> 'closed' "
                                  "AND m.status = 'active'")).all()
    engine.dispose()
    picked = np.array(found[:count])
    lat = picked[:, 0] + rng.normal(0, 300 / 111_000, len(picked))
    lng = picked[:, 1] + rng.normal(0, 300 / 96_000, len(picked))
    return list(zip(lat.round(6).tolist(), lng.round(6).tolist()))


def legs(places: list[tuple[float, float]]) -> dict[str, list[str]]:
    def nearby(**extra) -> list[str]:
        return [f"/api/v1/stores/nearby?{urlencode({'lat': la, 'lng': ln, 'datum': 'wgs84', **extra})}" for la, ln in places]

    return {"health": ["/api/v1/health"], "nearby": nearby(),
            "nearby, one service": nearby(service_category="auto_service.oil_change"),
            "nearby, sort=distance": nearby(sort="distance"),
            "search q=轮胎": [f"/api/v1/search?{urlencode({'q': '轮胎'})}"]}


def _smaps(pid: int) -> tuple[float, ...]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
    return tuple(int(fields[k].split()[0]) / 1024 for k in ("Rss", "Pss", "Pss_Anon"))


class Server:
    """`daodian serve --workers N`, its log in a file, so that each worker's start shows."""

    def __init__(self, database_url: str, workers: int, log: Path, jobs: bool = False):
        self.port, self.workers, self.log = free_port(), workers, log
        env = {**os.environ, "DAODIAN_DATABASE_URL": database_url, "DAODIAN_ENV": "dev",
               "DAODIAN_PERIODIC_JOBS": str(jobs).lower(), "DAODIAN_WEBHOOK_WORKER": str(jobs).lower()}
        self.started = time.perf_counter()
        with open(log, "w") as sink:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(server_command(self.port, workers, log_level="info"),
                                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=sink)
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout_s: float = 300) -> float:
        """Seconds from launch until every worker finished starting."""
        while self.log.read_text().count(READY) < self.workers:
            if self.process.poll() is not None or time.perf_counter() - self.started > timeout_s:
                raise BenchFailed(f"the server did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.05)
        return time.perf_counter() - self.started

    def worker_pids(self) -> list[int]:
        """The server's worker processes: the children of the arbiter (daodian.cli.prefork)."""
        return [int(pid) for pid in Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()]

    def memory(self) -> list[tuple[float, ...]]:
        """(RSS, PSS, PSS of anonymous pages) in MB of each worker, then of the arbiter: the workers share the
        app the arbiter imported, so its share is part of what they cost (the last entry)."""
        return [_smaps(pid) for pid in [*self.worker_pids(), self.process.pid]]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def wrk(url: str, paths_file: Path, seconds: float, connections: int, threads: int) -> dict:
    output = subprocess.run([wrk_binary(), "-t", str(threads), "-c", str(connections), "-d", f"{int(seconds)}s",
                             "--latency", "-s", str(LUA), url, "--", str(paths_file), str(threads)],
                            capture_output=True, text=True, timeout=seconds + 120).stdout
    line = next((ln for ln in output.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise BenchFailed(f"wrk printed no result:\n{output}")
    result = json.loads(line.removeprefix("RESULT "))
    bad = {status: n for status, n in result["statuses"].items() if status != "200"}
    if bad or result["socket_errors"]:
        raise BenchFailed(f"answers other than 200 {bad} or socket errors ({result['socket_errors']}: {result.get('errors')}) at {url}, "
                          f"{paths_file.read_text().splitlines()[0][:40]}...")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'var' / 'bench' / 'nearby-1m.sqlite3'}")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=8, help="per leg and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--origins", type=int, default=2000)
    parser.add_argument("--cold", action="store_true", help="also time a start without the nearby snapshot")
    parser.add_argument("--with-jobs", action="store_true",
                        help="run the periodic jobs and the webhook worker too (off by default: not the path measured)")
    args = parser.parse_args()

    rows: list[tuple[str, str]] = [("load at start", load_average())]
    work = Path(tempfile.mkdtemp(prefix="nearby_http_"))
    files = {}
    for name, paths in legs(origins(args.database_url, args.origins)).items():
        files[name] = work / f"{len(files)}.txt"
        files[name].write_text("\n".join(paths) + "\n")
    if args.cold:
        engine = create_db_engine(Settings(env="dev", database_url=args.database_url))
        with unit_of_work(make_session_factory(engine), read_only=True) as session:
            key = snapshot.database_key(session)
        engine.dispose()
        shutil.rmtree(snapshot.DEFAULT_DIR / key, ignore_errors=True)
        server = Server(args.database_url, args.workers, work / "cold.log", args.with_jobs)
        try:
            rows.append(("start-up, no snapshot (build, write, map)", f"{server.wait_ready():8.1f} s  ({load_average()})"))
            rows.append(("  memory per worker (RSS / PSS (anon) MB)", _memory(server.memory())))
        finally:
            server.stop()
    server = Server(args.database_url, args.workers, work / "warm.log", args.with_jobs)
    try:
        rows.append(("start-up, snapshot there (map, catch up)", f"{server.wait_ready():8.1f} s  ({load_average()})"))
        rows.append(("  memory per worker after start (RSS / PSS (anon) MB)", _memory(server.memory())))
        for file in files.values():  # warm-up: every worker's first requests of a kind cost more
            wrk(server.url, file, 2, args.connections, args.threads)
        rows.append(("  memory per worker after the warm-up (RSS / PSS (anon) MB)", _memory(server.memory())))
        results: dict[str, list[dict]] = {name: [] for name in files}
        pauses: dict[str, list[tuple[dict, dict]]] = {name: [] for name in files}  # (before, after) per round
        for round_ in range(args.rounds):
            for name, file in files.items():
                before = server_pauses(server.url)
                results[name].append(wrk(server.url, file, args.seconds, args.connections, args.threads))
                pauses[name].append((before, server_pauses(server.url)))
            rows.append((f"  memory per worker after round {round_ + 1} (RSS / PSS (anon) MB)", _memory(server.memory())))
    finally:
        server.stop()
    rows.append((f"wrk: {args.connections} connections, {args.threads} threads, {args.workers} workers, "
                 f"{args.rounds} x {args.seconds:.0f} s per leg",
                 "req/s     p50 ms   p99 ms (worst round)   share of health"))
    rate = {name: sum(r["requests"] for r in rs) / sum(r["seconds"] for r in rs) for name, rs in results.items()}
    for name, rs in results.items():
        p50, p99, worst = (statistics.median(r["p50_ms"] for r in rs), pooled_percentile(rs, 99),
                           max(r["p99_ms"] for r in rs))
        rows.append((f"  {name}", f"{rate[name]:8.0f} {p50:8.2f} {p99:8.2f} ({worst:6.2f})       "
                                  f"{rate[name] / rate['health']:6.1%}"))
    rows.append(("server pauses per leg (kit.ops.pauses), each round", ""))
    for name, seen in pauses.items():
        for before, after in seen:
            rows.append((f"  {name}", pauses_between(before, after)))
    rows.append(("load at end", load_average()))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    shutil.rmtree(work, ignore_errors=True)


def _memory(found: list[tuple[float, ...]]) -> str:
    """Each worker's, the arbiter's, and per worker all told (the workers' PSS and the arbiter's, shared out)."""
    *workers, arbiter = found
    each = "".join(f"{rss:.0f} / {pss:.0f} ({anon:.0f}), " for rss, pss, anon in workers)
    told = (sum(pss for _, pss, _ in found)) / len(workers)
    return f"{each}arbiter {arbiter[0]:.0f} / {arbiter[1]:.0f} ({arbiter[2]:.0f}); per worker all told PSS {told:.0f}"


if __name__ == "__main__":
    main_guard(main)
