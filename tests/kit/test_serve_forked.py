"""`daodian serve --workers N`: the app imported once and the workers forked from it (daodian.cli.prefork)."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from daodian.kit.settings import PROJECT_ROOT
from tests.support.databases import prepare_database
from tests.support.live_server import _free_port


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _shared_dirty_kb(pid: int) -> int:
    """Written pages this process shares with another: after a fork, the ones neither has written since."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Shared_Dirty:"):
            return int(line.split()[1])
    raise AssertionError("no Shared_Dirty line")


def _sockets(pid: int) -> int:
    return sum(1 for fd in Path(f"/proc/{pid}/fd").iterdir() if os.readlink(fd).startswith("socket:"))


def _wait_for(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while True:
        try:
            found = check()
            if found:
                return found
        except (httpx.TransportError, FileNotFoundError):
            pass
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


@pytest.mark.slow
def test_workers_share_the_import_and_the_connections_and_a_killed_worker_is_replaced(backend, tmp_path):
    settings = prepare_database(backend, "daodian_test_forked", tmp_path)
    port = _free_port()
    env = {**os.environ, "DAODIAN_DATABASE_URL": settings.database_url, "DAODIAN_ENV": "test",
           "DAODIAN_SECRET_KEY": "test-secret-not-for-production", "DAODIAN_FACTS_DIR": str(tmp_path / "facts"),
           "DAODIAN_PERIODIC_JOBS": "false", "DAODIAN_WEBHOOK_WORKER": "false", "DAODIAN_ONE_CORE_REQUESTS": "true"}
    cores = sorted(os.sched_getaffinity(0))
    daodian = os.path.join(os.path.dirname(sys.executable), "daodian")
    log = tmp_path / "server.log"
    with open(log, "w") as sink:  # the child keeps its own copy of the descriptor
        server = subprocess.Popen([daodian, "serve", "--port", str(port), "--workers", "2", "--no-access-log"],
                                  env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=sink)
    health = f"http://127.0.0.1:{port}/api/v1/health"
    try:
        _wait_for(lambda: len(_children(server.pid)) == 2 and httpx.get(health, timeout=2).status_code == 200,
                  120, "the server did not start two workers")
        workers = _children(server.pid)
        for worker in workers:
            # The app's modules were imported before the fork: tens of MB of written pages shared with the
            # arbiter. Workers started afresh (spawned) share next to none (0-32 kB).
            assert _shared_dirty_kb(worker) > 30_000, worker
        # Each worker's request threads keep to a core of their own (kit.one_core): its event loop is its main thread.
        pinned = {worker: os.sched_getaffinity(worker) for worker in workers}
        if len(cores) >= 2:  # once both have started (the health check may have been answered by one alone)
            pinned = _wait_for(lambda: (lambda now: now if all(len(c) == 1 for c in now.values()) else None)(
                {worker: os.sched_getaffinity(worker) for worker in workers}), 60, "a worker kept every core")
            assert sorted(pinned.values(), key=min) == [{cores[0]}, {cores[1]}], pinned
        # Connections are shared out between the workers (each listens on a socket of its own), not all taken
        # by whichever woke first: of 32 connections opened at once, each worker holds some.
        before = {worker: _sockets(worker) for worker in workers}
        connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
        try:
            held = _wait_for(lambda: (lambda now: now if sum(now.values()) >= 32 else None)(
                {worker: _sockets(worker) - before[worker] for worker in workers}), 10, "not all were accepted")
            assert min(held.values()) >= 4, held  # by chance 1 in ~10^6
        finally:
            for connection in connections:
                connection.close()
        os.kill(workers[0], signal.SIGKILL)
        replaced = _wait_for(lambda: (lambda now: now if len(now) == 2 and workers[0] not in now else None)(
            _children(server.pid)), 60, "the killed worker was not replaced")
        assert workers[1] in replaced
        if len(cores) >= 2:  # the new worker took the place, and the core, of the one it replaced
            (new,) = set(replaced) - {workers[1]}
            _wait_for(lambda: os.sched_getaffinity(new) == pinned[workers[0]], 60, "the new worker took another core")
        for _ in range(20):  # both workers answer (connections are new each time)
            assert httpx.get(health, timeout=5).json()["status"] == "ok"
        # /metrics adds up every worker's counts (prometheus-client's multiprocess mode, chosen by daodian.launch
        # before the CLI's imports: chosen later, each worker counted in memory and this page was empty)
        exposition = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        counted = re.search(r'daodian_request_seconds_count\{method="GET",route="/api/v1/health"\} (\S+)', exposition)
        assert counted and float(counted.group(1)) >= 20, exposition[:500]
        assert "daodian_event_loop_lag_seconds_count" in exposition
        # --no-access-log holds in the forked workers too (uvicorn writes a line whenever its logger has a handler)
        assert "uvicorn.access" not in log.read_text() and "Application startup complete" in log.read_text()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            assert server.wait(timeout=40) in (0, -signal.SIGTERM)
        finally:
            if server.poll() is None:
                server.kill()
