"""Schemathesis over the app's own OpenAPI, in process: no 5xx, and every response matches the schema.

Every operation is fuzzed three times: as an operator (with a merchant, store, service item and product
in the database, and generated ids/codes sometimes swapped for theirs, so requests also get past the
404s), as a logged-in consumer (the same data; they own nothing of it) and anonymously. Each operation
runs in its own rolled-back transaction.

All of schemathesis' default checks run, with one refinement to `positive_data_acceptance`: a
schema-valid request may still be refused with 400/422 when it breaks a rule JSON Schema cannot state —
a domain rule (any DomainError code, i.e. any code but the framework's and the schema's, e.g.
`store_not_of_merchant`) or a validator's `value_error` (opening hours that end before they start, an
unknown time zone, NUL characters). A 422 `validation_error` for anything a schema *can* state (a
pattern, a bound, a type) still fails: it means the published schema and the validation disagree.

Bounded on purpose: the coverage phase's boundary cases for every operation (as operator, with data),
plus DAODIAN_FUZZ_EXAMPLES random examples per operation and caller (set it higher for a deep run).

The schema is loaded once at import from a shared app that each test binds to its rolled-back
connection (tests.support.shared_app): schemathesis' fixture-based loader (`from_fixture`) does not
run under pytest 9 (it writes `Function._nodeid`, which pytest 9 removed).
"""

import os
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import select

from daodian.accounts.schemas import PHONE_PATTERN
from daodian.catalog.models import Sku
from daodian.kit.api.error_handlers import _HTTP_CODES as HTTP_ERROR_CODES
from daodian.kit.errors import Invalid
from daodian.kit.ids import MAX_ID
from daodian.taxonomy.schemas import CATEGORY_CODE_PATTERN
from tests.factories import add_staff, make_item, make_merchant, make_product, make_store, make_user, token_for
from tests.support.shared_app import shared_app

pytestmark = pytest.mark.slow

# Random examples per operation (on top of the coverage phase's boundary cases); more for a deeper run.
FUZZ_EXAMPLES = int(os.environ.get("DAODIAN_FUZZ_EXAMPLES", "5"))
FUZZ_SETTINGS = settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck))

# Decisions for the whole API, stated once (see kit.api.query):
# - unknown query parameters are ignored, as HTTP APIs usually do (clients and proxies add their own),
#   so requests with made-up extra parameters are not "negative data": not generated;
# - the coverage phase (every boundary value the schema defines) runs its positive cases and tries
#   unexpected methods only as OPTIONS and TRACE, enough to check every path's 405 and `Allow` header;
#   invalid data comes from the random examples. All of it would take minutes more on every run.
CONFIG = {"generation": {"allow-extra-parameters": False},
          "phases": {"coverage": {"unexpected-methods": ["options", "trace"], "generation": {"mode": "positive"}}}}
# Anonymously, nearly everything is a 401 already seen with the operator's boundary cases: random examples only.
ANONYMOUS_CONFIG = {**CONFIG, "phases": {"coverage": {"enabled": False}}}

SHARED = shared_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", SHARED.app, config=SchemathesisConfig.from_dict(CONFIG))
anonymous_schema = schemathesis.openapi.from_asgi("/openapi.json", SHARED.app,
                                                  config=SchemathesisConfig.from_dict(ANONYMOUS_CONFIG))
# As a consumer, random examples only too: the boundary cases ran as the operator, who may do more.
consumer_schema = schemathesis.openapi.from_asgi("/openapi.json", SHARED.app,
                                                 config=SchemathesisConfig.from_dict(ANONYMOUS_CONFIG))
load_all_checks()

# Codes of refusals by the framework or the schema rather than by a domain rule (kit.api.error_handlers).
SCHEMA_LEVEL_CODES = frozenset({code for code, _ in HTTP_ERROR_CODES.values()} | {"http_error", Invalid.code})

# What exists in the current test's database; the hooks below read it when drawing examples.
KNOWN: dict[str, object] = {}
_CODE = re.compile(CATEGORY_CODE_PATTERN)
_PHONE = re.compile(PHONE_PATTERN)
_STABLE_CODE = re.compile(r"[a-z][a-z0-9_]*")
_ID_PARAMS = ("merchant_id", "store_id", "item_id", "product_id", "sku_id", "user_id")


def _valid_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def _valid_code(value) -> bool:
    return isinstance(value, str) and len(value) <= 64 and _CODE.fullmatch(value) is not None


def _with_known(values: dict, kind_of_code: str) -> dict:
    """The same parameters with valid ids and codes replaced by existing ones (invalid ones stay invalid)."""
    out = dict(values)
    for name in _ID_PARAMS:
        if name in out and _valid_id(out[name]) and name in KNOWN:
            out[name] = KNOWN[name]
    for name in ("code", "category", "service_category", "primary_category"):
        if name in out and _valid_code(out[name]):
            out[name] = KNOWN["service_code" if name != "category" and kind_of_code == "service" else "product_code"]
    if _valid_list(out.get("store_ids"), _valid_id):
        out["store_ids"] = [KNOWN["store_id"]]
    if _valid_list(out.get("categories"), _valid_code):
        out["categories"] = [KNOWN["service_code"]]
    if isinstance(out.get("timezone"), str) and len(out["timezone"]) <= 64:
        out["timezone"] = "Asia/Shanghai"
    if isinstance(out.get("phone"), str) and len(out["phone"]) <= 24 and _PHONE.fullmatch(out["phone"]):
        out["phone"] = KNOWN["phone"]
    return out


def _valid_list(values, valid) -> bool:
    return isinstance(values, list) and bool(values) and all(valid(v) for v in values)


def _code_kind(context) -> str:
    path = context.operation.path
    return "product" if "product" in path and "service" not in path else "service"


def _maybe_known(context, values):
    if not KNOWN or not isinstance(values, dict):
        return st.just(values)
    known = _with_known(values, _code_kind(context))
    return st.sampled_from([known, known, values])  # mostly reach existing objects, sometimes not


def flatmap_path_parameters(context, path_parameters):
    return _maybe_known(context, path_parameters)


def flatmap_query(context, query):
    return _maybe_known(context, query)


def flatmap_body(context, body):
    return _maybe_known(context, body)


for _schema in (schema, anonymous_schema, consumer_schema):
    for _hook in (flatmap_path_parameters, flatmap_query, flatmap_body):
        _schema.hook(_hook)


def positive_data_acceptance_except_rules(ctx, response, case):
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if not _refused_by_a_rule(response):
            raise
    return None


def _refused_by_a_rule(response) -> bool:
    """A 400/422 that a domain rule gave: any error code but the framework's and the schema's, so every
    DomainError of every domain, present or future, counts without being listed here."""
    if response.status_code not in (400, 422):
        return False
    error = (response.json() or {}).get("error") or {}
    code = error.get("code")
    if not isinstance(code, str) or not _STABLE_CODE.fullmatch(code):
        return False
    if code not in SCHEMA_LEVEL_CODES:
        return True  # a domain rule, e.g. store_not_of_merchant, provider_unavailable
    problems = error.get("details") or []
    return code == Invalid.code and bool(problems) and all(p.get("type") == "value_error" for p in problems)


@pytest.fixture
def world(settings, session_factory, db):
    """Data the fuzzer can find, and an operator's token, on this test's rolled-back connection."""
    operator = make_user(db, operator=True, name="运营")
    owner, clerk, newcomer = make_user(db, name="店主"), make_user(db, name="店员"), make_user(db, name="新人")
    merchant = make_merchant(db, owner)
    add_staff(db, merchant, clerk, "clerk")
    store = make_store(db, merchant)
    item = make_item(db, merchant, [store.id], category="auto_service.oil_change")
    product = make_product(db, merchant)
    KNOWN.update(merchant_id=merchant.id, store_id=store.id, item_id=item.id, product_id=product.id,
                 sku_id=db.scalar(select(Sku.id).where(Sku.product_id == product.id)), user_id=clerk.id,
                 phone=newcomer.phone, product_code="auto.oil", service_code="auto_service.oil_change")
    KNOWN["token"] = token_for(db, operator)
    KNOWN["consumer_token"] = token_for(db, make_user(db, name="顾客"))
    with SHARED.bound(settings, session_factory):
        yield
    KNOWN.clear()


class OperatorToken:
    """The current test's operator token, applied the way schemathesis knows about (so its auth checks
    can tell a request it sent without credentials from one we completed)."""

    def get(self, case, context):
        return KNOWN.get("token")

    def set(self, case, token, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


class ConsumerToken(OperatorToken):
    def get(self, case, context):
        return KNOWN.get("consumer_token")


def _call(case):
    case.call_and_validate(excluded_checks=[positive_data_acceptance],
                           additional_checks=[positive_data_acceptance_except_rules])


@schema.auth.apply(OperatorToken, refresh_interval=None)  # tokens live as long as one test's data
@schema.parametrize()
@FUZZ_SETTINGS
def test_api_as_operator_with_data(case, world):
    _call(case)


@anonymous_schema.parametrize()
@FUZZ_SETTINGS
def test_api_anonymously(case, world):
    _call(case)


@consumer_schema.auth.apply(ConsumerToken, refresh_interval=None)
@consumer_schema.parametrize()
@FUZZ_SETTINGS
def test_api_as_a_consumer(case, world):
    _call(case)
