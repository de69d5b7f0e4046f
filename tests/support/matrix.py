"""The authorization matrix: who may call which API operation on whose objects.

Every operation under /api/v1 declares `x-access` (kit.api.http.access). The matrix calls each one as
every actor, on an object of each "world", and checks the outcome against the role table below,
which is written out here on purpose instead of being read from accounts.authz.

Adding an endpoint usually needs nothing here. It needs an entry when:
- it takes a request body: add a VALID sample to BODIES under "METHOD /api/v1/path" (a dict, or a
  function (scene, world) -> dict when it must name objects of the world, or `per_actor(function
  (scene, world, actor) -> dict)` when each caller needs a body of its own, e.g. a review of a visit
  of theirs);
- it has a path parameter (or a required query parameter or header) nobody has registered: add a
  builder to PARAMS, a function (scene, world) -> value. Consumer-owned objects (orders, vouchers,
  bookings, reviews...) are built for the world's consumer (`world.owner`) at the store of the
  merchant world they shop at (`shop(scene, world)`: world X, for consumers A and B alike), e.g.
  `"order_id": lambda s, w: make_order(s.db, w.owner, shop=shop(s, w)).id`; routes on them declare
  `self`, or `self|merchant:<action>` when that merchant's staff with <action> may act on them too.
  A builder runs once per world, on first use, outside the per-case savepoint, so what it creates
  stays for the whole module while each case's own changes roll back; a body builder that creates rows
  does so through `scene.once(world, key, make)` for the same reason;
- a parameter name means different things on different paths: key it "/api/v1/path#name".

Entries live in one module per area, `tests/support/matrix_<area>.py`, each exposing `PARAMS` and
`BODIES` dicts; this module merges every such module it finds (a key defined twice is an error).

Apps (daodian.apps) are actors too: `app_x` is installed at X with every scope (it acts there as a manager
would, under an account of its own), `app_x_map` is installed at X with `map:read` only, and `app_a` is an app
consumer A authorised with every scope (it is consumer A, without anyone's staff roles). Each operation's
`x-app-scope` (kit.api.scopes) says which scope an app needs; false: no app may call it.

Worlds: "X" and "Y" are two active merchants, each with a listed store, an active service item
offered there, a product with one SKU and a manager (`user_id`); "A" and "B" are consumers A and B,
who shop at X. Actors: clerk_x is a clerk at X, owner_y owns Y; so on consumer objects, clerk_x shows
what a clerk of the shop may do and owner_y that a foreign merchant, however senior, may do nothing.
"""

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from daodian.accounts.authz import Action, Principal
from daodian.accounts.models import StaffRole, User
from daodian.apps import service as apps
from daodian.delivery.models import Courier
from daodian.kit import codes
from daodian.kit.api.scopes import ANY_APP, SCOPES
from daodian.kit.clock import utcnow
from tests.apps.support import mint as mint_app_token
from tests.factories import add_staff, make_item, make_merchant, make_product, make_store, make_user, token_for

API_PREFIX = "/api/v1"
ACCESS_KINDS = ("public", "authenticated", "operator", "self", "courier")  # courier: the caller's courier record
ACTIONS = frozenset(a.value for a in Action)
SHARED_BY = "self|merchant:"  # the consumer's object, which that merchant's staff with the action may use too

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
    app: str | None = None  # an app's token: "installed" at a merchant, or "consumer" (authorised by one)
    app_scopes: frozenset[str] = frozenset()
    courier: bool = False  # a courier of the platform's fleet, on duty (daodian.delivery)

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
    Actor("courier", courier=True),
    Actor("app_x", roles={"X": "manager"}, app="installed", app_scopes=frozenset(SCOPES)),
    Actor("app_x_map", roles={"X": "manager"}, app="installed", app_scopes=frozenset({"map:read"})),
    Actor("app_a", consumer_of="A", app="consumer", app_scopes=frozenset(SCOPES)),
)
MERCHANT_WORLDS, CONSUMER_WORLDS = ("X", "Y"), ("A", "B")
SHOPS_AT = {"A": "X", "B": "X"}  # the merchant world whose store a consumer world's objects sit at


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    access: str | None
    has_body: bool
    path_params: tuple[str, ...]
    required_query: tuple[str, ...] = ()
    required_headers: tuple[str, ...] = ()
    app_scope: str | bool | None = None  # x-app-scope: the scope an app's token needs, False: none may

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
                                 _names(params, "path"), _names(params, "query"), _names(params, "header"),
                                 spec.get("x-app-scope")))
    return ops


def _names(params: list[dict], where: str) -> tuple[str, ...]:
    """Path parameters, and the query parameters and headers a call cannot leave out."""
    return tuple(p["name"] for p in params if p["in"] == where and (where == "path" or p.get("required")))


def access_problem(op: Operation) -> str | None:
    rule = op.access
    if rule in ACCESS_KINDS or (isinstance(rule, str) and _action_of(rule) in ACTIONS):
        return None
    what = "declares no x-access" if rule is None else f"declares unknown x-access {rule!r}"
    return (f"{op.key} {what}. Declare who may call it with `openapi_extra=access(...)` (daodian.kit.api.http) "
            f"on the route: one of {', '.join(ACCESS_KINDS)}, 'merchant:<action>', or 'self|merchant:<action>' "
            f"(the consumer's object, which that merchant's staff with <action> may use too), with an action "
            f"from accounts.authz.Action ({', '.join(sorted(ACTIONS))}).")


def _action_of(rule: str) -> str | None:
    for prefix in ("merchant:", SHARED_BY):
        if rule.startswith(prefix):
            return rule.removeprefix(prefix)
    return None


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
    builds: int = 0  # how many values builders have made; new rows may come with them

    def headers(self, actor: Actor) -> dict[str, str]:
        return {} if actor.anonymous else {"Authorization": f"Bearer {self.tokens[actor.name]}"}

    def once(self, world: World, key: str, make: Callable[[], Any]) -> Any:
        """`make()` the first time `key` is asked for in `world`, the same value ever after. Call it
        outside any case's savepoint: what it creates must outlive the case."""
        if key not in world.built:
            with self.db.begin_nested():  # a builder that fails leaves the scene as it was, usable
                world.built[key] = make()
                self.db.flush()
            self.builds += 1
        return world.built[key]


def shop(scene: Scene, world: World) -> World:
    """The merchant world of an object: the world itself, or where a consumer world shops."""
    return scene.worlds[SHOPS_AT.get(world.name, world.name)]


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
                          "owner_x", "manager_x", "manager_y", "newcomer", "courier")}
    worlds = {
        "X": _merchant_world(db, "X", users["owner_x"], users["manager_x"]),
        "Y": _merchant_world(db, "Y", users["owner_y"], users["manager_y"]),
        "A": World("A", "consumer", users["consumer_a"]),
        "B": World("B", "consumer", users["consumer_b"]),
    }
    add_staff(db, worlds["X"].objects["merchant"], users["clerk_x"], StaffRole.CLERK)
    db.add(Courier(user_id=users["courier"].id, online=True, lat=30.26, lng=120.15,
                   position_at=utcnow() - timedelta(minutes=1)))
    tokens = {actor.name: token_for(db, users[actor.name]) for actor in ACTORS if not actor.anonymous and not actor.app}
    tokens |= _app_tokens(db, users, worlds)
    return Scene(db, users, worlds, tokens)


def _app_tokens(db: Session, users: dict[str, User], worlds: dict[str, World]) -> dict[str, str]:
    """The app actors' access tokens, issued for installations at X (by its owner) and for consumer A; each
    app actor's user is the account its token acts under (the installation's own, consumer A)."""
    tokens, developer = {}, users["newcomer"]
    for actor in ACTORS:
        if actor.app is None:
            continue
        app, _ = apps.register_app(db, Principal(user_id=developer.id), name=actor.name, redirect_uris=[],
                                   web_origins=[], scopes=sorted(SCOPES))
        if actor.app == "installed":
            world = worlds["X"]
            owner = Principal(user_id=world.owner.id, roles={world.objects["merchant"].id: StaffRole.OWNER})
            installation = apps.install(db, owner, app, world.objects["merchant"].id, sorted(actor.app_scopes))
            tokens[actor.name] = mint_app_token(db, app, installation=installation, scopes=installation.scopes)
            users[actor.name] = db.get(User, installation.account_id)
        else:
            users[actor.name] = worlds[actor.consumer_of].owner
            tokens[actor.name] = mint_app_token(db, app, user=worlds[actor.consumer_of].owner,
                                                scopes=" ".join(sorted(actor.app_scopes)))
    return tokens


# --- registries: path parameters and request bodies, merged from tests/support/matrix_*.py -------

Builder = Callable[[Scene, World], Any]


@dataclass(frozen=True)
class PerActor:
    """A body that depends on who sends it: make(scene, world, actor) -> dict."""

    make: Callable[[Scene, World, Actor], Any]


def per_actor(make: Callable[[Scene, World, Actor], Any]) -> PerActor:
    return PerActor(make)


@dataclass(frozen=True)
class Upload:
    """A multipart body (a file upload) instead of JSON: files as httpx takes them."""

    files: dict[str, tuple[str, bytes, str]]


def body_kwargs(body: Any) -> dict[str, Any]:
    """How the test client sends a body: multipart for an Upload, JSON for anything else."""
    return {"files": body.files} if isinstance(body, Upload) else {"json": body}


@dataclass(frozen=True)
class Registries:
    params: dict[str, Builder]
    bodies: dict[str, dict | Builder | PerActor]
    sources: dict[str, str]  # registry key -> the module that defines it


class DuplicateEntry(Exception):
    pass


def area_modules() -> list[str]:
    """Every tests/support/matrix_<area>.py, by module name."""
    package = importlib.import_module("tests.support")
    return sorted(f"tests.support.{m.name}" for m in pkgutil.iter_modules(package.__path__)
                  if m.name.startswith("matrix_"))


@cache
def registries() -> Registries:
    params: dict[str, Builder] = {}
    bodies: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in area_modules():
        module = importlib.import_module(name)
        for kind, merged in (("PARAMS", params), ("BODIES", bodies)):
            entries = getattr(module, kind, {})
            if not isinstance(entries, dict):
                raise TypeError(f"{name}.{kind} must be a dict, not {type(entries).__name__}")
            for key, value in entries.items():
                where = f"{kind}[{key!r}]"
                if where in sources:
                    raise DuplicateEntry(f"{where} is defined twice, in {sources[where]} and in {name}: "
                                         f"keep one (key a parameter by path, '/api/v1/path#name', if they differ)")
                sources[where] = name
                merged[key] = value
    return Registries(params, bodies, sources)


def __getattr__(name: str) -> Any:  # matrix.PARAMS / matrix.BODIES: the merged registries
    if name == "PARAMS":
        return registries().params
    if name == "BODIES":
        return registries().bodies
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def body_for(op: Operation, scene: Scene, world: World, actor: Actor) -> Any:
    """The request body; build it outside the case's savepoint (a builder may create rows)."""
    sample = registries().bodies.get(op.key)
    if sample is None:
        raise LookupError(f"{op.key} takes a request body but no tests/support/matrix_*.py BODIES has a "
                          f"sample for it: add a VALID one under {op.key!r}, so that allowed callers really "
                          f"execute it.")
    if isinstance(sample, PerActor):
        return sample.make(scene, world, actor)
    return sample(scene, world) if callable(sample) else sample


def _param_key(op: Operation, name: str) -> str | None:
    params = registries().params
    for key in (f"{op.path}#{name}", name):
        if key in params:
            return key
    return None


def param_value(op: Operation, name: str, scene: Scene, world: World) -> Any:
    key = _param_key(op, name)
    return scene.once(world, key, lambda: registries().params[key](scene, world))


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
    """What the tests/support/matrix_*.py registries lack to call `op`, if anything."""
    area = "tests/support/matrix_<area>.py"
    problems = []
    if op.has_body and op.key not in registries().bodies:
        problems.append(f"{op.key} takes a request body: add a VALID sample to BODIES in {area} "
                        f"under {op.key!r}, so that allowed callers really execute it")
    problems += [f"{op.key} needs parameter {name!r}: add a builder to PARAMS in {area}, "
                 f"{name!r}: lambda scene, world: <a valid value, e.g. the id of that world's object>"
                 for name in op.params if _param_key(op, name) is None]
    return "\n".join(problems) or None


def world_kind(op: Operation) -> str:
    return "consumer" if (op.access or "").startswith("self") else "merchant"


def owns(actor: Actor, world: str) -> bool:
    return actor.operator or world in actor.roles or actor.consumer_of == world


def _staff_may(actor: Actor, world: str, action: str) -> bool:
    role = actor.roles.get(world)
    return role is not None and ROLE_MAY[role](action)


def app_may(op: Operation, actor: Actor) -> bool:
    """Whether an app's token gets past the route's scope at all (its rights are checked as its actor's after)."""
    if op.access == "public":  # what anyone may do, an app may: without the scope its token counts for nothing
        return True
    if op.app_scope is False or op.app_scope is None:
        return False
    if op.app_scope != ANY_APP and op.app_scope not in actor.app_scopes:
        return False
    # An installed app acts for its merchant, never on its installer's own account.
    return not (actor.app == "installed" and op.access in ("self", "authenticated"))


def allowed(op: Operation, actor: Actor, world: str) -> bool:
    if actor.app is not None and not app_may(op, actor):
        return False
    rule = op.access or ""
    if rule == "public":
        return True
    if rule == "authenticated":
        return not actor.anonymous
    if rule == "operator":
        return actor.operator
    if rule == "courier":
        return actor.courier
    if rule == "self":  # without an object in the path: the caller's own list, e.g. GET /orders
        return not actor.anonymous if not op.path_params else actor.operator or actor.consumer_of == world
    if rule.startswith(SHARED_BY):  # the consumer's object, sitting at a store of SHOPS_AT[world]
        return (actor.operator or actor.consumer_of == world
                or _staff_may(actor, SHOPS_AT[world], rule.removeprefix(SHARED_BY)))
    return actor.operator or _staff_may(actor, world, rule.removeprefix("merchant:"))


def hides_existence(op: Operation, actor: Actor, world: str) -> bool:
    """A consumer's object answers a logged-in caller who may not use it exactly as a missing object
    would (same status, code and message), unless the caller is staff of the shop who can see it."""
    if world_kind(op) != "consumer" or not op.path_params or actor.anonymous or allowed(op, actor, world):
        return False
    if actor.app is not None and not app_may(op, actor):
        return False  # refused for the route's scope before any object is looked at (403 app_not_allowed)
    return not _staff_may(actor, SHOPS_AT[world], "console.view")


MISSING_ID = 987_654_321


def missing_url(op: Operation, url: str) -> str:
    """`url` with its last path parameter replaced by an object that does not exist."""
    parts = url.split("/")
    template = op.path.split("/")
    last = max(i for i, part in enumerate(template) if part.startswith("{"))
    parts[last] = str(MISSING_ID) if parts[last].isdigit() else codes.new_code()  # a well-formed code nobody has
    return "/".join(parts)


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
