"""The domain event bus (kit.events) and its wiring (daodian.bootstrap)."""

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from daodian import bootstrap
from daodian.kit import events
from daodian.kit.errors import Conflict
from daodian.kit.facts import Fact, append_fact

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Pinged(events.Event):
    text: str


@dataclass(frozen=True)
class Echoed(events.Event):
    text: str


@pytest.fixture
def bus(monkeypatch):
    """A bus of this test's own: the wired handlers are put back afterwards."""
    monkeypatch.setattr(events, "_handlers", {})
    return events


def test_handlers_run_at_once_in_the_order_wired_and_see_the_callers_session(bus, db):
    seen = []
    bus.subscribe(Pinged, lambda session, e: seen.append(("first", e.text, session is db)))
    bus.subscribe(Pinged, lambda session, e: seen.append(("second", e.text, session is db)))
    bus.publish(db, Pinged("hi"))
    assert seen == [("first", "hi", True), ("second", "hi", True)]


def test_an_event_raised_by_a_handler_is_handled_before_publish_returns(bus, db):
    seen = []
    bus.subscribe(Pinged, lambda session, e: bus.publish(session, Echoed(e.text + "!")))
    bus.subscribe(Echoed, lambda session, e: seen.append(e.text))
    bus.publish(db, Pinged("hi"))
    assert seen == ["hi!"]


def test_subscribing_twice_runs_the_handler_once(bus, db):
    seen = []

    def handler(session, event):
        seen.append(event.text)

    bus.subscribe(Pinged, handler)
    bus.subscribe(Pinged, handler)
    bus.publish(db, Pinged("once"))
    assert seen == ["once"]


def test_a_failing_handler_fails_the_change_that_raised_the_event(bus, db):
    """The handler's error reaches the caller, so its unit of work rolls back together with the change."""
    def refuse(session, event):
        raise Conflict("Not now.", code="not_now")

    bus.subscribe(Pinged, refuse)
    before = db.query(Fact).count()
    with pytest.raises(Conflict), db.begin_nested():
        append_fact(db, "test.changed", {})
        bus.publish(db, Pinged("x"))
    assert db.query(Fact).count() == before


def test_publishing_before_the_handlers_are_wired_fails_loudly(monkeypatch, db):
    monkeypatch.setattr(events, "_wired", False)
    with pytest.raises(RuntimeError, match="wire"):
        events.publish(db, Pinged("lost"))


def test_every_event_a_domain_raises_has_a_handler_and_is_in_the_architecture_doc():
    raised = {cls for cls in events.Event.__subclasses__() if cls.__module__.startswith("daodian.")}
    wired = {event_type for event_type, _ in bootstrap.SUBSCRIPTIONS}
    assert raised == wired
    doc = (ROOT / "docs" / "architecture.md").read_text()
    for event_type in raised:
        assert re.search(rf"`{event_type.__name__}` \(", doc), event_type.__name__
