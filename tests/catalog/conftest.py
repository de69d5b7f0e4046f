"""Tests here may use `api`: the HTTP client on an app shared by the whole run."""

from tests.support.shared_app import api  # noqa: F401
