"""What daodian's request stack costs: its cheapest routes beside a bare FastAPI app, in one run.

    flock /tmp/bench.lock .venv/bin/python bench/request_path.py
    flock /tmp/bench.lock .venv/bin/python bench/request_path.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1/daodian_bench_request_path

Two real servers run side by side under the same uvicorn settings (one worker, the same --loop and
--http, no access log): the bare app below (one route returning a small dict) and daodian
(`uvicorn daodian.asgi:app`, its periodic jobs off: they are not the request path) on a scratch
database (SQLite: a new file under var/bench/; PostgreSQL: a database created and migrated here, dropped
afterwards) with one consumer, who logs in through `POST /api/v1/auth/login` for a real bearer token.
daodian keeps its request threads on one core (kit.one_core); the bare app runs on one core too (pinned at
its start), so both hand the GIL between their threads alike.

wrk (16 connections, 2 threads) drives the bare app, `GET /api/v1/health` (a database read) and
`GET /api/v1/me` with the token (the principal lookup, then a read) one after the other, in `--rounds`
interleaved rounds of `--seconds` each (~10 s per leg by default), so that a change in the shared
machine's load falls on every leg alike; each leg is warmed up first. The anchor is the bare app's plain
`def` route, which FastAPI runs in a worker thread like every daodian route that uses the database (a sync
Session); the same dict from an `async def` route, with no thread hop, is printed for context. The figures
are req/s and p50/p99 latency, daodian's as a share of the anchor's, with the load average: the machine's
2 cores are shared.

No figure is printed from a leg in which wrk saw a socket error or a status above 399, or after which a
server is no longer alive and answering: the run stops with a non-zero exit instead.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from daodian import migrate
from daodian.accounts import service as accounts
from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work
from daodian.kit.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
LUA = BENCH / "request_path.lua"
PHONE, PASSWORD = "13900000001", "bench-password-9"

bare_app = FastAPI()  # served by `uvicorn request_path:bare_app --app-dir bench`


@bare_app.get("/")
def bare_route() -> dict:
    """The anchor: a plain `def` route, run in a worker thread like daodian's (they use a sync Session)."""
    return {"status": "ok", "database": "none"}


@bare_app.get("/async")
async def bare_async_route() -> dict:
    """For context only: no thread hop, the most FastAPI can do on this machine."""
    return {"status": "ok", "database": "none"}


class BenchFailed(SystemExit):
    def __init__(self, message: str) -> None:
        super().__init__(f"FAILED: {message}")


def prepare(url: str):
    """Migrate a scratch database (SQLite: a new file; PostgreSQL: dropped and created) and add the consumer."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
    settings = Settings(env="dev", database_url=url)
    engine = create_db_engine(settings)
    migrate.upgrade(settings, engine)
    with unit_of_work(make_session_factory(engine)) as session:
        accounts.register(session, phone=PHONE, password=PASSWORD, display_name="压测顾客")
    engine.dispose()


def drop(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return  # kept under var/bench/ for a look; the next run makes it anew
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One uvicorn process; `alive()` says whether it still runs and answers."""

    def __init__(self, name: str, target: str, probe: str, uvicorn_options: list[str], env: dict[str, str],
                 app_dir: Path, one_core: int | None = None) -> None:
        self.name, self.probe = name, probe
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.command = [sys.executable, "-m", "uvicorn", target, "--app-dir", str(app_dir), "--host", "127.0.0.1",
                        "--port", str(port), "--workers", "1", *uvicorn_options, "--log-level", "warning",
                        "--no-access-log"]
        # one_core: the whole process kept on that core from its start (its threads inherit it)
        pin = (lambda: os.sched_setaffinity(0, {one_core})) if one_core is not None else None
        self.process = subprocess.Popen(self.command, env={**os.environ, **env}, cwd=ROOT, preexec_fn=pin)
        deadline = time.monotonic() + 300  # the app warms its indexes at start: slow on a loaded machine
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise BenchFailed(f"the {name} server did not start")
            time.sleep(0.1)

    def answers(self) -> bool:
        try:
            return httpx.get(self.url + self.probe, timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    def alive(self) -> bool:
        return self.process.poll() is None and self.answers()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wrk_binary() -> str:
    return shutil.which("wrk") or sys.exit("this benchmark needs wrk: sudo apt-get install wrk")


def wrk(url: str, seconds: float, connections: int, threads: int, headers: dict[str, str]) -> dict:
    command = [wrk_binary(), f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s",
               "-s", str(LUA)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run([*command, url], capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise BenchFailed(f"wrk failed on {url}: {done.stdout}{done.stderr}")
    return json.loads(lines[0][len("RESULT "):])


def leg(server: Server, path: str, args, headers: dict[str, str] | None = None) -> dict:
    """One measured leg after a short warm-up; refuses a leg with errors or a server gone."""
    url = server.url + path
    wrk(url, args.warmup, args.connections, args.threads, headers or {})
    load = os.getloadavg()
    result = wrk(url, args.seconds, args.connections, args.threads, headers or {})
    if result["socket_errors"] or result["non_2xx_3xx"]:
        raise BenchFailed(f"{server.name} {path}: {result['socket_errors']} socket errors, "
                          f"{result['non_2xx_3xx']} responses with a status above 399 ({result})")
    if not server.alive():
        raise BenchFailed(f"the {server.name} server died or stopped answering during {path}")
    return {**result, "rate": result["requests"] / result["seconds"], "load_before": load,
            "load_after": os.getloadavg()}


def login(server: Server) -> str:
    response = httpx.post(f"{server.url}/api/v1/auth/login", json={"phone": PHONE, "password": PASSWORD}, timeout=30)
    if response.status_code != 200:
        raise BenchFailed(f"login answered {response.status_code}: {response.text}")
    return response.json()["access_token"]


def check_once(server: Server, path: str, headers: dict[str, str], expect: dict) -> None:
    """The leg's route answers what it should before it is measured (a 200 of the wrong thing is no figure)."""
    response = httpx.get(server.url + path, headers=headers, timeout=30)
    body = response.json() if response.status_code == 200 else {}
    if response.status_code != 200 or any(body.get(k) != v for k, v in expect.items()):
        raise BenchFailed(f"{server.name} {path} answered {response.status_code}: {response.text}")


def combined(results: list[dict]) -> dict:
    """A leg's rounds together: requests over seconds; the median round's latencies; the last load average."""
    middle = sorted(results, key=lambda r: r["rate"])[len(results) // 2]
    rate = sum(r["requests"] for r in results) / sum(r["seconds"] for r in results)
    return {**middle, "rate": rate, "load_after": results[-1]["load_after"]}


def describe(name: str, result: dict, bare: dict | None) -> str:
    share = f" = {100 * result['rate'] / bare['rate']:5.1f}% of bare" if bare else ""
    load = " ".join(f"{x:.2f}" for x in result["load_after"])
    return (f"  {name:<34} {result['rate']:8,.0f} req/s{share}  (p50 {result['p50_ms']:.2f} ms, "
            f"p99 {result['p99_ms']:.2f} ms; load average after {load})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'var' / 'bench' / 'request_path.sqlite3'}")
    parser.add_argument("--seconds", type=float, default=5, help="length of each measured leg in each round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the legs, one after another")
    parser.add_argument("--warmup", type=float, default=2, help="unmeasured load before each leg")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--loop", default="uvloop", help="uvicorn --loop, the same for both servers")
    parser.add_argument("--http", default="httptools", help="uvicorn --http, the same for both servers")
    args = parser.parse_args()

    wrk_binary()
    url = args.database_url
    backend = make_url(url).get_backend_name()
    prepare(url)
    options = ["--loop", args.loop, "--http", args.http]
    # The periodic jobs (daodian.jobs) and the webhook worker (daodian.webhooks) would run in the server's threads
    # during the legs: not the request path.
    env = {"DAODIAN_DATABASE_URL": url, "DAODIAN_ENV": "dev", "DAODIAN_PERIODIC_JOBS": "false",
           "DAODIAN_WEBHOOK_WORKER": "false"}
    servers: list[Server] = []
    try:
        # daodian keeps its request threads on one core (kit.one_core): the bare app is kept on one too, or the
        # anchor would pay the cross-core GIL hand-overs daodian no longer pays (unpinned it answered ~20-30 %
        # less), and the ratio would flatter daodian.
        bare_server = Server("bare", "request_path:bare_app", "/", options, {}, BENCH,
                             one_core=min(os.sched_getaffinity(0)))
        servers.append(bare_server)
        daodian = Server("daodian", "daodian.asgi:app", "/api/v1/health", options, env, ROOT / "src")
        servers.append(daodian)
        token = login(daodian)
        me_headers = {"Authorization": f"Bearer {token}"}
        check_once(daodian, "/api/v1/health", {}, {"status": "ok", "database": backend})
        check_once(daodian, "/api/v1/me", me_headers, {"phone": PHONE})
        print(f"{backend}: wrk {args.connections} connections, {args.threads} threads, {args.rounds} rounds of "
              f"{args.seconds:g}s per leg (+{args.warmup:g}s warm-up each); uvicorn --workers 1 {' '.join(options)} --no-access-log; "
              f"load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        legs = {"bare": (bare_server, "/", {}), "bare_async": (bare_server, "/async", {}),
                "health": (daodian, "/api/v1/health", {}), "me": (daodian, "/api/v1/me", me_headers)}
        runs: dict[str, list[dict]] = {name: [] for name in legs}
        for round_ in range(args.rounds):  # interleaved: a change in the machine's load falls on every leg alike
            for name, (server, path, headers) in legs.items():
                runs[name].append(leg(server, path, args, headers))
            print(f"  round {round_ + 1}: " + ", ".join(f"{name} {r[-1]['rate']:,.0f}/s" for name, r in runs.items()))
    finally:
        for server in servers:
            server.stop()
        drop(url)
    total = {name: combined(results) for name, results in runs.items()}
    print(describe("bare FastAPI app, async route", total["bare_async"], None))
    print(describe("bare FastAPI app, def route: ANCHOR", total["bare"], None))
    print(describe("daodian GET /api/v1/health", total["health"], total["bare"]))
    print(describe("daodian GET /api/v1/me (bearer)", total["me"], total["bare"]))


if __name__ == "__main__":
    main()
