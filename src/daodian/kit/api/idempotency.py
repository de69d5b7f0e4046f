"""Idempotency keys with Stripe's semantics, for every money-moving POST.

A client sends `Idempotency-Key: <unique string>`. Keys are scoped to the caller (an account);
a key remembers the request's fingerprint (method, path, canonical JSON body) and its response:

- same key, same request, finished  -> the stored response again (header `Idempotent-Replayed: true`);
- same key, another request         -> 422 `idempotency_key_reused`;
- same key while the first is still running -> 409 `idempotency_in_progress`;
- no key                            -> 400 `idempotency_key_required`.

Work of several transactions (`run`: a refund that calls the provider between two) claims the key in
its own short transaction *before* the work, so a concurrent request sees it while the work runs (on
SQLite the work and the claim can never share a transaction: one writer at a time). Work that is one
transaction runs through `run_unit`: the key is looked at and the work done in that one transaction, a
unit of the app's group commit (kit.api.group_commit, written with the other requests of the moment, one
commit for all), and the key's row is written only by `Claim.complete` with the response, so a refused or
failed request leaves nothing to release. Two requests with one key at once are still run once: on SQLite
the second's unit comes after the first's and finds its stored response; on PostgreSQL the second's key
INSERT waits for the first's commit, then finds the key taken, and its work is rolled back (409
`idempotency_in_progress`, as when it met the claim in flight).
The work stores its response with `Claim.complete` inside its own final transaction, so the
outcome and the stored response commit together. A refusal of the request as given (400, 422:
e.g. a refund larger than what is left) is stored like a success, so retrying returns the same
error. Anything else — not allowed or not found (401/403/404: the operation never ran), a state
that may change (409, 429), a failure (5xx) or a crash — releases the key: a refused request
leaves nothing behind, and the retry runs afresh. A claim whose request died is taken over
after `idempotency_lease_seconds`; completion checks the lease, so a stale worker cannot overwrite.

Keys are kept `idempotency_retention_hours` (≥ 24 h): an older key is treated as unused when it is
seen again, and `daodian jobs purge-idempotency-keys` deletes old rows in bulk.
"""

import hashlib
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import JSON, Integer, String, UniqueConstraint, bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from daodian.kit.api.group_commit import group_commit_of
from daodian.kit.api.http import IDEMPOTENT, access, transaction_factory
from daodian.kit.clock import utcnow
from daodian.kit.db import Base, IdPk, UTCDateTime, insert_unless_taken, unit_of_work
from daodian.kit.errors import Conflict, DomainError, Invalid
from daodian.kit.settings import Settings
from daodian.kit.worker_threads import in_loop

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[IdPk]
    scope: Mapped[str] = mapped_column(String(64))  # whose key: "user:<id>"
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of method, path and canonical body
    lease: Mapped[str | None] = mapped_column(String(32))  # the running request's token; None once finished
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[Any | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdempotencyKeyRequired(DomainError):
    status, code = 400, "idempotency_key_required"
    message = "Send an Idempotency-Key header (a unique string per operation) with this request."


class IdempotencyKeyReused(Invalid):
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was already used for a different request."


class IdempotencyInProgress(Conflict):
    code = "idempotency_in_progress"
    message = "A request with this Idempotency-Key is still being processed; retry shortly."


KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII, no spaces


async def key_header(request: Request) -> str:
    """The `Idempotency-Key` header, required on the routes that declare `openapi(...)` below.

    Async though it awaits nothing: FastAPI runs a plain `def` dependency in a worker thread, one hop more.

    A dependency rather than a FastAPI `Header` parameter, so that a missing key is the documented
    400 `idempotency_key_required` (not a generic 422), after authentication (401) and before the body
    is validated.
    """
    value = request.headers.get(HEADER)
    if not value:
        raise IdempotencyKeyRequired()
    if not KEY_PATTERN.fullmatch(value):
        raise Invalid("An Idempotency-Key is 1 to 255 printable ASCII characters without spaces.",
                      code="invalid_idempotency_key")
    return value


KEY_PARAMETER = {
    "name": HEADER, "in": "header", "required": True,
    "description": "A unique string per operation (e.g. a UUID). Retrying with the same key and body returns the "
                   "stored response; keys are kept at least 24 hours.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
}


def openapi(rule: str) -> dict:
    """`openapi_extra` of an idempotent route: its access rule and the required key header, and the
    `x-idempotent` flag (clients: retries are safe; kit.api.http: the route's transactions come from
    `transaction_factory(request)`)."""
    return {**access(rule), "parameters": [KEY_PARAMETER], IDEMPOTENT: True}


KeyHeader = Annotated[str, Depends(key_header)]


@dataclass(frozen=True)
class Stored:
    status: int
    body: Any


@dataclass
class Claim:
    id: int | None  # None until `complete` writes the row of a key claimed in the work's transaction (`run_unit`)
    lease: str
    completed: bool = False
    row: dict[str, Any] | None = None  # such a claim's row, written by `complete` with the response

    def complete(self, session: Session, status: int, body: Any) -> None:
        """Store the response in the caller's transaction; fails if another request took the key over."""
        if self.row is not None:
            self.id = _insert_completed(session, self.row, status, body)
            if self.id is None:  # a concurrent request (PostgreSQL) committed the same key first
                raise IdempotencyInProgress()
            self.completed = True
            return
        done = session.execute(
            update(IdempotencyKey.__table__)
            .where(IdempotencyKey.id == self.id, IdempotencyKey.lease == self.lease)
            .values(response_status=status, response_body=body, lease=None, completed_at=utcnow())
        ).rowcount
        if done != 1:
            raise IdempotencyInProgress("This request's Idempotency-Key was taken over by a retry.")
        self.completed = True


def _insert_completed(session: Session, row: dict[str, Any], status: int, body: Any) -> int | None:
    """The key's row with its response, in one INSERT; None if the key is taken (no error: the transaction
    stays usable on PostgreSQL)."""
    return insert_unless_taken(session, IdempotencyKey.__table__, ("scope", "key"), {
        **row, "lease": None, "response_status": status, "response_body": body, "completed_at": utcnow()})


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(f"{method.upper()} {path}\n{canonical}".encode()).hexdigest()


def claim(factory: sessionmaker[Session], settings: Settings, *, scope: str, key: str, method: str, path: str,
          body: Any) -> Claim | Stored:
    """Claim `key` for this request in its own committed transaction, or say what happened to it before."""
    fp = fingerprint(method, path, body)
    for _ in range(3):
        try:
            with unit_of_work(factory) as session:
                return _claim_in(session, settings, scope, key, method, path, fp)
        except IntegrityError:
            continue  # a concurrent request inserted the same key first: look again
    raise IdempotencyInProgress()


def _claim_in(session: Session, settings: Settings, scope: str, key: str, method: str, path: str,
              fp: str) -> Claim | Stored:
    found = _look_up(session, settings, scope, key, fp)
    if isinstance(found, Stored):
        return found
    now, lease = utcnow(), secrets.token_hex(16)
    if found is None:
        row = IdempotencyKey(scope=scope, key=key, method=method.upper(), path=path[:255], fingerprint=fp,
                             lease=lease, locked_at=now, created_at=now)
        session.add(row)
        session.flush()
        return Claim(row.id, lease)
    # The request holding it died: take it over.
    session.execute(update(IdempotencyKey).where(IdempotencyKey.id == found).values(lease=lease, locked_at=now))
    return Claim(found, lease)


def _release(factory: sessionmaker[Session], claim_: Claim) -> None:
    with unit_of_work(factory) as session:
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == claim_.id,
                                                     IdempotencyKey.lease == claim_.lease))


def _store(factory: sessionmaker[Session], claim_: Claim, status: int, body: Any) -> None:
    # Conditional on the lease: a no-op if the work's own transaction already stored a response.
    with unit_of_work(factory) as session:
        session.execute(update(IdempotencyKey)
                        .where(IdempotencyKey.id == claim_.id, IdempotencyKey.lease == claim_.lease)
                        .values(response_status=status, response_body=body, lease=None, completed_at=utcnow()))


def _keeps(error: DomainError) -> bool:
    """Whether an error is the request's settled outcome (stored) or not (the key is released)."""
    return error.status in (400, 422)


Work = Callable[[Claim], tuple[int, BaseModel | dict]]


def run(request: Request, *, scope: str, key: str | None, body: BaseModel | dict | None, work: Work) -> JSONResponse:
    """Run `work` at most once per (scope, key); `work` must call `claim.complete` in its last transaction."""
    if not key:
        raise IdempotencyKeyRequired()
    factory = transaction_factory(request)
    settings: Settings = request.app.state.settings
    payload = body.model_dump(mode="json") if isinstance(body, BaseModel) else (body or {})
    outcome = claim(factory, settings, scope=scope, key=key, method=request.method, path=request.url.path,
                    body=payload)
    if isinstance(outcome, Stored):
        return JSONResponse(outcome.body, status_code=outcome.status, headers={REPLAYED_HEADER: "true"})
    try:
        status, result = work(outcome)
    except DomainError as error:  # (a `complete` inside a rolled-back transaction did not happen)
        if _keeps(error):
            _store(factory, outcome, error.status, error.body())
        else:
            _release(factory, outcome)
        raise
    except BaseException:
        _release(factory, outcome)
        raise
    data = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
    if not outcome.completed:  # work that forgot to store its response: store it now (not atomically)
        _store(factory, outcome, status, data)
    return JSONResponse(data, status_code=status)


Unit = Callable[[Session, Claim], tuple[int, BaseModel | dict]]


def run_unit(request: Request, *, scope: str, key: str | None, body: BaseModel | dict | None,
             unit: Unit) -> JSONResponse:
    """`run` for work that is one transaction, `unit(session, claim)` (which calls `claim.complete` in it): the
    key looked at and the work done in one unit of the app's group commit. Called from a route's worker thread."""
    if not key:
        raise IdempotencyKeyRequired()
    settings: Settings = request.app.state.settings
    group = group_commit_of(request.app)
    payload = body.model_dump(mode="json") if isinstance(body, BaseModel) else (body or {})
    keyed = _KeyedUnit(unit, settings, scope, key, request.method, request.url.path, fingerprint(
        request.method, request.url.path, payload))
    outcome = in_loop(group.run, keyed.work, keyed.settle_refusal)
    if isinstance(outcome, Stored):
        return JSONResponse(outcome.body, status_code=outcome.status, headers={REPLAYED_HEADER: "true"})
    status, result = outcome
    data = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
    if not keyed.claim.completed:  # work that forgot to store its response: store it now (not atomically)
        in_loop(group.run, partial(keyed.claim_store, status=status, body=data))
    return JSONResponse(data, status_code=status)


class _KeyedUnit:
    """One request's unit of work behind its key: the key looked at (a stored response, a refusal), then the
    work, which stores its response with the claim. `claim` is None while the key refuses or replays."""

    def __init__(self, unit: Unit, settings: Settings, scope: str, key: str, method: str, path: str,
                 fp: str) -> None:
        self.unit, self.settings = unit, settings
        self.scope, self.key, self.method, self.path, self.fp = scope, key, method.upper(), path[:255], fp
        self.claim: Claim | None = None

    def work(self, session: Session) -> "tuple[int, BaseModel | dict] | Stored":
        self.claim = None  # a run again alone starts afresh
        found = _look_up(session, self.settings, self.scope, self.key, self.fp)
        if isinstance(found, Stored):
            return found
        now = utcnow()
        if found is None:
            self.claim = Claim(None, secrets.token_hex(16), row={
                "scope": self.scope, "key": self.key, "method": self.method, "path": self.path,
                "fingerprint": self.fp, "locked_at": now, "created_at": now})
        else:  # the request holding it died: take it over (its row is stored by `complete`'s UPDATE)
            self.claim = Claim(found, secrets.token_hex(16))
            session.execute(update(IdempotencyKey).where(IdempotencyKey.id == found)
                            .values(lease=self.claim.lease, locked_at=now))
        return self.unit(session, self.claim)

    def settle_refusal(self, session: Session, error: DomainError) -> None:
        """After the unit's rollback (kit.api.group_commit): a refusal of the request as given is stored under
        its key; any other leaves the key as it was (a new one unwritten, one taken over still stale)."""
        if self.claim is not None and _keeps(error):
            self.claim_store(session, status=error.status, body=error.body())

    def claim_store(self, session: Session, *, status: int, body: Any) -> None:
        claim = self.claim
        if claim.row is not None:
            claim.id = _insert_completed(session, claim.row, status, body)
        else:  # the takeover's UPDATE was rolled back with the unit: the row is as the dead request left it
            session.execute(update(IdempotencyKey).where(IdempotencyKey.id == claim.id, IdempotencyKey.lease.is_not(None))
                            .values(response_status=status, response_body=body, lease=None, completed_at=utcnow()))
        claim.completed = True


_LOOK_UP = select(IdempotencyKey.id, IdempotencyKey.fingerprint, IdempotencyKey.response_status,
                  IdempotencyKey.response_body, IdempotencyKey.locked_at, IdempotencyKey.created_at).where(
    IdempotencyKey.scope == bindparam("scope"), IdempotencyKey.key == bindparam("key"))


def _look_up(session: Session, settings: Settings, scope: str, key: str, fp: str) -> "Stored | int | None":
    """What became of `key`: None (free), its stored response, or its row's id when the request holding it died;
    raises while that request may still be running, or when the key named another request."""
    statement = _LOOK_UP if session.get_bind().dialect.name == "sqlite" else _LOOK_UP.with_for_update()
    row = session.execute(statement, {"scope": scope, "key": key}).first()
    if row is None:
        return None
    now = utcnow()
    if row.created_at < now - timedelta(hours=settings.idempotency_retention_hours):
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row.id))  # past retention: free again
        return None
    if row.fingerprint != fp:
        raise IdempotencyKeyReused()
    if row.response_status is not None:
        return Stored(row.response_status, row.response_body)
    if row.locked_at and row.locked_at > now - timedelta(seconds=settings.idempotency_lease_seconds):
        raise IdempotencyInProgress()
    return row.id


def dump(model: BaseModel) -> dict:
    """The JSON form of a response model, as stored and as sent."""
    return model.model_dump(mode="json")


def purge(session: Session, settings: Settings, *, now: datetime | None = None) -> int:
    """Delete keys past retention; returns how many. Run by `daodian jobs purge-idempotency-keys`."""
    cutoff = (now or utcnow()) - timedelta(hours=settings.idempotency_retention_hours)
    return session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff)).rowcount
