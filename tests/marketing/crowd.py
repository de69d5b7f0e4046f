"""A crowd of real clients in a process of its own, so it takes no interpreter time from the server
under test (the live server runs in the test process): `python -m tests.marketing.crowd URL PATH N`
reads a JSON list of header dicts on stdin, POSTs PATH once per item with at most N in flight, and
prints a JSON list of [status, error code or null], in order."""

import asyncio
import json
import sys

import httpx


async def _run(url: str, path: str, headers: list[dict[str, str]], connections: int) -> list[list]:
    # At most `connections` in flight: httpcore's pool scans its whole queue on every event, so 10,000
    # queued requests would make the client, not the server, the bottleneck.
    # No keep-alive: a busy server closes idle kept-alive sockets (uvicorn's keep-alive timeout) just as
    # the client reuses them, and that race is the client's problem, not the claim path's.
    gate = asyncio.Semaphore(connections)
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=httpx.Timeout(300, pool=600)) as client:
        async def one(h: dict[str, str]) -> list:
            async with gate:
                try:
                    response = await client.post(path, headers=h)
                except httpx.TransportError as exc:  # reported, not raised: the test shows what happened
                    return [0, type(exc).__name__]
            if response.status_code < 400:
                return [response.status_code, None]
            try:
                return [response.status_code, response.json()["error"]["code"]]
            except (ValueError, KeyError, TypeError):
                return [response.status_code, response.text[:200]]
        return await asyncio.gather(*(one(h) for h in headers))


if __name__ == "__main__":
    target, route, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print(json.dumps(asyncio.run(_run(target, route, json.load(sys.stdin), limit))))
