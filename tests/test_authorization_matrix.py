"""Every API operation x every actor x {own object, someone else's}: allowed means 2xx, denied means
401/403/404 with the database unchanged. Operations, actors, worlds and the role table live in
tests/support/matrix.py, the per-area parameters and bodies in tests/support/matrix_*.py; a new
endpoint falls under this test as soon as it is mounted.
"""

import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from daodian.apps.rate_limits import BUCKETS
from daodian.kit.db import make_session_factory
from tests.support import matrix
from tests.support.shared_app import shared_app
from tests.support.snapshot import changed_tables, fingerprint

OPERATIONS = matrix.api_operations(shared_app().app.openapi())
CASES = matrix.cases(OPERATIONS)


@dataclass
class Stage:
    """The scene, built once for the module in an outer transaction; each case runs in a savepoint
    that is rolled back, so every case starts from the same data (and the same fingerprint)."""

    connection: Connection
    scene: matrix.Scene
    client: TestClient
    _baseline: tuple[int, dict[str, str]] | None = None

    def baseline(self) -> dict[str, str]:
        # Builders may add rows (outside any savepoint) the first time a parameter is needed.
        if self._baseline is None or self._baseline[0] != self.scene.builds:
            self._baseline = (self.scene.builds, fingerprint(self.connection))
        return self._baseline[1]

    @contextmanager
    def case(self) -> Iterator[None]:
        savepoint = self.connection.begin_nested()
        try:
            yield
        finally:
            if savepoint.is_active:
                savepoint.rollback()


@pytest.fixture(scope="module")
def stage(engine, settings) -> Iterator[Stage]:
    with engine.connect() as connection:
        outer = connection.begin()
        factory = make_session_factory(connection)
        factory.configure(join_transaction_mode="create_savepoint")
        db = factory()
        scene = matrix.build_scene(db)
        db.flush()
        with shared_app().client(settings, factory) as client:
            yield Stage(connection, scene, client)
        db.close()
        outer.rollback()


def test_the_api_has_operations():
    assert len(OPERATIONS) > 30, "no operations found under /api/v1 — is the API router mounted?"


def test_every_operation_declares_who_may_call_it():
    problems = [p for p in map(matrix.access_problem, OPERATIONS) if p]
    assert not problems, "\n".join(problems)


def test_every_body_and_path_parameter_is_registered():
    problems = [p for p in map(matrix.registration_problem, OPERATIONS) if p]
    assert not problems, "\n".join(problems)


def test_registries_name_no_operation_that_is_gone():
    keys = {op.key for op in OPERATIONS}
    stale = sorted(set(matrix.BODIES) - keys)
    assert not stale, f"BODIES has samples for operations that no longer exist: {stale}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_authorization(case: matrix.Case, stage: Stage):
    if case.problem:
        pytest.fail(case.problem)
    scene = stage.scene
    world = scene.worlds[case.world]
    url, query, headers = matrix.request_for(case.op, scene, world)
    headers |= scene.headers(case.actor)
    body = matrix.body_for(case.op, scene, world, case.actor) if case.op.has_body else None
    before = stage.baseline()
    if case.actor.app:
        BUCKETS.clear()  # an app's rate limit is its own test's (tests/apps); here every case gets through
    with stage.case():
        response = stage.client.request(case.op.method, url, params=query, headers=headers,
                                          **matrix.body_kwargs(body))
        if matrix.allowed(case.op, case.actor, case.world):
            assert 200 <= response.status_code < 300, (
                f"{case.id}: allowed, but got {response.status_code} {response.text[:300]}")
            return
        expected = {401, 404} if case.actor.anonymous else {403, 404}
        assert response.status_code in expected, (
            f"{case.id}: must be refused with one of {sorted(expected)}, got {response.status_code} "
            f"{response.text[:300]}")
        assert response.json()["error"]["code"], "a refusal carries the error envelope"
        changed = changed_tables(before, fingerprint(stage.connection))
        assert not changed, f"{case.id}: refused with {response.status_code}, yet changed tables {changed}"
    if matrix.hides_existence(case.op, case.actor, case.world):
        with stage.case():
            missing = stage.client.request(case.op.method, matrix.missing_url(case.op, url), params=query,
                                           headers=headers, **matrix.body_kwargs(body))
        assert missing.status_code == 404, f"{case.id}: a missing object must be 404, got {missing.text[:300]}"
        assert (response.status_code, response.json()["error"]) == (404, missing.json()["error"]), (
            f"{case.id}: another consumer's object must answer exactly as a missing one: "
            f"{response.status_code} {response.text[:300]} vs 404 {missing.text[:300]}")


def test_expectations_follow_the_role_table():
    """The expectation function itself, on a few cells worth spelling out (including `self` routes)."""
    actors = {a.name: a for a in matrix.ACTORS}
    op = lambda access: matrix.Operation("POST", "/api/v1/x/{x_id}", access, False, ("x_id",))  # noqa: E731
    assert matrix.allowed(op("merchant:console.view"), actors["clerk_x"], "X")
    assert not matrix.allowed(op("merchant:catalog.manage"), actors["clerk_x"], "X")
    assert not matrix.allowed(op("merchant:console.view"), actors["clerk_x"], "Y")
    assert matrix.allowed(op("merchant:merchant.delete"), actors["owner_y"], "Y")
    assert not matrix.allowed(op("merchant:counter"), actors["consumer_a"], "X")
    assert matrix.allowed(op("self"), actors["consumer_a"], "A")
    assert not matrix.allowed(op("self"), actors["consumer_a"], "B")
    assert not matrix.allowed(op("self"), actors["clerk_x"], "A")
    assert matrix.allowed(op("self"), actors["operator"], "B")
    assert not matrix.allowed(op("operator"), actors["owner_y"], "Y")
    assert not matrix.allowed(op("authenticated"), actors["anonymous"], "X")
    own_list = matrix.Operation("GET", "/api/v1/orders", "self", False, ())  # no object: the caller's own list
    assert matrix.allowed(own_list, actors["consumer_b"], "A") and matrix.allowed(own_list, actors["clerk_x"], "A")
    assert not matrix.allowed(own_list, actors["anonymous"], "A")
    # A consumer's object at a store of X, which X's staff with the action may use too (A and B shop at X).
    shared = lambda action: op(f"self|merchant:{action}")  # noqa: E731
    assert matrix.allowed(shared("console.view"), actors["consumer_a"], "A")
    assert not matrix.allowed(shared("console.view"), actors["consumer_a"], "B")
    assert matrix.allowed(shared("console.view"), actors["clerk_x"], "B")
    assert not matrix.allowed(shared("store.manage"), actors["clerk_x"], "A")
    assert not matrix.allowed(shared("console.view"), actors["owner_y"], "A")
    assert matrix.allowed(shared("store.manage"), actors["operator"], "B")
    assert not matrix.allowed(shared("console.view"), actors["anonymous"], "A")
    # Someone else's consumer object is indistinguishable from a missing one, except to the shop's staff.
    assert matrix.hides_existence(op("self"), actors["consumer_b"], "A")
    assert matrix.hides_existence(shared("store.manage"), actors["owner_y"], "A")
    assert not matrix.hides_existence(shared("store.manage"), actors["clerk_x"], "A")
    assert not matrix.hides_existence(op("self"), actors["consumer_a"], "A")
    assert not matrix.hides_existence(op("self"), actors["anonymous"], "A")
    assert not matrix.hides_existence(op("merchant:console.view"), actors["owner_y"], "X")
    # Apps: only within their scopes, at their merchant, and never on an installer's own account.
    scoped = lambda access, scope: matrix.Operation("GET", "/api/v1/x/{x_id}", access, False, ("x_id",),  # noqa: E731
                                                   app_scope=scope)
    assert matrix.allowed(scoped("merchant:console.view", "order:read"), actors["app_x"], "X")
    assert not matrix.allowed(scoped("merchant:console.view", "order:read"), actors["app_x"], "Y")
    assert not matrix.allowed(scoped("merchant:console.view", "order:read"), actors["app_x_map"], "X")
    assert not matrix.allowed(scoped("merchant:console.view", False), actors["app_x"], "X")
    assert not matrix.allowed(scoped("self", "order:read"), actors["app_x"], "A")
    assert matrix.allowed(scoped("self", "order:read"), actors["app_a"], "A")
    assert not matrix.allowed(scoped("self", "order:read"), actors["app_a"], "B")
    assert not matrix.allowed(scoped("merchant:console.view", "order:read"), actors["app_a"], "X")
    assert not matrix.allowed(scoped("operator", False), actors["app_a"], "X")


def test_registries_merge_every_area_module_and_refuse_a_key_defined_twice(monkeypatch):
    assert {"tests.support.matrix_merchants", "tests.support.matrix_orders"} <= set(matrix.area_modules())
    assert matrix.registries().sources["PARAMS['order_id']"] == "tests.support.matrix_orders"
    for name, bodies in (("matrix_one", {"POST /api/v1/x": {}}), ("matrix_two", {"POST /api/v1/x": {"a": 1}})):
        monkeypatch.setitem(sys.modules, f"tests.support.{name}", types.SimpleNamespace(BODIES=bodies))
    monkeypatch.setattr(matrix, "area_modules", lambda: ["tests.support.matrix_one", "tests.support.matrix_two"])
    with pytest.raises(matrix.DuplicateEntry, match=r"BODIES\['POST /api/v1/x'\] is defined twice, in "
                                                     r"tests.support.matrix_one and in tests.support.matrix_two"):
        matrix.registries.__wrapped__()


def test_an_undeclared_operation_is_told_how_to_declare_itself():
    message = matrix.access_problem(matrix.Operation("GET", "/api/v1/new", None, False, ()))
    assert "GET /api/v1/new declares no x-access" in message and "openapi_extra=access(" in message
    assert "unknown x-access 'merchant:fly'" in matrix.access_problem(
        matrix.Operation("GET", "/api/v1/new", "merchant:fly", False, ()))
    assert "unknown x-access 'self|merchant:fly'" in matrix.access_problem(
        matrix.Operation("GET", "/api/v1/new", "self|merchant:fly", False, ()))
    assert matrix.access_problem(matrix.Operation("GET", "/api/v1/new", "self|merchant:counter", False, ())) is None


def test_the_fingerprint_sees_any_change_and_cases_start_afresh(stage: Stage):
    before, store = stage.baseline(), stage.scene.worlds["X"].objects["store"]
    with stage.case():
        stage.connection.execute(text("UPDATE stores SET name = '悄悄改名' WHERE id = :id"), {"id": store.id})
        assert changed_tables(before, fingerprint(stage.connection)) == ["stores"]
    assert fingerprint(stage.connection) == before
