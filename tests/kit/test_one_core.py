"""kit.one_core: a server process's request threads on one core; threads started before the pin, or inside
on_every_core, keep every core."""

import os
import threading

import pytest
from fastapi.testclient import TestClient

from daodian.app import create_app
from daodian.kit.one_core import cores, keep_request_threads_on_one_core, on_every_core
from daodian.kit.settings import Settings

needs_two_cores = pytest.mark.skipif(len(cores()) < 2, reason="one core: there is nothing to choose")


def _in_a_thread(work):
    """`work()`'s answer, run in a thread of its own (a pin then stays there, not on the test's thread)."""
    answer = {}
    thread = threading.Thread(target=lambda: answer.update(value=work()))
    thread.start()
    thread.join()
    return answer["value"]


def _affinity_of_a_thread_started_now():
    return _in_a_thread(lambda: os.sched_getaffinity(0))


@needs_two_cores
def test_the_request_thread_and_the_threads_it_makes_later_share_one_core_the_earlier_ones_keep_all():
    everything = set(cores())

    def request_thread():
        started_before = threading.Event()
        before = {}

        def background():  # as the periodic jobs and the webhook worker: started before the pin
            started_before.wait()
            before["affinity"] = os.sched_getaffinity(0)

        earlier = threading.Thread(target=background)
        earlier.start()
        core = keep_request_threads_on_one_core()
        mine = os.sched_getaffinity(0)
        later = _affinity_of_a_thread_started_now()  # as kit.worker_threads' threads
        started_before.set()
        earlier.join()
        return core, mine, later, before["affinity"]

    core, mine, later, before = _in_a_thread(request_thread)
    assert core in everything
    assert mine == later == {core}
    assert before == everything
    assert os.sched_getaffinity(0) == everything  # the test's own thread was never touched


def test_the_request_threads_keep_to_one_core_by_default_except_in_tests():
    assert Settings(env="dev").keeps_requests_on_one_core
    assert not Settings(env="test").keeps_requests_on_one_core
    assert not Settings(env="dev", one_core_requests=False).keeps_requests_on_one_core
    assert Settings(env="test", one_core_requests=True).keeps_requests_on_one_core


@needs_two_cores
def test_a_server_keeps_its_event_loop_on_one_core(settings):
    everything = set(cores())
    with TestClient(create_app(settings.model_copy(update={"one_core_requests": True}))) as client:
        assert client.get("/api/v1/health").status_code == 200
        loop_thread = client.portal.call(lambda: os.sched_getaffinity(0))
        assert len(loop_thread) == 1 and loop_thread < everything
    assert os.sched_getaffinity(0) == everything


@needs_two_cores
def test_a_block_on_every_core_gives_the_threads_it_starts_every_core_and_then_pins_again():
    everything = set(cores())

    def request_thread():
        core = keep_request_threads_on_one_core()
        with on_every_core():  # as opening DuckDB, whose pool is made then
            pool_thread = _affinity_of_a_thread_started_now()
        return core, pool_thread, os.sched_getaffinity(0), _affinity_of_a_thread_started_now()

    core, pool_thread, after, later = _in_a_thread(request_thread)
    assert pool_thread == everything
    assert after == later == {core}
