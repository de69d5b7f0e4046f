"""Demo accounts: fixed logins for each role, and thousands of consumers with mobile numbers.

Argon2 is slow on purpose (tens of milliseconds a hash), so the demo password is hashed once and the
same hash string is stored for every demo account; each still verifies like any other.
"""

from dataclasses import dataclass

import numpy as np

from daodian.demo import names
from daodian.demo.rows import Columns, past

DEMO_PASSWORD = "daodian-demo"


@dataclass(frozen=True)
class DemoLogin:
    role: str  # operator | owner | manager | clerk | consumer
    phone: str
    name: str
    password: str = DEMO_PASSWORD


LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("operator", "13800000001", "运营小杭"),
    DemoLogin("owner", "13800000002", "驰安老板 陈立"),
    DemoLogin("manager", "13800000003", "驰安店长 王敏"),
    DemoLogin("clerk", "13800000004", "驰安店员 李强"),
    DemoLogin("consumer", "13800000005", "消费者 周悦"),
)
STAFF_ROLES = ("owner", "manager", "clerk")


def users(rng: np.random.Generator, ids: np.ndarray, consumers: int, password_hash: str, now: np.datetime64,
          taken: set[str]) -> Columns:
    """The fixed logins first, then `consumers` more people; no phone in `taken` or among the logins."""
    fixed = len(LOGINS)
    phones = [login.phone for login in LOGINS] + names.mobiles(rng, consumers, taken | {x.phone for x in LOGINS})
    display = [login.name for login in LOGINS] + names.people(rng, consumers)
    n = fixed + consumers
    created = past(rng, now, n, 1, 1000)
    return dict(
        id=ids, phone=phones, display_name=display, password_hash=[password_hash] * n,
        is_operator=[login.role == "operator" for login in LOGINS] + [False] * consumers,
        is_active=[True] * n, failed_logins=np.zeros(n, dtype=np.int64), created_at=created,
    )


def staff(ids: np.ndarray, user_ids: np.ndarray, chain_merchant_id: int, now: np.datetime64) -> Columns:
    """The demo chain's owner, manager and clerk, whose logins come right after the operator's."""
    by_role = {login.role: i for i, login in enumerate(LOGINS)}
    return dict(id=ids, merchant_id=[chain_merchant_id] * len(STAFF_ROLES),
                user_id=[int(user_ids[by_role[role]]) for role in STAFF_ROLES], role=list(STAFF_ROLES),
                created_at=np.full(len(STAFF_ROLES), now))

