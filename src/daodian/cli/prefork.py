"""Several server processes that share what start-up made: the app is imported once, then the workers fork.

uvicorn's own `--workers` starts each worker afresh (multiprocessing's spawn): every worker imported the app
again (~3.5 s of CPU: pandas, numba, scipy, 688 routes) and kept a private copy of everything that import
made (~250 MB of a worker's own pages). Here gunicorn's arbiter imports `daodian.asgi` once (preload), moves
what it made out of the collector's sight (gc.freeze: a collection in a worker would otherwise touch those
objects and copy their pages), and forks the workers, which run uvicorn's server loop (uvicorn-worker) and
each its own lifespan: database pools, indexes, periodic jobs and the webhook worker start after the fork,
never before (a SQLite connection or a thread must not cross a fork).

Each worker accepts on a listening socket of its own (SO_REUSEPORT), so connections are shared out by the
kernel rather than taken by whichever worker wakes first. The arbiter restarts a worker that dies, stops the
workers on SIGTERM (each finishes its requests in flight for up to `graceful_seconds`) and, with
prometheus-client's multiprocess mode, marks a dead worker's metrics files.
"""

import gc
import itertools
import os
from typing import Any

from gunicorn.app.base import BaseApplication
from uvicorn_worker import UvicornWorker

from daodian.cli.serving import UVICORN_OPTIONS
from daodian.kit import one_core
from daodian.kit.ops import logs


class DaodianWorker(UvicornWorker):
    """uvicorn's server loop in a forked worker, with the settings `daodian serve` gives a single process."""

    CONFIG_KWARGS = {**UvicornWorker.CONFIG_KWARGS, **UVICORN_OPTIONS}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # gunicorn's graceful timeout is how long the arbiter waits; uvicorn's, how long the worker lets its
        # requests run after SIGTERM: the same, so that neither cuts the other short.
        self.config.timeout_graceful_shutdown = self.cfg.graceful_timeout
        # uvicorn writes an access line whenever its access logger has a handler (not by config.access_log);
        # uvicorn-worker gave it gunicorn's, so the handler is what serve_forked's `access_log` decides.


def _mark_dead(arbiter: Any, worker: Any) -> None:
    """prometheus-client's multiprocess mode: a dead worker's live gauges stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def _place_worker(arbiter: Any, worker: Any) -> None:
    """In the arbiter, before the fork: the lowest place no live worker holds (a restarted worker takes the place,
    and so the core, of the one it replaces: kit.one_core)."""
    taken = {getattr(other, "place", None) for other in arbiter.WORKERS.values()}
    worker.place = next(place for place in itertools.count() if place not in taken)


def _take_place(arbiter: Any, worker: Any) -> None:
    """In the worker, after the fork."""
    one_core.take_place(worker.place)


class PreforkServer(BaseApplication):
    def __init__(self, app_path: str, options: dict[str, Any]) -> None:
        self.app_path = app_path
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        module_name, _, attribute = self.app_path.partition(":")
        module = __import__(module_name, fromlist=[attribute])
        app = getattr(module, attribute)
        gc.collect()
        gc.freeze()  # the import's objects stay on the pages the workers share
        return app


def serve_forked(host: str, port: int, processes: int, graceful_seconds: int, log_level: str = "info",
                 access_log: bool = True, app_path: str = "daodian.asgi:app") -> None:
    """Serve `app_path` on host:port with `processes` forked workers until SIGTERM or SIGINT."""
    config = logs.logging_config(log_level.upper())
    # gunicorn's own loggers write as the app's do (JSON on stderr); uvicorn-worker routes uvicorn's to them.
    # Without access lines, the access logger has no handler: uvicorn then skips making them (a record and
    # its JSON per request, some 8% of a worker's time under load), as a single process does.
    for name, wanted in (("gunicorn.error", True), ("gunicorn.access", access_log)):
        config["loggers"][name] = {"handlers": ["stderr"] if wanted else [], "level": log_level.upper(),
                                   "propagate": False}
    config["root"] = {"level": "WARNING", "handlers": ["stderr"]}  # gunicorn's defaults name a handler of theirs
    PreforkServer(app_path, {
        "bind": f"{host}:{port}",
        "workers": processes,
        "worker_class": f"{DaodianWorker.__module__}.{DaodianWorker.__qualname__}",
        "preload_app": True,
        # Each worker listens on a socket of its own on the same port (SO_REUSEPORT), and the kernel shares new
        # connections out between them. On one shared socket, the worker that woke first accepted every
        # connection waiting (16 of a bench's 16 kept-alive connections, or 15), and the others idled.
        "reuse_port": True,
        "graceful_timeout": graceful_seconds,
        "timeout": 120,  # a worker that has not checked in for this long is restarted (start-up indexes included)
        "keepalive": 5,  # uvicorn's default keep-alive, as a single process has it
        "logconfig_dict": config,
        "accesslog": "-" if access_log else None,
        "child_exit": _mark_dead,
        "pre_fork": _place_worker,
        "post_fork": _take_place,
        "proc_name": "daodian",
    }).run()
