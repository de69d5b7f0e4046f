"""The sandbox's notifier: POSTs a signed notification to our own notify URL from a background
thread, retrying with backoff the way real providers do, so the asynchronous path is the one used."""

import logging
import threading
import time

import httpx

log = logging.getLogger("daodian.payments.sandbox")

ATTEMPTS = 6
RETRY_STATUSES = {408, 409, 425, 429}  # a 4xx other than these will not change on a retry


def deliver(url: str, body: bytes, headers: dict[str, str], *, attempts: int = ATTEMPTS, backoff_s: float = 0.2) -> bool:
    for attempt in range(attempts):
        try:
            response = httpx.post(url, content=body, headers=headers, timeout=10)
            if response.status_code < 300:
                return True
            if response.status_code < 500 and response.status_code not in RETRY_STATUSES:
                log.warning("sandbox notification refused by %s: %s %s", url, response.status_code, response.text[:200])
                return False
        except httpx.HTTPError as exc:
            log.info("sandbox notification to %s failed (attempt %d): %s", url, attempt + 1, exc)
        time.sleep(min(backoff_s * 2**attempt, 5.0))
    log.warning("sandbox notification to %s gave up after %d attempts", url, attempts)
    return False


def deliver_in_background(url: str, body: bytes, headers: dict[str, str]) -> threading.Thread:
    thread = threading.Thread(target=deliver, args=(url, body, headers), name="sandbox-notify", daemon=True)
    thread.start()
    return thread
