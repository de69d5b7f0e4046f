"""The webhook bench's receiver: a minimal HTTP/1.1 server on asyncio (uvloop when installed) with httptools'
C parser, so that it costs far less per request than a framework and its capacity sits well above the
delivery rate measured. One process, so one table notes every event id's first arrival.

    POST <any path>  -> 204; notes the `Daodian-Event-Id` header's first arrival time (time.time()), except
                        the anchor's ids (`anchor_...`), only counted
    GET /seen        -> 200 {"first": {event id: time}, "posts": n}

Keep-alive; bodies by Content-Length (what the webhook worker and wrk send); anything the parser refuses closes the
connection. Run: `python bench/webhook_receiver.py PORT`.
"""

import asyncio
import json
import sys
import time

import httptools

NO_CONTENT = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"


class Seen:
    def __init__(self) -> None:
        self.first: dict[str, float] = {}
        self.posts = 0

    def json(self) -> bytes:
        return json.dumps({"first": self.first, "posts": self.posts}).encode()


class Connection(asyncio.Protocol):
    def __init__(self, seen: Seen) -> None:
        self.seen = seen
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.event_id: bytes | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.event_id = None

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"daodian-event-id":
            self.event_id = value

    def on_message_complete(self) -> None:
        if self.parser.get_method() == b"POST":
            self.seen.posts += 1
            if self.event_id and not self.event_id.startswith(b"anchor_"):  # the anchor's: counted only
                self.seen.first.setdefault(self.event_id.decode(), time.time())
            self.transport.write(NO_CONTENT)
        else:
            payload = self.seen.json()
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                                 + str(len(payload)).encode() + b"\r\n\r\n" + payload)
        if not self.parser.should_keep_alive():
            self.transport.close()


async def serve(port: int) -> None:
    seen = Seen()
    server = await asyncio.get_running_loop().create_server(lambda: Connection(seen), "127.0.0.1", port,
                                                            backlog=1024)
    async with server:
        await server.serve_forever()


def main(port: int) -> None:
    try:
        import uvloop
        uvloop.run(serve(port))
    except ImportError:
        asyncio.run(serve(port))


if __name__ == "__main__":
    main(int(sys.argv[1]))
