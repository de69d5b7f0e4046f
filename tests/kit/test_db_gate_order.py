"""Every route takes its database slot before SQLite's write turn (kit.api.http._db_gate).

Idempotent routes hold their slot and take the turn per transaction; when plain writes took the turn first
and then waited for a slot, a plain write holding the turn could wait for slots held by requests that all
waited for the turn. Here a plain write that finds the turn taken must already hold its slot while it waits.
"""

import asyncio

import httpx
from fastapi import FastAPI

from daodian.kit.api.http import DB_CONCURRENCY, DbSession, _app_slots, _app_turn
from daodian.kit.db import create_db_engine, make_session_factory
from daodian.kit.settings import Settings


def _write_app(tmp_path) -> FastAPI:
    settings = Settings(env="test", database_url=f"sqlite:///{tmp_path / 'gate.sqlite3'}")
    app = FastAPI()
    app.state.settings = settings
    app.state.session_factory = make_session_factory(create_db_engine(settings))

    @app.post("/write")
    def write(session: DbSession) -> dict:
        return {"written": True}

    return app


def test_a_plain_write_holds_its_slot_while_it_waits_for_the_write_turn(tmp_path):
    app = _write_app(tmp_path)

    async def scenario() -> None:
        turn, slots = _app_turn(app), _app_slots(app)
        await turn.acquire()  # another writer's transaction
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gate") as client:
            waiting = asyncio.create_task(client.post("/write"))
            for _ in range(500):
                await asyncio.sleep(0.01)
                if slots._value < DB_CONCURRENCY:
                    break
            assert slots._value == DB_CONCURRENCY - 1, "the write waits for the turn holding its slot"
            assert not waiting.done()
            turn.release()
            response = await waiting
        assert response.status_code == 200 and response.json() == {"written": True}
        assert slots._value == DB_CONCURRENCY  # both let go after the response
        assert turn.value == 1  # and the turn is free again

    asyncio.run(scenario())
