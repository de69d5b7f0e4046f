"""The authorization matrix: who may call which API operation on whose objects.

Every operation under /api/v1 declares `x-access` (kit.http.access). The matrix calls each one as
every actor, on an object of each "world", and checks the outcome against the role table below,
which is written out here on purpose instead of being read from accounts.authz.

Adding an endpoint usually needs nothing here. It needs an entry when:
- it takes a request body: add a VALID sample to BODIES under "METHOD /api/v1/path" (a dict, or a
  function (scene, world) -> dict when it must name objects of the world);
- it has a path parameter (or a required query parameter or header) nobody has registered: add a
  builder to PARAMS, a function (scene, world) -> value. Consumer-owned objects (orders, vouchers,
  reviews...) are built for the world's consumer, e.g.
  `"order_id": lambda s, w: make_order(s.db, w.owner, s.worlds["X"].objects["store"]).id`, and
  routes on them declare `self`. A builder runs once per world, on first use, outside the per-case
  savepoint, so what it creates stays for the whole module while each case's own changes roll back;
- a parameter name means different things on different paths: key it "/api/v1/path#name".

Worlds: "X" and "Y" are two active merchants, each with a listed store, an active service item
offered there, a product with one SKU and a manager (`user_id`); "A" and "B" are consumers A and B.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from daodian.accounts.authz import Action
from daodian.accounts.models import StaffRole, User
from daodian.catalog.models import Sku
from tests.factories import (
    PASSWORD,
    add_staff,
    make_item,
    make_merchant,
    make_product,
    make_store,
    make_user,
    token_for,
)

API_PREFIX = "/api/v1"
ACCESS_KINDS = ("public", "authenticated", "operator", "self")
ACTIONS = frozenset(a.value for a in Action)

# The role table, stated independently of accounts.authz.ROLE_ACTIONS.
ROLE_MAY: dict[str, Callable[[str], bool]] = {
    "owner": lambda action: True,
    "manager": lambda action: action not in {"merchant.delete", "staff.manage"},
    "clerk": lambda action: action in {"console.view", "counter"},
}


@dataclass(frozen=True)
class Actor:
    name: str
    roles: dict[str, str] = field(default_factory=dict)  # world name -> staff role there
    operator: bool = False
    consumer_of: str | None = None  # the consumer world whose objects are this actor's own

    @property
    def anonymous(self) -> bool:
        return self.name == "anonymous"


ACTORS = (
    Actor("anonymous"),
    Actor("consumer_a", consumer_of="A"),
    Actor("consumer_b", consumer_of="B"),
    Actor("clerk_x", roles={"X": "clerk"}),
    Actor("owner_y", roles={"Y": "owner"}),
    Actor("operator", operator=True),
)
MERCHANT_WORLDS, CONSUMER_WORLDS = ("X", "Y"), ("A", "B")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    access: str | None
    has_body: bool
    path_params: tuple[str, ...]
    required_query: tuple[str, ...] = ()
    required_headers: tuple[str, ...] = ()

    @property
    def params(self) -> tuple[str, ...]:
        return self.path_params + self.required_query + self.required_headers

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def api_operations(openapi: dict) -> list[Operation]:
    ops = []
    for path, methods in openapi["paths"].items():
        if not path.startswith(API_PREFIX):
            continue
        for method, spec in methods.items():
            params = spec.get("parameters", [])
            ops.append(Operation(method.upper(), path, spec.get("x-access"), "requestBody" in spec,
                                 _names(params, "path"), _names(params, "query"), _names(params, "header")))
    return ops


def _names(params: list[dict], where: str) -> tuple[str, ...]:
    """Path parameters, and the query parameters and headers a call cannot leave out."""
    return tuple(p["name"] for p in params if p["in"] == where and (where == "path" or p.get("required")))


def access_problem(op: Operation) -> str | None:
    rule = op.access
    if rule in ACCESS_KINDS or (isinstance(rule, str) and rule.startswith("merchant:")
                                and rule.removeprefix("merchant:") in ACTIONS):
        return None
    what = "declares no x-access" if rule is None else f"declares unknown x-access {rule!r}"
    return (f"{op.key} {what}. Declare who may call it with `openapi_extra=access(...)` (daodian.kit.http) "
            f"on the route: one of {', '.join(ACCESS_KINDS)}, or 'merchant:<action>' with an action from "
            f"accounts.authz.Action ({', '.join(sorted(ACTIONS))}).")


# --- the scene: two merchants' worlds, two consumers' worlds, one user per actor -------------------


@dataclass
class World:
    name: str
    kind: str  # "merchant" | "consumer"
    owner: User  # the merchant's owner, or the consumer
    objects: dict[str, Any] = field(default_factory=dict)
    built: dict[str, Any] = field(default_factory=dict)  # parameter values, built on first use


@dataclass
class Scene:
    db: Session
    users: dict[str, User]
    worlds: dict[str, World]
    tokens: dict[str, str]
    builds: int = 0  # how many parameter values builders have made; new rows may come with them

    def headers(self, actor: Actor) -> dict[str, str]:
        return {} if actor.anonymous else {"Authorization": f"Bearer {self.tokens[actor.name]}"}


def _merchant_world(db: Session, name: str, owner: User, staff_member: User) -> World:
    merchant = make_merchant(db, owner, name=f"商户{name}")
    add_staff(db, merchant, staff_member, StaffRole.MANAGER)
    store = make_store(db, merchant, name=f"{name}店")
    item = make_item(db, merchant, [store.id])
    product = make_product(db, merchant, name=f"机油{name}")
    return World(name, "merchant", owner, {"merchant": merchant, "store": store, "item": item, "product": product,
                                          "staff_member": staff_member})


def build_scene(db: Session) -> Scene:
    users = {name: make_user(db, name=name, operator=name == "operator")
             for name in ("consumer_a", "consumer_b", "clerk_x", "owner_y", "operator",
                          "owner_x", "manager_x", "manager_y", "newcomer")}
    worlds = {
        "X": _merchant_world(db, "X", users["owner_x"], users["manager_x"]),
        "Y": _merchant_world(db, "Y", users["owner_y"], users["manager_y"]),
        "A": World("A", "consumer", users["consumer_a"]),
        "B": World("B", "consumer", users["consumer_b"]),
    }
    add_staff(db, worlds["X"].objects["merchant"], users["clerk_x"], StaffRole.CLERK)
    tokens = {actor.name: token_for(db, users[actor.name]) for actor in ACTORS if not actor.anonymous}
    return Scene(db, users, worlds, tokens)


# --- registries: path parameters and request bodies ----------------------------------------------

Builder = Callable[[Scene, World], Any]


def _sku_id(scene: Scene, world: World) -> int:
    return scene.db.scalar(select(Sku.id).where(Sku.product_id == world.objects["product"].id).order_by(Sku.id))


PARAMS: dict[str, Builder] = {
    "merchant_id": lambda s, w: w.objects["merchant"].id,
    "store_id": lambda s, w: w.objects["store"].id,
    "item_id": lambda s, w: w.objects["item"].id,
    "product_id": lambda s, w: w.objects["product"].id,
    "sku_id": _sku_id,
    "user_id": lambda s, w: w.objects["staff_member"].id,
    f"{API_PREFIX}/catalog/product-categories/{{code}}#code": lambda s, w: "auto.oil",
    f"{API_PREFIX}/catalog/service-categories/{{code}}#code": lambda s, w: "auto_service.oil_change",
    # Required query parameters and headers.
    f"{API_PREFIX}/stores/nearby#lat": lambda s, w: 30.2590,
    f"{API_PREFIX}/stores/nearby#lng": lambda s, w: 120.1490,
    f"{API_PREFIX}/stores/nearby#datum": lambda s, w: "gcj02",
    f"{API_PREFIX}/search#q": lambda s, w: "机油",
    "Idempotency-Key": lambda s, w: uuid.uuid4().hex,
}

HOURS = {"intervals": [{"weekday": 5, "opens": "18:00", "closes": "02:00", "next_day": True}],
         "closed_dates": ["2026-10-01"]}

BODIES: dict[str, dict | Builder] = {
    "POST /api/v1/auth/register": {"phone": "+86 137-0000-0001", "password": PASSWORD, "display_name": "新用户"},
    "POST /api/v1/auth/login": lambda s, w: {"phone": s.users["consumer_a"].phone, "password": PASSWORD},
    "POST /api/v1/merchants": {"name": "新开的店", "description": "矩阵测试"},
    "PATCH /api/v1/merchants/{merchant_id}": {"description": "改过的介绍"},
    "POST /api/v1/merchants/{merchant_id}/staff": lambda s, w: {"phone": s.users["newcomer"].phone, "role": "clerk"},
    "POST /api/v1/merchants/{merchant_id}/stores": {
        "name": "新门店", "address": "杭州市西湖区龙井路1号", "location": {"lat": 30.25, "lng": 120.15, "datum": "gcj02"},
        "primary_category": "auto_service.car_wash", "hours": HOURS},
    "PATCH /api/v1/stores/{store_id}": {"name": "改名的门店"},
    "PUT /api/v1/stores/{store_id}/hours": HOURS,
    "POST /api/v1/merchants/{merchant_id}/products": {
        "category": "auto.tyre", "name_zh": "轮胎", "skus": [{"code": "R16", "price_fen": 45000}]},
    "PATCH /api/v1/products/{product_id}": {"name_zh": "改名的机油"},
    "POST /api/v1/products/{product_id}/skus": {"code": "1L", "spec_zh": "1升", "price_fen": 9900},
    "PATCH /api/v1/skus/{sku_id}": {"price_fen": 27900},
    "POST /api/v1/merchants/{merchant_id}/service-items": lambda s, w: {
        "service_category": "auto_service.tyre_fitting", "name_zh": "换胎", "price_fen": 8000, "duration_min": 30,
        "store_ids": [w.objects["store"].id]},
    "PATCH /api/v1/service-items/{item_id}": {"price_fen": 18800},
}


def body_for(op: Operation, scene: Scene, world: World) -> Any:
    sample = BODIES.get(op.key)
    if sample is None:
        raise LookupError(f"{op.key} takes a request body but tests/support/matrix.py BODIES has no sample "
                          f"for it: add a VALID one under {op.key!r}, so that allowed callers really execute it.")
    return sample(scene, world) if callable(sample) else sample


def param_builder(op: Operation, name: str) -> Builder | None:
    return PARAMS.get(f"{op.path}#{name}") or PARAMS.get(name)


def param_value(op: Operation, name: str, scene: Scene, world: World) -> Any:
    key = f"{op.path}#{name}" if f"{op.path}#{name}" in PARAMS else name
    if key not in world.built:
        world.built[key] = PARAMS[key](scene, world)
        scene.builds += 1
    return world.built[key]


def request_for(op: Operation, scene: Scene, world: World) -> tuple[str, dict[str, Any], dict[str, str]]:
    """(url, query parameters, headers) of a valid call of `op` on the world's objects."""
    url = op.path
    for name in op.path_params:
        url = url.replace(f"{{{name}}}", str(param_value(op, name, scene, world)))
    query = {name: param_value(op, name, scene, world) for name in op.required_query}
    headers = {name: str(param_value(op, name, scene, world)) for name in op.required_headers}
    return url, query, headers


# --- expectations ---------------------------------------------------------------------------------


def registration_problem(op: Operation) -> str | None:
    """What tests/support/matrix.py lacks to call `op`, if anything."""
    problems = []
    if op.has_body and op.key not in BODIES:
        problems.append(f"{op.key} takes a request body: add a VALID sample to BODIES in tests/support/matrix.py "
                        f"under {op.key!r}, so that allowed callers really execute it")
    problems += [f"{op.key} needs parameter {name!r}: add a builder to PARAMS in tests/support/matrix.py, "
                 f"{name!r}: lambda scene, world: <a valid value, e.g. the id of that world's object>"
                 for name in op.params if param_builder(op, name) is None]
    return "\n".join(problems) or None


def world_kind(op: Operation) -> str:
    return "consumer" if op.access == "self" else "merchant"


def owns(actor: Actor, world: str) -> bool:
    return actor.operator or world in actor.roles or actor.consumer_of == world


def allowed(op: Operation, actor: Actor, world: str) -> bool:
    rule = op.access or ""
    if rule == "public":
        return True
    if rule == "authenticated":
        return not actor.anonymous
    if rule == "operator":
        return actor.operator
    if rule == "self":  # without an object in the path: the caller's own list, e.g. GET /orders
        return not actor.anonymous if not op.path_params else actor.operator or actor.consumer_of == world
    action = rule.removeprefix("merchant:")
    role = actor.roles.get(world)
    return actor.operator or (role is not None and ROLE_MAY[role](action))


@dataclass(frozen=True)
class Case:
    op: Operation
    actor: Actor | None
    world: str
    ownership: str  # "own" | "other" | "none" (no object of anyone's is involved)
    problem: str | None = None  # the operation cannot be run until this is fixed

    @property
    def id(self) -> str:
        if self.problem:
            return f"{self.op.key} | not runnable"
        where = "" if self.ownership == "none" else f"({self.world})"
        return f"{self.op.key} | {self.actor.name} | {self.ownership}{where}"


def cases(ops: list[Operation]) -> list[Case]:
    """Every actor on every world the operation can touch; one failing case for an operation that
    does not declare its access or is not registered here, instead of one per actor."""
    out = []
    for op in ops:
        problem = access_problem(op) or registration_problem(op)
        if problem:
            out.append(Case(op, None, "", "none", problem))
            continue
        # Merchant operations may name their objects in the body (e.g. a store id), so they always
        # run against both merchants; others only when the path names an object.
        involves_objects = bool(op.path_params) or op.access.startswith("merchant:")
        worlds = CONSUMER_WORLDS if world_kind(op) == "consumer" else MERCHANT_WORLDS
        for actor in ACTORS:
            if not involves_objects:
                out.append(Case(op, actor, worlds[0], "none"))
                continue
            out += [Case(op, actor, world, "own" if owns(actor, world) else "other") for world in worlds]
    return out
