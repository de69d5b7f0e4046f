"""Fixtures of the delivery tests: the browser of the page tests."""

from tests.web.conftest import browser  # noqa: F401 - Debian's Chromium, one per module
