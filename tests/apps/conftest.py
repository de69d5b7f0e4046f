import pytest


@pytest.fixture(autouse=True)
def _plain_http_test_client(monkeypatch):
    """The test client speaks http://testserver; Authlib insists on HTTPS except on loopback addresses."""
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture(autouse=True)
def _fresh_buckets():
    from daodian.apps.rate_limits import BUCKETS
    BUCKETS.clear()
    yield
    BUCKETS.clear()


from tests.web.conftest import browser  # noqa: E402,F401 - Debian's Chromium for the embed's browser tests
