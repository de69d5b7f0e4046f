"""Schemathesis' stateful phase over the money path: place an order, pay it, refund it, read each step back.

The state machine follows the OpenAPI links the API publishes (orders.endpoints.ORDER_LINKS,
payments.endpoints.PAYMENT_LINKS and REFUND_LINKS): `POST /orders` -> `GET /orders/{id}`, `POST
/orders/{id}/pay`, `POST /orders/{id}/cancel`; a payment -> `GET /payments/{id}`, its order's payments and
`POST /orders/{id}/refunds`; a refund -> the order's refunds and the order. Every response passes all of
schemathesis' checks, the stateful ones (`use_after_free`, `ensure_resource_availability`) included, with
the one refinement of tests/test_api_fuzz.py: a schema-valid request refused by a domain rule (a stable
error code of its own, e.g. `order_not_payable`) is an answer, not a failure.

The caller is an operator (who may pay at the counter, `offline`, so a payment succeeds at once and the
refund path is reachable), on a merchant with a store and a service item the generated bodies are steered
to half the time. Bounded (DAODIAN_STATEFUL_EXAMPLES scenarios) so that each database's run stays well
under two minutes; the test asserts that the whole order -> pay -> refund path was walked.
"""

import os
import uuid
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi import stateful
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.factories import make_item, make_merchant, make_store, make_user, token_for
from tests.support.shared_app import shared_app
from tests.test_api_fuzz import positive_data_acceptance_except_rules

pytestmark = pytest.mark.slow

SCENARIOS = int(os.environ.get("DAODIAN_STATEFUL_EXAMPLES", "40"))
MONEY_PATH = r"^/api/v1/(orders(/\{order_id\}(/(pay|refunds|payments|cancel))?)?|payments/\{payment_id\})$"

SHARED = shared_app()
# Positive data only: the scenarios walk the links with requests that may succeed (flatmap_body below swaps in
# this test's objects, which would turn a deliberately invalid body into a valid one and make schemathesis
# report "schema-violating request accepted"). Invalid data is tests/test_api_fuzz.py's job.
CONFIG = {"generation": {"allow-extra-parameters": False, "mode": "positive"}}
schema = schemathesis.openapi.from_asgi("/openapi.json", SHARED.app, config=SchemathesisConfig.from_dict(CONFIG))
money = schema.include(path_regex=MONEY_PATH).exclude(method="GET", path="/api/v1/orders")

KNOWN: dict[str, object] = {}
SEEN: Counter = Counter()  # (method, path template, status) of every call, to show how far scenarios went


def flatmap_body(context, body):
    """Half the time, a body that names this test's objects and gets past the 404s and 422s."""
    if not KNOWN or not isinstance(body, dict):
        return st.just(body)
    operation = f"{context.operation.method.upper()} {context.operation.path}"
    valid = {
        "POST /api/v1/orders": {"lines": [{"service_item_id": KNOWN["item_id"], "quantity": 1}],
                                "store_id": KNOWN["store_id"]},
        "POST /api/v1/orders/{order_id}/pay": {"provider": "offline", "store_id": KNOWN["store_id"], "method": "cash"},
        "POST /api/v1/orders/{order_id}/refunds": {"reason": "不想要了"},
    }.get(operation)
    return st.just(body) if valid is None else st.sampled_from([valid, body])


money.hook(flatmap_body)


@pytest.fixture
def world(settings, session_factory, db):
    operator = make_user(db, operator=True, name="运营")
    owner = make_user(db, name="店主")
    merchant = make_merchant(db, owner)
    store = make_store(db, merchant)
    item = make_item(db, merchant, [store.id], category="auto_service.oil_change")
    KNOWN.update(token=token_for(db, operator), store_id=store.id, item_id=item.id)
    with SHARED.bound(settings, session_factory):
        yield
    KNOWN.clear()


def _placing_an_order_starts_every_scenario(operations, transitions, graph):
    """Schemathesis starts scenarios from operations its dependency analysis deems likely to succeed; it
    sees that POST /orders names items, stores, SKUs and coupons no operation of this selection creates,
    and would start only from calls on a random order id (all 404). The money path starts with an order."""
    roots = stateful.RootTransitions()
    roots.reliable.add("POST /api/v1/orders")
    return roots


@money.auth(refresh_interval=None)  # the token lives as long as one test's data
class OperatorToken:
    """Applied the way schemathesis knows about, so its auth checks can tell a request it sent without
    credentials from one it completed."""

    def get(self, case, context):
        return KNOWN.get("token")

    def set(self, case, token, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


class MoneyPathChecks:
    def before_call(self, case):
        if "Idempotency-Key" in (case.headers or {}):  # a fresh key per call: a reused one is another test
            case.headers["Idempotency-Key"] = uuid.uuid4().hex

    def after_call(self, response, case):
        super().after_call(response, case)
        SEEN[(case.operation.method.upper(), case.operation.path, response.status_code)] += 1

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        case.validate_response(response, excluded_checks=[positive_data_acceptance],
                               additional_checks=[positive_data_acceptance_except_rules, *(additional_checks or ())],
                               transport_kwargs=kwargs or None, recorder=self.recorder)


@pytest.fixture
def money_path(monkeypatch):
    monkeypatch.setattr(stateful, "classify_root_transitions", _placing_an_order_starts_every_scenario)
    return type("MoneyPath", (MoneyPathChecks, money.as_state_machine()), {})


def test_order_pay_refund_links_hold_every_check(world, money_path):
    SEEN.clear()
    money_path.run(settings=settings(max_examples=SCENARIOS, stateful_step_count=6, deadline=None, derandomize=True,
                                    database=None, suppress_health_check=list(HealthCheck)))
    walked = {(method, path) for method, path, status in SEEN if 200 <= status < 300}
    assert {("POST", "/api/v1/orders"), ("POST", "/api/v1/orders/{order_id}/pay"),
            ("POST", "/api/v1/orders/{order_id}/refunds")} <= walked, sorted(SEEN.items())
