"""Shared by the marketing tests: template bodies, many consumers at once, and a crowd of real clients."""

import hashlib
import itertools
import json
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from daodian.accounts.models import AuthSession, User
from daodian.kit.clock import utcnow
from tests.factories import make_user

_batches = itertools.count(1)
ROOT = Path(__file__).resolve().parents[2]


def template_body(**overrides) -> dict:
    """A merchant-wide 满减 150:20 template, 100 coupons, one per person, open now for a week."""
    now = utcnow()
    body = {"name": "满150减20", "kind": "threshold", "threshold_fen": 15000, "amount_fen": 2000,
            "claim_ends_at": (now + timedelta(days=7)).isoformat(), "valid_days": 30, "total_quantity": 100,
            "per_user_limit": 1}
    body.update(overrides)
    return body


def many_consumers(session: Session, count: int) -> list[dict[str, str]]:
    """`count` consumers with bearer tokens, inserted in bulk (two statements, not 2 x count)."""
    password_hash = session.scalar(select(User.password_hash).where(User.id == make_user(session).id))
    batch = next(_batches)
    phones = [f"+8617{batch:03d}{i:06d}" for i in range(count)]
    session.execute(insert(User), [{"phone": p, "display_name": "顾客", "password_hash": password_hash,
                                    "is_operator": False, "is_active": True, "failed_logins": 0,
                                    "created_at": utcnow()} for p in phones])
    ids = dict(session.execute(select(User.phone, User.id).where(User.phone.in_(phones))).all())
    tokens = [secrets.token_urlsafe(24) for _ in phones]
    expires = utcnow() + timedelta(days=1)
    session.execute(insert(AuthSession), [
        {"token_hash": hashlib.sha256(t.encode()).hexdigest(), "user_id": ids[p], "kind": "bearer",
         "created_at": utcnow(), "expires_at": expires} for p, t in zip(phones, tokens, strict=True)])
    return [{"Authorization": f"Bearer {t}"} for t in tokens]


def crowd(url: str, path: str, headers: list[dict[str, str]], *, connections: int = 128) -> list[tuple[int, str | None]]:
    """POST `path` once per header set, all at once, from a client process of its own (tests/marketing/crowd.py);
    returns (status, error code) per request."""
    done = subprocess.run([sys.executable, "-m", "tests.marketing.crowd", url, path, str(connections)],
                          input=json.dumps(headers), capture_output=True, text=True, cwd=ROOT, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    return [(status, code) for status, code in json.loads(done.stdout)]


def status_counts(responses: list) -> dict[int, int]:
    """Counts by status, of httpx responses or of crowd's (status, code) pairs."""
    counts: dict[int, int] = {}
    for r in responses:
        status = r[0] if isinstance(r, tuple) else r.status_code
        counts[status] = counts.get(status, 0) + 1
    return counts
