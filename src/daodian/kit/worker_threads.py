"""Worker threads for sync work started from the event loop: a route's database phase, a token's lookup.

Every sync route runs in a worker thread (its Session is sync). AnyIO's `to_thread.run_sync`, which FastAPI
uses, spends more on the hop than most routes spend on their work: a capacity limiter and a cancel scope
entered and left, a per-loop lookup of its idle workers, a queue with a condition variable, a checkpoint.
A bare FastAPI `def` route answered 3,400-3,900 req/s here where the same dict from an `async def` one
answered 6,400-10,000, and a hop made as below 7,300. So the project's hops are made here:

- `run_sync(fn, *args)` (in the event loop) puts the call on a queue that idle threads wait on (a C
  `SimpleQueue`), starting a thread when none is idle, up to MAX_THREADS; the thread runs it in a copy of the
  caller's context (context variables such as the request's unit of work) and hands the outcome back with one
  `call_soon_threadsafe`.
- Cancelling the caller does not abandon the thread: like AnyIO's default, the caller waits until the
  call has returned, then is cancelled. What it holds (a slot, SQLite's write turn) is let go after the work
  that needed it, never while it still runs.
- `in_loop(async_fn, *args)` and `in_loop_sync(fn, *args)` (in such a thread) run something back in the
  caller's event loop and wait for it, as `anyio.from_thread` does for AnyIO's threads (and still does here
  for them: the same code may be reached from one of those, or from a test's portal).

Threads are made lazily in each process, so the workers forked from an arbiter (daodian.cli.prefork) each
start their own; none is made at import.
"""

import asyncio
import concurrent.futures
import contextlib
import contextvars
import os
import queue
import threading
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

import anyio.from_thread

T = TypeVar("T")

# As AnyIO's default limit: requests in their database phase are held to fewer (kit.api.http.DB_CONCURRENCY),
# and the rest of the threads serve token lookups, readiness and the like.
MAX_THREADS = 40


class _Call:
    __slots__ = ("loop", "fn", "context", "future", "returned")

    def __init__(self, loop: asyncio.AbstractEventLoop, fn: Callable[[], Any]) -> None:
        self.loop, self.fn = loop, fn
        self.context = contextvars.copy_context()
        self.future: asyncio.Future = loop.create_future()
        self.returned = False

    def settle(self, result: Any, error: BaseException | None) -> None:
        """In the event loop: the thread is done with the call."""
        self.returned = True
        if self.future.done():  # the caller was cancelled and waits on a later future: see run_sync
            return
        if error is None:
            self.future.set_result(result)
        else:
            self.future.set_exception(error)


_local = threading.local()  # .loop: the event loop whose call this worker thread is running


class _Pool:
    def __init__(self) -> None:
        self.calls: queue.SimpleQueue[_Call] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.threads = 0
        self.spare = 0  # idle threads less the calls queued for them: below 0, calls wait for a thread

    def submit(self, call: _Call) -> None:
        self.calls.put(call)
        with self.lock:
            self.spare -= 1
            if self.spare >= 0 or self.threads >= MAX_THREADS:
                return
            self.threads += 1
            self.spare += 1
            name = f"daodian-worker-{self.threads}"
        threading.Thread(target=self._serve, name=name, daemon=True).start()

    def _serve(self) -> None:
        calls = self.calls
        while True:
            call = calls.get()
            _local.loop = call.loop
            try:
                result, error = call.context.run(call.fn), None
            except BaseException as exc:  # handed to the caller, as a direct call would raise it
                result, error = None, exc
            _local.loop = None
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits for this any more
                call.loop.call_soon_threadsafe(call.settle, result, error)
            del call, result, error  # hold nothing of the request while idle
            with self.lock:
                self.spare += 1


_pool: _Pool | None = None


def _current_pool() -> _Pool:
    global _pool
    if _pool is None:
        _pool = _Pool()
    return _pool


def _forget_pool() -> None:
    """In a forked child: the parent's threads did not come along, so neither does their pool."""
    global _pool
    _pool = None


os.register_at_fork(after_in_child=_forget_pool)


async def run_sync(fn: Callable[..., T], *args: Any) -> T:
    """Run `fn(*args)` in a worker thread and return what it returns (or raise what it raises)."""
    call = _Call(asyncio.get_running_loop(), partial(fn, *args) if args else fn)
    _current_pool().submit(call)
    try:
        return await call.future
    except asyncio.CancelledError:
        # Cancelled while the thread may still run it: wait for it to return before going (again on a
        # second cancellation), so the caller never lets go of what the call is using.
        while not call.returned:
            call.future = call.loop.create_future()
            with contextlib.suppress(BaseException):  # its outcome is no longer the caller's: it was cancelled
                await call.future
        raise


def _loop_of_this_thread() -> asyncio.AbstractEventLoop | None:
    return getattr(_local, "loop", None)


def in_loop(fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    """From a worker thread: run the coroutine function `fn(*args)` in the event loop that started this
    thread's call and wait for its result."""
    loop = _loop_of_this_thread()
    if loop is None:
        return anyio.from_thread.run(fn, *args)
    return _outcome(asyncio.run_coroutine_threadsafe(_awaited(fn, args), loop), loop)


def in_loop_sync(fn: Callable[..., T], *args: Any) -> T:
    """From a worker thread: call `fn(*args)` in the event loop that started this thread's call."""
    loop = _loop_of_this_thread()
    if loop is None:
        return anyio.from_thread.run_sync(fn, *args)
    return _outcome(asyncio.run_coroutine_threadsafe(_called(fn, args), loop), loop)


def _outcome(future: concurrent.futures.Future, loop: asyncio.AbstractEventLoop) -> Any:
    """The loop's answer; a RuntimeError if the loop stops without giving one (a server shutting down, a test
    client closed), rather than a thread waiting for ever: every one lost so would shrink the pool."""
    while True:
        try:
            return future.result(timeout=1.0)
        except TimeoutError:
            if future.done():  # the coroutine's own TimeoutError
                raise
            if loop.is_closed() or not loop.is_running():
                future.cancel()
                raise RuntimeError("the event loop this call came from has stopped") from None


async def _awaited(fn: Callable[..., Awaitable[T]], args: tuple) -> T:
    return await fn(*args)


async def _called(fn: Callable[..., T], args: tuple) -> T:
    return fn(*args)
