"""A real uvicorn server in a background thread, on a free port, with its own database."""

import socket
import threading
import time

import httpx
import uvicorn

from daodian.app import create_app
from daodian.cli.serving import UVICORN_OPTIONS
from daodian.kit.db import create_db_engine, make_session_factory
from daodian.kit.settings import Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.engine = create_db_engine(settings)
        self.session_factory = make_session_factory(self.engine)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=self.port, log_level="warning",
                                **UVICORN_OPTIONS)  # as `daodian serve` runs it
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError("live server did not start")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self.engine.dispose()
