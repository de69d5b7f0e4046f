"""The project's worker threads (kit.worker_threads): outcomes, context, cancellation and calls back into the loop."""

import asyncio
import threading
import time
from contextvars import ContextVar

import anyio.to_thread
import pytest

from daodian.kit import worker_threads
from daodian.kit.worker_threads import in_loop, in_loop_sync, run_sync

REQUEST: ContextVar[str] = ContextVar("test_request", default="none")


def test_a_call_returns_its_value_and_raises_its_error():
    def fails():
        raise LookupError("gone")

    async def main():
        assert await run_sync(lambda a, b: a + b, 2, 3) == 5
        with pytest.raises(LookupError, match="gone"):
            await run_sync(fails)
        assert threading.current_thread() is threading.main_thread()
        return await run_sync(lambda: threading.current_thread().name)

    assert asyncio.run(main()).startswith("daodian-worker-")


def test_the_thread_sees_the_callers_context_variables():
    async def main():
        REQUEST.set("order 7")
        return await run_sync(REQUEST.get)

    assert asyncio.run(main()) == "order 7"


def test_a_cancelled_caller_waits_for_its_call_to_return():
    """What the caller holds (SQLite's write turn) must not be let go while its thread still writes."""
    returned = threading.Event()

    def slow():
        time.sleep(0.3)
        returned.set()

    async def main():
        task = asyncio.create_task(run_sync(slow))
        await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.sleep(0.01)
        task.cancel()  # a second cancellation does not end the wait either
        with pytest.raises(asyncio.CancelledError):
            await task
        return returned.is_set()

    assert asyncio.run(main()) is True


def test_calls_beyond_the_thread_limit_wait_and_all_complete(monkeypatch):
    monkeypatch.setattr(worker_threads, "MAX_THREADS", 3)
    monkeypatch.setattr(worker_threads, "_pool", None)
    running, most = 0, 0
    lock = threading.Lock()

    def work(n):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return n

    async def main():
        return await asyncio.gather(*(run_sync(work, n) for n in range(12)))

    assert asyncio.run(main()) == list(range(12))
    assert most == 3
    assert worker_threads._current_pool().threads == 3


def test_a_worker_thread_calls_back_into_its_loop():
    async def loop_side(value):
        await asyncio.sleep(0)
        return (value, threading.current_thread() is threading.main_thread())

    def in_thread():
        return in_loop(loop_side, "a"), in_loop_sync(lambda: threading.current_thread() is threading.main_thread())

    async def main():
        return await run_sync(in_thread)

    assert asyncio.run(main()) == (("a", True), True)


def test_an_anyio_worker_thread_calls_back_through_anyio():
    async def loop_side():
        return threading.current_thread() is threading.main_thread()

    async def main():
        return await anyio.to_thread.run_sync(lambda: in_loop(loop_side))

    assert anyio.run(main) is True



def test_a_call_back_into_a_stopped_loop_fails_instead_of_waiting_for_ever():
    """A thread must not be lost to a loop that will never answer (a server stopping, a test client closed)."""
    loop = asyncio.new_event_loop()
    release = threading.Event()
    outcome = {}

    async def answer():
        return "answered"

    def in_thread():
        release.wait(10)
        try:
            outcome["value"] = in_loop(answer)
        except RuntimeError as exc:
            outcome["error"] = str(exc)

    async def start():
        asyncio.get_running_loop().create_task(run_sync(in_thread))
        await asyncio.sleep(0.05)  # the call is in its thread now

    loop.run_until_complete(start())  # then the loop stops, the call still in its thread
    release.set()
    deadline = time.monotonic() + 10
    while not outcome and time.monotonic() < deadline:
        time.sleep(0.05)
    loop.run_until_complete(asyncio.sleep(0.05))  # the call's task hears its thread has returned
    assert not asyncio.all_tasks(loop)
    loop.close()
    assert outcome == {"error": "the event loop this call came from has stopped"}


def test_a_timeout_raised_in_the_loop_is_raised_in_the_thread():
    async def times_out():
        raise TimeoutError("slow")

    def in_thread():
        with pytest.raises(TimeoutError, match="slow"):
            in_loop(times_out)
        return "raised"

    async def main():
        return await run_sync(in_thread)

    assert asyncio.run(main()) == "raised"
