"""Couriers' position reports under load: 2,000 couriers each reporting every 5 s (400 writes/s), and what that
does to everyone else's requests, in one run.

    flock /tmp/bench.lock .venv/bin/python bench/courier_positions.py
    flock /tmp/bench.lock .venv/bin/python bench/courier_positions.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1/daodian_bench_positions

A real server (`daodian serve --workers`, periodic jobs off) on a scratch database with `--couriers` couriers on
duty, each with a bearer token, and one consumer. The couriers report as the courier page does: each over a
WebSocket of its own to `/api/v1/couriers/me/positions/live`, held open for the whole run (bench/
position_sockets.py, a process of its own), the couriers taken in turn and paced to `--rate` reports/s, so each
reports every couriers/rate seconds. `--channel post` sends them as `POST /api/v1/couriers/me/positions`
instead, each a request (wrk, bench/courier_positions.lua, its two threads sharing the couriers out). Before the measured rounds the load runs unmeasured
twice through the couriers: a fleet on duty is known to the server (each worker reads a token once, on its
first report there). The anchor is the same server without that load: probes on `GET /api/v1/me` as the
consumer, in interleaved rounds with and without the position load, so a change in the shared machine's load
falls on both alike. Two probes, one after the other in each round:
- steady: 8 wrk connections, each waiting --probe-pause-ms before each request (bench/request_path.lua), about
  200 requests/s: other users' requests as they come, whose p99 is what a request meets;
- flooding: 16 wrk connections sending back to back, keeping the server busy: its p99 is mostly the length
  of the queue it keeps full, so it shows how the machine's capacity is shared out. (With 4 the kernel's
  SO_REUSEPORT hash could put all of them on one worker: calm rates of one run were 4,332, 1,728, 3,973 req/s.)
Printed per round and overall: the reports/s held, their p50/p99, how many the server kept (each courier's
report every ~5 s is kept; a faster one would be answered but not stored; wrk does not count the requests in
flight at its end), and each probe's rate, p50 and p99 with and without the load. The verdict compares the
p99 of all the calm rounds' requests together with that of all the loaded rounds' (harness.pooled_percentile):
one 10 s leg's p99 rests on its ~25 slowest requests, so it swings with whatever the shared machine did in
that leg (round-to-round swings of 2-5x in a calm leg were seen), while the rounds taken together swing less.
The worst round's p99 on each side is printed beside it.
Target (issue 19): 400 reports/s held on SQLite and PostgreSQL while other requests' p99 rises by <= 20 %.

A leg in which wrk saw a socket error or a status above 399, fewer reports than asked, or a server that died,
stops the run with a non-zero exit and no figures.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (  # noqa: E402
    BenchFailed,
    fresh_database,
    load_average,
    main_guard,
    pauses_between,
    pooled_percentile,
    running_server,
    server_pauses,
    wrk_binary,
)

from daodian import migrate  # noqa: E402
from daodian.accounts import service as accounts  # noqa: E402
from daodian.accounts.models import User  # noqa: E402
from daodian.delivery.models import Courier, CourierPosition  # noqa: E402
from daodian.kit.clock import utcnow  # noqa: E402
from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work  # noqa: E402
from daodian.kit.settings import Settings  # noqa: E402

BENCH = Path(__file__).resolve().parent
LUA = BENCH / "courier_positions.lua"
PROBES = ("steady", "flooding")
RESULT = re.compile(r"^RESULT (\{.*\})$", re.M)


def prepare(url: str, couriers: int) -> tuple[list[str], str]:
    """The couriers' tokens and the consumer's."""
    fresh_database(url)
    settings = Settings(env="dev", database_url=url)
    engine = create_db_engine(settings)
    migrate.upgrade(settings, engine)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        now = utcnow()
        session.execute(User.__table__.insert(), [
            {"phone": f"1770{i:07d}", "display_name": f"骑手{i}", "password_hash": "!", "is_operator": False,
             "is_active": True, "failed_logins": 0, "created_at": now} for i in range(couriers + 1)])
        ids = session.scalars(select(User.id).order_by(User.id)).all()
        session.execute(Courier.__table__.insert(), [
            {"user_id": user_id, "speed_m_per_min": 250, "capacity": 4, "online": True, "created_at": now,
             "position_at": now - timedelta(minutes=1)} for user_id in ids[1:]])
        users = {u.id: u for u in session.scalars(select(User))}
        tokens = [accounts.open_session(session, users[user_id], kind="bearer", days=1)[0] for user_id in ids[1:]]
        consumer = accounts.open_session(session, users[ids[0]], kind="bearer", days=1)[0]
    engine.dispose()
    return tokens, consumer


def wrk(url: str, path: str, *, connections: int, seconds: float, script: Path | None = None,
        args: list[str] | None = None, headers: list[str] | None = None, env: dict | None = None) -> dict:
    command = [wrk_binary(), "-t", "2" if connections > 1 else "1", "-c", str(connections), "-d", f"{seconds:.0f}s",
               "--latency", "-s", str(script or BENCH / "request_path.lua")]
    for header in headers or []:
        command += ["-H", header]
    command += [f"{url}{path}"]
    if args:
        command += ["--", *args]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **(env or {})},
                          timeout=seconds + 60)
    found = RESULT.search(done.stdout)
    if done.returncode != 0 or not found:
        raise BenchFailed(f"wrk failed on {path}:\n{done.stdout}\n{done.stderr}")
    result = json.loads(found.group(1))
    if result["socket_errors"] or result["non_2xx_3xx"]:
        raise BenchFailed(f"{path}: {result['socket_errors']} socket errors ({result['errors']}), "
                          f"{result['non_2xx_3xx']} error statuses")
    result["rate"] = result["requests"] / result["seconds"]
    return result


class Phones:
    """bench/position_sockets.py: the couriers' sockets, opened once, driven a leg at a time."""

    def __init__(self, url: str, token_file: Path, rate: float) -> None:
        self.process = subprocess.Popen([sys.executable, str(BENCH / "position_sockets.py"), url, str(token_file),
                                         "--rate", str(rate)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)
        if self.process.stdout.readline().strip() != "READY":
            raise BenchFailed(f"the couriers' sockets did not open (exit {self.process.wait()})")

    def run(self, seconds: float) -> dict:
        self.process.stdin.write(f"run {seconds}\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        found = RESULT.search(line.strip())
        if not found:
            raise BenchFailed(f"the couriers' sockets stopped: {line!r}")
        result = json.loads(found.group(1))
        if result["errors"]:
            raise BenchFailed(f"position sockets: {result['errors']} errors, e.g. {result['first_errors']}")
        return result

    def close(self) -> None:
        self.process.communicate("quit\n", timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=f"sqlite:///{BENCH.parent / 'var' / 'bench' / 'positions.sqlite3'}")
    parser.add_argument("--couriers", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=400.0, help="position reports per second to hold")
    parser.add_argument("--seconds", type=float, default=10.0, help="per leg")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--channel", choices=("socket", "post"), default="socket",
                        help="how couriers report: a WebSocket each (as the courier page), or a POST per report")
    parser.add_argument("--connections", type=int, default=48, help="wrk connections sending positions (post)")
    parser.add_argument("--probe-pause-ms", type=int, default=30, help="the steady probe's wait before each request")
    parser.add_argument("--flooding-connections", type=int, default=16)
    options = parser.parse_args()

    tokens, consumer = prepare(options.database_url, options.couriers)
    token_file = Path(tempfile.mkstemp(prefix="couriers-", suffix=".txt")[1])
    token_file.write_text("\n".join(tokens) + "\n")
    # Each connection waits `pause` before each request, so `connections` / (pause + latency) is the rate:
    # paced a little faster than asked, and the rate actually held is what is checked and printed.
    pause_ms = max(1, int(options.connections / (options.rate * 1.1) * 1000))
    probe_headers = [f"Authorization: Bearer {consumer}"]
    calm: dict[str, list[dict]] = {name: [] for name in PROBES}
    loaded: dict[str, list[dict]] = {name: [] for name in PROBES}
    positions: list[dict] = []
    positions_warm: dict = {}
    env = {"DAODIAN_PERIODIC_JOBS": "false"}
    print(f"{options.couriers} couriers reporting by {options.channel}, {options.workers} workers, database "
          f"{options.database_url.split('://')[0]}, {load_average()}")
    try:
        with running_server(options.database_url, options.workers, env) as url:
            def probe(name: str) -> dict:
                """A probe's leg, with what the server stopped for during it (kit.ops.pauses)."""
                before = server_pauses(url)
                if name == "steady":
                    result = wrk(url, "/api/v1/me", connections=8, seconds=options.seconds, headers=probe_headers,
                                 env={"PAUSE_MS": str(options.probe_pause_ms)})
                else:
                    result = wrk(url, "/api/v1/me", connections=options.flooding_connections,
                                 seconds=options.seconds, headers=probe_headers)
                result["pauses"] = pauses_between(before, server_pauses(url))
                return result

            def report(seconds: float) -> dict:
                if phones is not None:
                    return phones.run(seconds)
                return wrk(url, "/api/v1/couriers/me/positions", connections=options.connections, seconds=seconds,
                           script=LUA, args=[str(token_file), "2"], env={"PAUSE_MS": str(pause_ms)})

            # Paced a little faster than asked, as the posts are: the rate held is what is checked and printed.
            phones = Phones(url, token_file, options.rate * 1.02) if options.channel == "socket" else None

            for name in PROBES:
                probe(name)  # warm up
            # A fleet on duty: each worker has met the couriers' tokens (the first sight of a token costs a read
            # per process, once) and their last kept reports. Two rounds through the couriers, unmeasured.
            positions_warm = report(2 * options.couriers / options.rate)
            for round_no in range(options.rounds):
                for name in PROBES:
                    calm[name].append(probe(name))
                    holder: dict = {}
                    load = threading.Thread(target=lambda into=holder: into.update(report(options.seconds + 2)))
                    load.start()
                    loaded[name].append(probe(name))
                    load.join()
                    if "rate" not in holder:
                        raise BenchFailed("the position load did not finish")
                    positions.append(holder)
                    print(f"  round {round_no + 1}, {name} probe: reports {holder['rate']:,.0f}/s p99 "
                          f"{holder['p99_ms']:.1f} ms; /me {calm[name][-1]['rate']:,.0f}/s p99 "
                          f"{calm[name][-1]['p99_ms']:.1f} ms calm, {loaded[name][-1]['rate']:,.0f}/s p99 "
                          f"{loaded[name][-1]['p99_ms']:.1f} ms loaded; {load_average()}\n"
                          f"    server calm: {calm[name][-1]['pauses']}\n"
                          f"    server loaded: {loaded[name][-1]['pauses']}", flush=True)
            if phones is not None:
                phones.close()
    finally:
        token_file.unlink(missing_ok=True)
    engine = create_db_engine(Settings(env="dev", database_url=options.database_url))
    with unit_of_work(make_session_factory(engine), read_only=True) as session:
        kept = session.scalar(select(func.count()).select_from(CourierPosition))
    engine.dispose()

    held = min(p["rate"] for p in positions)
    sent = sum(p["requests"] for p in positions) + positions_warm["requests"]  # the warm-up's are kept too
    print(f"position reports: {held:,.0f}/s held (lowest round; asked {options.rate:,.0f}/s), p50 "
          f"{max(p['p50_ms'] for p in positions):.1f} ms, p99 {max(p['p99_ms'] for p in positions):.1f} ms; "
          f"{kept:,} of {sent:,} kept")
    rises = {}
    for name in PROBES:
        calm_p99, loaded_p99 = pooled_percentile(calm[name], 99), pooled_percentile(loaded[name], 99)
        rises[name] = loaded_p99 / calm_p99 - 1
        worst_calm, worst_loaded = max(c["p99_ms"] for c in calm[name]), max(c["p99_ms"] for c in loaded[name])
        print(f"GET /api/v1/me, {name} probe, without the load: {min(c['rate'] for c in calm[name]):,.0f} req/s, "
              f"p50 {max(c['p50_ms'] for c in calm[name]):.1f} ms, p99 {calm_p99:.1f} ms (worst round {worst_calm:.1f})")
        print(f"GET /api/v1/me, {name} probe, with the load:    {min(c['rate'] for c in loaded[name]):,.0f} req/s, "
              f"p50 {max(c['p50_ms'] for c in loaded[name]):.1f} ms, p99 {loaded_p99:.1f} ms (worst round "
              f"{worst_loaded:.1f}; {rises[name] * 100:+.0f} % p99, worst rounds {worst_loaded / worst_calm * 100 - 100:+.0f} %)")
    print(f"held >= {options.rate:.0f}/s: {'yes' if held >= options.rate else 'NO'}; p99 rise <= 20 %: "
          + ", ".join(f"{name} {'yes' if rise <= 0.2 else 'NO'}" for name, rise in rises.items())
          + f"; {load_average()}")


if __name__ == "__main__":
    main_guard(main)
