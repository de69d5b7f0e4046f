"""The runner inside a server process: a daemon thread with its own event loop, so sending never touches the
request path. It ticks whenever it finds work and sleeps `webhook_poll_seconds` when idle; a failing tick
(the database away for a moment) is logged and retried after a pause, never ending the thread."""

import asyncio
import logging
import threading
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from daodian.kit.settings import Settings
from daodian.webhooks.runner import Runner

log = logging.getLogger("daodian.webhooks")


class WebhookWorker:
    def __init__(self, factory: sessionmaker[Session], settings: Settings) -> None:
        self.factory, self.settings = factory, settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-worker", daemon=True)

    def start(self) -> "WebhookWorker":
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        asyncio.run(self._loop())

    async def _loop(self) -> None:
        runner = Runner(self.factory, timeout=self.settings.webhook_timeout_seconds,
                        lease=timedelta(seconds=self.settings.webhook_lease_seconds))
        async with runner:
            while not self._stop.is_set():
                try:
                    stats = await runner.tick()
                    idle = stats.facts == 0 and stats.sent == 0
                except Exception:  # logged with its trace; the next tick tries again
                    log.exception("webhook delivery tick failed")
                    idle = True
                if idle:
                    await asyncio.to_thread(self._stop.wait, self.settings.webhook_poll_seconds)
