"""The couriers' phones for bench/courier_positions.py: one WebSocket per courier to
`/api/v1/couriers/me/positions/live`, held open for the whole run, each courier reporting in turn.

    .venv/bin/python bench/position_sockets.py http://127.0.0.1:PORT TOKEN_FILE --rate 400

A process of its own (the bench's other clients are wrk): it opens a socket per token (a line of TOKEN_FILE),
says `READY` on stdout, then for each line `run SECONDS` on stdin sends reports for that long and prints one line
`RESULT {json}`: reports sent and answered, the rate, the answers' latency p50/p99, and any errors. Reports go
out paced to `--rate` a second, the couriers taken in turn (each reports every couriers/rate seconds, as a phone
every 5 s); between runs the sockets stay open and quiet. `quit` or the end of stdin closes them.

An error answer, a socket closed by the server, or a report unanswered at the end of a run is counted in
`errors`; the bench fails the run on any.
"""

import argparse
import asyncio
import json
import random
import sys
import time
from collections import deque
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

OPENING_AT_ONCE = 64  # handshakes in flight while connecting the fleet


class Phone:
    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.sent_at: deque[float] = deque()  # an answer comes for each report, in order


class Fleet:
    def __init__(self) -> None:
        self.phones: list[Phone] = []
        self.latencies: list[float] = []
        self.errors: list[str] = []

    async def open(self, url: str, tokens: list[str]) -> None:
        gate = asyncio.Semaphore(OPENING_AT_ONCE)

        async def one(token: str) -> Phone:
            async with gate:
                socket = await connect(url, additional_headers={"Authorization": f"Bearer {token}"},
                                       max_queue=None, compression=None, ping_interval=None)
            phone = Phone(socket)
            asyncio.get_running_loop().create_task(self.listen(phone))
            return phone

        self.phones = list(await asyncio.gather(*(one(token) for token in tokens)))

    async def listen(self, phone: Phone) -> None:
        try:
            async for frame in phone.socket:
                answered = time.perf_counter()
                sent = phone.sent_at.popleft() if phone.sent_at else answered
                if b'"error"' in (frame if isinstance(frame, bytes) else frame.encode()):
                    self.errors.append(str(frame)[:200])
                else:
                    self.latencies.append(answered - sent)
        except Exception as exc:  # noqa: BLE001  (a closed socket ends its phone: counted, the run goes on)
            self.errors.append(f"socket closed: {exc!r}"[:200])
            return
        self.errors.append("socket closed by the server")

    async def run(self, seconds: float, rate: float) -> dict:
        self.latencies, self.errors = [], []
        sent = 0
        started = time.perf_counter()
        order = self.phones
        while (elapsed := time.perf_counter() - started) < seconds:
            due = int(elapsed * rate) + 1
            while sent < due:
                phone = order[sent % len(order)]
                lat, lng = 30.20 + random.random() * 0.1, 120.10 + random.random() * 0.1
                phone.sent_at.append(time.perf_counter())
                await phone.socket.send(f'{{"lat": {lat:.6f}, "lng": {lng:.6f}, "datum": "wgs84", "accuracy_m": 8.0}}')
                sent += 1
            await asyncio.sleep(max(0.0, (sent / rate) - (time.perf_counter() - started)))
        seconds_run = time.perf_counter() - started
        deadline = time.perf_counter() + 10  # the last answers
        while sum(len(p.sent_at) for p in self.phones) and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        unanswered = sum(len(p.sent_at) for p in self.phones)
        if unanswered:
            self.errors.append(f"{unanswered} reports unanswered 10 s after the run")
            for phone in self.phones:
                phone.sent_at.clear()
        latencies = sorted(self.latencies)

        def percentile(q: float) -> float:
            return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else 0.0

        return {"requests": sent, "answered": len(latencies), "seconds": seconds_run, "rate": sent / seconds_run,
                "p50_ms": percentile(0.50), "p99_ms": percentile(0.99), "errors": len(self.errors),
                "first_errors": self.errors[:3]}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("token_file")
    parser.add_argument("--rate", type=float, default=400.0)
    options = parser.parse_args()
    tokens = Path(options.token_file).read_text().split()
    random.shuffle(tokens)
    fleet = Fleet()
    url = options.url.replace("http://", "ws://", 1) + "/api/v1/couriers/me/positions/live"
    await fleet.open(url, tokens)
    print("READY", flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if not line or line == "quit":
            break
        command, _, seconds = line.partition(" ")
        if command != "run":
            raise SystemExit(f"unknown command {line!r}")
        print("RESULT " + json.dumps(await fleet.run(float(seconds), options.rate)), flush=True)
    await asyncio.gather(*(phone.socket.close() for phone in fleet.phones), return_exceptions=True)


if __name__ == "__main__":
    asyncio.run(main())
